//! What `POST /v1/reservations` does once the body is parsed: check the request against its
//! restaurant, record it durably as `pending`, and relay its command to the restaurant's
//! partition.
//!
//! The promise to the client: `202` means the request will be decided; `503` means nothing will
//! happen, so a retry with the same `reservationId` is safe.

use booking::request::{parse_date, parse_time, BookingForm};
use booking::{BookingRequest, Invalid, Recorded, Reservation};
use chrono::Utc;

use outbox::{Batched, Relayed, Relayer};

use crate::{ApiError, AppState};

const QUEUE_REFUSED: &str = "the restaurant's booking queue is full or unavailable; nothing \
     was booked. Retry later with the same reservationId";

/// Accepts a booking request. Returns the reservation as it is now: `pending` for a new
/// request, whatever it has become for a retry.
///
/// # Errors
/// 4xx for an invalid request or a reused id, 503 when nothing could be recorded or the broker
/// refused the command.
#[tracing::instrument(skip_all, fields(
    reservation_id = %form.reservation_id,
    restaurant_id = %form.restaurant_id,
))]
pub async fn submit(
    state: &AppState,
    form: BookingForm,
    request_id: Option<&str>,
) -> Result<Submitted, ApiError> {
    form.check_shape()?;
    if let Some(url) = &form.callback_url {
        check_callback_url(state, url)?;
    }
    turn_away_if_sold_out(state, &form).await?;
    let store = &state.store;
    // Read at most seconds ago (`booking::CATALOG_FRESH_FOR`): the decision re-reads both
    // under locks, so an old read can queue a request the worker then refuses, never book one.
    let restaurant = store
        .recent_restaurant(form.restaurant_id)
        .await?
        .ok_or_else(|| Invalid::new("restaurantId", "no restaurant has this id"))?;
    let table_type = store
        .recent_table_type(restaurant.id, form.table_type_id)
        .await?
        .ok_or_else(|| {
            Invalid::new(
                "tableTypeId",
                format!(
                    "restaurant {} has no table type with this id",
                    restaurant.id
                ),
            )
        })?;
    let request = BookingRequest::parse(&form, &restaurant, &table_type, Utc::now())?;
    // Held until the request is recorded, so the guest's next request counts this one.
    let _lane = state
        .rate_limits
        .guest_lane(&request.guest.email, request.restaurant_id, request.date)
        .await;
    refuse_past_active_bookings(state, &request).await?;

    // Usually recorded and relayed together with whatever else is arriving (group commit);
    // an id that exists, or anything unusual, is settled alone below.
    match state.intake.submit(request.clone(), request_id).await {
        Batched::Accepted(reservation) => {
            return Ok(Submitted {
                reservation: *reservation,
                first: true,
            })
        }
        Batched::Withdrawn => return Err(ApiError::Unavailable(QUEUE_REFUSED.into())),
        Batched::Alone => {}
    }

    // A concurrent attempt with the same id may be refused and withdrawn under our feet; then
    // this request is recorded afresh.
    for _ in 0..3 {
        let (reservation, relayer) = match store.record_pending(&request, request_id).await? {
            Recorded::Created(reservation) => (reservation, Relayer::Creator),
            Recorded::Existing(reservation) if reservation.was_requested_by(&request) => {
                (reservation, Relayer::Other)
            }
            Recorded::Existing(_) => {
                return Err(ApiError::Conflict(format!(
                    "reservationId {} is already used by a different request; \
                     generate a new id for a new booking",
                    request.reservation_id
                )))
            }
        };
        let submitted = Submitted {
            first: matches!(relayer, Relayer::Creator),
            reservation,
        };
        if !submitted.reservation.status.is_pending() {
            return Ok(submitted);
        }
        // A retry of a pending request relays too: if the first attempt died before
        // publishing, the retry finishes its work instead of waiting for the sweeper.
        let id = submitted.reservation.id;
        match outbox::relay_decision(store, &state.publisher, id, relayer).await {
            Relayed::Withdrawn => return Err(ApiError::Unavailable(QUEUE_REFUSED.into())),
            Relayed::Vanished => continue,
            Relayed::Published | Relayed::AlreadyRelayed | Relayed::Deferred => {
                return Ok(submitted)
            }
        }
    }
    Err(ApiError::Unavailable(
        "concurrent attempts with this reservationId keep being refused; nothing was booked. \
         Retry later with the same reservationId"
            .into(),
    ))
}

/// A booking as intake leaves it for its client: the reservation, and whether this client may
/// be handed the reservation's receipt token.
#[derive(Debug)]
pub struct Booked {
    pub reservation: Reservation,
    /// The request that made the reservation, or a retry that carried its `retryKey`: never
    /// anyone who merely knows the reservation's details (a webhook receiver could send those).
    pub hand_over_token: bool,
}

/// [`submit`], then the rule for handing over the receipt token: to the request that made the
/// reservation, and to a retry that carries the same `retryKey`. The JSON route and the
/// booking page both book through this.
///
/// # Errors
/// As [`submit`].
pub async fn book(
    state: &AppState,
    form: BookingForm,
    request_id: Option<&str>,
) -> Result<Booked, ApiError> {
    let retry_key = form.retry_key.clone();
    let submitted = submit(state, form, request_id).await?;
    let reservation = submitted.reservation;
    // The retry key was recorded with the reservation, so even a retry racing the first
    // request finds it.
    let hand_over_token = if submitted.first {
        true
    } else {
        match &retry_key {
            Some(key) => state.store.retry_key_matches(reservation.id, key).await?,
            None => false,
        }
    };
    Ok(Booked {
        reservation,
        hand_over_token,
    })
}

/// What intake made of a booking request.
#[derive(Debug)]
pub struct Submitted {
    pub reservation: Reservation,
    /// This request created the reservation (it is not a retry of one that did).
    pub first: bool,
}

/// A guest may hold a few active bookings at a restaurant on a day, so one script cannot take
/// a Saturday's tables under one email. A retry of a recorded id is never refused: it books
/// nothing new. `429`, not `409`: the request is fine, the guest is over a quota (RFC 6585),
/// and `409` stays what a client tells apart as "this id is taken" or "sold out".
async fn refuse_past_active_bookings(
    state: &AppState,
    request: &BookingRequest,
) -> Result<(), ApiError> {
    let Some(most) = state.rate_limits.active_bookings_per_email() else {
        return Ok(());
    };
    let bookings = state
        .store
        .guest_bookings(
            &request.guest.email,
            request.restaurant_id,
            request.date,
            request.reservation_id,
        )
        .await?;
    if bookings.is_retry || bookings.active < i64::from(most) {
        return Ok(());
    }
    metrics::counter!("maitred_intake_rate_limited_total", "limit" => "guest_email").increment(1);
    Err(ApiError::TooManyRequests {
        detail: format!(
            "{} already has {} active bookings at this restaurant on {}, the most one email may \
             hold; nothing was booked. Cancel one, or wait for a hold to lapse",
            request.guest.email, bookings.active, request.date
        ),
        field: Some("guest.email"),
        retry_after: std::time::Duration::from_secs(
            crate::rate_limit::ACTIVE_BOOKINGS_RETRY_AFTER_SECONDS,
        ),
    })
}

/// A request for a slot a worker has just seen sold out is answered at once (`409`, nothing
/// recorded), unless its id is already taken: a retry must find its reservation whatever the
/// slot's state now. The first slot of the stay is the one checked; a later slot that is full
/// is the decision's business.
async fn turn_away_if_sold_out(state: &AppState, form: &BookingForm) -> Result<(), ApiError> {
    let (Ok(date), Ok(time)) = (parse_date(&form.date), parse_time(&form.time)) else {
        return Ok(());
    };
    let Some(left) =
        state
            .sold_out
            .tables_left(form.restaurant_id, form.table_type_id, date.and_time(time))
    else {
        return Ok(());
    };
    // Looked up with the other requests arriving now: one statement for the lot. When the
    // database cannot say, the request takes the ordinary path.
    if left >= form.table_count || state.intake.exists(form.reservation_id).await != Some(false) {
        return Ok(());
    }
    metrics::counter!("maitred_intake_sold_out_total").increment(1);
    Err(ApiError::SoldOut(format!(
        "sold out: table type {} has {} left at {} {}, and {} were asked for; nothing was \
         booked. The availability shows what is left",
        form.table_type_id,
        left.max(0),
        form.date,
        form.time,
        form.table_count
    )))
}

/// A callback URL must be one the server may call (no internal hosts unless allowed), and the
/// server must be able to sign what it sends there.
pub(crate) fn check_callback_url(state: &AppState, url: &str) -> Result<(), Invalid> {
    if state.callback_secret.is_none() {
        return Err(Invalid::new(
            "callbackUrl",
            "this server has no callback signing secret configured, so it cannot deliver \
             callbacks; leave callbackUrl out and poll, or ask staff to register a webhook endpoint",
        ));
    }
    state
        .url_policy
        .check_url(url)
        .map(drop)
        .map_err(|rejected| Invalid::new("callbackUrl", rejected.to_string()))
}
