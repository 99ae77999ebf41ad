//! Front of house, for staff: seat a confirmed booking at tables of its type, see the tables it
//! could take, the floor of a restaurant at a moment, and seat a walk-in.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking::store::{FloorTable, Seating, TableOptions};
use booking::{Invalid, Reservation};
use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Staff;
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{
    BadRequest, Conflict, Forbidden, Invalid as InvalidProblem, NotFound, Unauthorized, Unavailable,
};
use crate::walk_in::{self, WalkInForm, WalkedIn, MOST_TABLES};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(seat))
        .routes(routes!(table_options))
        .routes(routes!(floor))
        .routes(routes!(walk_in))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeatForm {
    /// As many tables as the booking's `tableCount`, of its table type, free now.
    #[schema(min_items = 1, max_items = 20)]
    table_ids: Vec<Uuid>,
}

/// A reservation with the tables its party sits at.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SeatedReservation {
    #[serde(flatten)]
    reservation: Reservation,
    tables: Vec<Seating>,
}

/// Seat a confirmed booking's party at tables of its type: `confirmed → seated`. The tables
/// are theirs from now to the booking's end (`POST …/complete` frees them earlier). A table
/// is never given to two parties at overlapping times; the database refuses it.
#[utoipa::path(post, path = "/v1/reservations/{id}/seat", tag = "staff",
    params(("id" = Uuid, Path, description = "The reservationId")),
    request_body = SeatForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Now seated", body = SeatedReservation),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, InvalidProblem,
    ))]
async fn seat(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(form): Json<SeatForm>,
) -> Result<axum::Json<SeatedReservation>, ApiError> {
    if form.table_ids.is_empty() || form.table_ids.len() > MOST_TABLES {
        return Err(
            Invalid::new("tableIds", format!("choose from 1 to {MOST_TABLES} tables")).into(),
        );
    }
    let reservation = find(&state, id).await?;
    staff.require(reservation.restaurant_id)?;
    let (reservation, tables) = state
        .store
        .seat(id, &form.table_ids, &staff.actor(), Utc::now())
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    // The transition queued webhooks.
    state.relay.wake();
    Ok(axum::Json(SeatedReservation {
        reservation,
        tables,
    }))
}

/// The tables a confirmed booking could be seated at now: the free ones of its type, the
/// suggestion first (the first `tableCount` of `free`: the smallest that fits, then the one
/// free longest), and, when fewer are free than it needs, when enough will be.
#[utoipa::path(get, path = "/v1/reservations/{id}/table-options", tag = "staff",
    params(("id" = Uuid, Path, description = "The reservationId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The free tables", body = TableOptions),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
async fn table_options(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<TableOptions>, ApiError> {
    let reservation = find(&state, id).await?;
    staff.require(reservation.restaurant_id)?;
    let options = state
        .store
        .table_options(id, Utc::now())
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    Ok(axum::Json(options))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FloorQuery {
    /// The restaurant's local time, `YYYY-MM-DDTHH:MM`; now when left out.
    #[param(
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$",
        example = "2026-12-24T19:30"
    )]
    at: Option<String>,
}

/// The tables of a restaurant at one moment.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Floor {
    restaurant_id: Uuid,
    #[schema(value_type = String, example = "2026-12-24T19:30:00")]
    at: NaiveDateTime,
    /// By area, then label.
    tables: Vec<FloorTable>,
}

/// The floor: every table of the restaurant at a moment, free, seated (with whom and until
/// when), held for a confirmed booking of its type that starts within the hour, or out of
/// service.
#[utoipa::path(get, path = "/v1/restaurants/{id}/floor", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant"), FloorQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tables", body = Floor),
        BadRequest, Unauthorized, Forbidden, NotFound, InvalidProblem,
    ))]
async fn floor(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<FloorQuery>,
) -> Result<axum::Json<Floor>, ApiError> {
    staff.require(id)?;
    let restaurant = state
        .store
        .restaurant(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no restaurant has the id {id}")))?;
    let at = match query.at.as_deref() {
        None => restaurant.local_now(Utc::now()),
        Some(at) => parse_local(at)?,
    };
    let tables = state.store.floor(&restaurant, at).await?;
    Ok(axum::Json(Floor {
        restaurant_id: id,
        at,
        tables,
    }))
}

/// A local wall-clock time as `YYYY-MM-DDTHH:MM` (seconds allowed).
pub fn parse_local(at: &str) -> Result<NaiveDateTime, Invalid> {
    NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| Invalid::new("at", "must be a local date and time like 2026-12-24T19:30"))
}

/// Seat a walk-in: a party with no booking, at free tables of one type. Its tables are taken
/// from the slot's inventory on the restaurant's serial lane like a booking's, so a walk-in
/// never oversells a slot; it is confirmed at once (it pays at the table) and seated. `201`
/// seated; `202` when the lane has not decided within seconds (poll the reservation, then
/// seat it).
#[utoipa::path(post, path = "/v1/restaurants/{id}/walk-ins", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant")),
    request_body = WalkInForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Seated", body = SeatedReservation),
        (status = 202, description = "Not decided yet; poll Location", body = Reservation),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, InvalidProblem, Unavailable,
    ))]
async fn walk_in(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(form): Json<WalkInForm>,
) -> Result<Response, ApiError> {
    let (reservation_id, mut response) = match walk_in::walk_in(&state, &staff, id, form).await? {
        WalkedIn::Seated(reservation, tables) => (
            reservation.id,
            (
                StatusCode::CREATED,
                axum::Json(SeatedReservation {
                    reservation,
                    tables,
                }),
            )
                .into_response(),
        ),
        WalkedIn::Deciding(reservation) => (
            reservation.id,
            (StatusCode::ACCEPTED, axum::Json(reservation)).into_response(),
        ),
    };
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/reservations/{reservation_id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn find(state: &AppState, id: Uuid) -> Result<Reservation, ApiError> {
    state
        .store
        .reservation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no reservation has the id {id}")))
}
