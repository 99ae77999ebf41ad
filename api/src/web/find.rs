//! `/`: find a table. A city or "near me", a date, a time and a party size; the answer is the
//! restaurants with a table for that party within an hour of the time, nearest first, from the
//! same search as `GET /v1/search`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use booking::search::{RestaurantMatch, SearchPage};
use chrono::{NaiveDate, NaiveTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::restaurant::{book_href, party_select, DEFAULT_PARTY_SIZE};
use super::{briefly_cacheable, format, layout, PageError};
use crate::routes::search::{self, SearchParams};
use crate::{ApiError, AppState};

/// The time a search starts from until the diner picks one.
const DEFAULT_TIME: &str = "19:00";
/// Restaurants on a page of results.
const PAGE_SIZE: u32 = 10;

/// How many cities the page offers as shortcuts.
const CITY_SHORTCUTS: i64 = 8;

/// The find page's city shortcuts, kept a few minutes: counting restaurants by city reads
/// all of them, which a busy front page must not do on every visit.
pub struct PopularCities(moka::sync::Cache<(), Arc<Vec<String>>>);

impl Default for PopularCities {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(1)
                .time_to_live(Duration::from_secs(300))
                .build(),
        )
    }
}

impl PopularCities {
    async fn get(&self, state: &AppState) -> Result<Arc<Vec<String>>, PageError> {
        if let Some(cities) = self.0.get(&()) {
            return Ok(cities);
        }
        let cities = Arc::new(state.store.popular_cities(CITY_SHORTCUTS).await?);
        self.0.insert((), cities.clone());
        Ok(cities)
    }
}

/// The form's fields as the browser sends them: every one may be missing or empty.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindForm {
    city: Option<String>,
    near: Option<String>,
    date: Option<String>,
    time: Option<String>,
    party_size: Option<String>,
    cursor: Option<String>,
}

impl FindForm {
    /// Whether the diner has asked for anything yet (or only opened the page).
    fn asked(&self) -> bool {
        [&self.city, &self.near].into_iter().any(|field| {
            field
                .as_deref()
                .is_some_and(|value| !value.trim().is_empty())
        })
    }

    fn value<'a>(field: &'a Option<String>, default: &'a str) -> &'a str {
        field
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .unwrap_or(default)
    }

    fn date(&self, today: NaiveDate) -> String {
        Self::value(&self.date, &today.to_string()).to_string()
    }

    fn time(&self) -> &str {
        Self::value(&self.time, DEFAULT_TIME)
    }

    fn party_size(&self) -> i32 {
        Self::value(&self.party_size, "")
            .parse()
            .unwrap_or(DEFAULT_PARTY_SIZE)
    }

    fn search_params(&self, today: NaiveDate) -> SearchParams {
        let present = |field: &Option<String>| {
            field
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        SearchParams {
            near: present(&self.near),
            city: present(&self.city),
            radius_km: None,
            date: self.date(today),
            time: self.time().to_string(),
            party_size: Self::value(&self.party_size, "")
                .parse()
                .unwrap_or(i64::from(DEFAULT_PARTY_SIZE)),
            limit: Some(PAGE_SIZE),
            cursor: present(&self.cursor),
        }
    }
}

/// What the search said: results, or the field it could not use and why.
enum Outcome {
    NotAsked,
    Found(SearchPage),
    Refused { field: String, message: String },
}

/// `GET /?city=|near=&date=&time=&partySize=&cursor=`.
pub async fn page(
    State(state): State<AppState>,
    Query(form): Query<FindForm>,
) -> Result<Response, PageError> {
    let today = Utc::now().date_naive();
    let params = form.search_params(today);
    let outcome = if !form.asked() {
        Outcome::NotAsked
    } else {
        match search::run(&state, &params).await {
            Ok(page) => Outcome::Found(page),
            Err(ApiError::Invalid(invalid)) => Outcome::Refused {
                field: invalid.field.to_string(),
                message: invalid.message,
            },
            Err(other) => return Err(other.into()),
        }
    };
    let body = layout::page(
        "Find a table",
        html! {
            h1 { "Find a table" }
            (search_form(&form, &params, &outcome, today))
            @match &outcome {
                Outcome::NotAsked => (city_shortcuts(&state.popular_cities.get(&state).await?, &params)),
                Outcome::Refused { .. } => {}
                Outcome::Found(page) => (results(&form, &params, page)),
            }
        },
    );
    let status = match outcome {
        Outcome::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let mut response = (status, body).into_response();
    if status == StatusCode::OK {
        briefly_cacheable(&mut response);
    }
    Ok(response)
}

fn search_form(
    form: &FindForm,
    params: &SearchParams,
    outcome: &Outcome,
    today: NaiveDate,
) -> Markup {
    let error_for = |name: &str| match outcome {
        Outcome::Refused { field, message } if field == name => Some(explain(field, message)),
        _ => None,
    };
    // A refusal of a field the form does not show (the cursor) goes above the form.
    let shown = ["near", "city", "date", "time", "partySize"];
    let general = match outcome {
        Outcome::Refused { field, message } if !shown.contains(&field.as_str()) => {
            Some(explain(field, message))
        }
        _ => None,
    };
    let place_error = error_for("city").or_else(|| error_for("near"));
    let near = params.near.as_deref().unwrap_or("");
    html! {
        @if let Some(message) = general {
            p.notice.error role="alert" { (message) }
        }
        form.stack.card method="get" action="/" role="search" aria-label="Find a table" {
            div {
                label for="city" { "City" }
                input #city type="text" name="city" autocomplete="address-level2"
                    value=(params.city.as_deref().unwrap_or(""))
                    placeholder="Paris, London, New York…"
                    aria-invalid=[place_error.as_ref().map(|_| "true")]
                    aria-describedby=[place_error.as_ref().map(|_| "city-error")];
                input type="hidden" name="near" value=(near);
                @if let Some(error) = &place_error {
                    span.field-error #city-error { (error) }
                }
                @if !near.is_empty() {
                    p.hint { "Searching near you. Type a city to search there instead." }
                }
                // Shown by the script where the browser can tell where it is.
                button #near-me .secondary type="button" hidden { "Near me" }
                span #near-me-note .hint aria-live="polite" {}
            }
            div.grid-form {
                div {
                    label for="date" { "Date" }
                    input #date type="date" name="date" value=(form.date(today)) min=(today)
                        required aria-invalid=[error_for("date").map(|_| "true")]
                        aria-describedby=[error_for("date").map(|_| "date-error")];
                    @if let Some(error) = error_for("date") {
                        span.field-error #date-error { (error) }
                    }
                }
                div {
                    label for="time" { "Time" }
                    (time_select(form.time(), error_for("time").as_deref()))
                }
                div {
                    label for="partySize" { "Guests" }
                    (party_select("partySize", form.party_size(), 1, 20, error_for("partySize").as_deref()))
                }
                div { button type="submit" { "Find a table" } }
            }
        }
    }
}

/// Links to the same search in each of `cities`.
fn city_shortcuts(cities: &[String], params: &SearchParams) -> Markup {
    html! {
        @if !cities.is_empty() {
            nav.cities aria-labelledby="cities-heading" {
                h2 #cities-heading { "Or pick a city" }
                ul.times {
                    @for city in cities {
                        li { a href=(search_href(params, Some(city), None)) { (city) } }
                    }
                }
            }
        }
    }
}

/// Every half hour from 11:00 to 23:30, and the asked time if it is between them.
fn time_select(selected: &str, error: Option<&str>) -> Markup {
    let mut times: Vec<NaiveTime> = (22..48)
        .filter_map(|half_hours| NaiveTime::from_hms_opt(half_hours / 2, (half_hours % 2) * 30, 0))
        .collect();
    if let Ok(asked) = NaiveTime::parse_from_str(selected, "%H:%M") {
        if !times.contains(&asked) {
            times.push(asked);
            times.sort();
        }
    }
    html! {
        select #time name="time" aria-invalid=[error.map(|_| "true")]
            aria-describedby=[error.map(|_| "time-error")] {
            @for time in &times {
                @let value = format::time(*time);
                option value=(value) selected[value == selected] { (value) }
            }
        }
        @if let Some(error) = error {
            span.field-error #time-error { (error) }
        }
    }
}

fn results(form: &FindForm, params: &SearchParams, page: &SearchPage) -> Markup {
    let party = form.party_size();
    // The city as the restaurants spell it, rather than as it was typed.
    let where_ = match (&params.city, page.items.first()) {
        (Some(_), Some(found)) if !found.restaurant.city.is_empty() => {
            format!("in {}", found.restaurant.city)
        }
        (Some(city), _) => format!("in {city}"),
        (None, _) => "near you".to_string(),
    };
    let date = NaiveDate::parse_from_str(&params.date, "%Y-%m-%d").ok();
    html! {
        section aria-labelledby="results-heading" {
            h2 #results-heading {
                "Tables for " (party) " " (where_)
                @if let Some(date) = date { " on " (format::long_date(date)) }
                " around " (params.time)
            }
            @if page.items.is_empty() {
                p.notice.info {
                    @if params.cursor.is_some() {
                        "No more restaurants have a table then."
                    } @else {
                        "No restaurant " (where_) " has a table for " (party)
                        " within an hour of " (params.time) ". Try another time or date."
                    }
                }
            }
            ul.plain.results {
                @for found in &page.items {
                    li.card { (restaurant_card(found, date, party)) }
                }
            }
            @if let Some(next) = &page.next {
                p.actions {
                    a.button href=(search_href(params, params.city.as_deref(), Some(&next.to_string()))) {
                        "More restaurants"
                    }
                }
            }
        }
    }
}

fn restaurant_card(found: &RestaurantMatch, date: Option<NaiveDate>, party: i32) -> Markup {
    let restaurant = &found.restaurant;
    let page_href = match date {
        Some(date) => format!(
            "/restaurants/{}?date={date}&partySize={party}",
            restaurant.id
        ),
        None => format!("/restaurants/{}", restaurant.id),
    };
    html! {
        h3 { a href=(page_href) { (restaurant.name) } }
        p.muted { (whereabouts(found)) }
        p { "From " (format::money(found.lowest_price_cents, &found.currency)) " per table" }
        @if let Some(date) = date {
            ul.times aria-label=(format!("Times at {}", restaurant.name)) {
                @for offer in &found.times {
                    li {
                        a href=(book_href(restaurant.id, offer.table_type_id, date, offer.time, party)) {
                            (format::time(offer.time))
                            span.visually-hidden { ", " (offer.table_type_name) }
                            " · " (format::money(offer.price_cents, &offer.currency))
                        }
                    }
                }
            }
        }
    }
}

/// "12 Rue X, Paris · 350 m away": what of it is known.
fn whereabouts(found: &RestaurantMatch) -> String {
    let place = format::address(&found.restaurant.address, &found.restaurant.city);
    match found.distance_km {
        Some(km) if place.is_empty() => format_distance(km),
        Some(km) => format!("{place} · {}", format_distance(km)),
        None => place,
    }
}

fn format_distance(km: f64) -> String {
    if km < 1.0 {
        format!("{:.0} m away", (km * 1000.0 / 50.0).round() * 50.0)
    } else {
        format!("{km:.1} km away")
    }
}

/// The same date, time and party: in `city` if given (else near the same point), from the
/// position `cursor` holds if given.
fn search_href(params: &SearchParams, city: Option<&str>, cursor: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(city) = city {
        query.append_pair("city", city);
    } else if let Some(near) = &params.near {
        query.append_pair("near", near);
    }
    query
        .append_pair("date", &params.date)
        .append_pair("time", &params.time)
        .append_pair("partySize", &params.party_size.to_string());
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    format!("/?{}", query.finish())
}

/// The search's refusal as a sentence for the diner.
fn explain(field: &str, message: &str) -> String {
    let subject = match field {
        "city" | "near" => "The place",
        "date" => "The date",
        "time" => "The time",
        "partySize" => "The number of guests",
        _ => "This link",
    };
    let message = message.trim_end_matches('.');
    format!("{subject} {message}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_read_naturally() {
        assert_eq!(format_distance(0.23), "250 m away");
        assert_eq!(format_distance(3.456), "3.5 km away");
    }

    #[test]
    fn an_empty_form_has_not_asked() {
        assert!(!FindForm::default().asked());
        let form = FindForm {
            city: Some("  ".into()),
            ..FindForm::default()
        };
        assert!(!form.asked());
        let form = FindForm {
            city: Some("Paris".into()),
            ..FindForm::default()
        };
        assert!(form.asked());
    }
}
