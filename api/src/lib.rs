//! maitred's HTTP API (axum): booking intake, the reservation lifecycle, reads, and
//! problem+json errors.
//!
//! Layout:
//! - [`routes`]: one module per resource, each with its own `router()`;
//! - [`intake`]: what `POST /v1/reservations` does after parsing: record, then relay;
//! - [`auth`]: bearer tokens with roles (staff, guest) and what each may do;
//! - [`error`] and [`extract`]: every failure as `application/problem+json`;
//! - [`paging`]: cursor paging for lists;
//! - [`monitoring`]: the Prometheus recorder and the HTTP series;
//! - [`openapi`]: the OpenAPI document, generated from the handlers, and its `/docs` page.

pub mod auth;
pub mod error;
pub mod extract;
pub mod intake;
pub mod monitoring;
pub mod openapi;
pub mod paging;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use booking::Store;
use outbox::RelayWaker;
use rabbitmq::Publisher;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use auth::Authority;
pub use error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub publisher: Arc<Publisher>,
    /// Wakes the process's outbox relay after a request queued messages.
    pub relay: RelayWaker,
    /// Which callback and webhook URLs are acceptable.
    pub url_policy: webhooks::UrlPolicy,
    /// Whether `callbackUrl` deliveries can be signed (a callback secret is configured).
    pub callbacks_enabled: bool,
    /// The payment gateway's name, recorded on payments.
    pub gateway: String,
    /// Verifies bearer tokens, and mints the token a diner gets with a booking.
    pub auth: Arc<Authority>,
    /// The occupancy steps that prices follow, as the workers apply them.
    pub pricing: booking::PricingSteps,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    openapi::with_docs(routes::router())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn(monitoring::track_http))
        .layer(TraceLayer::new_for_http())
        // A bug must still answer problem+json, not drop the connection.
        .layer(CatchPanicLayer::custom(error::panicked))
        .with_state(state)
}
