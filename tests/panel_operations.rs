//! The admin panel's operations page in a real browser (see tests/browser.rs), against real
//! PostgreSQL and RabbitMQ: a command that failed (a `decide` that arrived before its
//! reservation existed, as in tests/dead_letters.rs) is found in the dead letters with its
//! reason and restaurant, looked at, dry-run (nothing changes), then replayed once its cause
//! is fixed, and decided; purging needs its box ticked (on a phone); the page is the chain
//! admin's alone.

mod common;

use std::time::Duration;

use booking::messages::{self, Command, Envelope};
use booking::staff::StaffRole;
use common::browser::Browser;
use common::*;
use rabbitmq::{Outgoing, Topology};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const SHOWN: Duration = Duration::from_secs(30);
const DECIDED: Duration = Duration::from_secs(30);

/// Publishes `decide` for `reservation_id` to the restaurant's partition, as intake would.
async fn publish_decide(harness: &Harness, restaurant_id: Uuid, reservation_id: Uuid) {
    let envelope = Envelope {
        restaurant_id,
        command: Command::Decide { reservation_id },
    };
    let partition = harness.topology.partition_of(restaurant_id);
    harness
        .publisher
        .publish(Outgoing {
            routing_key: &Topology::routing_key(partition),
            body: &messages::to_json(&envelope),
            properties: rabbitmq::properties(&reservation_id.to_string(), "decide"),
            delay: Duration::ZERO,
        })
        .await
        .unwrap();
}

/// A `decide` for a reservation not recorded yet: the worker dead-letters it (it refers to
/// nothing). Returns the booking it is for, whose recording is the fix.
async fn poison(harness: &Harness, restaurant: Uuid, table_type: Uuid) -> serde_json::Value {
    let dlq = harness.topology.dead_letter_queue();
    let before = harness.queue_depth(&dlq).await;
    let body = booking_body(restaurant, table_type);
    publish_decide(harness, restaurant, id_of(&body)).await;
    harness
        .wait_for_depth(&dlq, |depth| depth == before + 1)
        .await;
    body
}

async fn transitions(harness: &Harness, id: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT to_status FROM reservation_event WHERE reservation_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(harness.store.pool())
    .await
    .unwrap()
}

/// The row of the dead letter `id` in the operations page's list.
fn row_of(id: Uuid) -> String {
    format!("tr:has(input[name=ids][value='{id}'])")
}

/// The number the queues table shows for `queue`.
async fn shown_depth(browser: &Browser, queue: &str) -> String {
    browser
        .client()
        .execute(
            "const th = [...document.querySelectorAll('#queues ~ div table tbody th')]
               .find(th => th.textContent.trim() === arguments[0]);
             return th ? th.parentElement.lastElementChild.textContent.trim() : null;",
            vec![json!(queue)],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_else(|| panic!("no row for {queue} in the queues table"))
        .to_owned()
}

/// `fetch` from the page: the status of a GET of `path`, with the browser's cookies.
async fn get_status(browser: &Browser, path: &str) -> u64 {
    browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { redirect: 'manual' }).then(r => done(r.status));",
            vec![json!(path)],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_dead_letter_is_found_dry_run_then_replayed_and_decided(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    seed_staff(&harness.store, "chain@example.com", StaffRole::Admin).await;
    seed_staff(
        &harness.store,
        "manager@example.com",
        StaffRole::Manager(vec![restaurant]),
    )
    .await;
    harness.start_worker();
    let dlq = harness.topology.dead_letter_queue();
    let body = poison(&harness, restaurant, table_type).await;
    let id = id_of(&body);

    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;
    browser.click("nav a[href='/admin/operations']").await;
    browser.wait_for_text("h1", "Operations", SHOWN).await;
    // The dead letter, with its reason and restaurant.
    let row = row_of(id);
    browser.wait_for_text(&row, "decide", SHOWN).await;
    browser.wait_for_text(&row, "rejected", SHOWN).await;
    browser.wait_for_text(&row, "Test Bistro", SHOWN).await;
    browser
        .wait_for_text(&row, &format!("Reservation {id}"), SHOWN)
        .await;
    browser
        .wait_for_text("#dl-count", "1 dead letter in commands", SHOWN)
        .await;
    // The queues, each partition among them; the dead letter counted in its queue.
    assert_eq!(shown_depth(&browser, &dlq).await, "1");
    for partition in harness.partition_queues() {
        assert_eq!(shown_depth(&browser, &partition).await, "0", "{partition}");
    }
    browser
        .wait_for_text("main", "decisions per second", SHOWN)
        .await;
    browser.assert_accessible("operations page").await;
    browser.screenshot("panel_operations_dead_letter").await;

    // Its page: the body, the headers, why it died.
    browser.click(&format!("{row} a[href*='/messages/']")).await;
    browser
        .wait_for_text("h1", "Dead letter: decide", SHOWN)
        .await;
    browser
        .wait_for_text(
            "pre.payload",
            &format!("\"reservationId\": \"{id}\""),
            SHOWN,
        )
        .await;
    browser.wait_for_text("pre.payload", "x-death", SHOWN).await;
    browser
        .wait_for_text("dl.facts", "rejected (rejected by its worker)", SHOWN)
        .await;
    browser.assert_accessible("dead letter page").await;
    browser.screenshot("panel_operations_message").await;

    // The fix: the reservation is now recorded (pending; its own publish "crashed").
    assert_eq!(harness.record_without_publishing(&body).await, id);

    // Nothing chosen: the list says so, next to it, and nothing changes.
    browser.client().back().await.unwrap();
    browser
        .click("button[name=do][value='replay-chosen']")
        .await;
    browser
        .wait_for_text("#dl-choose-error", "Choose at least one message", SHOWN)
        .await;
    browser
        .assert_accessible("operations page, nothing chosen")
        .await;

    // A dry run reports the replay, and changes nothing.
    browser.click(&format!("{row} input[type=checkbox]")).await;
    browser
        .click("button[name=do][value='replay-chosen']")
        .await;
    browser
        .wait_for_text("#dry-run", "Would replay 1 message", SHOWN)
        .await;
    browser
        .wait_for_text("main table", "Test Bistro", SHOWN)
        .await;
    browser.assert_accessible("dry run").await;
    browser.screenshot("panel_operations_dry_run").await;
    assert_eq!(harness.queue_depth(&dlq).await, 1, "still dead-lettered");
    assert_eq!(harness.partition_depths().await, 0, "nothing replayed");
    assert_eq!(transitions(&harness, id).await, ["pending"], "undecided");

    // Confirmed, it goes back to its partition and is decided like any other command.
    browser
        .click("form[action$='/confirm'] button[type=submit]")
        .await;
    browser
        .wait_for_text(".notice.ok", "Replayed 1 message", SHOWN)
        .await;
    browser
        .wait_for_text("#dl-count", "0 dead letters in commands", SHOWN)
        .await;
    harness.wait_status(id, "held", DECIDED).await;
    assert_eq!(transitions(&harness, id).await, ["pending", "held"]);
    assert_eq!(harness.queue_depth(&dlq).await, 0);
    browser
        .assert_accessible("operations page after the replay")
        .await;
    browser.screenshot("panel_operations_replayed").await;

    // A manager has no operations page: not in the navigation, and a 403 page at its address.
    browser
        .sign_in(&base, "manager@example.com", STAFF_PASSWORD)
        .await;
    let nav = browser.find("header.site nav").await.text().await.unwrap();
    assert!(!nav.contains("Operations"), "{nav}");
    browser.goto(&format!("{base}/admin/operations")).await;
    browser
        .wait_for_text("main", "Only the chain's administrators", SHOWN)
        .await;
    assert_eq!(get_status(&browser, "/admin/operations").await, 403);
    assert_eq!(
        get_status(
            &browser,
            &format!("/admin/operations/dead-letters/commands/messages/{id}")
        )
        .await,
        403
    );
    browser.assert_accessible("operations page refused").await;
    browser.screenshot("panel_operations_forbidden").await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn purging_all_that_match_a_filter_needs_its_box_ticked_and_spares_the_rest(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (bistro, bistro_tables) = seed_restaurant(&harness.store, 3).await;
    let (cafe, cafe_tables) = seed_restaurant_with(
        &harness.store,
        "Corner Cafe",
        "",
        (48.86, 2.34),
        &[("Two-top", 1, 2, 2000, 2)],
        |_| {},
    )
    .await;
    seed_staff(&harness.store, "chain@example.com", StaffRole::Admin).await;
    harness.start_worker();
    let dlq = harness.topology.dead_letter_queue();
    let bistro_letters = [
        id_of(&poison(&harness, bistro, bistro_tables).await),
        id_of(&poison(&harness, bistro, bistro_tables).await),
    ];
    let cafe_letter = id_of(&poison(&harness, cafe, cafe_tables[0]).await);

    let base = harness.serve_http().await;
    // On a phone.
    let browser = Browser::start().await;
    browser
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;
    browser.goto(&format!("{base}/admin/operations")).await;
    browser
        .wait_for_text("#dl-count", "3 dead letters in commands", SHOWN)
        .await;
    // Only the bistro's.
    browser
        .select_by_value("Restaurant", &bistro.to_string())
        .await;
    browser.click("form.filters button[type=submit]").await;
    browser
        .wait_for_text("#dl-count", "2 dead letters", SHOWN)
        .await;
    browser
        .wait_for_text("#dl-count", "that match the filters", SHOWN)
        .await;
    browser.assert_accessible("filtered dead letters").await;
    browser.click("button[name=do][value='purge-all']").await;
    browser
        .wait_for_text("#dry-run", "Would purge 2 messages", SHOWN)
        .await;
    assert_eq!(
        harness.queue_depth(&dlq).await,
        3,
        "a dry run purges nothing"
    );

    // Without its box ticked (the browser would not send it: the check is the server's too).
    browser
        .client()
        .execute(
            "document.getElementById('confirm-purge').removeAttribute('required')",
            vec![],
        )
        .await
        .unwrap();
    browser
        .click("form[action$='/confirm'] button[type=submit]")
        .await;
    browser
        .wait_for_text("#confirm-purge-error", "Tick this box to purge", SHOWN)
        .await;
    assert_eq!(harness.queue_depth(&dlq).await, 3, "nothing purged");
    browser.assert_accessible("purge refused").await;
    browser
        .screenshot("panel_operations_purge_unconfirmed")
        .await;

    browser.click("label[for='confirm-purge']").await;
    browser
        .click("form[action$='/confirm'] button[type=submit]")
        .await;
    browser
        .wait_for_text(".notice.ok", "Purged 2 messages for good", SHOWN)
        .await;
    assert_eq!(harness.queue_depth(&dlq).await, 1, "the cafe's is spared");
    browser.goto(&format!("{base}/admin/operations")).await;
    browser
        .wait_for_text(&row_of(cafe_letter), "Corner Cafe", SHOWN)
        .await;
    for gone in bistro_letters {
        let rows = browser
            .client()
            .find_all(fantoccini::Locator::Css(&row_of(gone)))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{gone} was purged");
    }
    browser.screenshot("panel_operations_purged").await;
    browser.close().await;
    harness.finish().await;
}
