//! The waitlist on the website, in a real browser: a diner finds a time sold out, joins the
//! waitlist, watches their place, is offered the table when the booking holding it is
//! cancelled, and pays for it. Screenshots under `target/screenshots/`.

mod common;

use std::time::Duration;

use axum::http::Method;
use common::browser::Browser;
use common::*;
use serde_json::json;
use sqlx::PgPool;

const DECIDED: Duration = Duration::from_secs(60);

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_diner_joins_the_waitlist_of_a_sold_out_time_and_books_the_table_offered(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 1).await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let date = chrono::Utc::now().date_naive() + chrono::Duration::days(7);

    // Someone else has the only table at 19:00.
    let mut body = booking_body(restaurant, table_type);
    body["date"] = json!(date.to_string());
    body["paymentToken"] = json!("tok_visa");
    let taken = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(taken, "confirmed", DECIDED).await;

    let browser = Browser::start().await;
    browser
        .goto(&format!(
            "{base}/restaurants/{restaurant}/book?tableType={table_type}&date={date}&time=19:00&partySize=2"
        ))
        .await;
    browser
        .wait_for_text("#sold-out", "Sold out", DECIDED)
        .await;
    browser.click("#join-waitlist").await;
    browser
        .wait_for_text("h1", "Join the waitlist", DECIDED)
        .await;
    browser.assert_accessible("waitlist form").await;
    browser.fill("Name", "Grace Hopper").await;
    browser.fill("Email", "grace@example.com").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#status-word", "Waiting", DECIDED)
        .await;
    browser
        .wait_for_text("#status", "number 1 in line", DECIDED)
        .await;
    browser.assert_accessible("waitlist entry").await;
    browser.screenshot("waitlist_waiting").await;

    // The booking holding the table is cancelled: the page shows the offer by itself.
    let cancelled = harness
        .staff_request(Method::DELETE, &format!("/v1/reservations/{taken}"), None)
        .await;
    assert!(cancelled.status.is_success(), "{}", cancelled.body);
    browser
        .wait_for_text("#status-word", "A table is yours", DECIDED)
        .await;
    browser.screenshot("waitlist_offered").await;
    browser.click("#offer-link").await;
    browser.wait_for_text("h1", "Your table at", DECIDED).await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#status-word", "Confirmed", DECIDED)
        .await;
    browser.assert_accessible("paid offer").await;
    browser.screenshot("waitlist_offer_paid").await;

    // The Settle command that confirmed the offer settles the entry next, on the same lane.
    let deadline = tokio::time::Instant::now() + DECIDED;
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM waitlist_entry")
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
        if status == "booked" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the entry is {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The host sees the waitlist in the day's book.
    seed_staff(
        &harness.store,
        "host@example.com",
        booking::staff::StaffRole::Manager(vec![restaurant]),
    )
    .await;
    browser
        .sign_in(&base, "host@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/book?date={date}"
        ))
        .await;
    browser
        .wait_for_text("#waitlist", "Grace Hopper", DECIDED)
        .await;
    browser
        .wait_for_text("#waitlist", "Took the table", DECIDED)
        .await;
    browser.assert_accessible("the book's waitlist").await;
    browser.screenshot("waitlist_in_the_book").await;
    browser.close().await;
    harness.finish().await;
}
