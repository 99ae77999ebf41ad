//! maitred's HTTP API (axum): booking intake, reads, and problem+json errors.
//!
//! Layout:
//! - [`routes`]: one module per resource, each with its own `router()`;
//! - [`intake`]: what `POST /v1/reservations` does after parsing: record, then relay;
//! - [`outbox`]: publishing a recorded request's command, and the sweeper that finishes what a
//!   crash or a broker outage left behind;
//! - [`error`] and [`extract`]: every failure as `application/problem+json`.

pub mod error;
pub mod extract;
pub mod intake;
pub mod outbox;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use booking::Store;
use rabbitmq::Publisher;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub publisher: Arc<Publisher>,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    routes::router()
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(TraceLayer::new_for_http())
        // A bug must still answer problem+json, not drop the connection.
        .layer(CatchPanicLayer::custom(error::panicked))
        .with_state(state)
}
