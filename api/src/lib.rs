//! maitred's HTTP API (axum): booking intake, the reservation lifecycle, reads, and
//! problem+json errors.
//!
//! Layout:
//! - [`routes`]: one module per resource, each with its own `router()`;
//! - [`intake`]: what `POST /v1/reservations` does after parsing: record, then relay;
//! - [`auth`]: bearer tokens with roles (staff, guest) and what each may do;
//! - [`error`] and [`extract`]: every failure as `application/problem+json`;
//! - [`paging`]: cursor paging for lists;
//! - [`guest_sign_in`]: diners' sign-in links by email and their sessions on the website;
//! - [`rate_limit`]: abuse limits per client address, staff token and guest email;
//! - [`queue_place`]: a pending request's place in its queue and its estimated wait;
//! - [`monitoring`]: the Prometheus recorder and the HTTP series;
//! - [`openapi`]: the OpenAPI document, generated from the handlers, and its `/docs` page.

pub mod admin;
pub mod auth;
pub mod decisions;
pub mod error;
pub mod etag;
pub mod extract;
pub mod guest_sign_in;
pub mod intake;
pub mod monitoring;
pub mod openapi;
pub mod paging;
pub mod queue_place;
pub mod rate_limit;
pub mod routes;
pub mod server;
pub mod sold_out;
pub mod walk_in;
pub mod web;

use std::sync::Arc;

use axum::http::{HeaderName, Request};
use axum::Router;
use booking::Store;
use outbox::RelayWaker;
use rabbitmq::Publisher;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
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
    /// Signs `callbackUrl` deliveries, each reservation's with a secret derived from it
    /// (`None`: callbacks are refused).
    pub callback_secret: Option<webhooks::Secret>,
    /// The payment gateway's name, recorded on payments.
    pub gateway: String,
    /// Verifies bearer tokens, and mints the token a diner gets with a booking.
    pub auth: Arc<Authority>,
    /// The occupancy steps that prices follow, as the workers apply them.
    pub pricing: booking::PricingSteps,
    /// Records and relays new requests in batches ([`outbox::IntakeBatcher::start`]).
    pub intake: outbox::IntakeBatcher,
    /// Where pending requests stand in their queues.
    pub queue_insight: Arc<queue_place::QueueInsight>,
    /// The dead-letter queues, for the staff's inspection and replay.
    pub dead_letters: Arc<rabbitmq::DeadLetters>,
    /// What the workers said is sold out (empty, and so silent, unless something follows the
    /// inventory notices: [`sold_out::SoldOutView::follow`]).
    pub sold_out: Arc<sold_out::SoldOutView>,
    /// Requests waiting for a decision (`Prefer: wait`), woken by the same notices.
    pub decisions: Arc<decisions::DecisionWaiters>,
    /// Request deadlines, body limits and the cap on requests in flight.
    pub limits: server::HttpLimits,
    /// Abuse limits per client address, staff token and guest email.
    pub rate_limits: Arc<rate_limit::RateLimits>,
    /// What the website's pages need to know of the deployment.
    pub web: web::WebSettings,
    /// The find page's city shortcuts, cached.
    pub popular_cities: Arc<web::PopularCities>,
    /// Failed staff sign-ins, counted to lock out password guessing.
    pub sign_in: Arc<admin::SignInGuard>,
    /// Diners' sign-in links: sent by email, counted per email and client address.
    pub sign_in_links: Arc<guest_sign_in::SignInLinks>,
}

/// Every request has one (the client's, or a new UUID); it is logged on the request's span,
/// answered in the response, and follows a booking through the queues as the AMQP correlation
/// id of its messages.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A client's request id goes into logs, AMQP headers and the database: one that is long or
/// has odd characters is replaced by a new one rather than refused.
async fn drop_unusable_request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let usable = |value: &axum::http::HeaderValue| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 128
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    };
    if let Some(value) = request.headers().get(REQUEST_ID_HEADER) {
        if !usable(value) {
            request.headers_mut().remove(REQUEST_ID_HEADER);
        }
    }
    next.run(request).await
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let limits = state.limits.clone();
    let routes = openapi::with_docs(routes::router(&limits))
        .merge(web::router())
        .merge(admin::router())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(limits.body_limit));
    server_stack(routes, &limits).with_state(state)
}

/// The layers every request passes through, outermost last: the request deadline and the cap
/// on requests in flight, the HTTP metrics, the request's span, its request id, and the panic
/// catcher. Public so a benchmark's floor measures the same stack with nothing behind it.
pub fn server_stack<S>(routes: Router<S>, limits: &server::HttpLimits) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    server::limit(routes, limits)
        .layer(axum::middleware::from_fn(monitoring::track_http))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    uri = %request.uri(),
                    request_id,
                )
            }),
        )
        .layer(PropagateRequestIdLayer::new(HeaderName::from_static(
            REQUEST_ID_HEADER,
        )))
        .layer(SetRequestIdLayer::new(
            HeaderName::from_static(REQUEST_ID_HEADER),
            MakeRequestUuid,
        ))
        .layer(axum::middleware::from_fn(drop_unusable_request_id))
        // A bug must still answer problem+json, not drop the connection.
        .layer(CatchPanicLayer::custom(error::panicked))
}
