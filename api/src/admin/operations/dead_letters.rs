//! One dead letter in full, and replaying or purging chosen messages (or all that match the
//! filters): `dry-run` reports what would happen and changes nothing, `confirm` does it. Both
//! run [`letters::sweep`] with the shared [`Selection`], as `maitred dlq` and the
//! `/v1/dead-letters` routes do.

use std::collections::BTreeMap;

use ::dead_letters::{self as letters, DeadLetterSummary, Resolver, Selection, SweepReport};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use booking::Invalid;
use maud::{html, Markup};
use rabbitmq::dead_letters::Action;
use rabbitmq::DeadLetterQueue;
use uuid::Uuid;

use super::{
    age_words, broker_page, layout, message_url, overview_page, queue_named, queue_title,
    reason_words, restaurant_cell, restaurant_names, Done, Filters, SignedIn,
};
use crate::web::{no_store, PageError};
use crate::AppState;

/// `GET /admin/operations/dead-letters/{queue}/messages/{id}`: one message, read and put back.
pub(super) async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((queue, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    signed_in.require_admin()?;
    let queue = queue_named(&queue)?;
    let resolver = Resolver::new(Some(state.store.clone()));
    let detail = letters::show(&state.dead_letters, queue, &id, &resolver)
        .await
        .map_err(|error| broker_page(&error, queue))?
        .ok_or_else(|| {
            PageError::not_found(format!(
                "There is no message {id} in the {queue} dead letters: it may have been \
                 replayed or purged already."
            ))
        })?;
    let summary = &detail.summary;
    let names = restaurant_names(&state, summary.restaurant_id).await;
    let pretty = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    };
    let body_text = match (&detail.body, detail.body_encoding) {
        (serde_json::Value::String(text), "text" | "base64") => text.clone(),
        (value, _) => pretty(value),
    };
    let content = html! {
        p { a href=(Filters::default().overview_url(queue)) { "← All dead letters" } }
        h1 { "Dead letter: " (summary.kind.as_deref().unwrap_or("message")) }
        dl.facts.card {
            dt { "Message id" } dd.id { (summary.id) }
            dt { "Queue" } dd { (queue_title(queue)) }
            dt { "Reason" } dd { @match &summary.reason {
                Some(reason) => { (reason) " (" (reason_words(reason)) ")" },
                None => "not said",
            } }
            dt { "Restaurant" } dd { (restaurant_cell(summary.restaurant_id, &names)) }
            @if let Some(reservation) = summary.reservation_id {
                dt { "Reservation" } dd.id { (reservation) }
            }
            @if let Some(payment) = summary.payment_id {
                dt { "Payment" } dd.id { (payment) }
            }
            dt { "Deaths" } dd { (summary.death_count) }
            dt { "Dead for" } dd { (age_words(summary.age_seconds)) }
            @if let Some(at) = summary.first_death_at {
                dt { "First died" } dd { (at.format("%a %-d %b %Y %H:%M:%S UTC")) }
            }
            @if let Some(died_in) = &summary.died_in {
                dt { "Died in" } dd { (died_in) }
            }
            dt { "A replay goes to" } dd { (summary.routing_key) }
        }
        form method="post" action=(format!("/admin/operations/dead-letters/{queue}/dry-run")) data-once {
            input type="hidden" name="csrf" value=(signed_in.csrf());
            input type="hidden" name="ids" value=(summary.id);
            (Filters::default().hidden())
            div.actions {
                button type="submit" name="do" value="replay-chosen" { "Replay this message…" }
                button.secondary type="submit" name="do" value="purge-chosen" { "Purge this message…" }
            }
        }
        h2 #deaths { "Deaths" }
        div.scroll role="region" aria-labelledby="deaths" tabindex="0" {
            table.ops {
                thead { tr {
                    th scope="col" { "Queue" } th scope="col" { "Reason" } th.num scope="col" { "Times" }
                    th scope="col" { "First (UTC)" } th scope="col" { "Kind" }
                } }
                tbody {
                    @for death in &detail.deaths {
                        tr {
                            td { (death.queue) }
                            td { (death.reason) }
                            td.num { (death.count) }
                            td { @match death.time {
                                Some(at) => (at.format("%-d %b %H:%M:%S")),
                                None => span.muted { "unknown" },
                            } }
                            td { @if death.timer { "a delay's timer" } @else { "a failure" } }
                        }
                    }
                }
            }
        }
        h2 { "Body (" (detail.body_encoding) ")" }
        pre.payload { (body_text) }
        h2 { "Headers" }
        pre.payload { (pretty(&detail.headers)) }
        h2 { "Properties" }
        pre.payload { (pretty(&detail.properties)) }
    };
    let body = layout::page("Dead letter", &signed_in, content);
    let mut response = body.into_response();
    no_store(&mut response);
    Ok(response)
}

/// A replay or purge form, as posted: the chosen messages (or all), the filters they were
/// listed with, and for the confirmation of a purge, its checkbox.
struct ActionForm {
    csrf: String,
    action: Action,
    all: bool,
    ids: Vec<String>,
    filters: Filters,
    confirmed: bool,
}

impl ActionForm {
    /// Reads the form (`ids` repeats, one per checkbox).
    fn read(body: &[u8]) -> Result<Self, PageError> {
        let mut form = Self {
            csrf: String::new(),
            action: Action::Browse,
            all: false,
            ids: Vec::new(),
            filters: Filters::default(),
            confirmed: false,
        };
        let mut chosen = None;
        for (name, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match name.as_ref() {
                "csrf" => form.csrf = value,
                "ids" => form.ids.push(value),
                "do" => chosen = Some(value),
                "reason" => form.filters.reason = value,
                "restaurant" => form.filters.restaurant = value,
                "min_age" => form.filters.min_age = value,
                "confirm" => form.confirmed = value == "yes",
                _ => {}
            }
        }
        (form.action, form.all) = match chosen.as_deref() {
            Some("replay-chosen") => (Action::Replay, false),
            Some("replay-all") => (Action::Replay, true),
            Some("purge-chosen") => (Action::Purge, false),
            Some("purge-all") => (Action::Purge, true),
            _ => {
                return Err(PageError::bad_request(
                    "The form did not say whether to replay or purge.",
                ))
            }
        };
        if form.all {
            // "All that match" acts on the filters, whatever boxes were ticked.
            form.ids.clear();
        }
        Ok(form)
    }

    /// The `do` value that chose this.
    fn chosen(&self) -> &'static str {
        match (self.action, self.all) {
            (Action::Purge, false) => "purge-chosen",
            (Action::Purge, true) => "purge-all",
            (_, false) => "replay-chosen",
            (_, true) => "replay-all",
        }
    }

    fn is_purge(&self) -> bool {
        matches!(self.action, Action::Purge)
    }

    /// The shared selection; what is wrong with it, naming the field.
    fn selection(&self) -> Result<Selection, Invalid> {
        let filter = self.filters.filter()?;
        Selection::new(self.ids.clone(), self.all, filter)
    }
}

/// Checks the session, the right and the token; reads the form and the queue.
async fn read(
    signed_in: &SignedIn,
    queue: &str,
    body: &[u8],
) -> Result<(DeadLetterQueue, ActionForm), PageError> {
    signed_in.require_admin()?;
    let form = ActionForm::read(body)?;
    signed_in.check_csrf(&form.csrf)?;
    Ok((queue_named(queue)?, form))
}

/// The overview again, as a `422` saying what was wrong with the chosen messages.
async fn refused(
    state: &AppState,
    signed_in: &SignedIn,
    queue: DeadLetterQueue,
    form: &ActionForm,
    invalid: &Invalid,
) -> Response {
    let message = if invalid.field == "ids" {
        "Choose at least one message first (tick its box), or use a button for all of them."
            .to_owned()
    } else {
        invalid.message.clone()
    };
    overview_page(state, signed_in, queue, &form.filters, None, Some(&message)).await
}

async fn sweep(
    state: &AppState,
    queue: DeadLetterQueue,
    form: &ActionForm,
    selection: &Selection,
    dry_run: bool,
) -> Result<SweepReport, PageError> {
    let resolver = Resolver::new(Some(state.store.clone()));
    letters::sweep(
        &state.dead_letters,
        queue,
        form.action,
        selection,
        dry_run,
        &resolver,
        &|_| {},
    )
    .await
    .map_err(|error| broker_page(&error, queue))
}

/// `POST /admin/operations/dead-letters/{queue}/dry-run`: what a replay or purge would do.
/// Nothing changes.
pub(super) async fn dry_run(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(queue): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (queue, form) = read(&signed_in, &queue, &body).await?;
    let selection = match form.selection() {
        Ok(selection) => selection,
        Err(invalid) => return Ok(refused(&state, &signed_in, queue, &form, &invalid).await),
    };
    let report = sweep(&state, queue, &form, &selection, true).await?;
    Ok(check_page(&state, &signed_in, queue, &form, &report, false).await)
}

/// `POST /admin/operations/dead-letters/{queue}/confirm`: the replay or purge itself, then back
/// to the list, which says what was done.
pub(super) async fn confirm(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(queue): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (queue, form) = read(&signed_in, &queue, &body).await?;
    let selection = match form.selection() {
        Ok(selection) => selection,
        Err(invalid) => return Ok(refused(&state, &signed_in, queue, &form, &invalid).await),
    };
    if form.is_purge() && !form.confirmed {
        // Purging cannot be undone: without its box ticked, the check again, with the problem.
        let report = sweep(&state, queue, &form, &selection, true).await?;
        return Ok(check_page(&state, &signed_in, queue, &form, &report, true).await);
    }
    let report = sweep(&state, queue, &form, &selection, false).await?;
    tracing::info!(
        actor = signed_in.actor(),
        %queue,
        action = report.action,
        replayed = report.replayed,
        purged = report.purged,
        failed = report.failed,
        "dead letters {} from the admin panel",
        if form.is_purge() { "purged" } else { "replayed" },
    );
    let done = Done {
        replay: !form.is_purge(),
        count: report.replayed + report.purged,
        failed: report.failed,
        missing: report.not_found.len() as u64,
    };
    let url = form.filters.overview_url_with(
        queue,
        &[
            ("done", if done.replay { "replay" } else { "purge" }.into()),
            ("count", done.count.to_string()),
            ("failed", done.failed.to_string()),
            ("missing", done.missing.to_string()),
        ],
    );
    let mut response = Redirect::to(&url).into_response();
    no_store(&mut response);
    Ok(response)
}

/// The dry run's report, and the form that confirms it. `unconfirmed`: a purge was sent
/// without its box ticked (a `422`).
async fn check_page(
    state: &AppState,
    signed_in: &SignedIn,
    queue: DeadLetterQueue,
    form: &ActionForm,
    report: &SweepReport,
    unconfirmed: bool,
) -> Response {
    let items: Vec<&DeadLetterSummary> = report.messages.iter().map(|item| &item.summary).collect();
    let restaurants: Vec<Uuid> = items.iter().filter_map(|item| item.restaurant_id).collect();
    let names = restaurant_names(state, restaurants).await;
    let (verb, title) = if form.is_purge() {
        ("purge", "Check before purging")
    } else {
        ("replay", "Check before replaying")
    };
    let count = report.matched;
    let messages = |n: u64| format!("{n} message{}", if n == 1 { "" } else { "s" });
    let content = html! {
        h1 { (title) }
        p.notice.info role="status" #dry-run {
            strong { "Dry run: nothing has changed." }
            " Would " (verb) " " (messages(count))
            @if count > 0 { ":" } @else { "." }
        }
        @if !items.is_empty() {
            (report_table(queue, &items, &names))
        }
        @if !report.not_found.is_empty() {
            p {
                "No longer in the queue: " (report.not_found.join(", "))
                ". They were replayed or purged meanwhile."
            }
        }
        @if form.all {
            p.hint {
                "“All” means every message that matches the filters when you confirm, including any that arrive meanwhile."
            }
        }
        @if count > 0 {
            form.stack method="post" action=(format!("/admin/operations/dead-letters/{queue}/confirm")) data-once {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                input type="hidden" name="do" value=(form.chosen());
                @for id in &form.ids { input type="hidden" name="ids" value=(id); }
                (form.filters.hidden())
                @if form.is_purge() {
                    label.choice for="confirm-purge" {
                        input #confirm-purge type="checkbox" name="confirm" value="yes" required
                            aria-invalid=[unconfirmed.then_some("true")]
                            aria-describedby=[unconfirmed.then_some("confirm-purge-error")];
                        "Yes, delete " (if count == 1 { "this message" } else { "these messages" })
                        " for good. This cannot be undone."
                    }
                    @if unconfirmed {
                        span.field-error #confirm-purge-error { "Tick this box to purge: purged messages are gone for good." }
                    }
                }
                div.actions {
                    @if form.is_purge() {
                        button.danger type="submit" data-busy-label="Purging…" { "Purge " (messages(count)) }
                    } @else {
                        button type="submit" data-busy-label="Replaying…" { "Replay " (messages(count)) }
                    }
                    a href=(form.filters.overview_url(queue)) { "Cancel" }
                }
            }
        } @else {
            p { a href=(form.filters.overview_url(queue)) { "Back to the dead letters" } }
        }
    };
    let status = if unconfirmed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = layout::page(title, signed_in, content);
    let mut response = (status, body).into_response();
    no_store(&mut response);
    response
}

fn report_table(
    queue: DeadLetterQueue,
    items: &[&DeadLetterSummary],
    names: &BTreeMap<Uuid, String>,
) -> Markup {
    html! {
        div.scroll role="region" aria-label="The messages" tabindex="0" {
            table.ops {
                thead { tr {
                    th scope="col" { "Message" } th scope="col" { "Reason" } th scope="col" { "Restaurant" }
                    th.num scope="col" { "Deaths" } th scope="col" { "Dead for" }
                } }
                tbody {
                    @for item in items {
                        tr {
                            td {
                                a href=(message_url(queue, &item.id)) { (item.kind.as_deref().unwrap_or("message")) }
                                " " span.muted.id { (item.id) }
                            }
                            td { (item.reason.as_deref().unwrap_or("not said")) }
                            td { (restaurant_cell(item.restaurant_id, names)) }
                            td.num { (item.death_count) }
                            td { (age_words(item.age_seconds)) }
                        }
                    }
                }
            }
        }
    }
}
