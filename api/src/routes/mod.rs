//! The routes, one module per resource, each registered with its OpenAPI description.

mod availability;
mod dead_letters;
mod guest_notes;
mod guest_sessions;
mod health;
mod rates;
/// The website changes a booking as the API does: [`reservations::changed_booking`].
pub(crate) mod reservations;
mod restaurants;
/// Public so the website's find page runs the same search: [`search::run`].
pub mod search;
pub mod seating;
mod table_types;
mod tables;
mod waitlist;
mod webhook_endpoints;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;

use crate::server::HttpLimits;
use crate::AppState;

/// Every route; the bulk staff routes take larger bodies than the rest.
pub fn router(limits: &HttpLimits) -> OpenApiRouter<AppState> {
    let bulk = DefaultBodyLimit::max(limits.bulk_body_limit);
    OpenApiRouter::new()
        .merge(reservations::router())
        .merge(seating::router())
        .merge(waitlist::router())
        .merge(guest_sessions::router())
        .merge(guest_notes::router())
        .merge(restaurants::router())
        .merge(table_types::router())
        .merge(tables::router())
        .merge(rates::router().layer(bulk))
        .merge(availability::router())
        .merge(search::router())
        .merge(webhook_endpoints::router())
        .merge(dead_letters::router().layer(bulk))
        .merge(health::router())
}
