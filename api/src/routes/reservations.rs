//! `/v1/reservations`: booking intake, polling, payment, cancellation, the audit log, and the
//! staff's attendance marks.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking::request::{BookingForm, ChangeForm};
use booking::store::ReservationChange;
use booking::{Reservation, ReservationEvent, Status};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Guest, Principal, Staff};
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, Unauthorized, Unavailable,
};
use crate::paging::{Page, PageQuery};
use crate::queue_place::QueuePlace;
use crate::rate_limit::BookingAllowance;
use crate::{decisions, intake, ApiError, AppState};

/// Seconds a client should wait before polling a reservation whose change is under way.
const POLL_AFTER_SECONDS: u32 = 1;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, history))
        .routes(routes!(show, cancel, modify))
        .routes(routes!(changes))
        .routes(routes!(one_change))
        .routes(routes!(pay))
        .routes(routes!(events))
        .routes(routes!(complete))
        .routes(routes!(no_show))
}

/// A booking as its diner first sees it: the reservation, and the token that lets an anonymous
/// diner poll, pay and cancel it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookingReceipt {
    #[serde(flatten)]
    reservation: Reservation,
    /// A bearer token for this reservation only: send it to poll, pay or cancel. In the answer
    /// to the request that made the reservation, and to a retry that carries its `retryKey`;
    /// never to anyone else who merely knows the reservation's details.
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    /// The secret the `callbackUrl` deliveries of this reservation are signed with
    /// (Standard Webhooks, `whsec_…`), handed out with the `accessToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_secret: Option<String>,
    /// While pending: where the request stands in its restaurant's queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<QueuePlace>,
}

/// Book a table. Open to anonymous diners.
///
/// `202 Accepted` while the request waits for its decision, `200 OK` for a retry of a decided
/// request, or with `Prefer: wait=N` for one decided within N seconds (one round trip);
/// `Location` names the resource to poll either way. A `503` means nothing was
/// recorded: retry with the same `reservationId`.
#[utoipa::path(post, path = "/v1/reservations", tag = "reservations",
    params(
        ("Prefer" = Option<String>, Header, description = "`wait=N` (RFC 7240, N at most 30): \
            a request decided within N seconds is answered `200` with its decision"),
    ),
    request_body = BookingForm,
    responses(
        (status = 202, description = "Recorded as pending; poll Location", body = BookingReceipt),
        (status = 200, description = "A retry of a request already decided", body = BookingReceipt),
        BadRequest, Conflict, Invalid, Unavailable,
    ))]
async fn create(
    State(state): State<AppState>,
    _allowed: BookingAllowance,
    headers: HeaderMap,
    Json(form): Json<BookingForm>,
) -> Result<Response, ApiError> {
    // Set by the request-id layer: the client's own, or a new one.
    let request_id = headers
        .get(crate::REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok());
    // `Prefer: wait=N`: registered before the request is queued, so its decision cannot slip
    // past; answered `200` with the decision if it comes within N seconds.
    let started = tokio::time::Instant::now();
    let wait = decisions::preferred_wait(&headers).and_then(|wait| {
        let woken = state.decisions.register(form.reservation_id)?;
        Some((wait, woken))
    });
    let booked = intake::book(&state, form, request_id).await?;
    let (mut reservation, handed_over) = (booked.reservation, booked.hand_over_token);
    let waited = wait.as_ref().map(|(wait, _)| *wait);
    if let Some((wait, woken)) = wait {
        if reservation.status.is_pending() {
            let deadline = decisions::wait_until(started, wait, state.limits.request_timeout);
            if let Some(decided) =
                decisions::wait_for_decision(&state, reservation.id, woken, deadline).await?
            {
                reservation = decided;
            }
        }
    }
    let accepted = reservation.status.is_pending();
    let access_token = handed_over.then(|| state.auth.reservation_token(&reservation));
    let callback_secret = state
        .callback_secret
        .as_ref()
        .filter(|_| handed_over && reservation.callback_url.is_some())
        .map(|secret| secret.derive(&reservation.id.to_string()).to_whsec());
    let location = location(&reservation);
    let queue = if accepted {
        state
            .queue_insight
            .place(&state, reservation.restaurant_id)
            .await
    } else {
        None
    };
    let receipt = BookingReceipt {
        reservation,
        access_token,
        callback_secret,
        queue,
    };
    Ok(preference_applied(
        with_location(receipt, &location, accepted),
        waited,
    ))
}

/// Says which wait was honored (RFC 7240's `Preference-Applied`).
fn preference_applied(mut response: Response, waited: Option<std::time::Duration>) -> Response {
    if let Some(waited) = waited {
        if let Ok(value) = HeaderValue::from_str(&format!("wait={}", waited.as_secs())) {
            response.headers_mut().insert("preference-applied", value);
        }
    }
    response
}

/// The guest's reservations, newest first (a guest token from `maitred token guest`).
#[utoipa::path(get, path = "/v1/reservations", tag = "reservations",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the guest's reservations", body = Page<Reservation>),
        BadRequest, Unauthorized, Forbidden, Invalid,
    ))]
async fn history(
    Guest(guest): Guest,
    State(state): State<AppState>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<Reservation>>, ApiError> {
    if guest.reservation.is_some() {
        return Err(ApiError::Forbidden(
            "this token covers one reservation; the history needs a guest token".into(),
        ));
    }
    let limit = page.limit()?;
    let items = state
        .store
        .reservations_of_guest(&guest.email, page.cursor, limit)
        .await?;
    Ok(axum::Json(Page::new(items, limit, |r| r.id)))
}

/// One reservation: its guest's, or its restaurant's staff's.
#[utoipa::path(get, path = "/v1/reservations/{id}", tag = "reservations",
    params(
        ("id" = Uuid, Path, description = "The reservationId"),
        ("Prefer" = Option<String>, Header, description = "`wait=N` (RFC 7240, N at most 30): \
            answer as soon as a pending reservation is decided, or as it is after N seconds"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reservation", body = Reservation),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn show(
    caller: Principal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    let Some(wait) = decisions::preferred_wait(&headers) else {
        return Ok(axum::Json(authorized(&state, &caller, id).await?).into_response());
    };
    // Registered before the read, so a decision right after it still wakes this request.
    let woken = state.decisions.register(id);
    let reservation = authorized(&state, &caller, id).await?;
    let waited = woken.as_ref().map(|_| wait);
    let reservation = match woken {
        Some(woken) if reservation.status.is_pending() => {
            let deadline = decisions::wait_until(started, wait, state.limits.request_timeout);
            decisions::wait_for_decision(&state, id, woken, deadline)
                .await?
                .unwrap_or(reservation)
        }
        _ => reservation,
    };
    Ok(preference_applied(
        axum::Json(reservation).into_response(),
        waited,
    ))
}

/// Cancel. `202`: the cancellation is queued on the restaurant's partition (or was done
/// already); the outcome arrives like any other, by polling or webhook. Canceling twice is
/// canceling once. Staff cancellations are refunded in full; a guest's only outside the
/// restaurant's refund window.
#[utoipa::path(delete, path = "/v1/reservations/{id}", tag = "reservations",
    params(("id" = Uuid, Path, description = "The reservationId")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Cancellation queued, or already done", body = Reservation),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
async fn cancel(
    caller: Principal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    authorized(&state, &caller, id).await?;
    let by_restaurant = matches!(caller, Principal::Staff(_));
    let reservation = state
        .store
        .request_cancel(id, &caller.actor(), by_restaurant)
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    state.relay.wake();
    let location = location(&reservation);
    Ok(with_location(reservation, &location, true))
}

/// Change a confirmed booking: its date, time, party size, table type or table count. `202`:
/// the change is queued on the restaurant's partition and decided there like a booking: the
/// new slots are taken and the old ones given back at once, or nothing changes (the change
/// is `rejected` with its reason). The price is decided again; a higher one is charged as the
/// difference before the change applies, a lower one refunded as the difference. Follow the
/// change at its `Location`. Refused with `409` inside the restaurant's cut-off, past its
/// number of changes, or while another change is under way; asking again for the change
/// under way is the same change.
#[utoipa::path(patch, path = "/v1/reservations/{id}", tag = "reservations",
    params(("id" = Uuid, Path, description = "The reservationId")),
    request_body = ChangeForm,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The change is queued", body = ReservationChange),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid,
    ))]
async fn modify(
    caller: Principal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(form): Json<ChangeForm>,
) -> Result<Response, ApiError> {
    let reservation = authorized(&state, &caller, id).await?;
    let wanted = changed_booking(&state, &reservation, &form).await?;
    let change = state
        .store
        .request_change(
            &wanted,
            form.payment_token.as_deref(),
            &caller.actor(),
            Utc::now(),
        )
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    state.relay.wake();
    let location = format!("/v1/reservations/{id}/changes/{}", change.id);
    Ok(with_location(change, &location, true))
}

/// The booking as `form` would make it, checked against its restaurant like a new request.
pub(crate) async fn changed_booking(
    state: &AppState,
    reservation: &Reservation,
    form: &ChangeForm,
) -> Result<booking::BookingRequest, ApiError> {
    let restaurant = state
        .store
        .restaurant(reservation.restaurant_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("the restaurant no longer exists".into()))?;
    let type_id = form.table_type_id.unwrap_or(reservation.table_type_id);
    let table_type = state
        .store
        .table_type(restaurant.id, type_id)
        .await?
        .ok_or_else(|| {
            booking::Invalid::new("tableTypeId", "this restaurant has no such table type")
        })?;
    Ok(booking::BookingRequest::changed(
        reservation,
        form,
        &restaurant,
        &table_type,
        Utc::now(),
    )?)
}

/// Every change of a booking, newest first.
#[utoipa::path(get, path = "/v1/reservations/{id}/changes", tag = "reservations",
    params(("id" = Uuid, Path, description = "The reservationId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changes", body = Vec<ReservationChange>),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn changes(
    caller: Principal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<ReservationChange>>, ApiError> {
    authorized(&state, &caller, id).await?;
    Ok(axum::Json(state.store.changes_of(id).await?))
}

/// One change of a booking: poll it until it is `applied` or `rejected`.
#[utoipa::path(get, path = "/v1/reservations/{id}/changes/{change_id}", tag = "reservations",
    params(
        ("id" = Uuid, Path, description = "The reservationId"),
        ("change_id" = Uuid, Path, description = "The changeId"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The change", body = ReservationChange),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn one_change(
    caller: Principal,
    State(state): State<AppState>,
    Path((id, change_id)): Path<(Uuid, Uuid)>,
) -> Result<axum::Json<ReservationChange>, ApiError> {
    authorized(&state, &caller, id).await?;
    Ok(axum::Json(
        state.store.change(id, change_id).await?.ok_or_else(|| {
            ApiError::NotFound(format!("reservation {id} has no change {change_id}"))
        })?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PaymentForm {
    /// The card token from the payment page (`tok_visa` on the simulated gateway).
    payment_token: String,
}

/// Pay a held reservation. `202`: the charge is queued; the reservation becomes `confirmed`
/// once captured, or `rejected` if declined. Sending the same token again is the same payment.
#[utoipa::path(post, path = "/v1/reservations/{id}/payment", tag = "reservations",
    params(("id" = Uuid, Path, description = "The reservationId")),
    request_body = PaymentForm,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The charge is under way", body = Reservation),
        (status = 200, description = "Already paid", body = Reservation),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid,
    ))]
async fn pay(
    caller: Principal,
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
    authorized(&state, &caller, id).await?;
    let reservation = state
        .store
        .request_payment(id, token, &state.gateway)
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    state.relay.wake();
    let under_way = reservation.status == Status::Held;
    let location = location(&reservation);
    Ok(with_location(reservation, &location, under_way))
}

/// The audit log: every transition, with why and by whom, oldest first.
#[utoipa::path(get, path = "/v1/reservations/{id}/events", tag = "reservations",
    params(("id" = Uuid, Path, description = "The reservationId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The events", body = Vec<ReservationEvent>),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn events(
    caller: Principal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<ReservationEvent>>, ApiError> {
    authorized(&state, &caller, id).await?;
    state
        .store
        .events(id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::NotFound(format!("no reservation has the id {id}")))
}

/// Staff: the guests came and the booking is done.
#[utoipa::path(post, path = "/v1/reservations/{id}/complete", tag = "staff",
    params(("id" = Uuid, Path, description = "The reservationId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Now completed", body = Reservation),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
async fn complete(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Reservation>, ApiError> {
    mark(&state, &staff, id, Status::Completed).await
}

/// Staff: the guests did not come (only once the booking has started).
#[utoipa::path(post, path = "/v1/reservations/{id}/no-show", tag = "staff",
    params(("id" = Uuid, Path, description = "The reservationId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Now a no-show", body = Reservation),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
async fn no_show(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Reservation>, ApiError> {
    mark(&state, &staff, id, Status::NoShow).await
}

async fn mark(
    state: &AppState,
    staff: &crate::auth::StaffPrincipal,
    id: Uuid,
    to: Status,
) -> Result<axum::Json<Reservation>, ApiError> {
    let reservation = find(state, id).await?;
    staff.require(reservation.restaurant_id)?;
    let reservation = state
        .store
        .mark_attendance(id, to, &staff.actor(), Utc::now(), &state.gateway)
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    // The transition queued webhooks.
    state.relay.wake();
    Ok(axum::Json(reservation))
}

async fn find(state: &AppState, id: Uuid) -> Result<Reservation, ApiError> {
    state
        .store
        .reservation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no reservation has the id {id}")))
}

/// The reservation, once `caller` is known to be its guest or its restaurant's staff.
async fn authorized(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> Result<Reservation, ApiError> {
    let reservation = find(state, id).await?;
    caller.require_reservation(&reservation)?;
    Ok(reservation)
}

fn location(reservation: &Reservation) -> String {
    format!("/v1/reservations/{}", reservation.id)
}

/// `body` with `Location`; `accepted` answers `202` with `Retry-After` for a change still
/// under way, else `200`.
fn with_location(body: impl Serialize, location: &str, accepted: bool) -> Response {
    let status = if accepted {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, location);
    }
    if accepted {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECONDS));
    }
    response
}
