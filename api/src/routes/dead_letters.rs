//! `/v1/dead-letters/{queue}`: staff inspect, replay and purge the dead-letter queues
//! (`commands`: partition commands, payment jobs and emails; `webhooks`: webhook deliveries).
//!
//! Dead letters span restaurants, so every route needs a chain-wide staff token. Reading is
//! safe to repeat: a message that is read is put back, never handed back to the broker (see
//! `rabbitmq::dead_letters`). One operation runs on a queue at a time; another one meanwhile
//! is `409`.

use axum::extract::State;
use booking::Invalid;
use dead_letters::{
    self as letters, DeadLetterDetail, DeadLetterSummary, Filter, Resolver, Selection, SweepReport,
};
use rabbitmq::dead_letters::Action;
use rabbitmq::{DeadLetterError, DeadLetterQueue};
use serde::Deserialize;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Staff;
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{
    self, BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unavailable,
};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(replay))
        .routes(routes!(purge))
}

/// The filters of a list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Why it was dead-lettered: `rejected`, `delivery_limit`, `expired` or `maxlen`.
    reason: Option<String>,
    /// Only messages about this restaurant.
    restaurant_id: Option<Uuid>,
    /// Only messages dead for at least this many seconds.
    min_age_seconds: Option<u64>,
}

/// What to replay: `ids`, or `all: true`; either way only the messages that pass the filters.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReplayForm {
    /// Message ids, as listed.
    #[serde(default)]
    ids: Vec<String>,
    /// Every message that passes the filters.
    #[serde(default)]
    all: bool,
    reason: Option<String>,
    restaurant_id: Option<Uuid>,
    min_age_seconds: Option<u64>,
    /// Report what would be replayed, and change nothing.
    #[serde(default)]
    dry_run: bool,
}

/// What to purge: as a replay, and `confirm: true` (unless it is a dry run).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PurgeForm {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    all: bool,
    reason: Option<String>,
    restaurant_id: Option<Uuid>,
    min_age_seconds: Option<u64>,
    #[serde(default)]
    dry_run: bool,
    /// Purging cannot be undone: it needs `true`.
    #[serde(default)]
    confirm: bool,
}

/// List a dead-letter queue's messages (without their bodies), oldest first. Reading puts
/// every message back, so it is safe to repeat.
#[utoipa::path(get, path = "/v1/dead-letters/{queue}", tag = "operations",
    params(
        ("queue" = String, Path, description = "`commands` or `webhooks`"),
        ListQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The messages that pass the filters", body = Vec<DeadLetterSummary>),
        BadRequest, Unauthorized, Forbidden, NotFound, problems::Invalid, Conflict, Unavailable,
    ))]
async fn list(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Vec<DeadLetterSummary>>, ApiError> {
    staff.require_chain()?;
    let queue = queue_named(&queue)?;
    let filter = Filter::new(
        query.reason.as_deref(),
        query.restaurant_id,
        query.min_age_seconds.map(Duration::from_secs),
    )?;
    let resolver = Resolver::new(Some(state.store.clone()));
    let items = letters::list(&state.dead_letters, queue, &filter, &resolver, &|_| {})
        .await
        .map_err(broker_error)?;
    Ok(axum::Json(items))
}

/// One dead letter in full: its deaths, properties, headers and body.
#[utoipa::path(get, path = "/v1/dead-letters/{queue}/{id}", tag = "operations",
    params(
        ("queue" = String, Path, description = "`commands` or `webhooks`"),
        ("id" = String, Path, description = "The message id, as listed"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The dead letter", body = DeadLetterDetail),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
async fn show(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((queue, id)): Path<(String, String)>,
) -> Result<axum::Json<DeadLetterDetail>, ApiError> {
    staff.require_chain()?;
    let queue = queue_named(&queue)?;
    let resolver = Resolver::new(Some(state.store.clone()));
    letters::show(&state.dead_letters, queue, &id, &resolver)
        .await
        .map_err(broker_error)?
        .map(axum::Json)
        .ok_or_else(|| ApiError::NotFound(format!("no message {id:?} in the {queue} dead letters")))
}

/// Replay dead letters to where they came from (the partition, `payments` or `webhooks`).
/// Each one leaves the dead-letter queue only once the broker has confirmed its replay; one
/// the broker refuses stays, reported as `failed`. Replaying a message twice is harmless:
/// every consumer ignores a command that is already done.
#[utoipa::path(post, path = "/v1/dead-letters/{queue}/replay", tag = "operations",
    params(("queue" = String, Path, description = "`commands` or `webhooks`")),
    request_body = ReplayForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was replayed (or would be, in a dry run)", body = SweepReport),
        BadRequest, Unauthorized, Forbidden, NotFound, problems::Invalid, Conflict, Unavailable,
    ))]
async fn replay(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    Json(form): Json<ReplayForm>,
) -> Result<axum::Json<SweepReport>, ApiError> {
    staff.require_chain()?;
    let queue = queue_named(&queue)?;
    let selection = selection(
        form.ids,
        form.all,
        form.reason.as_deref(),
        form.restaurant_id,
        form.min_age_seconds,
    )?;
    let report = run(&state, queue, Action::Replay, &selection, form.dry_run).await?;
    tracing::info!(
        actor = staff.actor(),
        %queue,
        dry_run = report.dry_run,
        replayed = report.replayed,
        failed = report.failed,
        "dead letters replayed"
    );
    Ok(axum::Json(report))
}

/// Purge dead letters for good. Needs `"confirm": true`, except for a dry run.
#[utoipa::path(post, path = "/v1/dead-letters/{queue}/purge", tag = "operations",
    params(("queue" = String, Path, description = "`commands` or `webhooks`")),
    request_body = PurgeForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was purged (or would be, in a dry run)", body = SweepReport),
        BadRequest, Unauthorized, Forbidden, NotFound, problems::Invalid, Conflict, Unavailable,
    ))]
async fn purge(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    Json(form): Json<PurgeForm>,
) -> Result<axum::Json<SweepReport>, ApiError> {
    staff.require_chain()?;
    let queue = queue_named(&queue)?;
    let selection = selection(
        form.ids,
        form.all,
        form.reason.as_deref(),
        form.restaurant_id,
        form.min_age_seconds,
    )?;
    if !form.confirm && !form.dry_run {
        return Err(Invalid::new(
            "confirm",
            "purging cannot be undone: send \"confirm\": true (or \"dryRun\": true to look first)",
        )
        .into());
    }
    let report = run(&state, queue, Action::Purge, &selection, form.dry_run).await?;
    tracing::info!(
        actor = staff.actor(),
        %queue,
        dry_run = report.dry_run,
        purged = report.purged,
        "dead letters purged"
    );
    Ok(axum::Json(report))
}

async fn run(
    state: &AppState,
    queue: DeadLetterQueue,
    action: Action,
    selection: &Selection,
    dry_run: bool,
) -> Result<SweepReport, ApiError> {
    let resolver = Resolver::new(Some(state.store.clone()));
    letters::sweep(
        &state.dead_letters,
        queue,
        action,
        selection,
        dry_run,
        &resolver,
        &|_| {},
    )
    .await
    .map_err(broker_error)
}

fn selection(
    ids: Vec<String>,
    all: bool,
    reason: Option<&str>,
    restaurant_id: Option<Uuid>,
    min_age_seconds: Option<u64>,
) -> Result<Selection, ApiError> {
    let filter = Filter::new(
        reason,
        restaurant_id,
        min_age_seconds.map(Duration::from_secs),
    )?;
    Ok(Selection::new(ids, all, filter)?)
}

fn queue_named(name: &str) -> Result<DeadLetterQueue, ApiError> {
    name.parse().map_err(ApiError::NotFound)
}

fn broker_error(error: DeadLetterError) -> ApiError {
    match error {
        DeadLetterError::Busy(_) => ApiError::Conflict(error.to_string()),
        DeadLetterError::Broker(ref cause) => {
            tracing::warn!(error = %cause, "dead-letter operation failed");
            ApiError::Unavailable(
                "RabbitMQ did not answer; the operation stopped (what was confirmed is done, \
                 the rest is untouched): retry later"
                    .into(),
            )
        }
        DeadLetterError::PutBack { .. } | DeadLetterError::Unconfirmed { .. } => {
            tracing::warn!(%error, "dead-letter operation stopped");
            ApiError::Unavailable(format!(
                "{error}; what was confirmed is done and nothing was lost: retry later"
            ))
        }
    }
}
