//! `maitred listen-webhooks`: a receiver for development that prints every delivery and
//! whether its Standard Webhooks signature verifies. It is how the README shows a webhook.

use std::net::SocketAddr;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio_util::sync::CancellationToken;

/// Listens on `addr` until `shutdown`, answering 204 to every signed POST.
///
/// # Errors
/// When the address cannot be bound.
pub async fn listen(
    addr: SocketAddr,
    secret: Option<webhooks::Secret>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/{*path}", post(receive))
        .route("/", post(receive))
        .with_state(secret);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!("listening for webhooks on http://{addr}/");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

async fn receive(
    State(secret): State<Option<webhooks::Secret>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    // A callback is signed with its reservation's own secret, which the server derives from
    // the callback secret; a registered endpoint's delivery with the endpoint's secret.
    let reservation_id = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|payload| payload["data"]["reservationId"].as_str().map(str::to_owned));
    let verified = match (&secret, timestamp.parse::<i64>()) {
        (Some(secret), Ok(ts)) => {
            let derived = reservation_id.map(|id| secret.derive(&id));
            let candidates = std::iter::once(secret).chain(derived.as_ref());
            if candidates
                .into_iter()
                .any(|secret| webhooks::verify(secret, &id, ts, &body, &signature))
            {
                "signature valid"
            } else {
                "SIGNATURE INVALID"
            }
        }
        (None, _) => "signature not checked (no secret)",
        (_, Err(_)) => "SIGNATURE INVALID (bad timestamp)",
    };
    println!(
        "webhook-id: {id}  webhook-timestamp: {timestamp}  {verified}\n{}\n",
        String::from_utf8_lossy(&body)
    );
    StatusCode::NO_CONTENT
}
