//! `GET /v1/restaurants/{id}/availability`: what a party can book on a date, for a read-heavy
//! page. Advisory: the worker's decision is the source of truth, so a short public cache is
//! fine.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use booking::availability::SlotAvailability;
use booking::request::{parse_date, MAX_PARTY_SIZE};
use booking::Invalid;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::extract::{Path, Query};
use crate::openapi::problems::{self, BadRequest, NotFound};
use crate::{ApiError, AppState};

/// Seconds a client or CDN may reuse an answer: prices and tables left move with bookings.
const CACHE_SECONDS: u32 = 5;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(availability))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AvailabilityQuery {
    /// `YYYY-MM-DD`, the restaurant's local date: from today to the booking horizon.
    #[param(format = Date)]
    date: String,
    /// Guests at one table, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    party_size: i64,
    /// Only this table type.
    table_type_id: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Availability {
    restaurant_id: Uuid,
    #[schema(value_type = String, example = "2026-12-24")]
    date: NaiveDate,
    party_size: i64,
    /// The stay each slot is priced and counted for.
    duration_minutes: i32,
    /// Bookable start times, each with the fitting table types, the tables left under the
    /// overbooking limit (0 = sold out) and the current price per table.
    slots: Vec<SlotAvailability>,
}

/// The slots of a date with tables left and prices.
#[utoipa::path(get, path = "/v1/restaurants/{id}/availability", tag = "catalog",
    params(("id" = Uuid, Path, description = "The restaurant"), AvailabilityQuery),
    responses(
        (status = 200, description = "The slots; cacheable for a few seconds", body = Availability),
        BadRequest, NotFound, problems::Invalid,
    ))]
async fn availability(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<AvailabilityQuery>,
) -> Result<Response, ApiError> {
    let date = parse_date(&query.date)?;
    if !(1..=MAX_PARTY_SIZE).contains(&query.party_size) {
        return Err(Invalid::new(
            "partySize",
            format!("must be between 1 and {MAX_PARTY_SIZE}"),
        )
        .into());
    }
    let restaurant = state
        .store
        .restaurant(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no restaurant has the id {id}")))?;
    restaurant.check_bookable_date(date, Utc::now())?;
    if let Some(type_id) = query.table_type_id {
        if state.store.table_type(id, type_id).await?.is_none() {
            return Err(ApiError::NotFound(format!(
                "restaurant {id} has no table type with the id {type_id}"
            )));
        }
    }
    // Checked above, far inside i32.
    let party_size = query.party_size as i32;
    let slots = state
        .store
        .availability(
            &restaurant,
            date,
            party_size,
            query.table_type_id,
            &state.pricing,
            Utc::now(),
        )
        .await?;
    let mut response = axum::Json(Availability {
        restaurant_id: id,
        date,
        party_size: query.party_size,
        duration_minutes: restaurant.default_duration_minutes,
        slots,
    })
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={CACHE_SECONDS}"))
            .unwrap_or(HeaderValue::from_static("no-cache")),
    );
    Ok(response)
}
