//! Front of house in the panel: seat a confirmed booking at tables of its type, the floor of a
//! restaurant, and walk-ins.
//!
//! - `GET`/`POST /admin/reservations/{id}/seat?from=`: the free tables of the booking's type,
//!   the suggestion checked, then `Store::seat` (what `POST /v1/reservations/{id}/seat` does).
//! - `GET /admin/restaurants/{id}/floor?at=`: every table, free, seated, held or out of
//!   service, by area; a live region (`…/floor/live`) that the page's script re-fetches.
//! - `POST /admin/restaurants/{id}/walk-ins`: `api::walk_in::walk_in`, as the JSON route.

use axum::body::Bytes;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use booking::store::{FloorTable, Refusal, TableState};
use booking::{Reservation, Restaurant, Status};
use chrono::{NaiveDateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::book::{back, redirect, refusal_words, reservation_of, runs, seated_words};
use super::{layout, SignedIn};
use crate::walk_in::{self, WalkInForm, WalkedIn};
use crate::web::{format, no_store, PageError};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/reservations/{id}/seat", get(seat_form).post(seat))
        .route("/admin/restaurants/{id}/floor", get(floor))
        .route("/admin/restaurants/{id}/floor/live", get(floor_live))
        .route(
            "/admin/restaurants/{id}/walk-ins",
            axum::routing::post(walk_in),
        )
}

/// A posted form's fields, `tableIds` repeated once per checked box.
struct Posted(Vec<(String, String)>);

impl Posted {
    /// The fields, once the form is known to come from this session's panel.
    fn checked(signed_in: &SignedIn, body: &Bytes) -> Result<Self, PageError> {
        let posted = Self(form_urlencoded::parse(body).into_owned().collect());
        signed_in.check_csrf(posted.get("csrf"))?;
        Ok(posted)
    }

    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// The checked tables; an id that does not parse is no table.
    fn table_ids(&self) -> Vec<Uuid> {
        self.0
            .iter()
            .filter(|(key, _)| key == "tableIds")
            .filter_map(|(_, value)| value.parse().ok())
            .collect()
    }
}

fn from_of(from: Option<&str>) -> &'static str {
    if from == Some("book") {
        "book"
    } else {
        "detail"
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SeatQuery {
    from: Option<String>,
}

/// `GET /admin/reservations/{id}/seat?from=`.
async fn seat_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<SeatQuery>,
) -> Result<Response, PageError> {
    let (reservation, restaurant) = reservation_of(&state, &signed_in, &id).await?;
    let from = from_of(query.from.as_deref());
    seat_page(
        &state,
        &signed_in,
        &reservation,
        &restaurant,
        from,
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /admin/reservations/{id}/seat`: `csrf`, `from` and a `tableIds` per chosen table.
async fn seat(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let posted = Posted::checked(&signed_in, &body)?;
    let from = from_of(Some(posted.get("from")));
    let (reservation, restaurant) = reservation_of(&state, &signed_in, &id).await?;
    if reservation.status == Status::Seated {
        // Done already (a second click): nothing to change.
        return Ok(redirect(&back(&reservation, from)));
    }
    let table_ids = posted.table_ids();
    let (status, refusal) = if table_ids.is_empty() {
        let count = reservation.table_count;
        let invalid = booking::Invalid::new(
            "tableIds",
            format!(
                "choose {count} table{} to seat the party at",
                if count == 1 { "" } else { "s" }
            ),
        );
        (StatusCode::UNPROCESSABLE_ENTITY, Refusal::Invalid(invalid))
    } else {
        match state
            .store
            .seat(reservation.id, &table_ids, &signed_in.actor(), Utc::now())
            .await?
        {
            Ok((seated, _)) => {
                // The transition queued webhooks.
                state.relay.wake();
                return Ok(redirect(&back(&seated, from)));
            }
            Err(refusal @ Refusal::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, refusal),
            Err(refusal) => (StatusCode::CONFLICT, refusal),
        }
    };
    // Read again: the refusal is about the booking as it is now.
    let now = state
        .store
        .reservation(reservation.id)
        .await?
        .unwrap_or(reservation);
    let problem = refusal_words(&refusal, &now, "seated");
    seat_page(
        &state,
        &signed_in,
        &now,
        &restaurant,
        from,
        status,
        Some(&problem),
    )
    .await
}

async fn seat_page(
    state: &AppState,
    signed_in: &SignedIn,
    reservation: &Reservation,
    restaurant: &Restaurant,
    from: &str,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<Response, PageError> {
    let (options, table_types) = tokio::try_join!(
        state.store.table_options(reservation.id, Utc::now()),
        state.store.table_types(restaurant.id),
    )?;
    let table_type = table_types
        .iter()
        .find(|t| t.id == reservation.table_type_id);
    let type_name = table_type.map_or("its table type", |t| t.name.as_str());
    let count = usize::try_from(reservation.table_count).unwrap_or(0);
    let plural = if count == 1 { "" } else { "s" };
    let title = format!("Seat {}", reservation.guest.name);
    let body = layout::page(
        &title,
        signed_in,
        html! {
            p { a href=(back(reservation, from)) { "Back" } }
            h1 { (title) ", party of " (reservation.party_size) }
            p { (format::long_date(reservation.date)) " at " (format::time(reservation.time))
                " · " (type_name) @if count > 1 { " × " (count) } " · " (restaurant.name) }
            @if let Some(problem) = problem {
                p.notice.error #seat-error role="alert" { (problem) }
            }
            @match &options {
                Err(refusal) => {
                    @if problem.is_none() {
                        p.notice.info #seat-refused role="alert" { (refusal_words(refusal, reservation, "seated")) }
                    }
                }
                Ok(options) if options.free.len() < count => {
                    p.notice.wait #seat-full role="alert" {
                        @if options.free.is_empty() {
                            "All " (table_type.map_or(0, |t| t.tables)) " tables of " (type_name) " are taken now"
                        } @else {
                            "Only " (options.free.len()) " of the tables of " (type_name) " are free now, and this booking needs " (count)
                        }
                        @if let Some(next) = options.next_free_at {
                            "; the next is free at " (format::time(next.time())) "."
                        } @else { "." }
                    }
                    p { "Seat the party when a table is free, or cancel the booking from the book." }
                }
                Ok(options) => {
                    form.card method="post" action=(format!("/admin/reservations/{}/seat", reservation.id)) data-once {
                        input type="hidden" name="csrf" value=(signed_in.csrf());
                        input type="hidden" name="from" value=(from);
                        fieldset.table-choice {
                            legend { "Free tables of " (type_name) ": choose " (count) }
                            p.hint { "The suggested table" (plural) " " @if count == 1 { "is" } @else { "are" } " checked: the smallest that fits, then the one free longest. The party keeps "
                                @if count == 1 { "it" } @else { "them" } " until " (format::time(options.until.time())) "." }
                            @for (i, table) in options.free.iter().enumerate() {
                                div.check {
                                    input type="checkbox" name="tableIds" value=(table.table_id)
                                        id=(format!("t-{}", table.table_id)) checked[i < count];
                                    label for=(format!("t-{}", table.table_id)) {
                                        strong { (table.label) }
                                        @if !table.area.is_empty() { " · " (table.area) }
                                        @if let Some(since) = table.free_since { " · free since " (format::time(since.time())) }
                                        @if i < count { " " span.suggested { "(suggested)" } }
                                    }
                                }
                            }
                        }
                        div.actions {
                            button type="submit" data-busy-label="Seating…" { "Seat at the chosen table" (plural) }
                            a.button.secondary href=(back(reservation, from)) { "Not now" }
                        }
                    }
                }
            }
        },
    );
    let mut response = (status, body).into_response();
    no_store(&mut response);
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct FloorQuery {
    at: Option<String>,
    seated: Option<String>,
    deciding: Option<String>,
}

/// The moment asked for (`YYYY-MM-DDTHH:MM`), or the restaurant's local now; and whether it
/// was asked for (a fixed moment does not change by itself).
fn moment(restaurant: &Restaurant, at: Option<&str>) -> Result<(NaiveDateTime, bool), PageError> {
    match at.map(str::trim).filter(|at| !at.is_empty()) {
        None => Ok((restaurant.local_now(Utc::now()), false)),
        Some(at) => crate::routes::seating::parse_local(at)
            .map(|at| (at, true))
            .map_err(|_| {
                PageError::bad_request(format!(
                    "“{at}” is not a time: write it like 2026-12-24T19:30."
                ))
            }),
    }
}

/// `GET /admin/restaurants/{id}/floor?at=`.
async fn floor(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<FloorQuery>,
) -> Result<Response, PageError> {
    let restaurant = runs(&state, &signed_in, &id).await?;
    let notice = walk_in_notice(&state, &restaurant, &query).await?;
    floor_page(
        &state,
        &signed_in,
        &restaurant,
        query.at.as_deref(),
        StatusCode::OK,
        notice.as_deref(),
        None,
    )
    .await
}

/// What the redirect after a walk-in says.
async fn walk_in_notice(
    state: &AppState,
    restaurant: &Restaurant,
    query: &FloorQuery,
) -> Result<Option<String>, PageError> {
    let (id, seated) = match (&query.seated, &query.deciding) {
        (Some(id), _) => (id, true),
        (None, Some(id)) => (id, false),
        (None, None) => return Ok(None),
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return Ok(None);
    };
    let Some(reservation) = state
        .store
        .reservation(id)
        .await?
        .filter(|r| r.restaurant_id == restaurant.id)
    else {
        return Ok(None);
    };
    if !seated {
        return Ok(Some(format!(
            "The restaurant's queue is still deciding the walk-in of {}, party of {}; it will \
             appear in the book, and you can seat it from there.",
            reservation.guest.name, reservation.party_size
        )));
    }
    let seatings = state.store.seatings_of(&[id]).await?;
    let seated: Vec<_> = seatings.iter().collect();
    Ok(Some(format!(
        "{}, party of {}, is seated at {}.",
        reservation.guest.name,
        reservation.party_size,
        seated_words(&seated)
    )))
}

/// `GET /admin/restaurants/{id}/floor/live?at=`: the changing part of the floor.
async fn floor_live(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<FloorQuery>,
) -> Result<Response, PageError> {
    let restaurant = runs(&state, &signed_in, &id).await?;
    let (at, fixed) = moment(&restaurant, query.at.as_deref())?;
    let tables = state.store.floor(&restaurant, at).await?;
    let mut response = floor_region(&restaurant, &tables, at, fixed).into_response();
    no_store(&mut response);
    Ok(response)
}

/// What the walk-in form sent, to show it again after a refusal.
#[derive(Default)]
struct WalkInValues {
    reservation_id: Option<Uuid>,
    table_ids: Vec<Uuid>,
    party_size: String,
    guest_name: String,
    guest_phone: String,
}

async fn floor_page(
    state: &AppState,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    at: Option<&str>,
    status: StatusCode,
    notice: Option<&str>,
    problem: Option<(&str, &WalkInValues)>,
) -> Result<Response, PageError> {
    let (at, fixed) = moment(restaurant, at)?;
    let tables = state.store.floor(restaurant, at).await?;
    let values = problem.map(|(_, values)| values);
    let book = format!(
        "/admin/restaurants/{}/book?date={}",
        restaurant.id,
        at.date()
    );
    let body = layout::page(
        &format!("Floor of {}", restaurant.name),
        signed_in,
        html! {
            p { a href="/admin" { "Restaurants" } " › " (restaurant.name) " › "
                a href=(book) { "Book of " (format::long_date(at.date())) } }
            h1 { "The floor" }
            p.muted { (restaurant.name) " · " (format::long_date(at.date())) " at " (format::time(at.time()))
                ", the restaurant's local time (" (restaurant.time_zone) ")."
                @if fixed { " " a href=(format!("/admin/restaurants/{}/floor", restaurant.id)) { "Now" } } }
            @if let Some(notice) = notice {
                p.notice.ok #floor-notice role="status" { (notice) }
            }
            @if let Some((problem, _)) = problem {
                p.notice.error #walk-in-error role="alert" { (problem) }
            }
            (floor_region(restaurant, &tables, at, fixed))
            @if !fixed {
                (walk_in_form(signed_in, restaurant, &tables, values))
            }
        },
    );
    let mut response = (status, body).into_response();
    no_store(&mut response);
    Ok(response)
}

fn state_words(state: TableState) -> (&'static str, &'static str) {
    match state {
        TableState::Free => ("free", "Free"),
        TableState::Seated => ("seated", "Seated"),
        TableState::Held => ("held", "Held"),
        TableState::OutOfService => ("out_of_service", "Out of service"),
    }
}

fn floor_region(
    restaurant: &Restaurant,
    tables: &[FloorTable],
    at: NaiveDateTime,
    fixed: bool,
) -> Markup {
    let mut live = format!("/admin/restaurants/{}/floor/live", restaurant.id);
    if fixed {
        live.push_str(&format!("?at={}", at.format("%Y-%m-%dT%H:%M")));
    }
    // The tables come by area, then label.
    let mut areas: Vec<(&str, Vec<&FloorTable>)> = Vec::new();
    for table in tables {
        match areas.last_mut() {
            Some((area, list)) if *area == table.area => list.push(table),
            _ => areas.push((table.area.as_str(), vec![table])),
        }
    }
    html! {
        div #floor data-live=(live) data-final=(fixed) {
            @if tables.is_empty() {
                p.notice.info { "This restaurant has no tables yet." }
            }
            @for (i, (area, list)) in areas.iter().enumerate() {
                section.floor-area aria-labelledby=(format!("area-{i}")) {
                    h2 #(format!("area-{i}")) { @if area.is_empty() { "Main room" } @else { (area) } }
                    ul.plain.floor-tables {
                        @for table in list {
                            @let (state, word) = state_words(table.state);
                            li.card.floor-table #(format!("table-{}", table.table_id)) data-state=(state) {
                                h3 { (table.label) }
                                p.muted { (table.table_type) " · up to " (table.seats) " seats" }
                                p { span.badge data-status=(state) { (word) }
                                    @match table.state {
                                        TableState::Seated => {
                                            ": " (table.guest_name.as_deref().unwrap_or("a party"))
                                            @if let Some(party) = table.party_size { ", party of " (party) }
                                            @if let Some(until) = table.until { ", until " (format::time(until.time())) }
                                        }
                                        TableState::Held => {
                                            " for " (table.guest_name.as_deref().unwrap_or("a booking"))
                                            @if let Some(starts) = table.until { " at " (format::time(starts.time())) }
                                        }
                                        _ => {}
                                    }
                                }
                                @if let Some(id) = table.reservation_id {
                                    p { a href=(format!("/admin/reservations/{id}")) { "Booking of " (table.guest_name.as_deref().unwrap_or("this party")) } }
                                }
                            }
                        }
                    }
                }
            }
            @if !fixed { p.muted { "This floor updates by itself." } }
        }
    }
}

fn walk_in_form(
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    tables: &[FloorTable],
    values: Option<&WalkInValues>,
) -> Markup {
    let free: Vec<&FloorTable> = tables
        .iter()
        .filter(|t| t.state == TableState::Free)
        .collect();
    let empty = WalkInValues::default();
    let values = values.unwrap_or(&empty);
    // A fresh id per form: a second submit of the same form seats the party once.
    let reservation_id = values.reservation_id.unwrap_or_else(Uuid::new_v4);
    html! {
        section.card.walk-in aria-labelledby="walk-in-heading" {
            h2 #walk-in-heading { "Seat a walk-in" }
            @if free.is_empty() {
                p.notice.info { "No table is free now." }
            } @else {
                form method="post" action=(format!("/admin/restaurants/{}/walk-ins", restaurant.id)) data-once {
                    input type="hidden" name="csrf" value=(signed_in.csrf());
                    input type="hidden" name="reservationId" value=(reservation_id);
                    fieldset.table-choice {
                        legend { "Free tables (of one type)" }
                        @for table in &free {
                            div.check {
                                input type="checkbox" name="tableIds" value=(table.table_id)
                                    id=(format!("w-{}", table.table_id))
                                    checked[values.table_ids.contains(&table.table_id)];
                                label for=(format!("w-{}", table.table_id)) {
                                    strong { (table.label) } " · " (table.table_type) ", up to " (table.seats) " seats"
                                    @if !table.area.is_empty() { " · " (table.area) }
                                }
                            }
                        }
                    }
                    div.grid-form {
                        div {
                            label for="party-size" { "Party size" }
                            input #party-size type="number" name="partySize" min="1" max="500" required
                                inputmode="numeric" value=(values.party_size);
                        }
                        div {
                            label for="guest-name" { "Name (optional)" }
                            input #guest-name type="text" name="guestName" maxlength="200" autocomplete="off"
                                value=(values.guest_name);
                        }
                        div {
                            label for="guest-phone" { "Phone (optional)" }
                            input #guest-phone type="tel" name="guestPhone" maxlength="40" autocomplete="off"
                                value=(values.guest_phone);
                        }
                        div { button type="submit" data-busy-label="Seating…" { "Seat the walk-in" } }
                    }
                }
            }
        }
    }
}

/// A field of the walk-in form as the host reads it.
fn field_words(field: &str) -> &'static str {
    match field {
        "tableIds" => "Tables",
        "partySize" => "Party size",
        "guestName" => "Name",
        "guestPhone" => "Phone",
        _ => "The form",
    }
}

/// `POST /admin/restaurants/{id}/walk-ins`.
async fn walk_in(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let posted = Posted::checked(&signed_in, &body)?;
    let restaurant = runs(&state, &signed_in, &id).await?;
    let mut values = WalkInValues {
        reservation_id: posted.get("reservationId").parse().ok(),
        table_ids: posted.table_ids(),
        party_size: posted.get("partySize").trim().to_owned(),
        guest_name: posted.get("guestName").to_owned(),
        guest_phone: posted.get("guestPhone").to_owned(),
    };
    let party_size = values.party_size.parse::<i64>();
    let outcome = match (values.reservation_id, party_size) {
        (None, _) => Err(ApiError::BadRequest(
            "This form is out of date. Reload the page and try again.".into(),
        )),
        (_, Err(_)) => {
            Err(booking::Invalid::new("partySize", "write it as a number, like 2").into())
        }
        (Some(reservation_id), Ok(party_size)) => {
            let form = WalkInForm {
                reservation_id,
                table_ids: values.table_ids.clone(),
                party_size,
                guest_name: Some(values.guest_name.clone()),
                guest_phone: Some(values.guest_phone.clone()),
            };
            walk_in::walk_in(&state, &signed_in.principal(), restaurant.id, form).await
        }
    };
    let floor = format!("/admin/restaurants/{}/floor", restaurant.id);
    let (status, problem) = match outcome {
        Ok(WalkedIn::Seated(reservation, _)) => {
            return Ok(redirect(&format!("{floor}?seated={}", reservation.id)));
        }
        Ok(WalkedIn::Deciding(reservation)) => {
            return Ok(redirect(&format!("{floor}?deciding={}", reservation.id)));
        }
        Err(ApiError::Invalid(invalid)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Nothing was seated. {}: {}.",
                field_words(invalid.field),
                invalid.message
            ),
        ),
        Err(ApiError::Conflict(why)) => {
            (StatusCode::CONFLICT, format!("Nothing was seated: {why}."))
        }
        Err(ApiError::Unavailable(why)) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}.")),
        Err(ApiError::BadRequest(why)) => (StatusCode::BAD_REQUEST, why),
        Err(other) => return Err(other.into()),
    };
    // A walk-in turned down for good keeps its id: a new form needs a new one.
    if let Some(id) = values.reservation_id {
        let used = state.store.reservation(id).await?;
        if used.is_some_and(|r| !matches!(r.status, Status::Pending | Status::Confirmed)) {
            values.reservation_id = None;
        }
    }
    floor_page(
        &state,
        &signed_in,
        &restaurant,
        None,
        status,
        None,
        Some((&problem, &values)),
    )
    .await
}
