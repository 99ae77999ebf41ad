//! The restaurant page (its hours, its table types, and what a party can book on a date) and
//! the table-type page (seats, prices for the coming weeks, where its tables are).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use booking::availability::SlotAvailability;
use booking::catalog_forms::DateRange;
use booking::request::{parse_date, MAX_PARTY_SIZE};
use booking::{Restaurant, TableType};
use chrono::{Duration, NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{briefly_cacheable, format, layout, PageError};
use crate::AppState;

/// The party size a page assumes until the diner picks one.
pub const DEFAULT_PARTY_SIZE: i32 = 2;
/// How many days the table-type page prices.
const PRICE_DAYS: u16 = 28;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateAndParty {
    date: Option<String>,
    party_size: Option<String>,
}

/// What the diner asked for, or why it cannot be read (shown next to the field).
struct Choice {
    date: NaiveDate,
    party_size: i32,
    date_error: Option<String>,
    party_error: Option<String>,
}

impl Choice {
    fn read(query: &DateAndParty, restaurant: &Restaurant) -> Self {
        let now = Utc::now();
        let today = restaurant.today(now);
        let mut choice = Choice {
            date: today,
            party_size: DEFAULT_PARTY_SIZE,
            date_error: None,
            party_error: None,
        };
        if let Some(raw) = query.date.as_deref().filter(|raw| !raw.is_empty()) {
            match parse_date(raw)
                .map_err(|invalid| invalid.message)
                .and_then(|date| {
                    restaurant
                        .check_bookable_date(date, now)
                        .map(|()| date)
                        .map_err(|invalid| invalid.message)
                }) {
                Ok(date) => choice.date = date,
                Err(message) => choice.date_error = Some(format!("The date {message}.")),
            }
        }
        if let Some(raw) = query.party_size.as_deref().filter(|raw| !raw.is_empty()) {
            match raw.trim().parse::<i32>() {
                Ok(size) if (1..=MAX_PARTY_SIZE as i32).contains(&size) => {
                    choice.party_size = size;
                }
                _ => {
                    choice.party_error =
                        Some(format!("Choose a party of 1 to {MAX_PARTY_SIZE} guests."));
                }
            }
        }
        choice
    }
}

/// `GET /restaurants/{id}?date=&partySize=`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DateAndParty>,
) -> Result<Response, PageError> {
    let restaurant = find_restaurant(&state, &id).await?;
    let table_types = state.store.table_types(restaurant.id).await?;
    let choice = Choice::read(&query, &restaurant);
    let slots = if choice.date_error.is_none() && choice.party_error.is_none() {
        state
            .store
            .availability(
                &restaurant,
                choice.date,
                choice.party_size,
                None,
                &state.pricing,
                Utc::now(),
            )
            .await?
    } else {
        Vec::new()
    };
    let body = layout::page(
        &restaurant.name,
        html! {
            h1 { (restaurant.name) }
            (facts(&restaurant))
            h2 #book-heading { "Book a table" }
            (date_and_party_form(&restaurant, &choice))
            @if choice.date_error.is_none() && choice.party_error.is_none() {
                (grid(&restaurant, &choice, &slots))
            }
            h2 { "Tables" }
            ul.plain {
                @for table_type in &table_types {
                    li.card {
                        h3 {
                            a href=(format!("/restaurants/{}/table-types/{}", restaurant.id, table_type.id)) {
                                (table_type.name)
                            }
                        }
                        p {
                            (seats(table_type)) " · from "
                            (format::money(table_type.base_price_cents, &table_type.currency))
                            " per table · " (table_type.tables) " tables"
                        }
                    }
                }
            }
            h2 { "Opening hours" }
            (opening_hours(&restaurant))
        },
    );
    let mut response = body.into_response();
    briefly_cacheable(&mut response);
    Ok(response)
}

/// `GET /restaurants/{id}/table-types/{typeId}`.
pub async fn table_type_page(
    State(state): State<AppState>,
    Path((id, type_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let restaurant = find_restaurant(&state, &id).await?;
    let table_type = find_table_type(&state, &restaurant, &type_id).await?;
    let today = restaurant.today(Utc::now());
    let rates: BTreeMap<NaiveDate, i64> = state
        .store
        .table_type_rates(
            restaurant.id,
            table_type.id,
            &DateRange::starting(today, PRICE_DAYS),
        )
        .await??
        .into_iter()
        .map(|rate| (rate.date, rate.price_cents))
        .collect();
    let tables = state
        .store
        .dining_tables(restaurant.id, table_type.id, None, 1000)
        .await??;
    let mut areas: BTreeMap<&str, usize> = BTreeMap::new();
    for table in tables.iter().filter(|table| table.active) {
        let area = if table.area.trim().is_empty() {
            "Main room"
        } else {
            table.area.as_str()
        };
        *areas.entry(area).or_default() += 1;
    }
    let book_link = format!(
        "/restaurants/{}?partySize={}#book-heading",
        restaurant.id,
        table_type
            .seats_min
            .max(DEFAULT_PARTY_SIZE)
            .min(table_type.seats_max)
    );
    let body = layout::page(
        &format!("{} at {}", table_type.name, restaurant.name),
        html! {
            p { a href=(format!("/restaurants/{}", restaurant.id)) { "← " (restaurant.name) } }
            h1 { (table_type.name) }
            dl.facts.card {
                dt { "Seats" } dd { (seats(&table_type)) }
                dt { "Price" } dd {
                    "from " (format::money(table_type.base_price_cents, &table_type.currency))
                    " per table; the price rises as the restaurant fills"
                }
                dt { "Tables" } dd { (table_type.tables) }
                dt { "Where" } dd {
                    @if areas.is_empty() { "No table is in service right now." }
                    @for (index, (area, count)) in areas.iter().enumerate() {
                        @if index > 0 { ", " }
                        (area) " (" (count) ")"
                    }
                }
            }
            p.actions { a.button href=(book_link) { "See times and book" } }
            h2 { "Prices for the next " (PRICE_DAYS / 7) " weeks" }
            p.muted { "The price of one table on each date, before the restaurant fills. Highlighted dates are priced differently from the usual price." }
            (price_calendar(&table_type, today, &rates))
        },
    );
    let mut response = body.into_response();
    briefly_cacheable(&mut response);
    Ok(response)
}

pub async fn find_restaurant(state: &AppState, id: &str) -> Result<Restaurant, PageError> {
    let not_found = || PageError::not_found("We could not find that restaurant.");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    state.store.restaurant(id).await?.ok_or_else(not_found)
}

pub async fn find_table_type(
    state: &AppState,
    restaurant: &Restaurant,
    id: &str,
) -> Result<TableType, PageError> {
    let not_found = || PageError::not_found(format!("{} has no such table type.", restaurant.name));
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    state
        .store
        .table_type(restaurant.id, id)
        .await?
        .ok_or_else(not_found)
}

pub fn seats(table_type: &TableType) -> String {
    if table_type.seats_min == table_type.seats_max {
        format!("{} seats", table_type.seats_max)
    } else {
        format!("{} to {} seats", table_type.seats_min, table_type.seats_max)
    }
}

fn facts(restaurant: &Restaurant) -> Markup {
    html! {
        dl.facts.card {
            dt { "Address" } dd {
                (format::address(&restaurant.address, &restaurant.city))
            }
            dt { "Time zone" } dd { (restaurant.time_zone) }
            dt { "Cancelling" } dd {
                "Free up to " (restaurant.refund_window_hours) " hours before your table; no refund after that."
            }
        }
    }
}

fn opening_hours(restaurant: &Restaurant) -> Markup {
    let mut by_day: BTreeMap<i16, Vec<String>> = BTreeMap::new();
    for interval in &restaurant.opening_hours {
        by_day.entry(interval.weekday).or_default().push(format!(
            "{}–{}",
            format::time(interval.opens_at),
            format::time(interval.closes_at)
        ));
    }
    html! {
        dl.facts.card {
            @for day in 1..=7 {
                dt { (format::weekday(day)) }
                dd { @match by_day.get(&day) {
                    Some(hours) => (hours.join(", ")),
                    None => "Closed",
                } }
            }
        }
    }
}

fn date_and_party_form(restaurant: &Restaurant, choice: &Choice) -> Markup {
    let today = restaurant.today(Utc::now());
    let last = today + Duration::days(i64::from(restaurant.booking_horizon_days));
    html! {
        form.stack.grid-form method="get" action=(format!("/restaurants/{}", restaurant.id)) {
            div {
                label for="date" { "Date" }
                input #date type="date" name="date" value=(choice.date) min=(today) max=(last)
                    required aria-invalid=[choice.date_error.as_ref().map(|_| "true")]
                    aria-describedby=[choice.date_error.as_ref().map(|_| "date-error")];
                @if let Some(error) = &choice.date_error {
                    span.field-error #date-error { (error) }
                }
            }
            div {
                label for="partySize" { "Guests" }
                (party_select("partySize", choice.party_size, 1, 20, choice.party_error.as_deref()))
            }
            div { button type="submit" { "Show times" } }
        }
    }
}

/// A select of party sizes `from..=to`, `selected` chosen.
pub fn party_select(name: &str, selected: i32, from: i32, to: i32, error: Option<&str>) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        select #(name) name=(name) aria-invalid=[error.map(|_| "true")]
            aria-describedby=[error.map(|_| error_id.as_str())] {
            @for size in from..=to.max(selected) {
                option value=(size) selected[size == selected] {
                    (size) @if size == 1 { " guest" } @else { " guests" }
                }
            }
        }
        @if let Some(error) = error {
            span.field-error id=(error_id) { (error) }
        }
    }
}

/// The slots of the date, grouped by table type: each time a link to the booking form with its
/// price and tables left, or struck through when sold out.
fn grid(restaurant: &Restaurant, choice: &Choice, slots: &[SlotAvailability]) -> Markup {
    let mut by_type: BTreeMap<
        (String, Uuid),
        Vec<(chrono::NaiveTime, &booking::availability::TypeAvailability)>,
    > = BTreeMap::new();
    for slot in slots {
        for offer in &slot.table_types {
            by_type
                .entry((offer.name.clone(), offer.table_type_id))
                .or_default()
                .push((slot.time, offer));
        }
    }
    html! {
        @if by_type.is_empty() {
            p.notice.info {
                "No table for " (choice.party_size) " on " (format::long_date(choice.date))
                ". The restaurant may be closed that day, or have no table that seats your party; try another date."
            }
        }
        @for ((name, type_id), offers) in &by_type {
            section.slot aria-labelledby=(format!("type-{type_id}")) {
                h3 id=(format!("type-{type_id}")) { (name) }
                @let open = offers.iter().filter(|(_, offer)| offer.tables_left > 0).count();
                @if open == 0 {
                    p.muted { "Sold out on " (format::long_date(choice.date)) "." }
                }
                ul.times.slots {
                    @for (time, offer) in offers {
                        li {
                            @if offer.tables_left > 0 {
                                a href=(book_href(restaurant.id, *type_id, choice.date, *time, choice.party_size)) {
                                    strong { (format::time(*time)) }
                                    span.detail {
                                        span.visually-hidden { ", " }
                                        (format::money(offer.price_cents, &offer.currency))
                                    }
                                    span.detail {
                                        span.visually-hidden { ", " }
                                        (offer.tables_left) " left"
                                    }
                                }
                            } @else {
                                span.full { (format::time(*time)) span.visually-hidden { " sold out" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn book_href(
    restaurant_id: Uuid,
    table_type_id: Uuid,
    date: NaiveDate,
    time: chrono::NaiveTime,
    party_size: i32,
) -> String {
    format!(
        "/restaurants/{restaurant_id}/book?tableType={table_type_id}&date={date}&time={}&partySize={party_size}",
        format::time(time)
    )
}

fn price_calendar(
    table_type: &TableType,
    from: NaiveDate,
    rates: &BTreeMap<NaiveDate, i64>,
) -> Markup {
    use chrono::Datelike;
    // Rows are weeks from Monday; the first row starts on the Monday of `from`'s week.
    let monday = from - Duration::days(i64::from(from.weekday().num_days_from_monday()));
    let last = from + Duration::days(i64::from(PRICE_DAYS) - 1);
    let weeks = ((last - monday).num_days() / 7) + 1;
    html! {
        table.calendar {
            caption.visually-hidden { "Price per table by date" }
            thead { tr { @for day in 1..=7 { th scope="col" { (&format::weekday(day)[..3]) } } } }
            tbody {
                @for week in 0..weeks {
                    tr {
                        @for day in 0..7 {
                            @let date = monday + Duration::days(week * 7 + day);
                            @if date < from || date > last {
                                td { }
                            } @else {
                                @let price = rates.get(&date).copied().unwrap_or(table_type.base_price_cents);
                                td.special[price != table_type.base_price_cents] {
                                    span { (date.format("%-d %b")) } br;
                                    (format::money(price, &table_type.currency))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
