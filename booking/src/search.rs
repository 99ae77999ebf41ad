//! Find a table: restaurants near a point or in a city where a party can book around a time on
//! a date. The domain types and the pure choice of offers; the store reads the candidates
//! ([`crate::Store::search`]) and asks [`crate::Store::availability`] what each has left.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use uuid::Uuid;

use crate::availability::SlotAvailability;
use crate::{Invalid, Restaurant};

/// How far from the asked time an offered start time may be.
pub const WINDOW: TimeDelta = TimeDelta::hours(1);

/// The most candidates one page looks at: a page whose candidates have nothing to offer ends
/// there with a `next` cursor, rather than scanning on.
pub const SCAN_LIMIT: usize = 200;

/// The most restaurants on a page.
pub const MAX_LIMIT: u32 = 50;

/// The Earth's mean radius, as `great_circle_km` in the schema has it.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Where to look.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// Within `radius_km` of a point (great-circle distance).
    Near {
        latitude: f64,
        longitude: f64,
        radius_km: f64,
    },
    /// Restaurants whose city is this one, whatever the case.
    City(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub place: Place,
    /// The restaurants' local date.
    pub date: NaiveDate,
    /// Start times within [`WINDOW`] of this one are offered.
    pub time: NaiveTime,
    pub party_size: i32,
    /// The most restaurants on a page.
    pub limit: u32,
    /// Continue after this position (the previous page's `next`).
    pub after: Option<SearchCursor>,
}

/// A restaurant with something to book.
#[derive(Debug, Clone)]
pub struct RestaurantMatch {
    pub restaurant: Restaurant,
    /// For a search near a point.
    pub distance_km: Option<f64>,
    /// In time order, at least one.
    pub times: Vec<TimeOffer>,
    /// The cheapest of `times`, and its currency.
    pub lowest_price_cents: i64,
    pub currency: String,
}

/// One start time, with the cheapest table type that seats the party and has a table left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeOffer {
    pub time: NaiveTime,
    pub table_type_id: Uuid,
    pub table_type_name: String,
    pub price_cents: i64,
    pub currency: String,
    pub tables_left: i64,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub items: Vec<RestaurantMatch>,
    /// Where the next page starts; `None` once every candidate was looked at. A page may hold
    /// fewer than `limit` items and still have a `next`: each page looks at a bounded number
    /// of candidates.
    pub next: Option<SearchCursor>,
}

/// The position of the last candidate a page looked at, in the candidates' order: distance
/// then id near a point, name then id in a city. Opaque to clients: [`fmt::Display`] writes a
/// URL-safe string, [`FromStr`] reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchCursor(pub(crate) Position);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Position {
    Near { distance_km: f64, id: Uuid },
    City { name: String, id: Uuid },
}

impl SearchCursor {
    /// # Errors
    /// A string no page wrote, named as the field `cursor`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("cursor", "is not a cursor this search returned");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        // The id comes before the name, which may contain anything.
        let mut parts = text.splitn(3, ':');
        let (Some(kind), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        let position = match kind {
            "n" => Position::Near {
                distance_km: key
                    .parse::<f64>()
                    .ok()
                    .filter(|d| d.is_finite() && *d >= 0.0)
                    .ok_or_else(bad)?,
                id,
            },
            "c" => Position::City {
                name: key.to_owned(),
                id,
            },
            _ => return Err(bad()),
        };
        Ok(Self(position))
    }

    /// Whether the cursor was made by a search of this kind of place.
    pub fn fits(&self, place: &Place) -> bool {
        matches!(
            (&self.0, place),
            (Position::Near { .. }, Place::Near { .. }) | (Position::City { .. }, Place::City(_))
        )
    }
}

impl fmt::Display for SearchCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // f64's Display is the shortest string that reads back to the same value, so the next
        // page's keyset comparison starts exactly after this candidate.
        let text = match &self.0 {
            Position::Near { distance_km, id } => format!("n:{id}:{distance_km}"),
            Position::City { name, id } => format!("c:{id}:{name}"),
        };
        f.write_str(&URL_SAFE_NO_PAD.encode(text))
    }
}

impl FromStr for SearchCursor {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }
}

/// What a restaurant's availability offers around `time`: each start time within [`WINDOW`]
/// (on the same date) with the cheapest type that still has a table, the first listed on a
/// tie. Times with no table left are dropped.
pub fn offers(slots: &[SlotAvailability], time: NaiveTime) -> Vec<TimeOffer> {
    slots
        .iter()
        .filter(|slot| (slot.time - time).abs() <= WINDOW)
        .filter_map(|slot| {
            let cheapest = slot
                .table_types
                .iter()
                .filter(|t| t.tables_left > 0)
                .min_by_key(|t| t.price_cents)?;
            Some(TimeOffer {
                time: slot.time,
                table_type_id: cheapest.table_type_id,
                table_type_name: cheapest.name.clone(),
                price_cents: cheapest.price_cents,
                currency: cheapest.currency.clone(),
                tables_left: i64::from(cheapest.tables_left),
            })
        })
        .collect()
}

/// The smallest longitude/latitude box holding every point within `radius_km` of a point, as
/// `(min_longitude, min_latitude, max_longitude, max_latitude)` in degrees. Near a pole, or
/// where the box would cross the antimeridian, it spans every longitude: wider, never wrong.
pub fn bounding_box(latitude: f64, longitude: f64, radius_km: f64) -> (f64, f64, f64, f64) {
    // A hair wider, so rounding cannot drop a point at exactly the radius.
    let angle = radius_km / EARTH_RADIUS_KM * (1.0 + 1e-9);
    let d_lat = angle.to_degrees();
    let (min_lat, max_lat) = (latitude - d_lat, latitude + d_lat);
    if min_lat <= -90.0 || max_lat >= 90.0 {
        return (-180.0, min_lat.max(-90.0), 180.0, max_lat.min(90.0));
    }
    // The widest longitude difference on a sphere at this angular radius.
    let spread = angle.sin() / latitude.to_radians().cos();
    if spread >= 1.0 {
        return (-180.0, min_lat, 180.0, max_lat);
    }
    let d_lon = spread.asin().to_degrees();
    let (min_lon, max_lon) = (longitude - d_lon, longitude + d_lon);
    if min_lon < -180.0 || max_lon > 180.0 {
        return (-180.0, min_lat, 180.0, max_lat);
    }
    (min_lon, min_lat, max_lon, max_lat)
}

impl RestaurantMatch {
    /// The match, if the restaurant offers anything.
    pub fn new(
        restaurant: Restaurant,
        distance_km: Option<f64>,
        times: Vec<TimeOffer>,
    ) -> Option<Self> {
        let cheapest = times.iter().min_by_key(|offer| offer.price_cents)?;
        let (lowest_price_cents, currency) = (cheapest.price_cents, cheapest.currency.clone());
        Some(Self {
            restaurant,
            distance_km,
            times,
            lowest_price_cents,
            currency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::availability::TypeAvailability;

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn offer_type(id: u128, left: i32, price: i64) -> TypeAvailability {
        TypeAvailability {
            table_type_id: Uuid::from_u128(id),
            name: format!("type {id}"),
            seats_min: 1,
            seats_max: 4,
            tables_left: left,
            price_cents: price,
            currency: "EUR".into(),
        }
    }

    fn slot(at: &str, types: Vec<TypeAvailability>) -> SlotAvailability {
        SlotAvailability {
            time: time(at),
            table_types: types,
        }
    }

    #[test]
    fn offers_are_the_cheapest_type_with_a_table_within_an_hour() {
        let slots = [
            slot("17:45", vec![offer_type(1, 3, 1000)]),
            slot("18:00", vec![offer_type(1, 3, 1000)]),
            slot(
                "19:00",
                vec![offer_type(1, 0, 1000), offer_type(2, 2, 3000)],
            ),
            slot("19:30", vec![offer_type(1, 0, 1000)]),
            slot(
                "20:00",
                vec![offer_type(2, 1, 3000), offer_type(1, 5, 1200)],
            ),
            slot("20:15", vec![offer_type(1, 5, 1000)]),
        ];
        let offers = offers(&slots, time("19:00"));
        let seen: Vec<(String, u128, i64)> = offers
            .iter()
            .map(|o| {
                (
                    o.time.format("%H:%M").to_string(),
                    o.table_type_id.as_u128(),
                    o.tables_left,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("18:00".into(), 1, 3),
                ("19:00".into(), 2, 2),
                ("20:00".into(), 1, 5)
            ]
        );
        let matched = RestaurantMatch::new(
            Restaurant::with_defaults(Uuid::nil(), "R", "UTC", (0.0, 0.0), Vec::new()),
            None,
            offers,
        )
        .unwrap();
        assert_eq!(
            (matched.lowest_price_cents, matched.currency.as_str()),
            (1000, "EUR")
        );
    }

    #[test]
    fn nothing_offered_is_no_match() {
        let slots = [slot("19:00", vec![offer_type(1, 0, 1000)])];
        let offers = offers(&slots, time("19:00"));
        assert!(offers.is_empty());
        let restaurant = Restaurant::with_defaults(Uuid::nil(), "R", "UTC", (0.0, 0.0), vec![]);
        assert!(RestaurantMatch::new(restaurant, None, offers).is_none());
    }

    #[test]
    fn the_box_holds_the_circle() {
        // 25 km around Paris: about 0.22 degrees of latitude, 0.34 of longitude.
        let (min_lon, min_lat, max_lon, max_lat) = bounding_box(48.8566, 2.3522, 25.0);
        assert!((max_lat - 48.8566 - 0.2248).abs() < 1e-3, "{max_lat}");
        assert!((max_lon - 2.3522 - 0.3419).abs() < 1e-3, "{max_lon}");
        assert!(min_lat < 48.8566 && min_lon < 2.3522);
        // Across the antimeridian and near the pole, every longitude.
        assert_eq!(bounding_box(-17.7, 179.9, 50.0).0, -180.0);
        assert_eq!(bounding_box(89.9, 0.0, 50.0).2, 180.0);
        assert_eq!(bounding_box(89.9, 0.0, 50.0).3, 90.0);
    }

    #[test]
    fn cursors_read_back_what_they_wrote() {
        for position in [
            Position::Near {
                distance_km: 0.1 + 0.2,
                id: Uuid::from_u128(7),
            },
            Position::City {
                name: "Café: \"Zoë\" & co/?".into(),
                id: Uuid::from_u128(8),
            },
        ] {
            let cursor = SearchCursor(position);
            let written = cursor.to_string();
            assert!(written
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            assert_eq!(written.parse::<SearchCursor>().unwrap(), cursor);
        }
    }

    #[test]
    fn a_bad_cursor_names_the_field() {
        for raw in ["", "abc", "!!!", &URL_SAFE_NO_PAD.encode("x:1:2")] {
            assert_eq!(
                SearchCursor::parse(raw).unwrap_err().field,
                "cursor",
                "{raw}"
            );
        }
        let near = SearchCursor::parse(&URL_SAFE_NO_PAD.encode(format!("n:{}:-1", Uuid::nil())));
        assert!(near.is_err(), "a negative distance");
    }
}
