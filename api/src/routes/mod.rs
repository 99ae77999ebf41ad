//! The routes, one module per resource, each registered with its OpenAPI description.

mod availability;
mod dead_letters;
mod health;
mod rates;
mod reservations;
mod restaurants;
mod table_types;
mod tables;
mod webhook_endpoints;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(reservations::router())
        .merge(restaurants::router())
        .merge(table_types::router())
        .merge(tables::router())
        .merge(rates::router())
        .merge(availability::router())
        .merge(webhook_endpoints::router())
        .merge(dead_letters::router())
        .merge(health::router())
}
