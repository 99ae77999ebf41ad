//! Hostile clients against a real server on a local port: slow headers, slow bodies, a crowd
//! past the cap on requests in flight, oversized bodies. Each gets a clear answer (or its
//! connection closed) and holds nothing for long.

mod common;

use std::time::Duration;

use common::*;
use maitred::application::{Application, Databases, Roles};
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The whole application serving on a free port, with `adjust` applied to its settings.
async fn serve(pool: PgPool, adjust: impl FnOnce(&mut maitred::settings::Settings)) -> Served {
    let mut settings = test_settings(100);
    settings.http_addr = "127.0.0.1:0".parse().unwrap();
    adjust(&mut settings);
    let cleanup = QueueCleanup::for_settings(&settings);
    let databases = Databases::shared(booking::Store::new(pool));
    let mut application = Application::build(settings, Roles::API, databases)
        .await
        .unwrap();
    application.start().await.unwrap();
    Served {
        addr: application.http_addr().unwrap().to_string(),
        application,
        cleanup,
    }
}

struct Served {
    addr: String,
    application: Application,
    cleanup: QueueCleanup,
}

impl Served {
    async fn stop(mut self) {
        self.application.stop().await.unwrap();
        self.cleanup.delete().await;
    }
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection in time")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_client_slow_to_send_its_headers_is_cut_off(pool: PgPool) {
    let served = serve(pool, |settings| {
        settings.http_header_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = TcpStream::connect(&served.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: maitred\r\n")
        .await
        .unwrap();
    // No blank line: the headers never end. The server hangs up instead of waiting forever.
    read_to_close(&mut stream, Duration::from_secs(15)).await;
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_body_that_never_arrives_times_out_and_a_crowd_past_the_cap_gets_503(pool: PgPool) {
    let served = serve(pool, |settings| {
        settings.http_request_timeout = Duration::from_secs(2);
        settings.http_max_requests = 1;
    })
    .await;
    // A booking whose body stops after a few bytes holds the only slot...
    let mut slow = TcpStream::connect(&served.addr).await.unwrap();
    slow.write_all(
        b"POST /v1/reservations HTTP/1.1\r\nHost: maitred\r\ncontent-type: application/json\r\n\
          content-length: 1000\r\nconnection: close\r\n\r\n{\"reservationId\"",
    )
    .await
    .unwrap();
    // ...so another request is turned away at once, with a problem and a Retry-After. (Until
    // the slow one reaches the router, the other may still get through: try until refused.)
    let client = reqwest::Client::new();
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let reply = client
                .get(format!("http://{}/healthz", served.addr))
                .send()
                .await
                .unwrap();
            if reply.status() == 503 {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a request past the cap is refused");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    assert!(refused.headers().contains_key("retry-after"));
    let problem: Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("too many requests"));

    // The slow one is answered 408 at its deadline, and the slot is free again.
    let answer = read_to_close(&mut slow, Duration::from_secs(15)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    let healthy = client
        .get(format!("http://{}/healthz", served.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(healthy.status(), 200);
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn bodies_are_small_but_on_bulk_staff_routes(pool: PgPool) {
    let served = serve(pool, |_| {}).await;
    let (restaurant, table_type) =
        seed_restaurant(&booking::Store::new(served_pool(&served)), 1).await;
    let client = reqwest::Client::new();
    let padding = "x".repeat(20 * 1024);
    let booking = client
        .post(format!("http://{}/v1/reservations", served.addr))
        .header("content-type", "application/json")
        .body(format!(r#"{{"padding": "{padding}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(booking.status(), 413);
    assert_eq!(
        booking.headers()["content-type"],
        "application/problem+json"
    );

    // Rates for a range may be large: the same size is read (and refused for what it says).
    let rates = client
        .put(format!(
            "http://{}/v1/restaurants/{restaurant}/table-types/{table_type}/rates",
            served.addr
        ))
        .bearer_auth(STAFF_TOKEN)
        .header("content-type", "application/json")
        .body(format!(r#"{{"padding": "{padding}"}}"#))
        .send()
        .await
        .unwrap();
    assert_ne!(rates.status(), 413);
    assert!(rates.status().is_client_error(), "{}", rates.status());
    served.stop().await;
}

fn served_pool(served: &Served) -> PgPool {
    served.application.api_state().unwrap().store.pool().clone()
}
