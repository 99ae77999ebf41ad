//! Find a table: candidates from the restaurant indexes in keyset order, each asked what it
//! has through [`Store::availability`], until a page is full or its scan bound is reached.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{load_restaurants, Store};
use crate::pricing::PricingSteps;
use crate::search::{
    bounding_box, offers, Place, Position, RestaurantMatch, SearchCursor, SearchPage, SearchQuery,
    MAX_LIMIT, SCAN_LIMIT,
};
use crate::{Restaurant, Result};

/// Candidates read per statement: a full page usually needs few.
const BATCH: usize = 25;

/// A restaurant in the search's order.
struct Candidate {
    restaurant: Option<Restaurant>,
    position: Position,
    distance_km: Option<f64>,
}

impl Store {
    /// The restaurants of the place where a party of `party_size` can book within an hour of
    /// `time` on `date` (their local date), nearest first near a point, by name in a city.
    /// At most `limit` (1 to [`MAX_LIMIT`]) and at most [`SCAN_LIMIT`] candidates looked at
    /// per page; `next` continues. A cursor made for the other kind of place is ignored.
    /// Advisory, like the availability it is made of.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self, pricing))]
    pub async fn search(
        &self,
        query: &SearchQuery,
        pricing: &PricingSteps,
        now: DateTime<Utc>,
    ) -> Result<SearchPage> {
        let limit = query.limit.clamp(1, MAX_LIMIT) as usize;
        let mut after = query
            .after
            .clone()
            .filter(|cursor| cursor.fits(&query.place))
            .map(|cursor| cursor.0);
        let mut items = Vec::new();
        let mut scanned = 0;
        loop {
            let want = BATCH.min(SCAN_LIMIT - scanned);
            let batch = self.candidates(&query.place, after.as_ref(), want).await?;
            // A short batch is the last: no candidate lies beyond it.
            let exhausted = batch.len() < want;
            let count = batch.len();
            for (index, candidate) in batch.into_iter().enumerate() {
                scanned += 1;
                after = Some(candidate.position);
                // Gone between the two reads: deleted meanwhile.
                let Some(restaurant) = candidate.restaurant else {
                    continue;
                };
                if let Some(found) = self
                    .offer(query, restaurant, candidate.distance_km, pricing, now)
                    .await?
                {
                    items.push(found);
                }
                if items.len() == limit {
                    let last = exhausted && index + 1 == count;
                    let next = if last { None } else { after.map(SearchCursor) };
                    return Ok(SearchPage { items, next });
                }
            }
            if exhausted {
                return Ok(SearchPage { items, next: None });
            }
            if scanned >= SCAN_LIMIT {
                let next = after.map(SearchCursor);
                return Ok(SearchPage { items, next });
            }
        }
    }

    /// The cities with the most restaurants, most first: the find page's shortcuts. Reads
    /// every restaurant's city (an index-only scan), so callers keep the answer a while.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn popular_cities(&self, limit: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar!(
            r#"SELECT min(city) AS "city!" FROM restaurant
               WHERE deleted_at IS NULL AND city <> ''
               GROUP BY lower(city)
               ORDER BY count(*) DESC, lower(city)
               LIMIT $1"#,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// What `restaurant` offers the query, if anything. A date it does not take bookings for
    /// (past, beyond its horizon) offers nothing.
    async fn offer(
        &self,
        query: &SearchQuery,
        restaurant: Restaurant,
        distance_km: Option<f64>,
        pricing: &PricingSteps,
        now: DateTime<Utc>,
    ) -> Result<Option<RestaurantMatch>> {
        if restaurant.check_bookable_date(query.date, now).is_err() {
            return Ok(None);
        }
        let slots = self
            .availability(
                &restaurant,
                query.date,
                query.party_size,
                None,
                pricing,
                now,
            )
            .await?;
        let times = offers(&slots, query.time);
        Ok(RestaurantMatch::new(restaurant, distance_km, times))
    }

    /// Up to `want` candidates after `after`, in order, through the city or location index.
    async fn candidates(
        &self,
        place: &Place,
        after: Option<&Position>,
        want: usize,
    ) -> Result<Vec<Candidate>> {
        let limit = i64::try_from(want).unwrap_or(i64::MAX);
        let keyed: Vec<(Uuid, Position, Option<f64>)> = match place {
            Place::Near {
                latitude,
                longitude,
                radius_km,
            } => {
                let (min_lon, min_lat, max_lon, max_lat) =
                    bounding_box(*latitude, *longitude, *radius_km);
                let (after_distance, after_id) = match after {
                    Some(Position::Near { distance_km, id }) => (Some(*distance_km), Some(*id)),
                    _ => (None, None),
                };
                // The box is the indexed condition; the exact distance then trims its corners.
                sqlx::query!(
                    r#"SELECT id, great_circle_km($1, $2, latitude, longitude) AS "distance_km!"
                       FROM restaurant
                       WHERE deleted_at IS NULL
                         AND point(longitude, latitude) <@ box(point($3, $4), point($5, $6))
                         AND great_circle_km($1, $2, latitude, longitude) <= $7
                         AND ($8::float8 IS NULL
                              OR (great_circle_km($1, $2, latitude, longitude), id) > ($8, $9::uuid))
                       ORDER BY 2, id
                       LIMIT $10"#,
                    latitude,
                    longitude,
                    min_lon,
                    min_lat,
                    max_lon,
                    max_lat,
                    radius_km,
                    after_distance,
                    after_id,
                    limit,
                )
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| {
                    let position = Position::Near {
                        distance_km: row.distance_km,
                        id: row.id,
                    };
                    (row.id, position, Some(row.distance_km))
                })
                .collect()
            }
            Place::City(city) => {
                let (after_name, after_id) = match after {
                    Some(Position::City { name, id }) => (Some(name.as_str()), Some(*id)),
                    _ => (None, None),
                };
                sqlx::query!(
                    "SELECT id, name FROM restaurant
                     WHERE deleted_at IS NULL AND lower(city) = lower($1)
                       AND ($2::text IS NULL OR (name, id) > ($2, $3::uuid))
                     ORDER BY name, id
                     LIMIT $4",
                    city,
                    after_name as _,
                    after_id,
                    limit,
                )
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| {
                    let position = Position::City {
                        name: row.name,
                        id: row.id,
                    };
                    (row.id, position, None)
                })
                .collect()
            }
        };
        let ids: Vec<Uuid> = keyed.iter().map(|(id, _, _)| *id).collect();
        let mut restaurants: HashMap<Uuid, Restaurant> =
            load_restaurants(&mut *self.pool.acquire().await?, &ids)
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
        Ok(keyed
            .into_iter()
            .map(|(id, position, distance_km)| Candidate {
                restaurant: restaurants.remove(&id),
                position,
                distance_km,
            })
            .collect())
    }
}
