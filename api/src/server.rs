//! Serving the API to the internet: a client that is slow to send its headers is cut off, each
//! request has a deadline and a body limit, and past a number of requests in flight new ones are
//! turned away with a 503 at once instead of queueing without bound.

use std::net::SocketAddr;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::ApiError;

/// The bounds of the HTTP server.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// How long a connection may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a request may take, its body included.
    pub request_timeout: Duration,
    /// Requests in flight at once; more are answered 503 at once.
    pub max_concurrent_requests: usize,
    /// The largest request body, but on bulk staff routes.
    pub body_limit: usize,
    /// The largest body of a bulk staff route (rates over a range, dead-letter selections).
    pub bulk_body_limit: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 4096,
            body_limit: 16 * 1024,
            bulk_body_limit: 1024 * 1024,
        }
    }
}

/// Wraps `router` in the request timeout and the cap on requests in flight. Their refusals
/// are problem+json like every other error.
pub fn limit<S>(router: Router<S>, limits: &HttpLimits) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(
        tower::ServiceBuilder::new()
            .layer(HandleErrorLayer::new(refusal(limits.request_timeout)))
            .load_shed()
            // Global: axum applies a layer to each route, and the cap is for them all.
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                limits.max_concurrent_requests,
            ))
            .timeout(limits.request_timeout),
    )
}

fn refusal(
    timeout: Duration,
) -> impl Fn(BoxError) -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move |error: BoxError| {
        let response = if error.is::<tower::load_shed::error::Overloaded>() {
            ApiError::Unavailable(
                "the server is handling too many requests; nothing was done, retry later".into(),
            )
            .into_response()
        } else if error.is::<tower::timeout::error::Elapsed>() {
            // Not a 503: a booking may have been recorded before the deadline, and a 503
            // promises that nothing will happen. A retry with the same id tells the outcome.
            ApiError::Unreadable(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request did not complete within {} s; a booking retried with the same \
                     reservationId answers its outcome",
                    timeout.as_secs()
                ),
            )
            .into_response()
        } else {
            tracing::error!(%error, "request failed in the server's layers");
            ApiError::Panicked.into_response()
        };
        std::future::ready(response)
    }
}

/// Serves `router` on `listener` until `shutdown`, then lets the requests in flight finish.
/// Each request carries the peer's address as [`ConnectInfo`].
///
/// # Errors
/// Never in practice: failed accepts (out of file descriptors, say) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Running out of file descriptors must not end the server: back off.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let service = tower::service_fn(move |mut request: axum::extract::Request<_>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or is too slow with its headers ends here; not our error.
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
