//! The routes, one module per resource.

mod reservations;
mod restaurants;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(reservations::router())
        .merge(restaurants::router())
        .route("/healthz", axum::routing::get(|| async { "ok" }))
}
