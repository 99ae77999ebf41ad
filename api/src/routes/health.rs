//! Probes and metrics: `/healthz` (alive), `/readyz` (PostgreSQL and RabbitMQ reachable, the
//! topology declared) and `/metrics` (Prometheus).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = String, example = "ok")))]
async fn healthz() -> &'static str {
    "ok"
}

/// How long each check may take: both run at once, so a probe is answered within this, well
/// under the 2 s a load balancer's probe usually allows.
const CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Serialize, utoipa::ToSchema)]
struct Readiness {
    /// `ok`, or `unavailable` when PostgreSQL cannot be used (the cause is logged).
    database: Part,
    /// `ok`, or `unavailable` when RabbitMQ cannot be used, does not answer, or its topology
    /// is missing (the cause is logged).
    broker: Part,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Part {
    Ok,
    Unavailable,
}

/// Ready to take traffic: PostgreSQL answers, RabbitMQ answers, and the topology is declared.
/// The body says only which part is not; why is in the logs, not for anyone who can reach the
/// probe.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready; the body says which part", body = Readiness),
    ))]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = async {
        sqlx::query_scalar!("SELECT 1")
            .fetch_one(state.store.pool())
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let broker = async {
        state
            .publisher
            .check_ready()
            .await
            .map_err(|e| e.to_string())
    };
    let (database, broker) = tokio::join!(checked("database", database), checked("broker", broker));
    let status = if database == Part::Ok && broker == Part::Ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(Readiness { database, broker }))
}

/// One part's check, bounded by [`CHECK_TIMEOUT`], its failure logged.
async fn checked(
    part: &'static str,
    check: impl std::future::Future<Output = Result<(), String>>,
) -> Part {
    let error = match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => return Part::Ok,
        Ok(Err(error)) => error,
        Err(_) => format!("no answer within {CHECK_TIMEOUT:?}"),
    };
    tracing::warn!(part, %error, "readiness check failed");
    Part::Unavailable
}

/// Prometheus text exposition of this process's metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain")))]
async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::monitoring::render(),
    )
}
