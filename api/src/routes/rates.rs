//! `/v1/restaurants/{id}/table-types/{type_id}/rates`: the price of a table type per date, set
//! in bulk over a date range by staff who manage the restaurant. A date without a rate takes
//! the type's base price; the occupancy surcharge applies on top either way. Setting the same
//! rates twice is setting them once, so no `If-Match` is needed.

use axum::extract::State;
use axum::http::StatusCode;
use booking::catalog_forms::{DateRange, RatesForm};
use booking::store::Rate;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Staff;
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{BadRequest, Forbidden, Invalid, NotFound, Unauthorized};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_rates, list_rates, clear_rates))
}

/// `?from=&to=`: the dates of a range, both included, at most 731 of them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RangeQuery {
    /// The first date, `YYYY-MM-DD`.
    #[param(required = true, value_type = String, format = Date)]
    from: Option<String>,
    /// The last date, `YYYY-MM-DD`, included: not before `from`, at most 730 days after it.
    #[param(required = true, value_type = String, format = Date)]
    to: Option<String>,
}

impl RangeQuery {
    fn parse(&self) -> Result<DateRange, booking::Invalid> {
        DateRange::parse(self.from.as_deref(), self.to.as_deref())
    }
}

/// What a bulk set did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct RatesSet {
    table_type_id: Uuid,
    #[schema(value_type = String, format = Date)]
    from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    to: NaiveDate,
    price_cents: i64,
    /// The number of dates now at this price.
    days: u64,
}

/// Set one price for every date from `from` to `to` (included, at most 731 days).
#[utoipa::path(put, path = "/v1/restaurants/{id}/table-types/{type_id}/rates", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
    ),
    request_body = RatesForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rates are set", body = RatesSet),
        BadRequest, Unauthorized, Forbidden, NotFound, Invalid,
    ))]
async fn set_rates(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id)): Path<(Uuid, Uuid)>,
    Json(form): Json<RatesForm>,
) -> Result<axum::Json<RatesSet>, ApiError> {
    staff.require(restaurant_id)?;
    let rates = form.parse()?;
    let days = state
        .store
        .set_table_type_rates(restaurant_id, type_id, &rates)
        .await??;
    Ok(axum::Json(RatesSet {
        table_type_id: type_id,
        from: rates.dates.from(),
        to: rates.dates.to(),
        price_cents: rates.price.get(),
        days,
    }))
}

/// The rates set on the dates of a range, in date order (dates without one take the base
/// price).
#[utoipa::path(get, path = "/v1/restaurants/{id}/table-types/{type_id}/rates", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        RangeQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rates", body = Vec<Rate>),
        BadRequest, Unauthorized, Forbidden, NotFound, Invalid,
    ))]
async fn list_rates(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id)): Path<(Uuid, Uuid)>,
    Query(query): Query<RangeQuery>,
) -> Result<axum::Json<Vec<Rate>>, ApiError> {
    staff.require(restaurant_id)?;
    let dates = query.parse()?;
    Ok(axum::Json(
        state
            .store
            .table_type_rates(restaurant_id, type_id, &dates)
            .await??,
    ))
}

/// Return the dates of a range to the base price.
#[utoipa::path(delete, path = "/v1/restaurants/{id}/table-types/{type_id}/rates", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        RangeQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Those dates take the base price"),
        BadRequest, Unauthorized, Forbidden, NotFound, Invalid,
    ))]
async fn clear_rates(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id)): Path<(Uuid, Uuid)>,
    Query(query): Query<RangeQuery>,
) -> Result<StatusCode, ApiError> {
    staff.require(restaurant_id)?;
    let dates = query.parse()?;
    state
        .store
        .clear_table_type_rates(restaurant_id, type_id, &dates)
        .await??;
    Ok(StatusCode::NO_CONTENT)
}
