//! A restaurant's booking rules in the panel: pacing by period of the day, turn times by party
//! size, and the policy for changing a booking. The same checks and store function as
//! `PUT /v1/restaurants/{id}/booking-rules`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use booking::booking_rules::{BookingRules, BookingRulesForm, PacingRuleForm, TurnTimeForm};
use booking::Restaurant;
use maud::html;
use serde::Deserialize;

use super::{mine, overview_href, respond};
use crate::admin::{layout, SignedIn};
use crate::web::{format, PageError};
use crate::AppState;

/// Empty rows offered below the rules already set, to add new ones.
const BLANK_ROWS: usize = 2;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/admin/restaurants/{id}/booking-rules",
        get(form).post(save),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Done {
    done: Option<String>,
}

/// The form's fields as sent: `pacing_from_0`, `turn_minutes_1`… (blank rows are left out).
type Fields = HashMap<String, String>;

fn page(
    status: StatusCode,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    fields: &Fields,
    notice: Option<&str>,
    problem: Option<&str>,
) -> Response {
    let rules = &restaurant.booking_rules;
    let field = |name: String| fields.get(&name).cloned().unwrap_or_default();
    let pacing_rows = rules.pacing.len().max(count(fields, "pacing_from_")) + BLANK_ROWS;
    let turn_rows = rules.turn_times.len().max(count(fields, "turn_size_")) + BLANK_ROWS;
    let action = format!("/admin/restaurants/{}/booking-rules", restaurant.id);
    let body = layout::page(
        &format!("Booking rules of {}", restaurant.name),
        signed_in,
        html! {
            p { a href=(overview_href(restaurant.id)) { "← " (restaurant.name) } }
            h1 { "Booking rules" }
            @if let Some(notice) = notice { p.notice.ok role="status" { (notice) } }
            @if let Some(problem) = problem { p.notice.error role="alert" #rules-error { (problem) } }
            form.stack method="post" action=(action) data-once {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                h2 #pacing-heading { "Pacing" }
                p.hint { "The most guests the kitchen starts in each " (restaurant.slot_minutes)
                    "-minute slot of a period of the day. A booking that would start more is turned away. Leave a row empty to remove it." }
                div.table-scroll role="region" aria-labelledby="pacing-heading" tabindex="0" { table.records {
                    caption.visually-hidden { "Pacing by period of the day" }
                    thead { tr { th scope="col" { "From" } th scope="col" { "Until" } th scope="col" { "Guests per slot" } } }
                    tbody { @for row in 0..pacing_rows {
                        tr {
                            td { input type="time" name=(format!("pacing_from_{row}")) aria-label=(format!("Pacing {} from", row + 1))
                                value=(field(format!("pacing_from_{row}"))); }
                            td { input type="time" name=(format!("pacing_until_{row}")) aria-label=(format!("Pacing {} until", row + 1))
                                value=(field(format!("pacing_until_{row}"))); }
                            td { input type="number" min="1" max="10000" name=(format!("pacing_covers_{row}"))
                                aria-label=(format!("Pacing {} guests per slot", row + 1))
                                value=(field(format!("pacing_covers_{row}"))); }
                        }
                    } }
                } }
                h2 #turns-heading { "Turn times" }
                p.hint { "How long a party sits, by size; larger parties than the last row take its time. Without rows every party sits "
                    (restaurant.default_duration_minutes) " minutes." }
                div.table-scroll role="region" aria-labelledby="turns-heading" tabindex="0" { table.records {
                    caption.visually-hidden { "Turn times by party size" }
                    thead { tr { th scope="col" { "Parties up to" } th scope="col" { "Minutes" } } }
                    tbody { @for row in 0..turn_rows {
                        tr {
                            td { input type="number" min="1" max="1000" name=(format!("turn_size_{row}"))
                                aria-label=(format!("Turn time {} for parties up to", row + 1))
                                value=(field(format!("turn_size_{row}"))); }
                            td { input type="number" min="15" max="720" name=(format!("turn_minutes_{row}"))
                                aria-label=(format!("Turn time {} minutes", row + 1))
                                value=(field(format!("turn_minutes_{row}"))); }
                        }
                    } }
                } }
                h2 { "Changes by diners" }
                label for="cutoff" { "Changes close this many minutes before the start" }
                input #cutoff type="number" min="0" max="43200" name="cutoff" value=(field("cutoff".into())) required;
                label for="max-changes" { "Changes allowed per booking" }
                input #max-changes type="number" min="0" max="20" name="max_changes" value=(field("max_changes".into())) required;
                div.actions { button type="submit" data-busy-label="Saving…" { "Save the rules" } }
            }
        },
    );
    respond(status, body)
}

/// How many rows of a kind the fields hold.
fn count(fields: &Fields, prefix: &str) -> usize {
    fields.keys().filter(|key| key.starts_with(prefix)).count()
}

/// The stored rules as the form's fields.
fn fields_of(rules: &BookingRules) -> Fields {
    let mut fields = Fields::new();
    for (row, rule) in rules.pacing.iter().enumerate() {
        fields.insert(format!("pacing_from_{row}"), format::time(rule.from));
        fields.insert(format!("pacing_until_{row}"), format::time(rule.until));
        fields.insert(format!("pacing_covers_{row}"), rule.max_covers.to_string());
    }
    for (row, turn) in rules.turn_times.iter().enumerate() {
        fields.insert(
            format!("turn_size_{row}"),
            turn.party_size_up_to.to_string(),
        );
        fields.insert(format!("turn_minutes_{row}"), turn.minutes.to_string());
    }
    fields.insert(
        "cutoff".into(),
        rules.modification_cutoff_minutes.to_string(),
    );
    fields.insert("max_changes".into(), rules.max_modifications.to_string());
    fields
}

/// The fields as the API's form: rows left wholly empty are dropped, a number that is not one
/// is the API's own out-of-range refusal.
fn form_of(fields: &Fields) -> BookingRulesForm {
    let get = |name: String| fields.get(&name).map_or("", |v| v.trim()).to_owned();
    let number = |raw: String| raw.parse::<i64>().unwrap_or(-1);
    let rows = |prefix: &str| {
        let mut rows: Vec<usize> = fields
            .keys()
            .filter_map(|key| key.strip_prefix(prefix)?.parse().ok())
            .collect();
        rows.sort_unstable();
        rows
    };
    let pacing = rows("pacing_from_")
        .into_iter()
        .map(|row| {
            (
                get(format!("pacing_from_{row}")),
                get(format!("pacing_until_{row}")),
                get(format!("pacing_covers_{row}")),
            )
        })
        .filter(|(from, until, covers)| !(from.is_empty() && until.is_empty() && covers.is_empty()))
        .map(|(from, until, covers)| PacingRuleForm {
            // A browser's time input may send seconds.
            from: from.chars().take(5).collect(),
            until: until.chars().take(5).collect(),
            max_covers: number(covers),
        })
        .collect();
    let turn_times = rows("turn_size_")
        .into_iter()
        .map(|row| {
            (
                get(format!("turn_size_{row}")),
                get(format!("turn_minutes_{row}")),
            )
        })
        .filter(|(size, minutes)| !(size.is_empty() && minutes.is_empty()))
        .map(|(size, minutes)| TurnTimeForm {
            party_size_up_to: number(size),
            minutes: number(minutes),
        })
        .collect();
    BookingRulesForm {
        pacing,
        turn_times,
        modification_cutoff_minutes: number(get("cutoff".into())),
        max_modifications: number(get("max_changes".into())),
    }
}

/// `GET /admin/restaurants/{id}/booking-rules`.
async fn form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let restaurant = mine(&state, &signed_in, &id).await?;
    let notice = done
        .done
        .is_some()
        .then_some("Saved: bookings decided from now on follow these rules.");
    Ok(page(
        StatusCode::OK,
        &signed_in,
        &restaurant,
        &fields_of(&restaurant.booking_rules),
        notice,
        None,
    ))
}

/// `POST /admin/restaurants/{id}/booking-rules`.
async fn save(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(mut fields): Form<Fields>,
) -> Result<Response, PageError> {
    let csrf = fields.remove("csrf").unwrap_or_default();
    signed_in.check_csrf(&csrf)?;
    let restaurant = mine(&state, &signed_in, &id).await?;
    let problem = match form_of(&fields).parse() {
        Ok(rules) => match state.store.set_booking_rules(restaurant.id, &rules).await? {
            Ok(saved) => {
                let to = format!("/admin/restaurants/{}/booking-rules?done=1", saved.id);
                return Ok(Redirect::to(&to).into_response());
            }
            Err(refusal) => refusal.to_string(),
        },
        Err(invalid) => format!("Not saved: {} {}.", invalid.field, invalid.message),
    };
    Ok(page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &signed_in,
        &restaurant,
        &fields,
        None,
        Some(&problem),
    ))
}
