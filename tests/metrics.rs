//! `/metrics` after a burst, against real servers. Its own test binary: the Prometheus recorder
//! is process-wide, so no other test's requests are counted here.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The value of the series whose line starts with `series` (name and labels, as rendered).
fn value(metrics: &str, series: &str) -> f64 {
    find(metrics, series).unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
}

fn find(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// `/metrics` as text, once `ready` holds for it (or panics after 30 s).
async fn wait_for_metrics(harness: &Harness, ready: impl Fn(&str) -> bool) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = harness
            .app
            .clone()
            .oneshot(
                axum::http::Request::get("/metrics")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        if ready(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "metrics never got there:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn metrics_count_requests_decisions_latency_and_queues_after_a_burst(pool: PgPool) {
    api::monitoring::prometheus();
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 20).await;
    harness.start_worker();
    let polling = CancellationToken::new();
    let poller = tokio::spawn(worker::queue_depths::run(
        amqp_url(),
        harness.topology.clone(),
        Duration::from_millis(100),
        polling.clone(),
    ));

    // 30 diners for 22 sellable tables (20 + 10%).
    let bodies: Vec<_> = (0..30)
        .map(|_| booking_body(restaurant, table_type))
        .collect();
    let replies =
        futures_util::future::join_all(bodies.iter().map(|body| harness.post_reservation(body)))
            .await;
    let ids: Vec<Uuid> = replies.iter().map(|reply| id_of(&reply.body)).collect();
    harness.wait_decided(&ids, Duration::from_secs(30)).await;
    let missing = harness
        .request(
            Method::GET,
            &format!("/v1/reservations/{}", Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let partition = harness
        .topology
        .partition_queue(harness.topology.partition_of(restaurant));
    let depth_series = format!(r#"maitred_queue_depth{{queue="{partition}"}}"#);
    // Counted once each decision is acked, and the depth polled after the queue drained.
    let text = wait_for_metrics(&harness, |text| {
        let decided = [r#"outcome="held""#, r#"outcome="no_availability""#]
            .iter()
            .map(|outcome| {
                find(
                    text,
                    &format!("maitred_commands_total{{command=\"decide\",{outcome}}}"),
                )
                .unwrap_or(0.0)
            })
            .sum::<f64>();
        decided == 30.0 && find(text, &depth_series) == Some(0.0)
    })
    .await;

    let accepted = value(
        &text,
        r#"maitred_http_requests_total{method="POST",route="/v1/reservations",status="202"}"#,
    );
    assert_eq!(accepted, 30.0);
    let unauthorized = value(
        &text,
        r#"maitred_http_requests_total{method="GET",route="/v1/reservations/{id}",status="401"}"#,
    );
    assert_eq!(unauthorized, 1.0);
    assert_eq!(
        value(
            &text,
            r#"maitred_http_request_duration_seconds_count{method="POST",route="/v1/reservations"}"#
        ),
        30.0
    );
    let held = value(
        &text,
        r#"maitred_commands_total{command="decide",outcome="held"}"#,
    );
    let rejected = value(
        &text,
        r#"maitred_commands_total{command="decide",outcome="no_availability"}"#,
    );
    assert_eq!((held, rejected), (22.0, 8.0));
    assert_eq!(
        value(
            &text,
            r#"maitred_decision_latency_seconds_count{status="held"}"#
        ),
        22.0
    );
    let latency_sum = value(
        &text,
        r#"maitred_decision_latency_seconds_sum{status="held"}"#,
    );
    assert!(
        latency_sum > 0.0 && latency_sum < 22.0 * 30.0,
        "{latency_sum}"
    );
    assert_eq!(value(&text, &depth_series), 0.0);
    let dead_letters = harness.topology.dead_letter_queue();
    assert_eq!(
        value(
            &text,
            &format!(r#"maitred_dead_letters{{queue="{dead_letters}"}}"#)
        ),
        0.0
    );

    polling.cancel();
    poller.await.unwrap();
    harness.finish().await;
}

/// Made-up methods and unknown paths cannot add series: they are counted as `other` and
/// `unmatched`, however many there are.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn made_up_methods_and_paths_add_no_series(pool: PgPool) {
    api::monitoring::prometheus();
    let harness = Harness::new(pool).await;
    let huge = "M".repeat(400 * 1024);
    let methods: Vec<String> = (1..=50).map(|n| format!("A{n}")).chain([huge]).collect();
    for (n, method) in methods.iter().enumerate() {
        let request = axum::http::Request::builder()
            .method(method.as_str())
            .uri(format!("/v1/reservations/{}/x{n}", Uuid::new_v4()))
            .body(axum::body::Body::empty())
            .unwrap();
        let reply = send(&harness.app, request).await;
        assert!(
            reply.status.is_client_error(),
            "{method:.8}: {}",
            reply.status
        );
    }
    let text = wait_for_metrics(&harness, |_| true).await;
    let series: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("maitred_http_requests_total"))
        .collect();
    assert!(
        series
            .iter()
            .all(|line| !line.contains("A1") && !line.contains("MMMM")),
        "{series:#?}"
    );
    let other = r#"maitred_http_requests_total{method="other",route="unmatched",status="404"}"#;
    assert_eq!(value(&text, other), 51.0);
    harness.finish().await;
}
