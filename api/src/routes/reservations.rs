//! `/v1/reservations`: booking intake and polling.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use booking::request::BookingForm;
use booking::Reservation;
use uuid::Uuid;

use crate::extract::{Json, Path};
use crate::{intake, ApiError, AppState};

/// Seconds a client should wait before polling a pending reservation.
const POLL_AFTER_SECONDS: u32 = 1;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reservations", post(create))
        .route("/v1/reservations/{id}", get(show))
}

/// `202 Accepted` while the request waits for its decision, `200 OK` once decided (for a retry
/// of a decided request); `Location` names the resource to poll either way.
async fn create(
    State(state): State<AppState>,
    Json(form): Json<BookingForm>,
) -> Result<Response, ApiError> {
    let reservation = intake::submit(&state, form).await?;
    Ok(reservation_response(reservation))
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

fn reservation_response(reservation: Reservation) -> Response {
    let pending = reservation.status.is_pending();
    let location = format!("/v1/reservations/{}", reservation.id);
    let status = if pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let mut response = (status, axum::Json(reservation)).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    if pending {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECONDS));
    }
    response
}
