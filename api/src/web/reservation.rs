//! The diner's reservation page. It opens with the receipt token, in the link or in the
//! HttpOnly cookie the booking form (or the link) set for that reservation's pages only. It
//! shows the status in plain words (a pending request's place in its restaurant's queue, a
//! hold's time left, the price, why a request was turned down), updates itself, and offers
//! paying a hold and cancelling with the refund policy that applies now.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking::schedule::refund_deadline;
use booking::{Reservation, ReservationEvent, Restaurant, Status};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{format, layout, no_store, PageError};
use crate::auth::Principal;
use crate::AppState;

/// The cookie that keeps a reservation's receipt token, scoped to that reservation's pages.
const RECEIPT_COOKIE: &str = "maitred_receipt";

#[derive(Debug, Default, Deserialize)]
pub struct Link {
    token: Option<String>,
    /// Set by the cancel form's redirect: a cancellation is queued, and until the worker has
    /// decided it the booking still reads as held or confirmed, so the page keeps following.
    cancelling: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Confirmed {
    csrf: String,
    payment_token: String,
}

/// Sets the receipt cookie on `response`: HttpOnly (no script reads it), SameSite=Strict (no
/// other site's page sends it), and only for `/reservations/{id}`.
pub fn set_receipt_cookie(state: &AppState, response: &mut Response, id: Uuid, token: &str) {
    let secure = if state.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{RECEIPT_COOKIE}={token}; Path=/reservations/{id}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        60 * 60 * 24 * 400
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A reservation opened with its receipt token, and what its page shows.
pub(super) struct Opened {
    pub(super) reservation: Reservation,
    pub(super) restaurant: Restaurant,
    pub(super) table_type_name: String,
    token: String,
    pub(super) caller: Principal,
    test_cards: bool,
}

impl Opened {
    /// The reservation `id`, if `token` (from the link) or the cookie covers it.
    pub(super) async fn open(
        state: &AppState,
        id: &str,
        headers: &HeaderMap,
        link_token: Option<&str>,
    ) -> Result<Opened, PageError> {
        let not_found = || PageError::not_found("We could not find that reservation.");
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        let token = link_token
            .map(str::to_owned)
            .or_else(|| super::cookie(headers, RECEIPT_COOKIE))
            .ok_or_else(|| {
                PageError::new(
                    StatusCode::UNAUTHORIZED,
                    "Open the link from your booking",
                    "This page shows a booking to the person who made it. Open it with the link \
                     you got when you booked, on the device you booked with.",
                )
            })?;
        let refused = || {
            PageError::new(
                StatusCode::FORBIDDEN,
                "This link does not open this booking",
                "The link has expired or belongs to another booking. Open the link you got \
                 when you booked.",
            )
        };
        let caller: Principal = state.auth.verify(&token).map_err(|_| refused())?;
        let reservation = state.store.reservation(id).await?.ok_or_else(not_found)?;
        caller
            .require_reservation(&reservation)
            .map_err(|_| refused())?;
        let restaurant = state
            .store
            .restaurant(reservation.restaurant_id)
            .await?
            .ok_or_else(not_found)?;
        let table_type_name = state
            .store
            .table_type(restaurant.id, reservation.table_type_id)
            .await?
            .map_or_else(|| "Table".to_owned(), |t| t.name);
        Ok(Opened {
            reservation,
            restaurant,
            table_type_name,
            token,
            caller,
            test_cards: state.web.test_cards,
        })
    }

    pub(super) fn csrf(&self) -> String {
        super::csrf_token("maitred page csrf", &self.token)
    }

    pub(super) fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if bool::from(self.csrf().as_bytes().ct_eq(sent.as_bytes())) {
            Ok(())
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Please try again",
                "This form is out of date. Go back to your booking's page and try again.",
            ))
        }
    }

    pub(super) fn page_url(&self) -> String {
        format!("/reservations/{}", self.reservation.id)
    }
}

/// `GET /reservations/{id}[?token=]`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<Link>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, link.token.as_deref()).await?;
    let panel = status_region(&state, &opened, link.cancelling.is_some()).await?;
    let reservation = &opened.reservation;
    let restaurant = &opened.restaurant;
    let body = layout::page(
        &format!("Your table at {}", restaurant.name),
        html! {
            h1 { "Your table at " (restaurant.name) }
            div #status-region aria-live="polite" { (panel) }
            noscript { p.muted { "Reload this page to see the latest status." } }
            details.card {
                summary { "Come back later" }
                p { "This page is kept on this device. To open it elsewhere, use "
                    a href=(format!("{}?token={}", opened.page_url(), opened.token)) { "this private link" }
                    "; anyone who has it can see and cancel the booking." }
            }
            p { a href=(format!("/restaurants/{}", restaurant.id)) { "About " (restaurant.name) } }
        },
    );
    let mut response = body.into_response();
    if link.token.is_some() {
        set_receipt_cookie(&state, &mut response, reservation.id, &opened.token);
    }
    no_store(&mut response);
    Ok(response)
}

/// `GET /reservations/{id}/status`: the live part of the page, which its script polls.
pub async fn status_panel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<Link>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    let mut response = status_region(&state, &opened, link.cancelling.is_some())
        .await?
        .into_response();
    no_store(&mut response);
    Ok(response)
}

/// `GET /reservations/{id}/cancel`: the policy that applies now, and a button to confirm.
pub async fn confirm_cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    let reservation = &opened.reservation;
    let body = layout::page(
        "Cancel your booking",
        html! {
            p { a href=(opened.page_url()) { "← Your booking" } }
            h1 { "Cancel your booking?" }
            p { (opened.restaurant.name) ", " (format::long_date(reservation.date)) " at "
                (format::time(reservation.time)) ", " (reservation.party_size) " guests." }
            @if cancellable(reservation.status) {
                p.notice.wait #refund-policy { (refund_policy(&opened, Utc::now())) }
                form method="post" action=(format!("{}/cancel", opened.page_url())) data-once {
                    input type="hidden" name="csrf" value=(opened.csrf());
                    div.actions {
                        button.danger type="submit" data-busy-label="Cancelling…" { "Yes, cancel my booking" }
                        a.button.secondary href=(opened.page_url()) { "No, keep it" }
                    }
                }
            } @else {
                p.notice.info { "This booking can no longer be cancelled: it is "
                    (status_word(reservation.status).to_lowercase()) "." }
            }
        },
    );
    let mut response = body.into_response();
    no_store(&mut response);
    Ok(response)
}

/// `POST /reservations/{id}/cancel`: queue the cancellation, then back to the page, which
/// follows it to `canceled` (and `refunded`).
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Confirmed>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    let Ok(Form(form)) = form else {
        return Err(PageError::bad_request("The form could not be read."));
    };
    opened.check_csrf(&form.csrf)?;
    let by_restaurant = matches!(opened.caller, Principal::Staff(_));
    match state
        .store
        .request_cancel(opened.reservation.id, &opened.caller.actor(), by_restaurant)
        .await?
    {
        Ok(_) => state.relay.wake(),
        Err(refusal) => {
            return Err(PageError::new(
                StatusCode::CONFLICT,
                "This booking cannot be cancelled",
                format!("{refusal}"),
            ))
        }
    }
    let mut response = Redirect::to(&format!("{}?cancelling=1", opened.page_url())).into_response();
    no_store(&mut response);
    Ok(response)
}

/// `POST /reservations/{id}/pay`: pay a held reservation.
pub async fn pay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Confirmed>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    let Ok(Form(form)) = form else {
        return Err(PageError::bad_request("The form could not be read."));
    };
    opened.check_csrf(&form.csrf)?;
    let token = form.payment_token.trim();
    if token.is_empty() || token.len() > 200 || token.chars().any(char::is_control) {
        return Err(PageError::bad_request("Choose a card to pay with."));
    }
    if let Err(refusal) = state
        .store
        .request_payment(opened.reservation.id, token, &state.gateway)
        .await?
    {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "This booking cannot be paid",
            format!("{refusal}"),
        ));
    }
    state.relay.wake();
    let mut response = Redirect::to(&opened.page_url()).into_response();
    no_store(&mut response);
    Ok(response)
}

/// The part of the page that changes: the status, what to do next, and the history. Marked
/// final once nothing more will happen by itself, which ends the polling. `cancelling`: the
/// diner has just asked to cancel, and the queue has not decided it yet.
async fn status_region(
    state: &AppState,
    opened: &Opened,
    cancelling: bool,
) -> Result<Markup, PageError> {
    let reservation = &opened.reservation;
    let cancelling = cancelling && cancellable(reservation.status);
    let events = state
        .store
        .events(reservation.id)
        .await?
        .unwrap_or_default();
    let place = if reservation.status == Status::Pending {
        state.store.place_in_queue(reservation.id).await?
    } else {
        None
    };
    let wait = match place {
        Some(place) => {
            let position = u32::try_from(place).unwrap_or(u32::MAX);
            state.queue_insight.estimated_wait(state, position).await
        }
        None => None,
    };
    let now = Utc::now();
    let live = if cancelling {
        format!("{}/status?cancelling=1", opened.page_url())
    } else {
        format!("{}/status", opened.page_url())
    };
    // Why it was cancelled is in the history (the reservation's reason is for rejections).
    let cancellation = events
        .iter()
        .rev()
        .find(|event| event.to_status == Status::Canceled.as_str());
    // Only a confirmed booking was paid: a cancelled hold owes nothing either way.
    let cancel_reason = cancellation
        .filter(|event| event.from_status.as_deref() == Some(Status::Confirmed.as_str()))
        .map(|event| event.reason.as_deref().unwrap_or("canceled"));
    let latest_change = state
        .store
        .changes_of(reservation.id)
        .await?
        .into_iter()
        .next();
    let changing = latest_change
        .as_ref()
        .is_some_and(|change| matches!(change.status.as_str(), "pending" | "awaiting_payment"));
    let final_ = !cancelling && !changing && is_final(reservation.status, cancel_reason);
    Ok(html! {
        section #status data-live=(live) data-final=(final_) data-status=(reservation.status.as_str())
            aria-labelledby="status-heading" {
            (facts(opened))
            h2 #status-heading { "Status" }
            @if cancelling {
                div.notice.wait {
                    p.status-word #status-word { "Cancelling" }
                    p { "Your cancellation is in the restaurant's queue. This page updates by itself." }
                }
            } @else {
                @if let Some(change) = &latest_change {
                    (change_notice(change, now))
                }
                (status_notice(opened, place, wait, cancel_reason, now))
                @if !changing { (actions(opened)) }
            }
            h3 { "History" }
            ol.timeline {
                @for event in &events {
                    li { (timeline_entry(event, &opened.restaurant.time_zone)) }
                }
            }
        }
    })
}

fn status_notice(
    opened: &Opened,
    place: Option<i64>,
    wait: Option<f64>,
    cancel_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Markup {
    let reservation = &opened.reservation;
    let price = match (reservation.price_cents, &reservation.currency) {
        (Some(cents), Some(currency)) => Some(format::money(cents, currency)),
        _ => None,
    };
    let (class, word, detail): (&str, &str, Markup) = match reservation.status {
        Status::Pending => (
            "wait",
            "Waiting for the restaurant",
            html! {
                @if let Some(place) = place {
                    p { "You are " span.place { "number " (place) } " in the queue." }
                } @else {
                    p { "Your request is in the restaurant's queue." }
                }
                p {
                    @if let Some(seconds) = wait {
                        "Estimated wait: about " (format::span(seconds.ceil() as i64)) ". "
                    }
                    "Keep this page open: it updates by itself. Your request is kept even if you close it."
                }
            },
        ),
        Status::Held => (
            "wait",
            "Table held",
            html! {
                @if reservation.payment_token.is_some() {
                    p { "Your table is held while your payment goes through." }
                } @else {
                    p { "Your table is held for you: pay to confirm it." }
                }
                @if let Some(expires) = reservation.hold_expires_at {
                    p { "Time left to pay: " strong { (format::span((expires - now).num_seconds())) }
                        " (until " (format::local_instant(expires, &opened.restaurant.time_zone)) ")." }
                }
                @if let Some(price) = &price { p { "Price: " (price) "." } }
            },
        ),
        Status::Confirmed => (
            "ok",
            "Confirmed",
            html! {
                p { "See you on " (format::long_date(reservation.date)) " at " (format::time(reservation.time)) "." }
                @if let Some(price) = &price { p { "You paid " strong { (price) } "." } }
            },
        ),
        Status::Rejected => (
            "error",
            "Not booked",
            html! {
                p { (rejection(reservation)) }
                @if reservation.reason.as_deref() == Some("no_availability") {
                    p { a #join-waitlist href=(format!(
                        "/restaurants/{}/waitlist?date={}&time={}&partySize={}",
                        reservation.restaurant_id, reservation.date,
                        format::time(reservation.time), reservation.party_size)) {
                        "Join the waitlist for this time" }
                        " and we will offer you a table if one comes free." }
                }
            },
        ),
        Status::Expired => (
            "error",
            "Hold expired",
            html! { p { "The time to pay ran out, so the table was released. Nothing was charged." } },
        ),
        Status::Canceled => (
            "info",
            "Cancelled",
            html! { p { (match (cancel_reason, &price) {
                (Some("canceled_within_refund_window" | "canceled_by_restaurant"), Some(price)) =>
                    format!("Your refund of {price} is on its way."),
                (Some(_), Some(price)) => format!("Cancelled less than {} hours before the booking: the {price} paid is not refunded.", opened.restaurant.refund_window_hours),
                _ => "Nothing was charged.".to_owned(),
            }) } },
        ),
        Status::Refunded => (
            "ok",
            "Cancelled and refunded",
            html! { p { @if let Some(price) = &price { "We refunded " (price) ". " } "It may take a few days to show on your statement." } },
        ),
        Status::Seated => (
            "ok",
            "Seated",
            html! { p { "Your table is ready and you are seated. Enjoy your meal." } },
        ),
        Status::Completed => (
            "ok",
            "Thank you for coming",
            html! { p { "We hope you enjoyed your meal." } },
        ),
        Status::NoShow => (
            "error",
            "Marked as not attended",
            html! { p { "The restaurant marked this booking as a no-show." } },
        ),
    };
    html! {
        div class=(format!("notice {class}")) {
            p.status-word #status-word { (word) }
            (detail)
        }
    }
}

/// What was booked. Inside the live region, so a change shows without a reload.
fn facts(opened: &Opened) -> Markup {
    html! {
        dl.facts.card {
            dt { "When" } dd { (format::long_date(opened.reservation.date)) " at " (format::time(opened.reservation.time)) }
            dt { "Guests" } dd { (opened.reservation.party_size) }
            dt { "Table" } dd { (opened.table_type_name) }
            dt { "Name" } dd { (opened.reservation.guest.name) }
            @if !opened.reservation.tags.is_empty() {
                dt { "Occasion and needs" } dd #tags {
                    (opened.reservation.tags.iter().map(|tag| tag.label()).collect::<Vec<_>>().join(", "))
                }
            }
            @if let Some(requests) = &opened.reservation.special_requests {
                dt { "Your requests" } dd.special-requests #special-requests { (requests) }
            }
            dt { "Booking number" } dd { code { (opened.reservation.id) } }
        }
    }
}

/// A change under way, or one decided in the last hour, in plain words.
fn change_notice(change: &booking::store::ReservationChange, now: DateTime<Utc>) -> Markup {
    let to = format!(
        "{} at {} for {} guests",
        format::long_date(change.date),
        format::time(change.time),
        change.party_size
    );
    let recent = change
        .decided_at
        .is_some_and(|at| now - at < chrono::Duration::hours(1));
    html! {
        @match change.status.as_str() {
            "pending" => div.notice.wait #change-notice {
                p.status-word { "Changing" }
                p { "Your change to " (to) " is in the restaurant's queue. This page updates by itself." }
            },
            "awaiting_payment" => div.notice.wait #change-notice {
                p.status-word { "Changing" }
                p { "Your change to " (to) " costs more: the difference is being charged to your card." }
            },
            "applied" if recent => div.notice.ok #change-notice {
                p { "Your booking was changed to " (to) "." }
            },
            "rejected" if recent => div.notice.error #change-notice {
                p { "Your change to " (to) " could not be made: " (change_refusal(change.reason.as_deref()))
                    " Your booking is as it was." }
            },
            _ => {}
        }
    }
}

fn change_refusal(reason: Option<&str>) -> &'static str {
    match reason {
        Some("no_availability") => "no table of that kind was left at that time.",
        Some("pacing_limit") => {
            "the kitchen is already starting as many guests at that time as it can."
        }
        Some("too_late") => "it is too close to the start.",
        Some("too_many_changes") => {
            "this booking was changed as many times as the restaurant allows."
        }
        Some("payment_declined") => "your card declined the difference.",
        Some("closed") => "the restaurant is not open then.",
        _ => "the restaurant could not take it.",
    }
}

fn actions(opened: &Opened) -> Markup {
    let reservation = &opened.reservation;
    let awaiting_payment =
        reservation.status == Status::Held && reservation.payment_token.is_none();
    html! {
        @if awaiting_payment {
            form.stack method="post" action=(format!("{}/pay", opened.page_url())) data-once {
                input type="hidden" name="csrf" value=(opened.csrf());
                label for="pay-card" { "Card" }
                @if opened.test_cards {
                    select #pay-card name="paymentToken" {
                        @for (token, label) in super::book::TEST_CARDS {
                            option value=(token) { (label) }
                        }
                    }
                } @else {
                    input #pay-card type="text" name="paymentToken" required autocomplete="off";
                }
                div.actions { button type="submit" data-busy-label="Paying…" { "Pay now" } }
            }
        }
        @if cancellable(reservation.status) {
            p.actions {
                @if reservation.status == Status::Confirmed {
                    a.button.secondary #change-booking href=(format!("{}/change", opened.page_url())) { "Change this booking" }
                    " "
                }
                a.button.secondary href=(format!("{}/cancel", opened.page_url())) { "Cancel this booking" }
            }
        }
        @if matches!(reservation.status, Status::Rejected | Status::Expired) {
            p.actions { a.button href=(format!("/restaurants/{}?date={}&partySize={}#book-heading",
                reservation.restaurant_id, reservation.date, reservation.party_size)) { "Find another time" } }
        }
    }
}

fn cancellable(status: Status) -> bool {
    matches!(status, Status::Held | Status::Confirmed)
}

/// Nothing more happens by itself: the page stops asking.
fn is_final(status: Status, cancel_reason: Option<&str>) -> bool {
    match status {
        Status::Pending | Status::Held => false,
        // A refund is on its way.
        Status::Canceled => !matches!(
            cancel_reason,
            Some("canceled_within_refund_window" | "canceled_by_restaurant")
        ),
        _ => true,
    }
}

/// What cancelling now costs, in the words the diner needs before confirming.
fn refund_policy(opened: &Opened, now: DateTime<Utc>) -> String {
    let reservation = &opened.reservation;
    let restaurant = &opened.restaurant;
    let price = match (reservation.price_cents, &reservation.currency) {
        (Some(cents), Some(currency)) => format::money(cents, currency),
        _ => "the price".to_owned(),
    };
    if reservation.status == Status::Held {
        return "Nothing has been charged yet: cancelling now releases the table.".into();
    }
    let deadline = refund_deadline(
        &restaurant.time_zone,
        restaurant.refund_window_hours,
        reservation.date.and_time(reservation.time),
    );
    match deadline {
        Some(deadline) if now < deadline => format!(
            "Cancel now: full refund of {price}. Free cancellation ends {}.",
            format::local_instant(deadline, &restaurant.time_zone)
        ),
        _ => format!(
            "Less than {} hours before: no refund. You paid {price}, and it will not be returned.",
            restaurant.refund_window_hours
        ),
    }
}

fn rejection(reservation: &Reservation) -> &'static str {
    match reservation.reason.as_deref() {
        Some("no_availability") => {
            "Sorry: the last tables of this kind at that time went to other diners before your \
             request's turn. Nothing was charged."
        }
        Some("closed") => "The restaurant is closed at that time. Nothing was charged.",
        Some("table_type_unavailable") => {
            "This kind of table is no longer offered. Nothing was charged."
        }
        Some("payment_declined") => {
            "Your card was declined, so the table was released. Nothing was charged; you can \
             book again with another card."
        }
        Some("pacing_limit") => {
            "Sorry: the kitchen is already starting as many guests at that time as it can. \
             Nothing was charged; another time may still be free."
        }
        _ => "The restaurant could not take this booking. Nothing was charged.",
    }
}

fn timeline_entry(event: &ReservationEvent, time_zone: &str) -> Markup {
    let to = event.to_status.as_str();
    let reason = event.reason.as_deref().unwrap_or("");
    let what = match (to, event.reason.as_deref()) {
        _ if reason == "modified" => "Booking changed",
        _ if reason.starts_with("modification_rejected") => "Change not made",
        _ if reason == "modification_awaiting_payment" => "Change: charging the difference",
        _ if reason == "modification_refunded" => "Difference refunded",
        ("pending", _) => "Request received",
        ("held", _) => "Table held",
        ("confirmed", Some("payment_captured")) => "Paid and confirmed",
        ("confirmed", _) => "Confirmed",
        ("rejected", Some("payment_declined")) => "Card declined",
        ("rejected", _) => "Not booked",
        ("expired", _) => "Hold expired",
        ("canceled", _) => "Cancelled",
        ("refunded", _) => "Refunded",
        ("completed", _) => "Completed",
        ("no_show", _) => "Marked as a no-show",
        _ => "Updated",
    };
    html! {
        time datetime=(event.created_at.to_rfc3339()) { (format::local_instant(event.created_at, time_zone)) }
        " — " (what)
    }
}

pub(super) fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pending => "Pending",
        Status::Held => "Held",
        Status::Confirmed => "Confirmed",
        Status::Rejected => "Not booked",
        Status::Expired => "Expired",
        Status::Canceled => "Cancelled",
        Status::Refunded => "Refunded",
        Status::Seated => "Seated",
        Status::Completed => "Completed",
        Status::NoShow => "A no-show",
    }
}
