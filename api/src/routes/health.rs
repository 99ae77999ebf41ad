//! Probes and metrics: `/healthz` (alive), `/readyz` (PostgreSQL and RabbitMQ reachable, the
//! topology declared) and `/metrics` (Prometheus).

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

#[derive(Serialize, utoipa::ToSchema)]
struct Readiness {
    /// `ok`, or why PostgreSQL cannot be used.
    database: String,
    /// `ok`, or why RabbitMQ cannot be used or its topology is missing.
    broker: String,
}

/// Ready to take traffic: PostgreSQL answers, RabbitMQ answers, and the topology is declared.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready; the body says which part", body = Readiness),
    ))]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = sqlx::query_scalar!("SELECT 1")
        .fetch_one(state.store.pool())
        .await
        .map_or_else(|e| e.to_string(), |_| "ok".to_owned());
    let broker = state
        .publisher
        .check_ready()
        .await
        .map_or_else(|e| e.to_string(), |()| "ok".to_owned());
    let status = if database == "ok" && broker == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(Readiness { database, broker }))
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
