//! Seating in the admin panel, in a real browser (see tests/browser.rs): a host seats a booking
//! that starts within the hour at the suggested table from the book, sees it seated in the book
//! and on the floor, seats a walk-in at the other table from the floor, and is told plainly
//! that a second booking of the type has no table free now, and when one will be.

mod common;

use std::time::Duration;

use booking::staff::StaffRole;
use chrono::Utc;
use common::browser::Browser;
use common::*;
use serde_json::json;
use uuid::Uuid;

const DECIDED: Duration = Duration::from_secs(60);
const SHOWN: Duration = Duration::from_secs(30);

/// A booking at 18:00 today (within the hour): no prepayment, so confirmed at once.
async fn book_at_six(harness: &Harness, restaurant: Uuid, table_type: Uuid, name: &str) -> Uuid {
    let today = harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .today(Utc::now());
    let mut body = booking_body(restaurant, table_type);
    body["date"] = json!(today.to_string());
    body["time"] = json!("18:00");
    body["partySize"] = json!(3);
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    body["guest"] = json!({ "name": name, "email": email });
    let reply = harness.post_reservation(&body).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    let id = id_of(&reply.body);
    harness.wait_status(id, "confirmed", DECIDED).await;
    id
}

/// The table id a checkbox `css` stands for.
async fn table_of(browser: &Browser, css: &str) -> Uuid {
    browser.attr(css, "value").await.parse().unwrap()
}

/// How many elements `css` matches now.
async fn count(browser: &Browser, css: &str) -> u64 {
    browser
        .client()
        .execute(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(css)],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_host_seats_a_booking_and_a_walk_in(pool: sqlx::PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "Paris",
        (48.85, 2.35),
        &[("Window 4", 1, 4, 3200, 2)],
        |r| {
            r.time_zone = five_pm_zone();
            r.prepayment_required = false;
            // Two tables, three may be booked: the third booking finds no table free.
            r.overbooking_pct = 50;
        },
    )
    .await;
    let window = types[0];
    seed_staff(
        &harness.store,
        "host@example.com",
        StaffRole::Manager(vec![restaurant]),
    )
    .await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let grace = book_at_six(&harness, restaurant, window, "Grace Hopper").await;

    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "host@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}/book"))
        .await;
    browser
        .wait_for_text(&format!("#r-{grace}"), "Grace Hopper", SHOWN)
        .await;
    // Seat: the free tables of her type, the suggestion checked.
    let href = browser
        .attr(&format!("#r-{grace} a[href$='/seat?from=book']"), "href")
        .await;
    browser.goto(&format!("{base}{href}")).await;
    browser
        .wait_for_text("legend", "Free tables of Window 4: choose 1", SHOWN)
        .await;
    assert_eq!(count(&browser, "input[name=tableIds]").await, 2);
    assert_eq!(count(&browser, "input[name=tableIds]:checked").await, 1);
    let suggested = table_of(&browser, "input[name=tableIds]:checked").await;
    let suggested_label = browser
        .find(&format!("label[for='t-{suggested}']"))
        .await
        .text()
        .await
        .unwrap();
    assert!(suggested_label.contains("(suggested)"), "{suggested_label}");
    let label = suggested_label
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    browser.assert_accessible("seat a booking").await;
    browser.screenshot("panel_seat_choose").await;
    browser
        .click("main form[data-once] button[type=submit]")
        .await;

    // Back on the book: seated, at the suggested table.
    browser
        .wait_for_text(&format!("#r-{grace} .badge"), "Seated", SHOWN)
        .await;
    browser
        .wait_for_text(&format!("#r-{grace} .seated-at"), &label, SHOWN)
        .await;
    assert_eq!(
        count(&browser, &format!("#r-{grace} a[href$='/seat?from=book']")).await,
        0
    );
    assert_eq!(
        count(&browser, &format!("#r-{grace} form[action$='/complete']")).await,
        1,
        "a seated party can be marked completed"
    );
    browser
        .assert_accessible("book with a seated booking")
        .await;
    browser.screenshot("panel_seat_book").await;
    // Her detail page says so too, and its history names the table.
    browser
        .goto(&format!("{base}/admin/reservations/{grace}"))
        .await;
    browser.wait_for_text(".seated-at", &label, SHOWN).await;
    browser
        .wait_for_text(
            "#history-heading + .table-scroll",
            "confirmed → seated",
            SHOWN,
        )
        .await;
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}/book"))
        .await;

    // The floor, from the book: her table is seated, the other free.
    let floor = browser
        .attr(
            &format!("a[href='/admin/restaurants/{restaurant}/floor']"),
            "href",
        )
        .await;
    browser.goto(&format!("{base}{floor}")).await;
    let seated = format!("#table-{suggested}");
    browser.wait_for_text(&seated, "Seated", SHOWN).await;
    browser.wait_for_text(&seated, "Grace Hopper", SHOWN).await;
    browser.wait_for_text(&seated, "party of 3", SHOWN).await;
    assert_eq!(count(&browser, "#floor [data-state=free]").await, 1);

    // A walk-in at the other table.
    let other = table_of(&browser, ".walk-in input[name=tableIds]").await;
    assert_ne!(other, suggested);
    browser.click(&format!("#w-{other}")).await;
    browser.fill("Party size", "2").await;
    browser.fill("Name (optional)", "Wendy Walker").await;
    browser.click(".walk-in button[type=submit]").await;
    browser
        .wait_for_text(
            "#floor-notice",
            "Wendy Walker, party of 2, is seated at",
            DECIDED,
        )
        .await;
    let walked_in = format!("#table-{other}");
    browser.wait_for_text(&walked_in, "Seated", SHOWN).await;
    browser
        .wait_for_text(&walked_in, "Wendy Walker", SHOWN)
        .await;
    browser
        .wait_for_text(".walk-in", "No table is free now.", SHOWN)
        .await;
    browser.assert_accessible("floor").await;
    browser.screenshot("panel_floor").await;
    let walk_ins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservation WHERE restaurant_id = $1 AND status = 'seated'",
    )
    .bind(restaurant)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(walk_ins, 2);

    // A second booking of the type: both tables are taken now, said plainly, and no button.
    let alan = book_at_six(&harness, restaurant, window, "Alan Turing").await;
    browser
        .goto(&format!("{base}/admin/reservations/{alan}/seat?from=book"))
        .await;
    browser
        .wait_for_text(
            "#seat-full",
            "All 2 tables of Window 4 are taken now; the next is free at",
            SHOWN,
        )
        .await;
    assert_eq!(count(&browser, "main button[type=submit]").await, 0);
    browser.assert_accessible("seat page, all taken").await;
    browser.screenshot("panel_seat_all_taken").await;
    // Seating him at a taken table anyway (a page left open) is refused in words, with 409.
    let csrf = browser.attr("header input[name=csrf]", "value").await;
    let (status, page) = browser
        .post_form(
            &format!("/admin/reservations/{alan}/seat"),
            &format!("csrf={csrf}&from=book&tableIds={suggested}"),
        )
        .await;
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains(&format!("table {label} is taken by another party until")),
        "{page}"
    );
    // Choosing no table is a form to fix: 422.
    let (status, page) = browser
        .post_form(
            &format!("/admin/reservations/{alan}/seat"),
            &format!("csrf={csrf}&from=book"),
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("choose 1 table to seat the party at"),
        "{page}"
    );
    // A walk-in at a taken table: nothing is seated, said with 409.
    let (status, page) = browser
        .post_form(
            &format!("/admin/restaurants/{restaurant}/walk-ins"),
            &format!(
                "csrf={csrf}&reservationId={}&tableIds={other}&partySize=2",
                Uuid::new_v4()
            ),
        )
        .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("Nothing was seated"), "{page}");
    browser.close().await;

    // The floor on a phone.
    let (width, height) = common::browser::PHONE;
    let phone = Browser::start_sized(width, height).await;
    phone
        .sign_in(&base, "host@example.com", STAFF_PASSWORD)
        .await;
    phone.goto(&format!("{base}{floor}")).await;
    phone.wait_for_text(&walked_in, "Wendy Walker", SHOWN).await;
    phone.assert_accessible("floor on a phone").await;
    phone.screenshot("panel_floor_phone").await;
    phone.close().await;
    harness.finish().await;
}
