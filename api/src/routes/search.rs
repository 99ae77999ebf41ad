//! `GET /v1/search`: find a table near a point or in a city, around a time. Advisory like the
//! availability it is made of, so a short public cache is fine.
//!
//! [`run`] is the one way to search: this route and the website's find page both call it.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use booking::request::{parse_date, parse_time, MAX_PARTY_SIZE};
use booking::search::{
    Place, RestaurantMatch, SearchCursor, SearchPage, SearchQuery, TimeOffer, MAX_LIMIT,
};
use booking::Invalid;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::extract::Query;
use crate::openapi::problems::{self, BadRequest};
use crate::{ApiError, AppState};

/// Seconds a client or CDN may reuse an answer: prices and tables left move with bookings.
const CACHE_SECONDS: u32 = 5;

/// The radius of a search near a point when none is given.
pub const DEFAULT_RADIUS_KM: f64 = 25.0;
/// The widest radius.
pub const MAX_RADIUS_KM: f64 = 500.0;
/// Restaurants on a page when no limit is given.
pub const DEFAULT_LIMIT: u32 = 10;
/// The longest city name a restaurant may have.
const MAX_CITY_CHARS: usize = 100;
/// The longest booking horizon a restaurant may have: no date beyond it can match.
const MAX_HORIZON_DAYS: i64 = 730;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// What to search for, as the query string gives it. Give `near` or `city`, not both.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// `latitude,longitude` in degrees: restaurants within `radiusKm` of this point, nearest
    /// first.
    #[param(example = "48.8566,2.3522")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near: Option<String>,
    /// Restaurants of this city (any case), by name.
    #[param(example = "Paris")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// With `near`: more than 0, at most 500 (default 25).
    #[param(minimum = 0, maximum = 500)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius_km: Option<f64>,
    /// `YYYY-MM-DD`, the restaurants' local date.
    #[param(format = Date)]
    pub date: String,
    /// `HH:MM`: start times within an hour of it are offered.
    #[param(example = "19:30")]
    pub time: String,
    /// Guests at one table, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub party_size: i64,
    /// Restaurants per page, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The previous page's `nextCursor`, with the same search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl SearchParams {
    /// The search these parameters ask for, every field checked.
    ///
    /// # Errors
    /// The first bad field, named as in the query string.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<SearchQuery, Invalid> {
        // An empty parameter is an empty form field: as good as absent.
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let place = match (given(&self.near), given(&self.city)) {
            (Some(_), Some(_)) => {
                return Err(Invalid::new("city", "give either near or city, not both"))
            }
            (None, None) => {
                return Err(Invalid::new(
                    "near",
                    "give near (\"latitude,longitude\") or city",
                ))
            }
            (Some(near), None) => {
                let (latitude, longitude) = parse_point(&near)?;
                let radius_km = self.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
                if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
                    return Err(Invalid::new(
                        "radiusKm",
                        format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
                    ));
                }
                Place::Near {
                    latitude,
                    longitude,
                    radius_km,
                }
            }
            (None, Some(city)) => {
                if city.chars().count() > MAX_CITY_CHARS {
                    return Err(Invalid::new(
                        "city",
                        format!("must be at most {MAX_CITY_CHARS} characters"),
                    ));
                }
                Place::City(city)
            }
        };
        let date = parse_date(&self.date)?;
        // Some restaurant's today is at least UTC's yesterday: an earlier date matches none,
        // and neither does one past the longest horizon. Refused before any scan.
        let today = now.date_naive();
        if date < today - Duration::days(1) {
            return Err(Invalid::new("date", "is in the past"));
        }
        if date > today + Duration::days(MAX_HORIZON_DAYS + 1) {
            return Err(Invalid::new(
                "date",
                format!("is beyond every booking horizon ({MAX_HORIZON_DAYS} days)"),
            ));
        }
        let time = parse_time(&self.time)?;
        if !(1..=MAX_PARTY_SIZE).contains(&self.party_size) {
            return Err(Invalid::new(
                "partySize",
                format!("must be between 1 and {MAX_PARTY_SIZE}"),
            ));
        }
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Invalid::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match given(&self.cursor) {
            None => None,
            Some(raw) => {
                let cursor = SearchCursor::parse(&raw)?;
                if !cursor.fits(&place) {
                    return Err(Invalid::new(
                        "cursor",
                        "belongs to a search of the other kind (near or city)",
                    ));
                }
                Some(cursor)
            }
        };
        Ok(SearchQuery {
            place,
            date,
            time,
            // Checked above, far inside i32.
            party_size: self.party_size as i32,
            limit,
            after,
        })
    }
}

/// `latitude,longitude` in degrees.
fn parse_point(raw: &str) -> Result<(f64, f64), Invalid> {
    let bad = || {
        Invalid::new(
            "near",
            format!("must be \"latitude,longitude\" in degrees, such as \"48.8566,2.3522\", got {raw:?}"),
        )
    };
    let (latitude, longitude) = raw.split_once(',').ok_or_else(bad)?;
    let latitude: f64 = latitude.trim().parse().map_err(|_| bad())?;
    let longitude: f64 = longitude.trim().parse().map_err(|_| bad())?;
    if !((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)) {
        return Err(bad());
    }
    Ok((latitude, longitude))
}

/// Checks the parameters and searches: what `GET /v1/search` and the website's find page do.
///
/// # Errors
/// A bad parameter (422 naming it), or the database failed.
pub async fn run(state: &AppState, params: &SearchParams) -> Result<SearchPage, ApiError> {
    let now = Utc::now();
    let query = params.parse(now)?;
    Ok(state.store.search(&query, &state.pricing, now).await?)
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SearchResults {
    items: Vec<SearchItem>,
    /// Pass as `cursor` for more; absent when there is no more. A page may be short (even
    /// empty) and still have one: each page looks at a bounded number of restaurants.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// A restaurant with a table for the party around the time asked.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SearchItem {
    id: Uuid,
    name: String,
    city: String,
    address: String,
    latitude: f64,
    longitude: f64,
    /// IANA name; the times are local to it.
    time_zone: String,
    /// From the point searched near, in kilometres (only with `near`).
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_km: Option<f64>,
    /// The cheapest of `times`.
    lowest_price_cents: i64,
    currency: String,
    /// Start times within an hour of the one asked, each with its cheapest table type that
    /// seats the party and has a table left.
    times: Vec<SearchTime>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SearchTime {
    /// Local wall-clock time, `HH:MM`.
    #[schema(example = "19:30")]
    time: String,
    table_type_id: Uuid,
    table_type_name: String,
    /// One table, at the current occupancy.
    price_cents: i64,
    currency: String,
    tables_left: i64,
}

impl From<SearchPage> for SearchResults {
    fn from(page: SearchPage) -> Self {
        Self {
            items: page.items.into_iter().map(SearchItem::from).collect(),
            next_cursor: page.next.map(|cursor| cursor.to_string()),
        }
    }
}

impl From<RestaurantMatch> for SearchItem {
    fn from(found: RestaurantMatch) -> Self {
        let r = found.restaurant;
        Self {
            id: r.id,
            name: r.name,
            city: r.city,
            address: r.address,
            latitude: r.latitude,
            longitude: r.longitude,
            time_zone: r.time_zone,
            // To the metre: more digits would only be noise.
            distance_km: found.distance_km.map(|d| (d * 1000.0).round() / 1000.0),
            lowest_price_cents: found.lowest_price_cents,
            currency: found.currency,
            times: found.times.into_iter().map(SearchTime::from).collect(),
        }
    }
}

impl From<TimeOffer> for SearchTime {
    fn from(offer: TimeOffer) -> Self {
        Self {
            time: offer.time.format("%H:%M").to_string(),
            table_type_id: offer.table_type_id,
            table_type_name: offer.table_type_name,
            price_cents: offer.price_cents,
            currency: offer.currency,
            tables_left: offer.tables_left,
        }
    }
}

/// Restaurants near a point or in a city with a table for the party within an hour of the
/// time, nearest first (near) or by name (city).
#[utoipa::path(get, path = "/v1/search", tag = "catalog",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of restaurants; cacheable for a few seconds",
            body = SearchResults),
        BadRequest, problems::Invalid,
    ))]
async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let page = run(&state, &params).await?;
    let mut response = axum::Json(SearchResults::from(page)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={CACHE_SECONDS}"))
            .unwrap_or(HeaderValue::from_static("no-cache")),
    );
    Ok(response)
}
