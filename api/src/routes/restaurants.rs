//! `/v1/restaurants`: the public catalog, and the staff's writes to restaurants.
//!
//! Creating a restaurant needs a staff token for the whole chain; replacing or deleting one, a
//! staff token that manages it. `GET` and every write answer the restaurant's `ETag`; a `PUT`
//! needs `If-Match` (see [`crate::etag`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use booking::booking_rules::BookingRulesForm;
use booking::catalog_forms::{FormMode, RestaurantForm};
use booking::{Restaurant, TableType};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Staff;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, PreconditionRequired,
    Unauthorized,
};
use crate::paging::{Page, PageQuery};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create_restaurant))
        .routes(routes!(show, replace_restaurant, delete_restaurant))
        .routes(routes!(set_booking_rules))
}

/// `?force=true` on a `DELETE` of a restaurant or table type.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct DeleteQuery {
    /// Delete even though upcoming reservations are held or confirmed: each is canceled and
    /// refunded in full, through the restaurant's queue.
    pub force: Option<bool>,
}

/// The chain's restaurants, in id order.
#[utoipa::path(get, path = "/v1/restaurants", tag = "catalog",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of restaurants", body = Page<Restaurant>),
        BadRequest, Invalid,
    ))]
async fn list(
    State(state): State<AppState>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<Restaurant>>, ApiError> {
    let limit = page.limit()?;
    let items = state.store.restaurants(page.cursor, limit).await?;
    Ok(axum::Json(Page::new(items, limit, |r| r.id)))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct RestaurantPage {
    #[serde(flatten)]
    restaurant: Restaurant,
    table_types: Vec<TableType>,
}

/// A restaurant's page: its details, hours and table types.
#[utoipa::path(get, path = "/v1/restaurants/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "The restaurant")),
    responses(
        (status = 200, description = "The restaurant", body = RestaurantPage,
            headers(("ETag" = String, description = "The restaurant's version, for If-Match"))),
        BadRequest, NotFound,
    ))]
async fn show(State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Response, ApiError> {
    let restaurant = state
        .store
        .restaurant(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no restaurant has the id {id}")))?;
    let table_types = state.store.table_types(id).await?;
    let version = restaurant.version;
    Ok(etag::tagged(
        StatusCode::OK,
        version,
        None,
        RestaurantPage {
            restaurant,
            table_types,
        },
    ))
}

/// Create a restaurant (a staff token for the whole chain). Fields left out take the chain's
/// defaults: 15-minute slots, 90-minute stays, 10% overbooking, a 90-day horizon, a 24-hour
/// refund window, prepayment.
#[utoipa::path(post, path = "/v1/restaurants", tag = "staff",
    request_body = RestaurantForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Restaurant, headers(
            ("ETag" = String, description = "The restaurant's version, for If-Match"),
            ("Location" = String, description = "The new restaurant"),
        )),
        BadRequest, Unauthorized, Forbidden, Conflict, Invalid,
    ))]
async fn create_restaurant(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Json(form): Json<RestaurantForm>,
) -> Result<Response, ApiError> {
    staff.require_chain()?;
    let draft = form.parse(FormMode::Create)?;
    let id = Uuid::new_v4();
    let restaurant = state.store.create_restaurant(id, &draft).await??;
    Ok(etag::tagged(
        StatusCode::CREATED,
        restaurant.version,
        Some(&format!("/v1/restaurants/{id}")),
        restaurant,
    ))
}

/// Replace a restaurant's details, hours and policies (every field; `If-Match` required).
/// A new overbooking percentage is applied to future inventory through the restaurant's
/// queue. A new slot length is refused with `409` while upcoming reservations exist.
#[utoipa::path(put, path = "/v1/restaurants/{id}", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("If-Match" = String, Header, description = "The ETag last read, or `*`"),
    ),
    request_body = RestaurantForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced", body = Restaurant,
            headers(("ETag" = String, description = "The new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, Invalid,
        PreconditionRequired,
    ))]
async fn replace_restaurant(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    Json(form): Json<RestaurantForm>,
) -> Result<Response, ApiError> {
    staff.require(id)?;
    let expected = if_match.required("the restaurant")?;
    let draft = form.parse(FormMode::Replace)?;
    let restaurant = state
        .store
        .replace_restaurant(id, expected, &draft)
        .await??;
    // A new overbooking percentage queued an inventory sync.
    state.relay.wake();
    Ok(etag::tagged(
        StatusCode::OK,
        restaurant.version,
        None,
        restaurant,
    ))
}

/// Replace the restaurant's booking rules: pacing (the most covers starting per slot, by
/// period of the day), turn times by party size, and when and how often a diner may change a
/// booking. They apply to decisions from now on; the restaurant shows them as
/// `bookingRules`. Setting the same rules twice is setting them once, so no `If-Match`.
#[utoipa::path(put, path = "/v1/restaurants/{id}/booking-rules", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant")),
    request_body = BookingRulesForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The restaurant with its new rules", body = Restaurant,
            headers(("ETag" = String, description = "The new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Invalid,
    ))]
async fn set_booking_rules(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(form): Json<BookingRulesForm>,
) -> Result<Response, ApiError> {
    staff.require(id)?;
    let rules = form.parse()?;
    let restaurant = state.store.set_booking_rules(id, &rules).await??;
    Ok(etag::tagged(
        StatusCode::OK,
        restaurant.version,
        None,
        restaurant,
    ))
}

/// Delete a restaurant with its table types. Refused with `409` while upcoming reservations
/// are held or confirmed, unless `force=true`: then each is canceled and refunded in full, and
/// pending requests are rejected. `If-Match` is honoured when given.
#[utoipa::path(delete, path = "/v1/restaurants/{id}", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("If-Match" = Option<String>, Header, description = "Delete only this version (an ETag, or `*`)"),
        DeleteQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
    ))]
async fn delete_restaurant(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<DeleteQuery>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    staff.require(id)?;
    let deleted = state
        .store
        .delete_restaurant(
            id,
            if_match.optional(),
            query.force.unwrap_or(false),
            &staff.actor(),
        )
        .await??;
    if !deleted.canceled.is_empty() {
        tracing::info!(restaurant_id = %id, canceled = deleted.canceled.len(),
            "restaurant deleted by force; its upcoming reservations are being canceled");
        state.relay.wake();
    }
    Ok(StatusCode::NO_CONTENT)
}
