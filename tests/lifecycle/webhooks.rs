//! Webhooks of the lifecycle: receivers that fail, die or never answer, and the URLs a
//! callback may have.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use sqlx::PgPool;

use super::*;

/// One request a webhook receiver saw.
#[derive(Debug, Clone)]
pub(super) struct Received {
    pub(super) id: String,
    pub(super) timestamp: String,
    pub(super) signature: String,
    pub(super) body: String,
}

/// A real HTTP server that records every webhook and fails the first `failures` of them
/// (or every one, with `u32::MAX`).
pub(super) struct Receiver {
    pub(super) url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(super) async fn start(failures: u32) -> Self {
        let seen = Arc::new(Mutex::new(Vec::<Received>::new()));
        let recorded = seen.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let recorded = recorded.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .map(|v| v.to_str().unwrap().to_owned())
                            .unwrap_or_default()
                    };
                    let mut seen = recorded.lock().unwrap();
                    seen.push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body,
                    });
                    if (seen.len() as u32) <= failures {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, seen }
    }

    pub(super) fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what the receiver saw, or panics.
    pub(super) async fn wait_for(&self, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
        loop {
            let seen = self.seen();
            if done(&seen) {
                return seen;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver saw only {seen:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Standard Webhooks signature check, written here independently of the `webhooks` crate.
pub(super) fn signature_is_valid(secret: &str, received: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    received.signature.split(' ').any(|s| s == expected)
}

/// The reservation's recorded delivery attempts, newest first, as
/// `(outcome, attempt, http status, url, event)`.
pub(super) async fn recorded_attempts(
    harness: &Harness,
    reservation: Uuid,
) -> Vec<(String, i32, Option<i32>, String, String)> {
    harness
        .store
        .webhook_deliveries(reservation, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.outcome, d.attempt, d.http_status, d.url, d.event))
        .collect()
}

pub(super) fn event_type(received: &Received) -> String {
    let body: Value = serde_json::from_str(&received.body).unwrap();
    body["type"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_failing_receiver_gets_the_same_webhook_id_until_it_succeeds(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    set_prepayment(&harness, restaurant, false).await;
    let receiver = Receiver::start(2).await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["callbackUrl"] = json!(receiver.url);
    let receipt = harness.post_reservation(&body).await;
    let callback_secret = receipt.body["callbackSecret"].as_str().unwrap().to_owned();

    let seen = receiver.wait_for(|seen| seen.len() >= 3).await;
    // No fourth attempt after the success: nothing is left to deliver.
    harness.wait_settled(&harness.webhook_queues()).await;
    let seen_after = receiver.seen();
    assert_eq!(seen_after.len(), 3, "{seen_after:#?}");
    assert!(seen.iter().all(|r| r.id == seen[0].id), "{seen:#?}");
    assert!(seen.iter().all(|r| r.body == seen[0].body));
    assert!(seen.iter().all(|r| signature_is_valid(&callback_secret, r)));
    assert_eq!(event_type(&seen[0]), "reservation.confirmed");
    assert_eq!(
        harness
            .queue_depth(&harness.topology.webhooks_dead_letter_queue())
            .await,
        0
    );
    // Each attempt is on record, newest first: two failures, then the delivery.
    let url = receiver.url.clone();
    let event = "reservation.confirmed".to_owned();
    assert_eq!(
        recorded_attempts(&harness, id_of(&receipt.body)).await,
        [
            (
                "delivered".to_owned(),
                3,
                Some(204),
                url.clone(),
                event.clone()
            ),
            (
                "failed".to_owned(),
                2,
                Some(500),
                url.clone(),
                event.clone()
            ),
            ("failed".to_owned(), 1, Some(500), url, event),
        ]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_dead_receiver_leaves_the_delivery_in_the_webhook_dead_letter_queue(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    set_prepayment(&harness, restaurant, false).await;
    let receiver = Receiver::start(u32::MAX).await;
    harness.start_worker();

    // A registered endpoint, signed with its own secret, alongside the callback.
    let registered = harness
        .staff_request(
            Method::POST,
            &format!("/v1/restaurants/{restaurant}/webhook-endpoints"),
            Some(&json!({"url": receiver.url, "description": "front desk"})),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let endpoint_secret = registered.body["secret"].as_str().unwrap().to_owned();
    assert!(endpoint_secret.starts_with("whsec_"));

    let id = post(&harness, &booking_body(restaurant, table_type)).await;
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;
    let dlq = harness.topology.webhooks_dead_letter_queue();
    harness.wait_for_depth(&dlq, |depth| depth == 1).await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 3, "max_attempts deliveries: {seen:#?}");
    assert!(seen.iter().all(|r| signature_is_valid(&endpoint_secret, r)));
    // On record: two failures, then the last attempt given up (the dead-lettered one).
    let recorded = recorded_attempts(&harness, id).await;
    let outcomes: Vec<(&str, i32, Option<i32>)> = recorded
        .iter()
        .map(|(outcome, attempt, status, _, _)| (outcome.as_str(), *attempt, *status))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("gave_up", 3, Some(500)),
            ("failed", 2, Some(500)),
            ("failed", 1, Some(500)),
        ]
    );
    assert!(recorded
        .iter()
        .all(|(_, _, _, url, event)| *url == receiver.url && event == "reservation.confirmed"));
    // Decisions went on regardless.
    let next = post(&harness, &booking_body(restaurant, table_type)).await;
    harness.wait_status(next, "confirmed", SETTLE_TIMEOUT).await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn callback_urls_must_be_http_and_must_not_point_inside(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    for url in [
        "ftp://example.com/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "not a url",
    ] {
        let mut body = booking_body(restaurant, table_type);
        body["callbackUrl"] = json!(url);
        let reply = harness.post_reservation(&body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(reply.body["field"], "callbackUrl", "{url}");
    }
    let nothing: i64 = sqlx::query_scalar("SELECT count(*) FROM reservation")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(nothing, 0);
    harness.finish().await;
}

/// A webhook receiver that accepts connections and never answers, holding each delivery for
/// the whole timeout. Dropping it closes them.
struct Tarpit {
    url: String,
    accepting: tokio::task::JoinHandle<()>,
}

impl Tarpit {
    pub(super) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let accepting = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        Self { url, accepting }
    }
}

impl Drop for Tarpit {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Anonymous clients choose their callback URLs: a receiver that never answers, however many
/// callbacks point at it, must not stall the deliveries to the restaurant's own endpoint.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn callbacks_to_a_receiver_that_never_answers_do_not_stall_the_restaurants_endpoint(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 30).await;
    set_prepayment(&harness, restaurant, false).await;
    let endpoint = Receiver::start(0).await;
    let registered = harness
        .staff_request(
            Method::POST,
            &format!("/v1/restaurants/{restaurant}/webhook-endpoints"),
            Some(&json!({"url": endpoint.url, "description": "front desk"})),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let tarpit = Tarpit::start().await;
    // Longer than the wait below: a delivery stuck in the tarpit holds its slot throughout.
    harness.set_webhook_timeout(SETTLE_TIMEOUT * 2);
    harness.start_worker();

    let bookings = 20;
    for _ in 0..bookings {
        let mut body = booking_body(restaurant, table_type);
        body["callbackUrl"] = json!(tarpit.url);
        post(&harness, &body).await;
    }
    // Every confirmation reaches the endpoint although the callbacks never end.
    let seen = endpoint.wait_for(|seen| seen.len() >= bookings).await;
    assert!(seen
        .iter()
        .all(|r| event_type(r) == "reservation.confirmed"));

    // The tarpit's connections close; its deliveries fail and are retried, and stop.
    drop(tarpit);
    harness.finish().await;
}
