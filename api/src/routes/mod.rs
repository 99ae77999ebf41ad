//! The routes, one module per resource, each registered with its OpenAPI description.

mod availability;
mod health;
mod reservations;
mod restaurants;
mod webhook_endpoints;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(reservations::router())
        .merge(restaurants::router())
        .merge(availability::router())
        .merge(webhook_endpoints::router())
        .merge(health::router())
}
