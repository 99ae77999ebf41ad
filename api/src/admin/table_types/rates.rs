//! A table type's rates: a calendar of the next three months with each date's price per table
//! (its rate, or the base price) and what the next diner would pay that evening (the
//! availability's own pricing, occupancy surcharge included); setting one price over a date
//! range, optionally on chosen weekdays only (the same store function as
//! `PUT …/rates`), and clearing a range (as `DELETE …/rates`).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use booking::catalog_forms::{DateRange, RatesForm};
use booking::store::CatalogRefusal;
use booking::{Invalid, Restaurant, TableType};
use chrono::{Datelike, Duration, Months, NaiveDate, NaiveTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::{field, form_error, parse_money, respond, scope, type_path, Errors};
use crate::admin::{layout, SignedIn};
use crate::web::{format, no_store, PageError};
use crate::AppState;

/// How many months the calendar shows.
const MONTHS: u32 = 3;

/// The slot that prices "the evening": the first bookable one from this time on (or the day's
/// last, for a restaurant that closes earlier).
fn evening() -> NaiveTime {
    NaiveTime::from_hms_opt(19, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// What the next diner would pay on a date.
enum Next {
    /// The evening's slot: its time, price per table and tables left.
    At(NaiveTime, i64, i32),
    /// No slot that day.
    Closed,
    /// Beyond the booking horizon.
    NotYet,
}

#[derive(Debug, Default, Deserialize)]
pub struct RatesDone {
    done: Option<String>,
    days: Option<u64>,
}

/// The set and clear forms as typed.
#[derive(Debug, Default)]
struct RateFields {
    csrf: String,
    from: String,
    to: String,
    price: String,
    weekdays: BTreeSet<u32>,
}

impl RateFields {
    /// Read by hand: the weekday boxes repeat one name.
    fn read(pairs: Vec<(String, String)>) -> Self {
        let mut fields = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => fields.csrf = value,
                "from" => fields.from = value,
                "to" => fields.to = value,
                "price" => fields.price = value,
                "weekday" => {
                    if let Ok(day @ 1..=7) = value.parse::<u32>() {
                        fields.weekdays.insert(day);
                    }
                }
                _ => {}
            }
        }
        fields
    }
}

fn rate_errors(invalid: &Invalid) -> Errors {
    match invalid.field {
        "from" => Errors::one("from", format!("The first date {}.", invalid.message)),
        "to" => Errors::one("to", format!("The last date {}.", invalid.message)),
        "priceCents" | "price" => Errors::one("price", format!("The price {}.", invalid.message)),
        _ => Errors::one("", format!("These rates {}.", invalid.message)),
    }
}

struct Shown {
    status: StatusCode,
    set: RateFields,
    set_errors: Errors,
    clear: RateFields,
    clear_errors: Errors,
    notice: Option<String>,
}

impl Shown {
    fn new(today: NaiveDate) -> Self {
        let month_on = today + Duration::days(30);
        Self {
            status: StatusCode::OK,
            set: RateFields {
                from: today.to_string(),
                to: month_on.to_string(),
                ..RateFields::default()
            },
            set_errors: Errors::default(),
            clear: RateFields {
                from: today.to_string(),
                to: month_on.to_string(),
                ..RateFields::default()
            },
            clear_errors: Errors::default(),
            notice: None,
        }
    }
}

/// `GET /admin/restaurants/{id}/table-types/{type_id}/rates`.
pub async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
    Query(query): Query<RatesDone>,
) -> Result<Response, PageError> {
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let mut shown = Shown::new(restaurant.today(Utc::now()));
    let days = query.days.unwrap_or(0);
    let dates = if days == 1 { "date" } else { "dates" };
    shown.notice = match query.done.as_deref() {
        Some("set") => Some(format!("The price is set on {days} {dates}.")),
        Some("cleared") => Some(format!("{days} {dates} went back to the base price.")),
        _ => None,
    };
    render(&state, &signed_in, &restaurant, &table_type, shown).await
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    table_type: &TableType,
    shown: Shown,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let today = restaurant.today(now);
    let last = today
        .checked_add_months(Months::new(MONTHS))
        .unwrap_or(today)
        - Duration::days(1);
    let days = u16::try_from((last - today).num_days() + 1).unwrap_or(1);
    let rates: BTreeMap<NaiveDate, i64> = state
        .store
        .table_type_rates(
            restaurant.id,
            table_type.id,
            &DateRange::starting(today, days),
        )
        .await??
        .into_iter()
        .map(|rate| (rate.date, rate.price_cents))
        .collect();
    let horizon = today + Duration::days(i64::from(restaurant.booking_horizon_days));
    let mut next = BTreeMap::new();
    let mut date = today;
    while date <= last {
        let priced = if date > horizon {
            Next::NotYet
        } else {
            // The availability's own pricing: the rate (or base price) with the occupancy
            // surcharge of the stay, for a party this type seats.
            let slots = state
                .store
                .availability(
                    restaurant,
                    date,
                    table_type.seats_min,
                    Some(table_type.id),
                    &state.pricing,
                    now,
                )
                .await?;
            let offers: Vec<_> = slots
                .iter()
                .filter_map(|slot| {
                    slot.table_types
                        .iter()
                        .find(|offer| offer.table_type_id == table_type.id)
                        .map(|offer| (slot.time, offer))
                })
                .collect();
            offers
                .iter()
                .find(|(time, _)| *time >= evening())
                .or(offers.last())
                .map_or(Next::Closed, |(time, offer)| {
                    Next::At(*time, offer.price_cents, offer.tables_left)
                })
        };
        next.insert(date, priced);
        date += Duration::days(1);
    }

    let path = type_path(restaurant.id, table_type.id);
    let csrf = signed_in.csrf();
    let (set, set_errors) = (&shown.set, &shown.set_errors);
    let (clear, clear_errors) = (&shown.clear, &shown.clear_errors);
    let body = layout::page(
        &format!("Rates of {} at {}", table_type.name, restaurant.name),
        signed_in,
        html! {
            p { a href=(path) { "← " (table_type.name) } }
            h1 { "Rates of " (table_type.name) }
            @if let Some(notice) = &shown.notice { p.notice.ok role="status" { (notice) } }
            p {
                "The price of one table on each date: its rate, or the base price of "
                (format::money(table_type.base_price_cents, &table_type.currency))
                ". Below it, what the next diner would pay that evening (from "
                (format::time(evening())) "), the surcharge for how full the restaurant is included."
            }

            h2 #set-heading { "Set a price" }
            form.stack.card method="post" action=(format!("{path}/rates")) data-once novalidate
                aria-labelledby="set-heading" {
                input type="hidden" name="csrf" value=(csrf);
                (form_error(set_errors))
                div.grid-form {
                    (field("set", "from", "First date", "date", &set.from, None, set_errors, html! {}))
                    (field("set", "to", "Last date", "date", &set.to, None, set_errors, html! {}))
                    (field("set", "price", "Price per table", "text", &set.price,
                        Some(&format!("In {}, for example 45.00.", table_type.currency)), set_errors, html! {}))
                }
                fieldset {
                    legend { "Only on these weekdays" }
                    span.hint { "Tick none to set every date of the range." }
                    div.weekdays {
                        @for day in 1..=7u32 {
                            @let id = format!("set-weekday-{day}");
                            label.choice for=(id) {
                                input id=(id) type="checkbox" name="weekday" value=(day)
                                    checked[set.weekdays.contains(&day)];
                                (format::weekday(i16::try_from(day).unwrap_or(0)))
                            }
                        }
                    }
                }
                div.actions { button type="submit" { "Set price" } }
            }

            h2 { "Calendar" }
            @for (month, first, end) in months(today, last) {
                (calendar(table_type, month, first, end, &rates, &next))
            }

            h2 #clear-heading { "Back to the base price" }
            form.stack.card method="post" action=(format!("{path}/rates/clear")) data-once novalidate
                aria-labelledby="clear-heading" {
                input type="hidden" name="csrf" value=(csrf);
                (form_error(clear_errors))
                div.grid-form {
                    (field("clear", "from", "First date to clear", "date", &clear.from, None, clear_errors, html! {}))
                    (field("clear", "to", "Last date to clear", "date", &clear.to, None, clear_errors, html! {}))
                }
                div.actions { button.secondary type="submit" { "Clear rates" } }
            }
        },
    );
    Ok(respond(shown.status, body))
}

/// The months from `first` to `last`: (its first day, the first date shown, the last shown).
fn months(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, NaiveDate, NaiveDate)> {
    let mut months = Vec::new();
    let mut start = first;
    while start <= last {
        let month = start.with_day(1).unwrap_or(start);
        let next_month = month.checked_add_months(Months::new(1)).unwrap_or(last);
        let end = (next_month - Duration::days(1)).min(last);
        months.push((month, start, end));
        start = end + Duration::days(1);
    }
    months
}

fn calendar(
    table_type: &TableType,
    month: NaiveDate,
    first: NaiveDate,
    end: NaiveDate,
    rates: &BTreeMap<NaiveDate, i64>,
    next: &BTreeMap<NaiveDate, Next>,
) -> Markup {
    let monday = month - Duration::days(i64::from(month.weekday().num_days_from_monday()));
    let weeks = (end - monday).num_days() / 7 + 1;
    let money = |cents| format::money(cents, &table_type.currency);
    html! {
        div.scroll {
            table.calendar.rates {
                caption { (month.format("%B %Y")) }
                thead { tr { @for day in 1..=7 {
                    th scope="col" { abbr title=(format::weekday(day)) { (&format::weekday(day)[..3]) } }
                } } }
                tbody {
                    @for week in 0..weeks {
                        tr {
                            @for day in 0..7 {
                                @let date = monday + Duration::days(week * 7 + day);
                                @if date < first || date > end {
                                    td { }
                                } @else {
                                    @let rate = rates.get(&date).copied();
                                    td.special[rate.is_some()] data-date=(date) {
                                        span.day { (date.day()) }
                                        span.price {
                                            @match rate {
                                                Some(cents) => { span.visually-hidden { "rate " } (money(cents)) }
                                                None => { span.visually-hidden { "base price " } span.muted { (money(table_type.base_price_cents)) } }
                                            }
                                        }
                                        span.next {
                                            @match next.get(&date) {
                                                Some(Next::At(time, cents, left)) => {
                                                    span.visually-hidden { "next diner " }
                                                    (money(*cents)) " at " (format::time(*time))
                                                    @if *left == 0 { " (full)" }
                                                }
                                                Some(Next::Closed) => { span.muted { "closed" } }
                                                _ => { span.muted { "not yet bookable" } }
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
}

/// `POST …/rates`: one price over a range, through the same store function as `PUT …/rates`
/// (once per run of consecutive chosen weekdays).
pub async fn set(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let fields = RateFields::read(pairs);
    signed_in.check_csrf(&fields.csrf)?;
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let form = |from: String, to: String, price_cents| RatesForm {
        from: Some(from),
        to: Some(to),
        price_cents: Some(price_cents),
    };
    let whole = parse_money(&fields.price)
        .map_err(|message| Invalid::new("price", message))
        .and_then(|cents| form(fields.from.clone(), fields.to.clone(), cents).parse());
    let errors = match whole {
        Err(invalid) => rate_errors(&invalid),
        Ok(whole) => {
            // Runs of consecutive dates on the chosen weekdays (the whole range if none).
            let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
            let mut date = whole.dates.from();
            while date <= whole.dates.to() {
                let day = date.weekday().number_from_monday();
                if fields.weekdays.is_empty() || fields.weekdays.contains(&day) {
                    match runs.last_mut() {
                        Some((_, to)) if *to + Duration::days(1) == date => *to = date,
                        _ => runs.push((date, date)),
                    }
                }
                date += Duration::days(1);
            }
            if runs.is_empty() {
                Errors::one(
                    "",
                    "No date of this range falls on the chosen weekdays: nothing was set.",
                )
            } else {
                let mut days = 0;
                for (from, to) in runs {
                    let rates = form(from.to_string(), to.to_string(), whole.price.get())
                        .parse()
                        .map_err(|invalid| PageError::bad_request(invalid.message))?;
                    match state
                        .store
                        .set_table_type_rates(restaurant.id, table_type.id, &rates)
                        .await?
                    {
                        Ok(set) => days += set,
                        Err(CatalogRefusal::Invalid(invalid)) => {
                            return rerender_set(
                                &state,
                                &signed_in,
                                &restaurant,
                                &table_type,
                                fields,
                                rate_errors(&invalid),
                            )
                            .await
                        }
                        Err(other) => return Err(other.into()),
                    }
                }
                tracing::info!(restaurant_id = %restaurant.id, table_type_id = %table_type.id,
                    days, staff = %signed_in.actor(), "rates set in the admin panel");
                return Ok(done_days(&restaurant, &table_type, "set", days));
            }
        }
    };
    rerender_set(&state, &signed_in, &restaurant, &table_type, fields, errors).await
}

async fn rerender_set(
    state: &AppState,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    table_type: &TableType,
    fields: RateFields,
    errors: Errors,
) -> Result<Response, PageError> {
    let shown = Shown {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        set: fields,
        set_errors: errors,
        ..Shown::new(restaurant.today(Utc::now()))
    };
    render(state, signed_in, restaurant, table_type, shown).await
}

fn done_days(restaurant: &Restaurant, table_type: &TableType, what: &str, days: u64) -> Response {
    let mut response = Redirect::to(&format!(
        "{}/rates?done={what}&days={days}",
        type_path(restaurant.id, table_type.id)
    ))
    .into_response();
    no_store(&mut response);
    response
}

/// `POST …/rates/clear`: the dates of a range back to the base price, as `DELETE …/rates`.
pub async fn clear(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let fields = RateFields::read(pairs);
    signed_in.check_csrf(&fields.csrf)?;
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let errors = match DateRange::parse(Some(&fields.from), Some(&fields.to)) {
        Err(invalid) => rate_errors(&invalid),
        Ok(dates) => match state
            .store
            .clear_table_type_rates(restaurant.id, table_type.id, &dates)
            .await?
        {
            Ok(cleared) => return Ok(done_days(&restaurant, &table_type, "cleared", cleared)),
            Err(CatalogRefusal::Invalid(invalid)) => rate_errors(&invalid),
            Err(other) => return Err(other.into()),
        },
    };
    let shown = Shown {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        clear: fields,
        clear_errors: errors,
        ..Shown::new(restaurant.today(Utc::now()))
    };
    render(&state, &signed_in, &restaurant, &table_type, shown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_months_split_into_calendar_months() {
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let months = months(day("2026-12-05"), day("2027-03-04"));
        assert_eq!(
            months,
            vec![
                (day("2026-12-01"), day("2026-12-05"), day("2026-12-31")),
                (day("2027-01-01"), day("2027-01-01"), day("2027-01-31")),
                (day("2027-02-01"), day("2027-02-01"), day("2027-02-28")),
                (day("2027-03-01"), day("2027-03-01"), day("2027-03-04")),
            ]
        );
    }
}
