//! The admin panel's record of webhook deliveries, in a real browser (see tests/browser.rs): a
//! booking's callback receiver that answers at once and a restaurant endpoint that always fails;
//! the reservation's detail page lists every attempt, newest first, with what came of it.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use booking::staff::StaffRole;
use common::browser::Browser;
use common::*;
use serde_json::json;
use sqlx::PgPool;
use tokio::time::Instant;
use uuid::Uuid;

const SHOWN: Duration = Duration::from_secs(30);
/// Long enough for a decision and every attempt of a delivery (three, in the harness).
const DELIVERED: Duration = Duration::from_secs(60);

/// A real HTTP server on loopback that answers every webhook with `status`; its URL.
async fn receiver(status: StatusCode) -> String {
    let app =
        axum::Router::new().route("/hook", axum::routing::post(move || async move { status }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Waits until the reservation's recorded attempts satisfy `done`; returns their outcomes and
/// URLs, newest first.
async fn wait_recorded(
    harness: &Harness,
    reservation: Uuid,
    done: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let recorded: Vec<(String, String)> = harness
            .store
            .webhook_deliveries(reservation, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.outcome, d.url))
            .collect();
        if done(&recorded) {
            return recorded;
        }
        assert!(started.elapsed() < DELIVERED, "recorded only {recorded:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_detail_page_lists_each_delivery_attempt(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    // Confirmed at once, without a payment: one event, `reservation.confirmed`.
    sqlx::query("UPDATE restaurant SET prepayment_required = false WHERE id = $1")
        .bind(restaurant)
        .execute(harness.store.pool())
        .await
        .unwrap();
    seed_staff(
        &harness.store,
        "host@example.com",
        StaffRole::Manager(vec![restaurant]),
    )
    .await;
    let callback = receiver(StatusCode::NO_CONTENT).await;
    let endpoint = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let registered = harness
        .staff_request(
            Method::POST,
            &format!("/v1/restaurants/{restaurant}/webhook-endpoints"),
            Some(&json!({"url": endpoint, "description": "front desk"})),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    harness.start_worker();
    let base = harness.serve_http().await;

    let mut body = booking_body(restaurant, table_type);
    body["callbackUrl"] = json!(callback);
    let reply = harness.post_reservation(&body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let id = id_of(&reply.body);
    harness.wait_status(id, "confirmed", DELIVERED).await;

    // The callback is delivered at the first attempt; the endpoint fails three times, and the
    // third is given up (dead-lettered).
    let recorded = wait_recorded(&harness, id, |recorded| {
        recorded
            .iter()
            .any(|(o, url)| o == "delivered" && *url == callback)
            && recorded
                .iter()
                .any(|(o, url)| o == "gave_up" && *url == endpoint)
    })
    .await;
    let to_endpoint: Vec<&str> = recorded
        .iter()
        .filter(|(_, url)| *url == endpoint)
        .map(|(outcome, _)| outcome.as_str())
        .collect();
    assert_eq!(to_endpoint, ["gave_up", "failed", "failed"]);
    assert_eq!(recorded.len(), 4, "{recorded:?}");

    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "host@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/reservations/{id}"))
        .await;
    browser
        .wait_for_text("h3#deliveries-heading", "Delivery attempts", SHOWN)
        .await;
    browser
        .wait_for_text(
            "table.deliveries tr[data-outcome='delivered']",
            "delivered",
            SHOWN,
        )
        .await;
    browser
        .wait_for_text(
            "table.deliveries tr[data-outcome='delivered']",
            &callback,
            SHOWN,
        )
        .await;
    browser
        .wait_for_text(
            "table.deliveries tr[data-outcome='delivered']",
            "204",
            SHOWN,
        )
        .await;
    browser
        .wait_for_text(
            "table.deliveries tr[data-outcome='gave_up']",
            &endpoint,
            SHOWN,
        )
        .await;
    browser
        .wait_for_text("table.deliveries tr[data-outcome='gave_up']", "500", SHOWN)
        .await;
    // Newest first: the last attempt to the endpoint (3) comes before its first (1).
    let attempts: Vec<String> = {
        let mut attempts = Vec::new();
        for cell in browser
            .client()
            .find_all(fantoccini::Locator::Css(
                "table.deliveries tbody tr:not([data-outcome='delivered']) td:nth-child(4)",
            ))
            .await
            .unwrap()
        {
            attempts.push(cell.text().await.unwrap());
        }
        attempts
    };
    assert_eq!(attempts, ["3", "2", "1"]);
    browser
        .assert_accessible("reservation detail with deliveries")
        .await;
    browser.screenshot("panel_webhook_deliveries").await;
    browser.close().await;

    let phone = Browser::start_sized(390, 844).await;
    phone
        .sign_in(&base, "host@example.com", STAFF_PASSWORD)
        .await;
    phone.goto(&format!("{base}/admin/reservations/{id}")).await;
    phone
        .wait_for_text("table.deliveries", "delivered", SHOWN)
        .await;
    phone
        .assert_accessible("reservation detail on a phone")
        .await;
    phone.screenshot("panel_webhook_deliveries_phone").await;
    phone.close().await;
    harness.finish().await;
}
