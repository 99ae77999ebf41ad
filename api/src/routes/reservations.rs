//! `/v1/reservations`: booking intake, polling, payment, cancellation, the audit log, and the
//! staff's attendance marks.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use booking::request::BookingForm;
use booking::{Reservation, ReservationEvent, Status};
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Staff;
use crate::extract::{Json, Path};
use crate::{intake, ApiError, AppState};

/// Seconds a client should wait before polling a reservation whose change is under way.
const POLL_AFTER_SECONDS: u32 = 1;

/// Who the audit log names for a diner's own requests.
const GUEST_ACTOR: &str = "guest";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reservations", post(create))
        .route("/v1/reservations/{id}", get(show).delete(cancel))
        .route("/v1/reservations/{id}/payment", post(pay))
        .route("/v1/reservations/{id}/events", get(events))
        .route("/v1/reservations/{id}/complete", post(complete))
        .route("/v1/reservations/{id}/no-show", post(no_show))
}

/// `202 Accepted` while the request waits for its decision, `200 OK` once decided (for a retry
/// of a decided request); `Location` names the resource to poll either way.
async fn create(
    State(state): State<AppState>,
    Json(form): Json<BookingForm>,
) -> Result<Response, ApiError> {
    let reservation = intake::submit(&state, form).await?;
    let accepted = reservation.status.is_pending();
    Ok(reservation_response(reservation, accepted))
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Reservation>, ApiError> {
    state
        .store
        .reservation(id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::NotFound(format!("no reservation has the id {id}")))
}

/// `202`: the cancellation is queued on the restaurant's partition (or was done already); the
/// outcome arrives like any other, by polling or webhook. Canceling twice is canceling once.
async fn cancel(State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Response, ApiError> {
    let reservation = state
        .store
        .request_cancel(id, GUEST_ACTOR)
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    state.relay.wake();
    Ok(reservation_response(reservation, true))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PaymentForm {
    payment_token: String,
}

/// `202`: the charge of a held reservation is queued; it becomes `confirmed` once captured, or
/// `rejected` if declined. Sending the same token again is the same payment.
async fn pay(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(form): Json<PaymentForm>,
) -> Result<Response, ApiError> {
    let token = form.payment_token.trim();
    if token.is_empty() || token.len() > 200 || token.chars().any(char::is_control) {
        return Err(booking::Invalid::new(
            "paymentToken",
            "must be a non-empty token of at most 200 printable characters",
        )
        .into());
    }
    let reservation = state
        .store
        .request_payment(id, token, &state.gateway)
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    state.relay.wake();
    let under_way = reservation.status == Status::Held;
    Ok(reservation_response(reservation, under_way))
}

async fn events(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<ReservationEvent>>, ApiError> {
    state
        .store
        .events(id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::NotFound(format!("no reservation has the id {id}")))
}

async fn complete(
    _: Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Reservation>, ApiError> {
    mark(&state, id, Status::Completed).await
}

async fn no_show(
    _: Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Reservation>, ApiError> {
    mark(&state, id, Status::NoShow).await
}

async fn mark(state: &AppState, id: Uuid, to: Status) -> Result<axum::Json<Reservation>, ApiError> {
    let reservation = state
        .store
        .mark_attendance(id, to, Staff::ACTOR, Utc::now())
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    // The transition queued webhooks.
    state.relay.wake();
    Ok(axum::Json(reservation))
}

/// The reservation, with `Location`; `accepted` answers `202` with `Retry-After` for a change
/// still under way, else `200`.
fn reservation_response(reservation: Reservation, accepted: bool) -> Response {
    let location = format!("/v1/reservations/{}", reservation.id);
    let status = if accepted {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let mut response = (status, axum::Json(reservation)).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    if accepted {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECONDS));
    }
    response
}
