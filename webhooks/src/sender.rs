//! The HTTP sender: signs and POSTs webhook messages.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderValue, CONTENT_TYPE};

use crate::{Secret, UrlPolicy};

const USER_AGENT: &str = concat!("maitred-webhooks/", env!("CARGO_PKG_VERSION"));

/// Sends signed webhook requests. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<UrlPolicy>,
}

/// The HTTP client could not be built (e.g. no TLS backend could be set up).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the webhook HTTP client: {0}")]
pub struct SenderError(#[source] reqwest::Error);

/// Why a delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The URL is malformed or points where the policy forbids: retrying cannot help.
    #[error("webhook delivery refused: {0}")]
    Refused(String),
    /// The receiver answered with a non-2xx status (redirects included: they are not followed).
    #[error("webhook receiver answered with HTTP status {0}")]
    Status(u16),
    /// Connect error, timeout, TLS, reset: may pass on retry.
    #[error("webhook delivery failed: {0}")]
    Transport(String),
}

impl DeliveryError {
    /// Whether retrying the same delivery is pointless. Only [`DeliveryError::Refused`] is:
    /// receivers answer 4xx/5xx for transient reasons too, so statuses stay retryable.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        matches!(self, DeliveryError::Refused(_))
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender whose requests (connect, TLS, sending, reading the status) each take at most
    /// `timeout` in total. Redirects are not followed: a redirect is a failed delivery, since it
    /// could point anywhere. Proxies are not used, not even from `HTTP_PROXY` and friends: a
    /// proxy would resolve names itself, out of reach of the policy.
    ///
    /// Host names are resolved by a resolver that drops the addresses `policy` refuses and fails
    /// if none is left, so a public name that resolves to `127.0.0.1` is refused too (DNS
    /// rebinding); IP-literal URLs are checked with [`UrlPolicy::check_url`] before sending.
    ///
    /// # Errors
    ///
    /// [`SenderError`] if the underlying HTTP client cannot be built.
    pub fn new(policy: UrlPolicy, timeout: Duration) -> Result<Sender, SenderError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(PolicyResolver {
                policy: Arc::clone(&policy),
            }))
            .build()
            .map_err(SenderError)?;
        Ok(Sender { client, policy })
    }

    /// POSTs `body` (already-serialized JSON) to `url`, signed with `secret`, with headers
    /// `content-type: application/json`, `user-agent: maitred-webhooks/<version>`,
    /// `webhook-id: msg_id`, `webhook-timestamp: <now, unix seconds>` and
    /// `webhook-signature: secret.sign(msg_id, timestamp, body)`.
    ///
    /// Returns the status for any 2xx answer. The response body is not read.
    ///
    /// # Errors
    ///
    /// - [`DeliveryError::Refused`] if the URL fails [`UrlPolicy::check_url`], its name resolves
    ///   only to refused addresses, or `msg_id` cannot be a header value;
    /// - [`DeliveryError::Status`] for any non-2xx answer, 3xx included;
    /// - [`DeliveryError::Transport`] for DNS, connect, TLS, timeout or I/O failures.
    pub async fn deliver(
        &self,
        url: &str,
        msg_id: &str,
        secret: &Secret,
        body: &[u8],
    ) -> Result<u16, DeliveryError> {
        let url = self
            .policy
            .check_url(url)
            .map_err(|e| DeliveryError::Refused(e.to_string()))?;
        // Checked here rather than left to reqwest so that a bad id is clearly "ours", and permanent.
        let id_header = HeaderValue::from_str(msg_id).map_err(|_| {
            DeliveryError::Refused(format!("message id {msg_id:?} is not a valid header value"))
        })?;
        let timestamp = unix_now();
        let signature = secret.sign(msg_id, timestamp, body);

        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("webhook-id", id_header)
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(classify)?;

        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(DeliveryError::Status(status.as_u16()))
        }
    }
}

/// Seconds since the Unix epoch; a clock set before 1970 gives 0 rather than a panic.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Sorts a reqwest failure into permanent and transient.
fn classify(err: reqwest::Error) -> DeliveryError {
    // Our resolver's refusal arrives wrapped in hyper's and reqwest's connect errors: find it.
    let mut source: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<ResolveRefused>() {
            return DeliveryError::Refused(refused.to_string());
        }
        source = e.source();
    }
    if err.is_builder() {
        return DeliveryError::Refused(error_chain(&err));
    }
    DeliveryError::Transport(error_chain(&err))
}

/// `outer: inner: innermost`, since reqwest's own message ("error sending request") hides the
/// useful part (connection refused, timed out, certificate invalid...) in its sources.
fn error_chain(err: &dyn StdError) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        // Some layers repeat their source's message; skip the echoes.
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = e.source();
    }
    message
}

/// The resolver refused every address a host name resolved to.
#[derive(Debug, thiserror::Error)]
#[error(
    "host {host:?} resolves only to addresses that are not public internet addresses ({addrs})"
)]
struct ResolveRefused {
    host: String,
    addrs: String,
}

/// Resolves names with the system resolver, then drops the addresses the policy refuses. This
/// is where the policy holds against names that point (or are re-pointed) at internal hosts.
struct PolicyResolver {
    policy: Arc<UrlPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            // Port 0: reqwest puts the URL's (or the scheme's) port in afterwards.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = resolved
                .into_iter()
                .partition(|addr| policy.allows_ip(addr.ip()));
            if allowed.is_empty() && !refused.is_empty() {
                let addrs = refused
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                tracing::warn!(%host, %addrs, "webhook host resolves only to refused addresses");
                return Err(ResolveRefused { host, addrs }.into());
            }
            if !refused.is_empty() {
                tracing::debug!(%host, refused = refused.len(), "dropped refused addresses");
            }
            // An empty answer stays a (transient) DNS failure: reqwest reports it as such.
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::post;
    use axum::Router;
    use std::sync::Mutex;

    /// One request as the test server saw it.
    #[derive(Debug, Clone)]
    struct Seen {
        path: String,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    type Log = Arc<Mutex<Vec<Seen>>>;

    /// A local receiver on 127.0.0.1 with a few behaviours; returns its port and request log.
    async fn start_server() -> (u16, Log) {
        let log: Log = Arc::default();
        let record = |log: Log, status: StatusCode| {
            move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| async move {
                log.lock().unwrap().push(Seen {
                    path: uri.path().to_owned(),
                    headers,
                    body: body.to_vec(),
                });
                status
            }
        };
        let redirect_log = Arc::clone(&log);
        let app = Router::new()
            .route(
                "/ok",
                post(record(Arc::clone(&log), StatusCode::NO_CONTENT)),
            )
            .route("/", post(record(Arc::clone(&log), StatusCode::OK)))
            .route(
                "/fail",
                post(record(Arc::clone(&log), StatusCode::INTERNAL_SERVER_ERROR)),
            )
            .route(
                "/redirect",
                post(move |uri: axum::http::Uri, headers: HeaderMap| async move {
                    redirect_log.lock().unwrap().push(Seen {
                        path: uri.path().to_owned(),
                        headers,
                        body: Vec::new(),
                    });
                    (StatusCode::FOUND, [("location", "/ok")]).into_response()
                }),
            )
            .route(
                "/slow",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    StatusCode::OK
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (port, log)
    }

    fn loopback_sender() -> Sender {
        let policy = UrlPolicy::parse_allow_list("127.0.0.0/8").unwrap();
        Sender::new(policy, Duration::from_secs(5)).unwrap()
    }

    fn secret() -> Secret {
        Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
    }

    const BODY: &[u8] = br#"{"type":"reservation.confirmed","data":{"id":42}}"#;

    #[tokio::test]
    async fn delivers_signed_request() {
        let (port, log) = start_server().await;
        let url = format!("http://127.0.0.1:{port}/ok");
        let status = loopback_sender()
            .deliver(&url, "msg_1", &secret(), BODY)
            .await
            .unwrap();
        assert_eq!(status, 204);

        let seen = log.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let req = &seen[0];
        assert_eq!(req.body, BODY);
        let header = |name: &str| req.headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(
            header("user-agent"),
            format!("maitred-webhooks/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(header("webhook-id"), "msg_1");
        let ts: i64 = header("webhook-timestamp").parse().unwrap();
        assert!((ts - unix_now()).abs() < 60, "timestamp {ts} is not now");
        let signature = header("webhook-signature");
        assert!(signature.starts_with("v1,"));
        assert!(verify(&secret(), "msg_1", ts, &req.body, &signature));
        assert!(!verify(
            &Secret::generate(),
            "msg_1",
            ts,
            &req.body,
            &signature
        ));
    }

    #[tokio::test]
    async fn server_error_is_a_status_error() {
        let (port, log) = start_server().await;
        let err = loopback_sender()
            .deliver(
                &format!("http://127.0.0.1:{port}/fail"),
                "msg_2",
                &secret(),
                BODY,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Status(500)), "{err:?}");
        assert!(!err.is_permanent());
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn redirect_is_not_followed() {
        let (port, log) = start_server().await;
        let err = loopback_sender()
            .deliver(
                &format!("http://127.0.0.1:{port}/redirect"),
                "msg_3",
                &secret(),
                BODY,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Status(302)), "{err:?}");
        let paths: Vec<String> = log.lock().unwrap().iter().map(|s| s.path.clone()).collect();
        assert_eq!(paths, ["/redirect"]);
    }

    #[tokio::test]
    async fn default_policy_refuses_loopback_literal_without_sending() {
        let (port, log) = start_server().await;
        let sender = Sender::new(UrlPolicy::default(), Duration::from_secs(5)).unwrap();
        let err = sender
            .deliver(
                &format!("http://127.0.0.1:{port}/"),
                "msg_4",
                &secret(),
                BODY,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Refused(_)), "{err:?}");
        assert!(err.is_permanent());
        assert!(log.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn default_policy_refuses_name_resolving_to_loopback() {
        let (port, log) = start_server().await;
        let sender = Sender::new(UrlPolicy::default(), Duration::from_secs(5)).unwrap();
        let err = sender
            .deliver(
                &format!("http://localhost:{port}/ok"),
                "msg_5",
                &secret(),
                BODY,
            )
            .await
            .unwrap_err();
        let DeliveryError::Refused(message) = &err else {
            panic!("expected Refused, got {err:?}");
        };
        assert!(message.contains("localhost"), "{message}");
        assert!(err.is_permanent());
        assert!(log.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn allowed_name_connects_to_the_allowed_address() {
        // localhost may also resolve to ::1, which this policy drops; 127.0.0.1 must remain.
        let (port, log) = start_server().await;
        let status = loopback_sender()
            .deliver(
                &format!("http://localhost:{port}/ok"),
                "msg_6",
                &secret(),
                BODY,
            )
            .await
            .unwrap();
        assert_eq!(status, 204);
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn timeout_and_connect_failures_are_transient() {
        let (port, _log) = start_server().await;
        let policy = UrlPolicy::parse_allow_list("127.0.0.0/8").unwrap();
        let sender = Sender::new(policy, Duration::from_millis(300)).unwrap();
        let err = sender
            .deliver(
                &format!("http://127.0.0.1:{port}/slow"),
                "msg_7",
                &secret(),
                BODY,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Transport(_)), "{err:?}");
        assert!(!err.is_permanent());

        // A port nobody listens on: bind one, note it, close it.
        let closed = {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap().port()
        };
        let err = sender
            .deliver(
                &format!("http://127.0.0.1:{closed}/"),
                "msg_8",
                &secret(),
                BODY,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Transport(_)), "{err:?}");
    }

    #[tokio::test]
    async fn bad_input_is_refused() {
        let sender = loopback_sender();
        for url in ["not a url", "ftp://127.0.0.1/", "http://u:p@127.0.0.1/"] {
            let err = sender
                .deliver(url, "msg_9", &secret(), BODY)
                .await
                .unwrap_err();
            assert!(matches!(err, DeliveryError::Refused(_)), "{url}: {err:?}");
        }
        let err = sender
            .deliver("http://127.0.0.1:1/", "msg\nbad", &secret(), BODY)
            .await
            .unwrap_err();
        assert!(matches!(err, DeliveryError::Refused(_)), "{err:?}");
    }

    #[test]
    fn sender_builds_with_tls_backend() {
        // Building the client sets up rustls with the ring provider; a missing provider fails here.
        let sender = Sender::new(UrlPolicy::default(), Duration::from_secs(1)).unwrap();
        assert!(format!("{sender:?}").starts_with("Sender"));
    }
}
