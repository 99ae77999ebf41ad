//! The routes, one module per resource.

mod reservations;
mod restaurants;
mod webhook_endpoints;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(reservations::router())
        .merge(restaurants::router())
        .merge(webhook_endpoints::router())
        .route("/healthz", axum::routing::get(|| async { "ok" }))
}
