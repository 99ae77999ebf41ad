//! `/me`: a diner's history. Signed out, it asks for a sign-in link by email; the link (from
//! [`crate::guest_sign_in`]) opens a page with one button, because mail scanners open links
//! and a single-use link must not be spent by a robot. Signed in, it lists the diner's
//! bookings, newest first, with their receipts (charges, refunds, fees), and opens each on its
//! own page, where it can be cancelled.

use std::collections::hash_map::{Entry, HashMap};

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking::store::{Payment, PaymentKind, PaymentStatus};
use booking::{Reservation, Restaurant};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{format, layout, no_store, PageError};
use crate::guest_sign_in::{self, SignedInGuest, LINK_MINUTES};
use crate::rate_limit::ClientAddress;
use crate::{ApiError, AppState};

/// Bookings per page of the history.
const PAGE_SIZE: i64 = 20;

#[derive(Debug, Default, Deserialize)]
pub struct MeQuery {
    /// Set by the redirect after a link was asked for.
    asked: Option<String>,
    /// Set by the redirect after signing out.
    signed_out: Option<String>,
    /// The last booking of the previous page.
    after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    email: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

/// `GET /me`: the history when signed in, else the form that asks for a link.
pub async fn page(
    State(state): State<AppState>,
    Query(query): Query<MeQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(guest) = guest_sign_in::signed_in_guest(&state, &headers).await? else {
        let notice = if query.asked.is_some() {
            Some(format!(
                "If this email has booked with us, a sign-in link is on its way to it. It works \
                 once, for {LINK_MINUTES} minutes."
            ))
        } else {
            query
                .signed_out
                .map(|_| "You are signed out on this device.".to_owned())
        };
        let said = notice.as_deref().map_or(Said::Nothing, Said::Notice);
        return Ok(private(ask_page(StatusCode::OK, "", said)));
    };
    let after = match query.after.as_deref() {
        None => None,
        Some(after) => Some(
            Uuid::parse_str(after)
                .map_err(|_| PageError::bad_request("This page of your history does not exist."))?,
        ),
    };
    let reservations = state
        .store
        .reservations_of_guest(&guest.email, after, PAGE_SIZE + 1)
        .await?;
    let more = reservations.len() > PAGE_SIZE as usize;
    let shown = &reservations[..reservations.len().min(PAGE_SIZE as usize)];
    let mut restaurants: HashMap<Uuid, Option<Restaurant>> = HashMap::new();
    let mut items = Vec::with_capacity(shown.len());
    for reservation in shown {
        if let Entry::Vacant(slot) = restaurants.entry(reservation.restaurant_id) {
            slot.insert(state.store.restaurant(reservation.restaurant_id).await?);
        }
        let payments = state.store.payments_of(reservation.id).await?;
        let restaurant = restaurants
            .get(&reservation.restaurant_id)
            .and_then(Option::as_ref);
        items.push(booking_item(reservation, restaurant, &payments));
    }
    let next = more
        .then(|| shown.last().map(|last| format!("/me?after={}", last.id)))
        .flatten();
    let body = layout::page(
        "Your bookings",
        html! {
            h1 { "Your bookings" }
            p { "Signed in as " strong { (guest.email) } "." }
            @if items.is_empty() {
                p.notice.info { "No bookings yet." }
            } @else {
                ol.bookings #history { @for item in &items { (item) } }
            }
            @if after.is_some() { p { a href="/me" { "← Newest bookings" } } }
            @if let Some(next) = next { p { a href=(next) { "Older bookings →" } } }
            (sign_out_form(&guest))
        },
    );
    Ok(private(body.into_response()))
}

fn sign_out_form(guest: &SignedInGuest) -> Markup {
    html! {
        form.inline method="post" action="/me/sign-out" {
            input type="hidden" name="csrf" value=(guest.csrf());
            button.secondary type="submit" { "Sign out" }
        }
    }
}

/// One booking of the history, with its receipt.
fn booking_item(
    reservation: &Reservation,
    restaurant: Option<&Restaurant>,
    payments: &[Payment],
) -> Markup {
    let status = reservation.status.as_str();
    let name = restaurant.map_or("A restaurant", |r| r.name.as_str());
    html! {
        li.card.booking {
            h2 { (name) }
            p {
                span.badge data-status=(status) { (super::reservation::status_word(reservation.status)) } " "
                (format::long_date(reservation.date)) " at " (format::time(reservation.time))
                ", " (reservation.party_size) " guests"
            }
            @if let (Some(price), Some(currency)) = (reservation.price_cents, &reservation.currency) {
                p { "Price: " (format::money(price, currency)) }
            }
            @let receipt: Vec<String> = payments.iter().filter_map(receipt_line).collect();
            @if !receipt.is_empty() {
                h3 { "Receipt" }
                ul.plain { @for line in &receipt { li { (line) } } }
            }
            p { a href=(format!("/me/reservations/{}", reservation.id)) {
                "Open this booking" span.visually-hidden { " at " (name) " on " (format::long_date(reservation.date)) }
            } }
        }
    }
}

/// A payment as a line of a receipt: what was taken or given back, and when.
fn receipt_line(payment: &Payment) -> Option<String> {
    let what = match (payment.kind, payment.status) {
        (PaymentKind::Charge, PaymentStatus::Captured) => "Paid",
        (PaymentKind::Fee, PaymentStatus::Captured) => "No-show fee charged",
        (PaymentKind::Refund, PaymentStatus::Refunded) => "Refunded",
        (PaymentKind::Refund, PaymentStatus::Requested) => "Refund under way",
        (_, PaymentStatus::Declined) => "Card declined",
        _ => return None,
    };
    Some(format!(
        "{what}: {} on {}",
        format::money(payment.amount_cents, &payment.currency),
        payment.created_at.format("%-d %B %Y")
    ))
}

/// What the page that asks for a link says above its form, if anything.
enum Said<'a> {
    Nothing,
    /// All went well (`role=status`).
    Notice(&'a str),
    /// Something went wrong that is not the email's fault (`role=alert`).
    Problem(&'a str),
    /// The email typed is not one: shown at the field.
    BadEmail(&'a str),
}

/// The page that asks for a sign-in link.
fn ask_page(status: StatusCode, email: &str, said: Said<'_>) -> Response {
    let error = match said {
        Said::BadEmail(error) => Some(error),
        _ => None,
    };
    let body = layout::page(
        "Your bookings",
        html! {
            h1 { "Your bookings" }
            @match said {
                Said::Notice(notice) => p.notice.ok #sign-in-notice role="status" { (notice) },
                Said::Problem(problem) => p.notice.error #sign-in-problem role="alert" { (problem) },
                Said::Nothing | Said::BadEmail(_) => {},
            }
            p { "We email you a link that signs you in on this device: no password needed." }
            form.stack.card method="post" action="/me/sign-in-link" {
                label for="email" { "The email you booked with" }
                input #email type="email" name="email" value=(email) autocomplete="email" required
                    aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[error.map(|_| "email-error")];
                @if let Some(error) = error { p.field-error #email-error { (error) } }
                div.actions { button type="submit" data-busy-label="Sending…" { "Email me a sign-in link" } }
            }
        },
    );
    (status, body).into_response()
}

/// `POST /me/sign-in-link`: asks for a link, then back to `/me`, which says one is on its way.
pub async fn ask(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    form: Result<Form<EmailForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(PageError::bad_request("The form could not be read."));
    };
    match guest_sign_in::ask_for_link(&state, &form.email, client).await {
        Ok(()) => Ok(Redirect::to("/me?asked=1").into_response()),
        Err(ApiError::Invalid(invalid)) => Ok(private(ask_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.email,
            Said::BadEmail(&format!("The email {}.", invalid.message)),
        ))),
        Err(error) => Err(error.into()),
    }
}

/// `GET /me/sign-in?token=`: the link from the email. Signing in takes a click, so that a mail
/// scanner opening the link does not spend it.
pub async fn confirm(Query(form): Query<TokenForm>) -> Result<Response, PageError> {
    if form.token.is_empty() {
        return Err(PageError::bad_request(
            "This sign-in link is incomplete. Open the whole link from the email, or ask for a \
             new one on the Your bookings page.",
        ));
    }
    let body = layout::page(
        "Sign in",
        html! {
            h1 { "Sign in to see your bookings" }
            form.stack.card method="post" action="/me/sign-in" data-once {
                input type="hidden" name="token" value=(form.token);
                p { "The link works once. Sign in on this device:" }
                div.actions { button type="submit" data-busy-label="Signing in…" { "Sign in" } }
            }
        },
    );
    Ok(private(body.into_response()))
}

/// `POST /me/sign-in`: uses the link and starts the session. Refused when the browser says
/// another site's page sent it: that site could otherwise sign a diner in to someone else's
/// history with a link of its own.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site");
    if cross_site {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Please sign in from our page",
            "This sign-in came from another website. Open the link from your email instead.",
        ));
    }
    let Ok(Form(form)) = form else {
        return Err(PageError::bad_request("The form could not be read."));
    };
    match guest_sign_in::use_link(&state, &form.token).await? {
        Some(secret) => {
            let mut response = Redirect::to("/me").into_response();
            guest_sign_in::set_cookie(&state, &mut response, Some(&secret));
            Ok(response)
        }
        None => Ok(private(ask_page(
            StatusCode::GONE,
            "",
            Said::Problem(&format!(
                "This sign-in link has been used already or is more than {LINK_MINUTES} minutes \
                 old. Ask for a new one here."
            )),
        ))),
    }
}

/// `POST /me/sign-out`: ends the session on the server and forgets the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let mut response = Redirect::to("/me?signed_out=1").into_response();
    if let Some(guest) = guest_sign_in::signed_in_guest(&state, &headers).await? {
        let csrf = form.map(|Form(form)| form.csrf).unwrap_or_default();
        if !guest.csrf_matches(&csrf) {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Please try again",
                "This form is out of date. Go back to Your bookings and try again.",
            ));
        }
        guest_sign_in::sign_out(&state, &guest).await?;
    }
    guest_sign_in::set_cookie(&state, &mut response, None);
    Ok(response)
}

/// `GET /me/reservations/{id}`: opens one of the signed-in diner's bookings on its own page,
/// by handing that page its receipt token in the usual cookie.
pub async fn open_reservation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(guest) = guest_sign_in::signed_in_guest(&state, &headers).await? else {
        return Ok(Redirect::to("/me").into_response());
    };
    let not_found = || PageError::not_found("None of your bookings has this number.");
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let reservation = state
        .store
        .reservation(id)
        .await?
        .filter(|reservation| reservation.guest.email == guest.email)
        .ok_or_else(not_found)?;
    let token = state.auth.reservation_token(&reservation);
    let mut response = Redirect::to(&format!("/reservations/{id}")).into_response();
    super::reservation::set_receipt_cookie(&state, &mut response, id, &token);
    Ok(private(response))
}

fn private(mut response: Response) -> Response {
    no_store(&mut response);
    response
}
