//! The chain admin's operations page: how deep every queue is, how many decisions the workers
//! recorded in the last minute, and the dead-letter queues, whose messages can be looked at,
//! replayed or purged: a dry run first, then a confirmation that does it, as `maitred dlq`
//! does.
//!
//! Nothing here is a second copy: the depths are the publisher's passive declares (as the
//! pending page's place in the queue), and every dead-letter read, replay and purge goes
//! through [`dead_letters`] ([`letters::list`], [`letters::show`], [`letters::sweep`]) with
//! its [`Filter`] and [`Selection`], exactly as the `/v1/dead-letters` routes and the CLI.
//!
//! - here: `GET /admin/operations` (queues, decisions, the dead letters with filters);
//! - [`dead_letters`]: one message in full, the dry run and the confirmed replay or purge.

mod dead_letters;

use std::collections::{BTreeMap, BTreeSet};

use ::dead_letters::{self as letters, DeadLetterSummary, Filter, Resolver, REASONS};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use booking::Invalid;
use maud::{html, Markup};
use rabbitmq::{DeadLetterError, DeadLetterQueue};
use serde::Deserialize;
use uuid::Uuid;

use super::{layout, SignedIn};
use crate::web::format::span;
use crate::web::{no_store, PageError};
use crate::AppState;

/// The window decisions per second are counted over.
const DECISION_WINDOW_SECS: i64 = 60;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/operations", get(overview))
        .route(
            "/admin/operations/dead-letters/{queue}/messages/{id}",
            get(dead_letters::show),
        )
        .route(
            "/admin/operations/dead-letters/{queue}/dry-run",
            post(dead_letters::dry_run),
        )
        .route(
            "/admin/operations/dead-letters/{queue}/confirm",
            post(dead_letters::confirm),
        )
}

/// The dead letters' filters as typed in the form (empty: any).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Filters {
    reason: String,
    restaurant: String,
    min_age: String,
}

impl Filters {
    /// The shared [`Filter`], or what is wrong, naming the form's field.
    fn filter(&self) -> Result<Filter, Invalid> {
        let restaurant = match self.restaurant.trim() {
            "" => None,
            text => Some(
                text.parse::<Uuid>()
                    .map_err(|_| Invalid::new("restaurant", "choose a restaurant from the list"))?,
            ),
        };
        let min_age = match self.min_age.trim() {
            "" => None,
            text => Some(letters::parse_age(text)?),
        };
        Filter::new(Some(&self.reason), restaurant, min_age)
    }

    fn is_empty(&self) -> bool {
        [&self.reason, &self.restaurant, &self.min_age]
            .iter()
            .all(|value| value.trim().is_empty())
    }

    /// The overview of `queue` with these filters.
    fn overview_url(&self, queue: DeadLetterQueue) -> String {
        self.overview_url_with(queue, &[])
    }

    /// The overview of `queue` with these filters and `extra` parameters.
    fn overview_url_with(&self, queue: DeadLetterQueue, extra: &[(&str, String)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("queue", queue.as_str());
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        for (name, value) in [
            ("reason", &self.reason),
            ("restaurant", &self.restaurant),
            ("min_age", &self.min_age),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        format!("/admin/operations?{}#dead-letters", query.finish())
    }

    /// The filters as a form's hidden fields.
    fn hidden(&self) -> Markup {
        html! {
            input type="hidden" name="reason" value=(self.reason.trim());
            input type="hidden" name="restaurant" value=(self.restaurant.trim());
            input type="hidden" name="min_age" value=(self.min_age.trim());
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OverviewQuery {
    queue: Option<String>,
    reason: String,
    restaurant: String,
    min_age: String,
    /// After a confirmed sweep: `replay` or `purge`, and its counts.
    done: Option<String>,
    count: Option<u64>,
    failed: Option<u64>,
    missing: Option<u64>,
}

/// `GET /admin/operations`.
async fn overview(
    State(state): State<AppState>,
    signed_in: SignedIn,
    query: Result<Query<OverviewQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    signed_in.require_admin()?;
    let Ok(Query(query)) = query else {
        return Err(PageError::bad_request(
            "The address of this page is not one it understands.",
        ));
    };
    let queue = queue_named(query.queue.as_deref().unwrap_or("commands"))?;
    let done = match (query.done.as_deref(), query.count) {
        (Some(action @ ("replay" | "purge")), Some(count)) => Some(Done {
            replay: action == "replay",
            count,
            failed: query.failed.unwrap_or(0),
            missing: query.missing.unwrap_or(0),
        }),
        _ => None,
    };
    let filters = Filters {
        reason: query.reason,
        restaurant: query.restaurant,
        min_age: query.min_age,
    };
    Ok(overview_page(&state, &signed_in, queue, &filters, done, None).await)
}

/// What a confirmed sweep did, said on the page it returns to.
struct Done {
    replay: bool,
    count: u64,
    failed: u64,
    missing: u64,
}

/// The overview page; `refused` is a refused action form's problem, shown above the list
/// (the page is then a `422`).
async fn overview_page(
    state: &AppState,
    signed_in: &SignedIn,
    queue: DeadLetterQueue,
    filters: &Filters,
    done: Option<Done>,
    refused: Option<&str>,
) -> Response {
    let depths = queue_depths(state).await;
    let decisions = state.store.recent_decisions(DECISION_WINDOW_SECS).await;
    let pace = state.store.pace().await;
    let filter = filters.filter();
    let listed = match &filter {
        Ok(filter) => {
            let resolver = Resolver::new(Some(state.store.clone()));
            Some(letters::list(&state.dead_letters, queue, filter, &resolver, &|_| {}).await)
        }
        Err(_) => None,
    };
    let names = match &listed {
        Some(Ok(items)) => {
            let mut ids: BTreeSet<Uuid> = items.iter().filter_map(|i| i.restaurant_id).collect();
            ids.extend(filters.restaurant.trim().parse::<Uuid>().ok());
            restaurant_names(state, ids).await
        }
        _ => BTreeMap::new(),
    };
    let invalid = filter.as_ref().err();
    let status = if invalid.is_some() || refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };

    let content = html! {
        h1 { "Operations" }
        @if let Some(done) = &done { (done_notice(done)) }
        section aria-labelledby="queues" {
            h2 #queues { "Queues" }
            p.muted { "Messages waiting in each queue right now (not counting the few a worker is handling)." }
            div.scroll role="region" aria-labelledby="queues" tabindex="0" {
                table.ops {
                    thead { tr { th scope="col" { "Queue" } th scope="col" { "What it holds" } th.num scope="col" { "Waiting" } } }
                    tbody {
                        @for depth in &depths {
                            tr {
                                th scope="row" { (depth.name) }
                                td { (depth.holds) }
                                td.num { @match depth.depth {
                                    Some(count) => (count),
                                    None => span.muted { "unknown" },
                                } }
                            }
                        }
                    }
                }
            }
            @if depths.iter().any(|depth| depth.depth.is_none()) {
                p.notice.error role="alert" { "RabbitMQ did not answer for some queues: their depths are unknown." }
            }
        }
        section aria-labelledby="decisions" {
            h2 #decisions { "Decisions" }
            @match &decisions {
                Ok(recent) => {
                    p.big {
                        (format!("{:.2}", recent.per_second())) " decisions per second"
                    }
                    p {
                        @if recent.at_least { "At least " }
                        (recent.decided) " " (if recent.decided == 1 { "reservation was" } else { "reservations were" })
                        " decided in the last minute (counted in the reservations' history: requests that went from pending to held, confirmed or rejected)."
                    }
                }
                Err(_) => p.notice.error role="alert" { "The database did not answer: decisions are unknown." },
            }
            @match &pace {
                Ok(Some(per_command)) => p {
                    "The running workers take " (format!("{:.1}", per_command.as_secs_f64() * 1000.0))
                    " ms per command on average (as they reported in the last minute)."
                },
                Ok(None) => p.muted { "No worker has reported its pace in the last minute." },
                Err(_) => {},
            }
        }
        section aria-labelledby="dead-letters" {
            h2 #dead-letters { "Dead letters" }
            p.muted {
                "Messages a worker gave up on. Replay one once its cause is fixed: it goes back to its queue and is handled like any other; "
                "a command that is already done is ignored. Reading this list puts every message back."
            }
            (filter_form(queue, filters, invalid, &names))
            @match (&listed, invalid) {
                (_, Some(_)) => {},
                (Some(Ok(items)), None) => (dead_letter_list(signed_in, queue, filters, items, &names, refused)),
                (Some(Err(error)), None) => p.notice.error role="alert" { (broker_problem(error, queue)) },
                (None, None) => {},
            }
        }
    };
    let body = layout::page("Operations", signed_in, content);
    let mut response = (status, body).into_response();
    no_store(&mut response);
    response
}

fn done_notice(done: &Done) -> Markup {
    let messages = |n: u64| format!("{n} message{}", if n == 1 { "" } else { "s" });
    html! {
        @if done.replay {
            p.notice.ok role="status" {
                "Replayed " (messages(done.count))
                @if done.count == 1 { ": it is back in its queue, to be handled like any other." }
                @else { ": they are back in their queues, to be handled like any other." }
                @if done.failed > 0 { " " (messages(done.failed)) " could not be replayed and are still listed below." }
                @if done.missing > 0 { " " (messages(done.missing)) " had already left the queue." }
            }
        } @else {
            p.notice.ok role="status" {
                "Purged " (messages(done.count)) " for good."
                @if done.missing > 0 { " " (messages(done.missing)) " had already left the queue." }
            }
        }
    }
}

/// One queue's depth (`None`: the broker did not say).
struct Depth {
    name: String,
    holds: &'static str,
    depth: Option<u32>,
}

/// Every partition, the payments, webhooks and emails queues, and both dead-letter queues. After the
/// first failure the broker is not asked again (each ask waits for the publish deadline).
async fn queue_depths(state: &AppState) -> Vec<Depth> {
    let topology = state.publisher.topology();
    let mut queues: Vec<(String, &'static str)> = (0..topology.partitions)
        .map(|p| (topology.partition_queue(p), "reservation commands"))
        .collect();
    queues.push((topology.payments_queue(), "payment jobs"));
    queues.push((topology.webhooks_queue(), "webhook deliveries"));
    queues.push((topology.notifications_queue(), "emails to diners"));
    for dead in DeadLetterQueue::ALL {
        let holds = match dead {
            DeadLetterQueue::Commands => "dead letters: commands, payment jobs and emails",
            DeadLetterQueue::Webhooks => "dead letters: webhook deliveries",
        };
        queues.push((dead.queue(topology), holds));
    }
    let mut answering = true;
    let mut depths = Vec::with_capacity(queues.len());
    for (name, holds) in queues {
        let depth = if answering {
            match state.publisher.queue_depth(&name).await {
                Ok(depth) => Some(depth),
                Err(error) => {
                    tracing::warn!(%error, queue = name, "no queue depth for the operations page");
                    answering = false;
                    None
                }
            }
        } else {
            None
        };
        depths.push(Depth { name, holds, depth });
    }
    depths
}

/// The names of these restaurants (an unknown or deleted one is left out).
async fn restaurant_names(
    state: &AppState,
    ids: impl IntoIterator<Item = Uuid>,
) -> BTreeMap<Uuid, String> {
    let mut names = BTreeMap::new();
    for id in ids {
        if let Ok(Some(restaurant)) = state.store.restaurant(id).await {
            names.insert(id, restaurant.name);
        }
    }
    names
}

fn restaurant_cell(id: Option<Uuid>, names: &BTreeMap<Uuid, String>) -> Markup {
    html! {
        @match id {
            Some(id) => @match names.get(&id) {
                Some(name) => (name),
                None => span.muted { (id) },
            },
            None => span.muted { "unknown" },
        }
    }
}

fn queue_title(queue: DeadLetterQueue) -> &'static str {
    match queue {
        DeadLetterQueue::Commands => "Commands and payment jobs",
        DeadLetterQueue::Webhooks => "Webhook deliveries",
    }
}

fn reason_words(reason: &str) -> &'static str {
    match reason {
        "rejected" => "rejected by its worker",
        "delivery_limit" => "failed too many times",
        "expired" => "expired",
        "maxlen" => "queue was full",
        _ => "",
    }
}

fn filter_form(
    queue: DeadLetterQueue,
    filters: &Filters,
    invalid: Option<&Invalid>,
    names: &BTreeMap<Uuid, String>,
) -> Markup {
    let error_on = |field: &str| invalid.filter(|invalid| invalid.field == field);
    let reason_error = error_on("reason");
    let restaurant_error = error_on("restaurant");
    let age_error = error_on("minAge");
    html! {
        form.grid-form.card.filters method="get" action="/admin/operations#dead-letters" {
            div {
                label for="dl-queue" { "Queue" }
                select #dl-queue name="queue" {
                    @for each in DeadLetterQueue::ALL {
                        option value=(each.as_str()) selected[each == queue] { (queue_title(each)) }
                    }
                }
            }
            div {
                label for="dl-reason" { "Reason" }
                select #dl-reason name="reason" aria-invalid=[reason_error.map(|_| "true")]
                    aria-describedby=[reason_error.map(|_| "dl-reason-error")] {
                    option value="" { "Any reason" }
                    @for reason in REASONS {
                        option value=(reason) selected[filters.reason.trim() == reason] {
                            (reason) " (" (reason_words(reason)) ")"
                        }
                    }
                }
                @if let Some(error) = reason_error { span.field-error #dl-reason-error { (error.message) } }
            }
            div {
                label for="dl-restaurant" { "Restaurant" }
                select #dl-restaurant name="restaurant" aria-invalid=[restaurant_error.map(|_| "true")]
                    aria-describedby=[restaurant_error.map(|_| "dl-restaurant-error")] {
                    option value="" { "Any restaurant" }
                    @for (id, name) in names {
                        option value=(id) selected[filters.restaurant.trim() == id.to_string()] { (name) }
                    }
                }
                @if let Some(error) = restaurant_error { span.field-error #dl-restaurant-error { (error.message) } }
            }
            div {
                label for="dl-age" { "Dead for at least" }
                input #dl-age type="text" name="min_age" value=(filters.min_age) placeholder="15m"
                    aria-invalid=[age_error.map(|_| "true")]
                    aria-describedby=(if age_error.is_some() { "dl-age-error dl-age-hint" } else { "dl-age-hint" });
                span.hint #dl-age-hint { "For example 90s, 15m, 2h or 3d." }
                @if let Some(error) = age_error { span.field-error #dl-age-error { (error.message) } }
            }
            div { button type="submit" { "Show" } }
        }
    }
}

fn dead_letter_list(
    signed_in: &SignedIn,
    queue: DeadLetterQueue,
    filters: &Filters,
    items: &[DeadLetterSummary],
    names: &BTreeMap<Uuid, String>,
    refused: Option<&str>,
) -> Markup {
    let filtered = !filters.is_empty();
    html! {
        h3 #dl-count {
            (items.len()) " dead letter" (if items.len() == 1 { "" } else { "s" })
            " in " (queue_title(queue).to_lowercase())
            @if filtered { " that match the filters" }
        }
        @if items.is_empty() {
            p { "Nothing to do here." }
        } @else {
            form method="post" action=(format!("/admin/operations/dead-letters/{queue}/dry-run")) data-once {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                (filters.hidden())
                @if let Some(refused) = refused {
                    p.notice.error #dl-choose-error role="alert" { (refused) }
                }
                div.scroll role="region" aria-labelledby="dl-count" tabindex="0" {
                    table.ops {
                        thead { tr {
                            th scope="col" { span.visually-hidden { "Choose" } }
                            th scope="col" { "Message" }
                            th scope="col" { "Reason" }
                            th scope="col" { "Restaurant" }
                            th.num scope="col" { "Deaths" }
                            th scope="col" { "Dead for" }
                        } }
                        tbody {
                            @for (n, item) in items.iter().enumerate() {
                                tr {
                                    td {
                                        input type="checkbox" name="ids" value=(item.id) id=(format!("pick-{n}"))
                                            aria-describedby=[refused.map(|_| "dl-choose-error")];
                                        label.visually-hidden for=(format!("pick-{n}")) { "Choose message " (item.id) }
                                    }
                                    td {
                                        a href=(message_url(queue, &item.id)) { (item.kind.as_deref().unwrap_or("message")) }
                                        " " span.muted.id { (item.id) }
                                        @if let Some(reservation) = item.reservation_id {
                                            br; span.muted { "Reservation " (reservation) }
                                        }
                                    }
                                    td { @match &item.reason {
                                        Some(reason) => { (reason) br; span.muted { (reason_words(reason)) } },
                                        None => span.muted { "not said" },
                                    } }
                                    td { (restaurant_cell(item.restaurant_id, names)) }
                                    td.num { (item.death_count) }
                                    td { @match item.age_seconds {
                                        Some(age) => (span(i64::try_from(age).unwrap_or(i64::MAX))),
                                        None => span.muted { "unknown" },
                                    } }
                                }
                            }
                        }
                    }
                }
                p.hint { "Each button shows what it would do first; nothing changes until you confirm." }
                div.actions {
                    button type="submit" name="do" value="replay-chosen" { "Replay the chosen…" }
                    button.secondary type="submit" name="do" value="purge-chosen" { "Purge the chosen…" }
                    button.secondary type="submit" name="do" value="replay-all" {
                        "Replay all " @if filtered { "that match " } "(" (items.len()) ")…"
                    }
                    button.secondary type="submit" name="do" value="purge-all" {
                        "Purge all " @if filtered { "that match " } "(" (items.len()) ")…"
                    }
                }
            }
        }
    }
}

/// The page of one message.
fn message_url(queue: DeadLetterQueue, id: &str) -> String {
    format!(
        "/admin/operations/dead-letters/{queue}/messages/{}",
        path_segment(id)
    )
}

/// `text` as one path segment: anything but unreserved characters percent-encoded.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn queue_named(name: &str) -> Result<DeadLetterQueue, PageError> {
    name.parse()
        .map_err(|_| PageError::not_found("There is no such dead-letter queue."))
}

/// A failed dead-letter operation in plain words.
fn broker_problem(error: &DeadLetterError, queue: DeadLetterQueue) -> String {
    match error {
        DeadLetterError::Busy(_) => format!(
            "Someone else is reading, replaying or purging the {queue} dead letters right now \
             (here or with maitred dlq). Try again in a moment."
        ),
        DeadLetterError::Broker(cause) => {
            tracing::warn!(error = %cause, "dead-letter operation failed");
            "RabbitMQ did not answer. What was confirmed is done, the rest is untouched; try \
             again in a moment."
                .into()
        }
        DeadLetterError::PutBack { .. } | DeadLetterError::Unconfirmed { .. } => {
            tracing::warn!(%error, "dead-letter operation stopped");
            format!(
                "The operation stopped: {error}. What was confirmed is done and nothing was \
                 lost; try again in a moment."
            )
        }
    }
}

/// [`broker_problem`] as an error page: `409` when the queue is busy, else `503`.
fn broker_page(error: &DeadLetterError, queue: DeadLetterQueue) -> PageError {
    let message = broker_problem(error, queue);
    match error {
        DeadLetterError::Busy(_) => PageError::new(StatusCode::CONFLICT, "Busy", message),
        _ => PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "RabbitMQ did not answer",
            message,
        ),
    }
}

/// How long a message has been dead, or `unknown`.
fn age_words(age_seconds: Option<u64>) -> String {
    age_seconds.map_or_else(
        || "unknown".into(),
        |age| span(i64::try_from(age).unwrap_or(i64::MAX)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ids_become_one_path_segment() {
        assert_eq!(path_segment("anon-00ff_a.b~c"), "anon-00ff_a.b~c");
        assert_eq!(path_segment("a/b c?"), "a%2Fb%20c%3F");
    }

    #[test]
    fn typed_filters_name_their_field() {
        let filters = |reason: &str, restaurant: &str, min_age: &str| Filters {
            reason: reason.into(),
            restaurant: restaurant.into(),
            min_age: min_age.into(),
        };
        assert_eq!(filters("", "", "").filter().unwrap(), Filter::default());
        assert_eq!(
            filters("bored", "", "").filter().unwrap_err().field,
            "reason"
        );
        assert_eq!(
            filters("", "nope", "").filter().unwrap_err().field,
            "restaurant"
        );
        assert_eq!(
            filters("", "", "soon").filter().unwrap_err().field,
            "minAge"
        );
        let id = Uuid::new_v4();
        let filter = filters("rejected", &id.to_string(), "15m")
            .filter()
            .unwrap();
        assert_eq!(filter.restaurant_id, Some(id));
        assert_eq!(filter.min_age, Some(Duration::from_secs(900)));
    }
}
