//! The day's book and a reservation's detail, with the host's actions.
//!
//! - `GET /admin/restaurants/{id}/book?date=`: every reservation of a local date by start
//!   time, and the slots' occupancy against the overbooking limit. The list and the occupancy
//!   are a live region (`…/book/live?date=`) that the page's script re-fetches, so bookings
//!   decided while the book is open appear by themselves.
//! - `GET /admin/reservations/{id}`: one booking with its audit log, payments and webhooks.
//! - `POST /admin/reservations/{id}/complete`, `…/no-show`, and `GET`/`POST …/cancel` (a
//!   confirmation first): the same store functions as `POST /v1/reservations/{id}/complete`,
//!   `…/no-show` and a staff's `DELETE /v1/reservations/{id}` (a full refund).
//! - A confirmed booking from an hour before its start has a "Seat" link to
//!   `…/seat` ([`super::seating`]); a seated one shows its tables and can be marked completed.
//!
//! An action that finds the booking already in the state it asks for (a second click on a copy
//! of the list the script fetched) changes nothing and says so.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use booking::availability::InventoryRow;
use booking::schedule::start_instant;
use booking::store::{
    GuestNote, Payment, PaymentKind, PaymentStatus, Refusal, Seating, WebhookDelivery,
    EARLIEST_SEATING,
};
use booking::{Reservation, ReservationEvent, Restaurant, Status, TableType};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{layout, SignedIn};
use crate::web::{format, no_store, PageError};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/restaurants/{id}/book", get(book))
        .route("/admin/restaurants/{id}/book/live", get(book_live))
        .route("/admin/reservations/{id}", get(detail))
        .route("/admin/reservations/{id}/complete", post(complete))
        .route("/admin/reservations/{id}/no-show", post(no_show))
        .route("/admin/reservations/{id}/guest-notes", post(add_note))
        .route("/admin/reservations/{id}/change", post(change))
        .route(
            "/admin/reservations/{id}/cancel",
            get(confirm_cancel).post(cancel),
        )
}

#[derive(Debug, Default, Deserialize)]
pub struct DateQuery {
    date: Option<String>,
}

/// What an action form sends: its CSRF token, and the page to go back to (`book` or the
/// reservation's own page).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    from: String,
}

pub(super) fn parse_id(id: &str, what: &str) -> Result<Uuid, PageError> {
    id.parse()
        .map_err(|_| PageError::not_found(format!("There is no {what} with this address.")))
}

async fn restaurant_of(state: &AppState, id: Uuid) -> Result<Restaurant, PageError> {
    state
        .store
        .restaurant(id)
        .await?
        .ok_or_else(|| PageError::not_found("There is no restaurant with this address."))
}

/// The date asked for, or the restaurant's today.
fn date_of(query: &DateQuery, restaurant: &Restaurant) -> Result<NaiveDate, PageError> {
    match query
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => Ok(restaurant.today(Utc::now())),
        Some(date) => date.parse().map_err(|_| {
            PageError::bad_request(format!(
                "“{date}” is not a date: write it as year-month-day, like 2026-12-24."
            ))
        }),
    }
}

/// The restaurant, once the signed-in member of staff is known to run it.
pub(super) async fn runs(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
) -> Result<Restaurant, PageError> {
    let id = parse_id(id, "restaurant")?;
    // Rights first: a manager learns nothing about other restaurants, not even that they exist.
    signed_in.require(id)?;
    restaurant_of(state, id).await
}

/// `GET /admin/restaurants/{id}/book?date=`.
async fn book(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<DateQuery>,
) -> Result<Response, PageError> {
    let restaurant = runs(&state, &signed_in, &id).await?;
    let date = date_of(&query, &restaurant)?;
    let region = book_region(&state, &signed_in, &restaurant, date).await?;
    let today = restaurant.today(Utc::now());
    let body = layout::page(
        &format!("Book of {}, {}", restaurant.name, format::long_date(date)),
        &signed_in,
        html! {
            p { a href="/admin" { "Restaurants" } " › " (restaurant.name) }
            h1 { "The book: " (format::long_date(date)) }
            p.muted { (restaurant.name) " · times are the restaurant's local time ("
                (restaurant.time_zone) ")." }
            form.card.grid-form.book-date method="get"
                action=(format!("/admin/restaurants/{}/book", restaurant.id)) {
                div {
                    label for="book-date" { "Date" }
                    input #book-date type="date" name="date" value=(date) required;
                }
                div { button type="submit" { "Show this date" } }
                @if date != today {
                    div { a href=(format!("/admin/restaurants/{}/book", restaurant.id)) { "Back to today" } }
                }
            }
            p { a href=(format!("/admin/restaurants/{}/floor", restaurant.id)) { "The floor: every table now" } }
            (region)
        },
    );
    let mut response = body.into_response();
    no_store(&mut response);
    Ok(response)
}

/// `GET /admin/restaurants/{id}/book/live?date=`: the changing part of the book.
async fn book_live(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<DateQuery>,
) -> Result<Response, PageError> {
    let restaurant = runs(&state, &signed_in, &id).await?;
    let date = date_of(&query, &restaurant)?;
    let mut response = book_region(&state, &signed_in, &restaurant, date)
        .await?
        .into_response();
    no_store(&mut response);
    Ok(response)
}

/// Whether a reservation is in the book (a request turned down or a hold left unpaid never
/// was a booking; they are counted, not listed).
fn in_book(status: Status) -> bool {
    !matches!(status, Status::Rejected | Status::Expired)
}

async fn book_region(
    state: &AppState,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    date: NaiveDate,
) -> Result<Markup, PageError> {
    let now = Utc::now();
    let (reservations, slots, table_types, waitlist) = tokio::try_join!(
        state.store.reservations_on(restaurant.id, date),
        state.store.slots_on(restaurant.id, date),
        state.store.table_types(restaurant.id),
        state.store.waitlist_on(restaurant.id, date),
    )?;
    let names: HashMap<Uuid, &str> = table_types
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let ids: Vec<Uuid> = reservations.iter().map(|r| r.id).collect();
    let emails: Vec<String> = reservations.iter().map(|r| r.guest.email.clone()).collect();
    let (seatings, notes) = tokio::try_join!(
        state.store.seatings_of(&ids),
        state.store.guest_notes(restaurant.id, &emails),
    )?;
    let around = Around {
        names: &names,
        seatings: &seatings,
        notes: &notes,
    };
    let (listed, not_booked): (Vec<&Reservation>, Vec<&Reservation>) =
        reservations.iter().partition(|r| in_book(r.status));
    let live = format!("/admin/restaurants/{}/book/live?date={date}", restaurant.id);
    // A past date changes only by a late cancellation's refund: no need to keep asking.
    let final_ = date < restaurant.today(now);
    let covers: i32 = listed
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                Status::Confirmed | Status::Held | Status::Seated | Status::Completed
            )
        })
        .map(|r| r.party_size)
        .sum();
    Ok(html! {
        div #book data-live=(live) data-final=(final_) {
            section.book-list aria-labelledby="reservations-heading" {
                h2 #reservations-heading { "Reservations (" (listed.len()) ")" }
                @if listed.is_empty() {
                    p.notice.info { "No reservations on this date." }
                } @else {
                    p.muted { (covers) " guests expected or seated. "
                        @if !final_ { "This list updates by itself." } }
                    ol.plain.bookings {
                        @for reservation in &listed {
                            li.card.booking #(format!("r-{}", reservation.id))
                                data-status=(reservation.status.as_str()) {
                                (booking_summary(signed_in, restaurant, reservation, &around, "book", html! {}))
                            }
                        }
                    }
                }
                @if !not_booked.is_empty() {
                    p.muted { (not_booked.len()) " request" @if not_booked.len() != 1 { "s" }
                        " for this date were not booked (turned down, or the hold was not paid) and are not listed." }
                }
            }
            (super::waitlist::section(&waitlist, &restaurant.time_zone))
            (occupancy(&slots, &table_types, restaurant.overbooking_pct))
        }
    })
}

/// What a page read once for all the bookings it shows.
struct Around<'a> {
    /// Table type names by id.
    names: &'a HashMap<Uuid, &'a str>,
    seatings: &'a [Seating],
    /// The restaurant's notes about these bookings' guests.
    notes: &'a [GuestNote],
}

/// One booking as the book and the detail page show it, with the host's actions.
fn booking_summary(
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    reservation: &Reservation,
    around: &Around<'_>,
    from: &str,
    more_facts: Markup,
) -> Markup {
    let Around {
        names,
        seatings,
        notes,
    } = around;
    let notes: Vec<&GuestNote> = notes
        .iter()
        .filter(|n| n.guest_email == reservation.guest.email)
        .collect();
    let seated: Vec<&Seating> = seatings
        .iter()
        .filter(|s| s.reservation_id == reservation.id)
        .collect();
    let id = reservation.id;
    let heading_id = format!("h-{id}");
    let type_name = names
        .get(&reservation.table_type_id)
        .copied()
        .unwrap_or("a table type since removed");
    html! {
        h3 #(heading_id) {
            (format::time(reservation.time)) " · " (reservation.guest.name)
            " · party of " (reservation.party_size)
        }
        p.booking-status { span.badge data-status=(reservation.status.as_str()) { (status_words(reservation.status)) }
            @for tag in &reservation.tags { " " span.badge.tag { (tag.label()) } } }
        dl.facts {
            dt { "Table" } dd { (type_name)
                @if reservation.table_count > 1 { " × " (reservation.table_count) } }
            @if !seated.is_empty() {
                dt { "Seated at" } dd.seated-at { (seated_words(&seated)) }
            }
            dt { "Time" } dd { (format::time(reservation.time)) " for " (format::span(i64::from(reservation.duration_minutes) * 60)) }
            dt { "Email" } dd { a href=(format!("mailto:{}", reservation.guest.email)) { (reservation.guest.email) } }
            dt { "Phone" } dd { @if let Some(phone) = &reservation.guest.phone {
                a href=(format!("tel:{phone}")) { (phone) } } @else { span.muted { "not given" } } }
            dt { "Price" } dd { (price(reservation)) }
            @if let Some(requests) = &reservation.special_requests {
                dt { "Requests" } dd.special-requests { (requests) }
            }
            @if !notes.is_empty() {
                dt { "Guest notes" } dd.guest-notes { ul.plain { @for note in &notes { li { (note.note) } } } }
            }
            (more_facts)
        }
        (actions(signed_in, restaurant, reservation, Utc::now(), from))
        @if from == "book" {
            p { a href=(format!("/admin/reservations/{id}")) aria-describedby=(format!("h-{id}")) { "Details and history" } }
        }
    }
}

/// The tables a party sits at, and until when: "T1, T2 until 21:00".
pub(super) fn seated_words(seated: &[&Seating]) -> String {
    let labels: Vec<&str> = seated.iter().map(|s| s.label.as_str()).collect();
    match seated.iter().map(|s| s.until).max() {
        Some(until) => format!("{} until {}", labels.join(", "), format::time(until.time())),
        None => labels.join(", "),
    }
}

fn price(reservation: &Reservation) -> String {
    match (reservation.price_cents, &reservation.currency) {
        (Some(cents), Some(currency)) => format::money(cents, currency),
        _ => "not set yet".to_owned(),
    }
}

/// The status as the host reads it.
pub(super) fn status_words(status: Status) -> &'static str {
    match status {
        Status::Pending => "Waiting for the decision",
        Status::Held => "Held, waiting for payment",
        Status::Confirmed => "Confirmed",
        Status::Rejected => "Not booked",
        Status::Expired => "Hold expired, not paid",
        Status::Canceled => "Cancelled",
        Status::Refunded => "Cancelled and refunded",
        Status::Seated => "Seated",
        Status::Completed => "Completed",
        Status::NoShow => "A no-show",
    }
}

/// When the booking starts, as an instant.
fn starts_at(restaurant: &Restaurant, reservation: &Reservation) -> Option<DateTime<Utc>> {
    start_instant(
        &restaurant.time_zone,
        reservation.date.and_time(reservation.time),
    )
}

fn actions(
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    reservation: &Reservation,
    now: DateTime<Utc>,
    from: &str,
) -> Markup {
    let id = reservation.id;
    let heading = format!("h-{id}");
    let confirmed = reservation.status == Status::Confirmed;
    let present = matches!(reservation.status, Status::Confirmed | Status::Seated);
    let cancellable = matches!(reservation.status, Status::Held | Status::Confirmed);
    let start = starts_at(restaurant, reservation);
    let started = start.is_none_or(|start| now >= start);
    // The party may be seated from an hour before its start (the seat page says when it is over).
    let seatable = confirmed && start.is_none_or(|start| now >= start - EARLIEST_SEATING);
    html! {
        @if present || cancellable {
            div.actions.host-actions {
                @if seatable {
                    a.button href=(format!("/admin/reservations/{id}/seat?from={from}"))
                        aria-describedby=(heading) { "Seat" }
                }
                @if present {
                    form.inline method="post" action=(format!("/admin/reservations/{id}/complete")) data-once {
                        input type="hidden" name="csrf" value=(signed_in.csrf());
                        input type="hidden" name="from" value=(from);
                        button type="submit" aria-describedby=(heading) data-busy-label="Saving…" { "Completed" }
                    }
                    @if started && confirmed {
                        form.inline method="post" action=(format!("/admin/reservations/{id}/no-show")) data-once {
                            input type="hidden" name="csrf" value=(signed_in.csrf());
                            input type="hidden" name="from" value=(from);
                            button.secondary type="submit" aria-describedby=(heading) data-busy-label="Saving…" { "No-show" }
                        }
                    }
                }
                @if confirmed && !started && from == "book" {
                    a.button.secondary href=(format!("/admin/reservations/{id}#change-heading"))
                        aria-describedby=(heading) { "Change" }
                }
                @if cancellable {
                    a.button.danger href=(format!("/admin/reservations/{id}/cancel?from={from}"))
                        aria-describedby=(heading) { "Cancel with full refund" }
                }
            }
            @if confirmed && !started {
                p.hint { "A no-show can be marked once the booking has started, at "
                    (format::time(reservation.time)) "." }
            }
        }
    }
}

/// The slots of the date that have bookings: tables reserved against the limit (the tables
/// plus the overbooking), per table type and start time.
fn occupancy(slots: &[InventoryRow], table_types: &[TableType], overbooking_pct: i32) -> Markup {
    let mut starts: Vec<_> = slots.iter().map(|s| s.slot_start).collect();
    starts.dedup();
    let by_slot: HashMap<(Uuid, chrono::NaiveDateTime), &InventoryRow> = slots
        .iter()
        .map(|s| ((s.table_type_id, s.slot_start), s))
        .collect();
    html! {
        section.occupancy aria-labelledby="occupancy-heading" {
            h2 #occupancy-heading { "Tables reserved per slot" }
            @if starts.is_empty() {
                p.muted { "No table is reserved on this date." }
            } @else {
                p.muted { "Tables reserved / the most that may be (the tables in service plus the overbooking). Slots not listed have nothing reserved." }
                div.table-scroll {
                    table.occupancy-table {
                        caption.visually-hidden { "Tables reserved per slot and table type" }
                        thead { tr {
                            th scope="col" { "Slot" }
                            @for table_type in table_types { th scope="col" { (table_type.name) } }
                        } }
                        tbody {
                            @for start in &starts {
                                tr {
                                    th scope="row" { (format::time(start.time())) }
                                    @for table_type in table_types {
                                        @match by_slot.get(&(table_type.id, *start)) {
                                            Some(row) => td class=@if row.left() <= 0 { "full" } {
                                                (row.total_reserved) " / " (row.limit())
                                                @if row.left() <= 0 { " " span.full-word { "full" } }
                                            },
                                            None => td { "0 / " (InventoryRow::fresh(table_type, *start, overbooking_pct).limit()) },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A reservation, once the signed-in member of staff is known to run its restaurant.
pub(super) async fn reservation_of(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
) -> Result<(Reservation, Restaurant), PageError> {
    let id = parse_id(id, "reservation")?;
    let reservation = state
        .store
        .reservation(id)
        .await?
        .ok_or_else(|| PageError::not_found("There is no reservation with this address."))?;
    signed_in.require(reservation.restaurant_id)?;
    // A deleted restaurant's bookings keep their page: the book is history.
    let restaurant = match state.store.restaurant(reservation.restaurant_id).await? {
        Some(restaurant) => restaurant,
        None => {
            return Err(PageError::not_found(
                "This reservation's restaurant has been deleted.",
            ))
        }
    };
    Ok((reservation, restaurant))
}

/// `GET /admin/reservations/{id}`.
async fn detail(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (reservation, restaurant) = reservation_of(&state, &signed_in, &id).await?;
    detail_page(
        &state,
        &signed_in,
        &reservation,
        &restaurant,
        StatusCode::OK,
        None,
    )
    .await
}

async fn detail_page(
    state: &AppState,
    signed_in: &SignedIn,
    reservation: &Reservation,
    restaurant: &Restaurant,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<Response, PageError> {
    let id = reservation.id;
    let ids = [id];
    let emails = [reservation.guest.email.clone()];
    let (events, payments, waiting, deliveries, endpoints, table_types, seatings, notes, changes) =
        tokio::try_join!(
            state.store.events(id),
            state.store.payments_of(id),
            state.store.waiting_webhooks(id),
            state.store.webhook_deliveries(id, DELIVERIES_SHOWN),
            state.store.webhook_endpoints(restaurant.id),
            state.store.table_types(restaurant.id),
            state.store.seatings_of(&ids),
            state.store.guest_notes(restaurant.id, &emails),
            state.store.changes_of(id),
        )?;
    let events = events.unwrap_or_default();
    let names: HashMap<Uuid, &str> = table_types
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let around = Around {
        names: &names,
        seatings: &seatings,
        notes: &notes,
    };
    let tz = &restaurant.time_zone;
    let book = format!(
        "/admin/restaurants/{}/book?date={}",
        restaurant.id, reservation.date
    );
    let body = layout::page(
        &format!("Reservation of {}", reservation.guest.name),
        signed_in,
        html! {
            p { a href="/admin" { "Restaurants" } " › " (restaurant.name) " › "
                a href=(book) { "Book of " (format::long_date(reservation.date)) } }
            h1 { "Reservation of " (reservation.guest.name) }
            @if let Some(problem) = problem {
                p.notice.error #action-error role="alert" { (problem) }
            }
            section.card.booking #(format!("r-{id}")) data-status=(reservation.status.as_str()) aria-label="The booking" {
                (booking_summary(signed_in, restaurant, reservation, &around, "detail", html! {
                    dt { "Date" } dd { (format::long_date(reservation.date)) }
                    @if let Some(reason) = &reservation.reason { dt { "Why" } dd { (reason) } }
                    @if let Some(expires) = reservation.hold_expires_at {
                        @if reservation.status == Status::Held {
                            dt { "Hold ends" } dd { (format::local_instant(expires, tz)) }
                        }
                    }
                    dt { "Requested" } dd { (format::local_instant(reservation.created_at, tz)) }
                    dt { "Reservation id" } dd { code { (id) } }
                }))
            }
            @if reservation.status == Status::Confirmed {
                section aria-labelledby="change-heading" {
                    h2 #change-heading { "Change this booking" }
                    p.muted { "Through the restaurant's queue, like the guest's own change: the new time is taken and the old one given back at once, or nothing changes. A higher price is charged as the difference to the guest's card; a lower one is refunded." }
                    form.stack method="post" action=(format!("/admin/reservations/{id}/change")) data-once {
                        input type="hidden" name="csrf" value=(signed_in.csrf());
                        label for="change-date" { "Date" }
                        input #change-date type="date" name="date" value=(reservation.date) required;
                        label for="change-time" { "Time" }
                        input #change-time type="time" name="time" value=(format::time(reservation.time)) step=(restaurant.slot_minutes * 60) required;
                        label for="change-party" { "Guests" }
                        input #change-party type="number" name="partySize" min="1" max="100" value=(reservation.party_size) required;
                        label for="change-type" { "Table" }
                        select #change-type name="tableTypeId" {
                            @for table_type in &table_types {
                                option value=(table_type.id) selected[table_type.id == reservation.table_type_id] { (table_type.name) }
                            }
                        }
                        label for="change-tables" { "Tables" }
                        input #change-tables type="number" name="tableCount" min="1" max="10" value=(reservation.table_count) required;
                        div.actions { button type="submit" data-busy-label="Changing…" { "Change the booking" } }
                    }
                }
            }
            @if !changes.is_empty() {
                section aria-labelledby="changes-heading" {
                    h2 #changes-heading { "Changes" }
                    div.table-scroll role="region" aria-labelledby="changes-heading" tabindex="0" { table.records #changes {
                        caption.visually-hidden { "Changes asked of this booking, newest first" }
                        thead { tr { th scope="col" { "Asked" } th scope="col" { "To" } th scope="col" { "Outcome" } th scope="col" { "Price" } } }
                        tbody { @for change in &changes {
                            tr {
                                td { (format::local_instant(change.created_at, tz)) }
                                td { (format::long_date(change.date)) " " (format::time(change.time)) ", " (change.party_size) " guests, "
                                    (change.table_count) " × " (names.get(&change.table_type_id).copied().unwrap_or("a table type no longer offered")) }
                                td { (change.status.replace('_', " ")) @if let Some(reason) = &change.reason { ": " (reason.replace('_', " ")) } }
                                td { @match (change.old_price_cents, change.new_price_cents, &reservation.currency) {
                                    (Some(old), Some(new), Some(currency)) => { (format::money(old, currency)) " → " (format::money(new, currency)) },
                                    _ => { "—" },
                                } }
                            }
                        } }
                    } }
                }
            }
            section aria-labelledby="note-heading" {
                h2 #note-heading { "A note about this guest" }
                p.muted { "Kept for " (restaurant.name) ": it shows on every booking of "
                    (reservation.guest.email) " here, to this restaurant's staff only." }
                form.stack method="post" action=(format!("/admin/reservations/{id}/guest-notes")) data-once {
                    input type="hidden" name="csrf" value=(signed_in.csrf());
                    label for="note" { "Note" }
                    textarea #note name="note" rows="2" maxlength="500" required {}
                    div.actions { button type="submit" { "Keep the note" } }
                }
            }
            section aria-labelledby="history-heading" {
                h2 #history-heading { "History" }
                div.table-scroll role="region" aria-labelledby="history-heading" tabindex="0" { table.records {
                    caption.visually-hidden { "Every change of this reservation, oldest first" }
                    thead { tr { th scope="col" { "When" } th scope="col" { "Change" } th scope="col" { "Why" } th scope="col" { "By" } } }
                    tbody { @for event in &events { (event_row(event, tz)) } }
                } }
            }
            section aria-labelledby="payments-heading" {
                h2 #payments-heading { "Payments and refunds" }
                @if payments.is_empty() {
                    p.muted { "No payment was asked for." }
                } @else {
                    div.table-scroll role="region" aria-labelledby="payments-heading" tabindex="0" { table.records {
                        caption.visually-hidden { "Charges and refunds, oldest first" }
                        thead { tr { th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "Amount" }
                            th scope="col" { "Where it stands" } th scope="col" { "Gateway reference" } } }
                        tbody { @for payment in &payments { (payment_row(payment, tz)) } }
                    } }
                }
            }
            section aria-labelledby="webhooks-heading" {
                h2 #webhooks-heading { "Webhooks" }
                p { "Status changes are sent, signed, with the webhook id "
                    code { "evt_" } " and the change's number in the history, to:" }
                ul {
                    @if let Some(url) = &reservation.callback_url { li { "the booking's callback URL " code { (url) } } }
                    @for endpoint in &endpoints { li { "the restaurant's endpoint " code { (endpoint.url) }
                        @if !endpoint.description.is_empty() { " (" (endpoint.description) ")" } } }
                    @if reservation.callback_url.is_none() && endpoints.is_empty() { li { "nowhere: this booking has no callback URL and the restaurant no endpoint." } }
                }
                @if !waiting.is_empty() {
                    p { "Waiting to be sent:" }
                    ul { @for webhook in &waiting {
                        li { code { (webhook.webhook_id) } " to the " (if webhook.target == "callback" { "callback URL" } else { "endpoint" })
                            ", written " (format::local_instant(webhook.created_at, tz)) }
                    } }
                }
                h3 #deliveries-heading { "Delivery attempts" }
                @if deliveries.is_empty() {
                    p.muted { "No attempt to deliver one has been made yet." }
                } @else {
                    @if deliveries.len() >= usize::try_from(DELIVERIES_SHOWN).unwrap_or(usize::MAX) {
                        p.hint { "The " (DELIVERIES_SHOWN) " newest attempts." }
                    }
                    div.table-scroll role="region" aria-labelledby="deliveries-heading" tabindex="0" { table.records.deliveries {
                        caption.visually-hidden { "Every attempt to deliver a webhook of this reservation, newest first" }
                        thead { tr { th scope="col" { "When" } th scope="col" { "To" } th scope="col" { "Event" } th scope="col" { "Attempt" }
                            th scope="col" { "Outcome" } th scope="col" { "HTTP status" } th scope="col" { "Error" } } }
                        tbody { @for delivery in &deliveries { (delivery_row(delivery, tz)) } }
                    } }
                    p.hint { "A delivery that failed every attempt is in the webhook dead-letter queue (Operations)." }
                }
            }
        },
    );
    let mut response = (status, body).into_response();
    no_store(&mut response);
    Ok(response)
}

fn event_row(event: &ReservationEvent, time_zone: &str) -> Markup {
    let word = |status: &str| match status {
        "pending" => "received",
        "held" => "held",
        "confirmed" => "confirmed",
        "rejected" => "not booked",
        "expired" => "expired",
        "canceled" => "cancelled",
        "refunded" => "refunded",
        "seated" => "seated",
        "completed" => "completed",
        "no_show" => "a no-show",
        _ => "updated",
    };
    html! {
        tr {
            td { time datetime=(event.created_at.to_rfc3339()) { (format::local_instant(event.created_at, time_zone)) } }
            td { @match &event.from_status {
                Some(from) if *from != event.to_status => { (word(from)) " → " (word(&event.to_status)) }
                Some(_) => { "note" }
                None => { (word(&event.to_status)) }
            } " " span.muted { "(evt_" (event.id) ")" } }
            td { (event.reason.as_deref().unwrap_or("")) }
            td { (event.actor) }
        }
    }
}

fn payment_row(payment: &Payment, time_zone: &str) -> Markup {
    let what = match payment.kind {
        PaymentKind::Charge => "Charge",
        PaymentKind::Refund => "Refund",
        PaymentKind::Fee => "No-show fee",
    };
    let stands = match payment.status {
        PaymentStatus::Requested => "Asked of the gateway",
        PaymentStatus::Captured => "Captured",
        PaymentStatus::Declined => "Declined",
        PaymentStatus::Refunded => "Refunded",
        PaymentStatus::Failed => "Refused by the gateway",
    };
    html! {
        tr {
            td { (format::local_instant(payment.created_at, time_zone)) }
            td { (what) }
            td { (format::money(payment.amount_cents, &payment.currency)) }
            td { (stands) @if let Some(failure) = &payment.failure { ": " (failure) } }
            td { (payment.gateway) @if let Some(reference) = &payment.gateway_reference { " " code { (reference) } } }
        }
    }
}

/// How many delivery attempts the detail page shows at most, newest first.
const DELIVERIES_SHOWN: i64 = 50;

fn delivery_row(delivery: &WebhookDelivery, time_zone: &str) -> Markup {
    let outcome = match delivery.outcome.as_str() {
        "delivered" => "delivered",
        "failed" => "failed, tried again later",
        "gave_up" => "gave up: dead-lettered",
        other => other,
    };
    html! {
        tr data-outcome=(delivery.outcome) {
            td { time datetime=(delivery.at.to_rfc3339()) { (format::local_instant(delivery.at, time_zone)) } }
            td.url { code { (delivery.url) } }
            td { (delivery.event) }
            td { (delivery.attempt) }
            td { (outcome) }
            td { @if let Some(status) = delivery.http_status { (status) } @else { span.muted { "none" } }
                " " span.muted { "(" (delivery.duration_ms) " ms)" } }
            td.error { @if let Some(error) = &delivery.error { (error) } }
        }
    }
}

/// Where an action goes back to.
pub(super) fn back(reservation: &Reservation, from: &str) -> String {
    if from == "book" {
        format!(
            "/admin/restaurants/{}/book?date={}#r-{}",
            reservation.restaurant_id, reservation.date, reservation.id
        )
    } else {
        format!("/admin/reservations/{}", reservation.id)
    }
}

pub(super) fn redirect(to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    no_store(&mut response);
    response
}

/// A refusal of the domain in the host's words.
pub(super) fn refusal_words(refusal: &Refusal, reservation: &Reservation, action: &str) -> String {
    match refusal {
        Refusal::Missing => "This reservation no longer exists.".to_owned(),
        Refusal::IllegalTransition { .. } => format!(
            "This booking is now “{}”, so it cannot be {action}.",
            status_words(reservation.status).to_lowercase()
        ),
        Refusal::Conflict(message) if message.contains("once the booking has started") => {
            format!(
                "Not yet: a no-show can only be marked once the booking has started, at {} on {}.",
                format::time(reservation.time),
                format::long_date(reservation.date)
            )
        }
        Refusal::Conflict(message) => format!("This could not be done: {message}."),
        Refusal::Invalid(invalid) => format!("This could not be done: {}.", invalid.message),
    }
}

/// `POST /admin/reservations/{id}/complete`.
async fn complete(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    mark(&state, &signed_in, &id, &form, Status::Completed).await
}

/// `POST /admin/reservations/{id}/no-show`.
async fn no_show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    mark(&state, &signed_in, &id, &form, Status::NoShow).await
}

/// The JSON routes' `mark`: the same store call, then the relay for the webhooks it queued.
async fn mark(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    form: &ActionForm,
    to: Status,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let (reservation, restaurant) = reservation_of(state, signed_in, id).await?;
    if reservation.status == to {
        // Done already (a second click): nothing to change.
        return Ok(redirect(&back(&reservation, &form.from)));
    }
    match state
        .store
        .mark_attendance(
            reservation.id,
            to,
            &signed_in.actor(),
            Utc::now(),
            &state.gateway,
        )
        .await?
    {
        Ok(marked) => {
            state.relay.wake();
            Ok(redirect(&back(&marked, &form.from)))
        }
        Err(refusal) => {
            let action = if to == Status::Completed {
                "marked completed"
            } else {
                "marked a no-show"
            };
            // Read again: the refusal is about the booking as it is now.
            let now = state
                .store
                .reservation(reservation.id)
                .await?
                .unwrap_or(reservation);
            let problem = refusal_words(&refusal, &now, action);
            detail_page(
                state,
                signed_in,
                &now,
                &restaurant,
                StatusCode::CONFLICT,
                Some(&problem),
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    csrf: String,
    note: String,
}

/// `POST /admin/reservations/{id}/guest-notes`: a note about the booking's guest, kept for its
/// restaurant, through the same checks as `POST /v1/restaurants/{id}/guest-notes`.
async fn add_note(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let (reservation, restaurant) = reservation_of(&state, &signed_in, &id).await?;
    let problem = match booking::special_requests::free_text("note", Some(&form.note)) {
        Ok(Some(note)) => {
            state
                .store
                .add_guest_note(
                    restaurant.id,
                    &reservation.guest.email,
                    &note,
                    &signed_in.actor(),
                )
                .await?;
            return Ok(redirect(&back(&reservation, "detail")));
        }
        Ok(None) => "The note is empty: write something to keep.".to_owned(),
        Err(invalid) => format!("The note {}.", invalid.message),
    };
    detail_page(
        &state,
        &signed_in,
        &reservation,
        &restaurant,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(&problem),
    )
    .await
}

/// The panel's change form.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangeFields {
    csrf: String,
    date: String,
    time: String,
    party_size: String,
    table_type_id: String,
    table_count: String,
}

/// `POST /admin/reservations/{id}/change`: the same change as `PATCH /v1/reservations/{id}`,
/// by staff.
async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<ChangeFields>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&fields.csrf)?;
    let (reservation, restaurant) = reservation_of(&state, &signed_in, &id).await?;
    let number = |raw: &str| raw.trim().parse::<i64>().ok();
    let form = booking::request::ChangeForm {
        date: Some(fields.date.trim().to_owned()),
        // A browser's time input may send seconds.
        time: Some(fields.time.trim().chars().take(5).collect()),
        party_size: number(&fields.party_size),
        table_type_id: Uuid::parse_str(fields.table_type_id.trim()).ok(),
        table_count: number(&fields.table_count),
        payment_token: None,
    };
    let problem =
        match crate::routes::reservations::changed_booking(&state, &reservation, &form).await {
            Ok(wanted) => match state
                .store
                .request_change(&wanted, None, &signed_in.actor(), Utc::now())
                .await?
            {
                Ok(_) => {
                    state.relay.wake();
                    return Ok(redirect(&back(&reservation, "detail")));
                }
                Err(refusal) => format!("The booking was not changed: {refusal}."),
            },
            Err(error) => format!("The booking was not changed: {error}."),
        };
    detail_page(
        &state,
        &signed_in,
        &reservation,
        &restaurant,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(&problem),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct FromQuery {
    from: Option<String>,
}

/// `GET /admin/reservations/{id}/cancel`: what cancelling does, before doing it.
async fn confirm_cancel(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<FromQuery>,
) -> Result<Response, PageError> {
    let (reservation, restaurant) = reservation_of(&state, &signed_in, &id).await?;
    let from = if query.from.as_deref() == Some("book") {
        "book"
    } else {
        "detail"
    };
    let cancellable = matches!(reservation.status, Status::Held | Status::Confirmed);
    let body = layout::page(
        "Cancel this booking?",
        &signed_in,
        html! {
            h1 { "Cancel this booking?" }
            p { strong { (reservation.guest.name) } ", party of " (reservation.party_size) ", "
                (format::long_date(reservation.date)) " at " (format::time(reservation.time))
                ", " (restaurant.name) "." }
            @if cancellable {
                p.notice.wait #refund-note {
                    @if reservation.status == Status::Confirmed {
                        "The guest paid " (price(&reservation)) ": it is refunded in full, whatever the refund window says."
                    } @else {
                        "Nothing has been charged yet: cancelling releases the table."
                    }
                    " The guest is told by their booking page and webhooks."
                }
                form method="post" action=(format!("/admin/reservations/{}/cancel", reservation.id)) data-once {
                    input type="hidden" name="csrf" value=(signed_in.csrf());
                    input type="hidden" name="from" value=(from);
                    div.actions {
                        button.danger type="submit" aria-describedby="refund-note" data-busy-label="Cancelling…" { "Yes, cancel with full refund" }
                        a.button.secondary href=(back(&reservation, from)) { "No, keep it" }
                    }
                }
            } @else {
                p.notice.info { "This booking can no longer be cancelled: it is "
                    (status_words(reservation.status).to_lowercase()) "." }
                p { a href=(back(&reservation, from)) { "Back" } }
            }
        },
    );
    let mut response = body.into_response();
    no_store(&mut response);
    Ok(response)
}

/// `POST /admin/reservations/{id}/cancel`: what a staff's `DELETE /v1/reservations/{id}` does,
/// a cancellation with a full refund queued on the restaurant's lane.
async fn cancel(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let (reservation, restaurant) = reservation_of(&state, &signed_in, &id).await?;
    match state
        .store
        .request_cancel(reservation.id, &signed_in.actor(), true)
        .await?
    {
        Ok(_) => {
            state.relay.wake();
            Ok(redirect(&back(&reservation, &form.from)))
        }
        Err(refusal) => {
            let problem = refusal_words(&refusal, &reservation, "cancelled");
            detail_page(
                &state,
                &signed_in,
                &reservation,
                &restaurant,
                StatusCode::CONFLICT,
                Some(&problem),
            )
            .await
        }
    }
}
