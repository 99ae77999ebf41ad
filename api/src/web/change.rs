//! Changing a booking on the website: the diner picks a date and party size, sees the start
//! times and tables still free with each one's new price and the difference from what they
//! paid, and confirms one. The change goes through the restaurant's queue like the API's
//! `PATCH`; the booking's page follows it.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking::availability::SlotAvailability;
use booking::request::ChangeForm;
use booking::Status;
use chrono::{NaiveDate, NaiveTime, Utc};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::reservation::Opened;
use super::{format, layout, no_store, PageError};
use crate::AppState;

/// The date and party size the diner looks at.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Looking {
    date: Option<String>,
    party_size: Option<String>,
}

/// The diner's choice.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Chosen {
    csrf: String,
    date: String,
    party_size: String,
    /// `HH:MM|table type id`.
    choice: String,
}

/// `GET /reservations/{id}/change[?date=&partySize=]`.
pub async fn form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(looking): Query<Looking>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    let reservation = &opened.reservation;
    let restaurant = &opened.restaurant;
    let rules = &restaurant.booking_rules;
    let date = looking
        .date
        .as_deref()
        .and_then(|raw| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .unwrap_or(reservation.date);
    let party_size = looking
        .party_size
        .as_deref()
        .and_then(|raw| raw.parse::<i32>().ok())
        .filter(|size| (1..=100).contains(size))
        .unwrap_or(reservation.party_size);
    let changeable = reservation.status == Status::Confirmed;
    let slots: Vec<SlotAvailability> = if changeable {
        state
            .store
            .availability(
                restaurant,
                date,
                party_size,
                None,
                &state.pricing,
                Utc::now(),
            )
            .await?
    } else {
        Vec::new()
    };
    let paid = reservation.price_cents.unwrap_or(0);
    let currency = reservation.currency.clone().unwrap_or_default();
    let difference = |cents: i64| -> String {
        match cents - paid {
            0 => "same price".to_owned(),
            more if more > 0 => format!("{} more", format::money(more, &currency)),
            less => format!("{} back", format::money(-less, &currency)),
        }
    };
    let offers: Vec<(String, String, NaiveTime)> = slots
        .iter()
        .flat_map(|slot| {
            slot.table_types
                .iter()
                .filter(|offer| offer.tables_left > 0)
                .map(move |offer| (slot.time, offer))
        })
        .filter(|(time, offer)| {
            // The booking as it is is not a change.
            !(date == reservation.date
                && *time == reservation.time
                && party_size == reservation.party_size
                && offer.table_type_id == reservation.table_type_id)
        })
        .map(|(time, offer)| {
            (
                format!("{}|{}", format::time(time), offer.table_type_id),
                format!(
                    "{} · {} · {} ({})",
                    format::time(time),
                    offer.name,
                    format::money(offer.price_cents, &offer.currency),
                    difference(offer.price_cents)
                ),
                time,
            )
        })
        .collect();
    // Preselected: the first offer from the booking's own time on.
    let preselected = offers
        .iter()
        .position(|(_, _, time)| *time >= reservation.time)
        .unwrap_or(0);
    let body = layout::page(
        "Change your booking",
        html! {
            p { a href=(opened.page_url()) { "← Your booking" } }
            h1 { "Change your booking" }
            p { "Now: " (restaurant.name) ", " (format::long_date(reservation.date)) " at "
                (format::time(reservation.time)) ", " (reservation.party_size) " guests, "
                (opened.table_type_name) "." }
            @if !changeable {
                p.notice.info { "Only a confirmed booking can be changed; this one is "
                    (super::reservation::status_word(reservation.status).to_lowercase()) "." }
            } @else {
                p.muted #change-policy { "Changes are possible until "
                    (format::span(i64::from(rules.modification_cutoff_minutes) * 60))
                    " before the start, " (rules.max_modifications) " times per booking. A higher price is charged as the difference to the card you paid with; a lower one is refunded as the difference." }
                form.stack method="get" action=(format!("{}/change", opened.page_url())) {
                    label for="change-date" { "Date" }
                    input #change-date type="date" name="date" value=(date) required;
                    label for="change-party" { "Guests" }
                    input #change-party type="number" name="partySize" min="1" max="100" value=(party_size) required;
                    div.actions { button.secondary type="submit" { "Show times" } }
                }
                @if offers.is_empty() {
                    p.notice.info #no-times { "No table is free for " (party_size) " guests on "
                        (format::long_date(date)) ". Try another date." }
                } @else {
                    form.stack method="post" action=(format!("{}/change", opened.page_url())) data-once {
                        input type="hidden" name="csrf" value=(opened.csrf());
                        input type="hidden" name="date" value=(date);
                        input type="hidden" name="partySize" value=(party_size);
                        label for="change-choice" { "New time and table on " (format::long_date(date)) " for " (party_size) " guests" }
                        select #change-choice name="choice" required {
                            @for (index, (value, label, _)) in offers.iter().enumerate() {
                                option value=(value) selected[index == preselected] { (label) }
                            }
                        }
                        p.muted { "Prices are for now; the restaurant fixes the price when it makes the change." }
                        div.actions { button type="submit" data-busy-label="Changing…" { "Change my booking" } }
                    }
                }
            }
        },
    );
    let mut response = body.into_response();
    no_store(&mut response);
    Ok(response)
}

/// `POST /reservations/{id}/change`: queue the change, then back to the booking's page,
/// which follows it.
pub async fn submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Chosen>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    let Ok(Form(chosen)) = form else {
        return Err(PageError::bad_request("The form could not be read."));
    };
    opened.check_csrf(&chosen.csrf)?;
    let unreadable = || PageError::bad_request("Choose one of the times offered.");
    let (time, type_id) = chosen.choice.split_once('|').ok_or_else(unreadable)?;
    NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| unreadable())?;
    let change = ChangeForm {
        date: Some(chosen.date.clone()),
        time: Some(time.to_owned()),
        party_size: Some(chosen.party_size.parse().map_err(|_| unreadable())?),
        table_type_id: Some(Uuid::parse_str(type_id).map_err(|_| unreadable())?),
        table_count: Some(1),
        payment_token: None,
    };
    let refused = |detail: String| {
        PageError::new(
            StatusCode::CONFLICT,
            "This booking cannot be changed",
            detail,
        )
    };
    let wanted = crate::routes::reservations::changed_booking(&state, &opened.reservation, &change)
        .await
        .map_err(|error| refused(error.to_string()))?;
    state
        .store
        .request_change(&wanted, None, &opened.caller.actor(), Utc::now())
        .await?
        .map_err(|refusal| refused(refusal.to_string()))?;
    state.relay.wake();
    let mut response = Redirect::to(&opened.page_url()).into_response();
    no_store(&mut response);
    Ok(response)
}
