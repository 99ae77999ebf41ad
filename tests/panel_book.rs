//! The admin panel's day's book in a real browser (see tests/browser.rs): a host opens today's
//! book at five in the evening, marks the lunch guests completed or a no-show, cancels one with
//! a full refund, watches a new booking appear by itself, and each diner's page says what
//! happened.

mod common;

use std::time::Duration;

use booking::staff::StaffRole;
use chrono::{NaiveDate, Utc};
use common::browser::Browser;
use common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// Long enough for a decision, a payment or a refund on a busy machine.
const DECIDED: Duration = Duration::from_secs(60);
const SHOWN: Duration = Duration::from_secs(30);

/// A paid booking for `date` at `time`; returns its id and receipt token.
async fn book(
    harness: &Harness,
    restaurant: Uuid,
    table_type: Uuid,
    date: NaiveDate,
    time: &str,
    name: &str,
) -> (Uuid, String) {
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    let mut body = booking_body(restaurant, table_type);
    body["date"] = json!(date.to_string());
    body["time"] = json!(time);
    body["guest"] = json!({ "name": name, "email": email, "phone": "+33 1 23 45 67 89" });
    body["paymentToken"] = json!("tok_visa");
    let reply = harness.post_reservation(&body).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    let token = reply.body["accessToken"].as_str().unwrap().to_owned();
    (id_of(&reply.body), token)
}

/// Clicks `css` inside the book, whose live region the page's script replaces every second or
/// so: a click that lands on a copy just replaced is made again on the fresh one.
async fn click_in_book(browser: &Browser, css: &str) {
    for _ in 0..20 {
        let element = browser.find(css).await;
        let clicked = async {
            browser
                .client()
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'})",
                    vec![serde_json::to_value(&element).unwrap()],
                )
                .await?;
            element.click().await
        }
        .await;
        if clicked.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} could not be clicked");
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_host_runs_the_evening_from_the_book(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let zone = five_pm_zone();
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "Paris",
        (48.85, 2.35),
        &[("4-top", 1, 4, 2500, 4)],
        |r| r.time_zone = zone.clone(),
    )
    .await;
    let table_type = types[0];
    let (other, _) = seed_restaurant(&harness.store, 2).await;
    seed_staff(
        &harness.store,
        "host@example.com",
        StaffRole::Manager(vec![restaurant]),
    )
    .await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let today = harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .today(Utc::now());

    // Three lunch bookings, made next week through the normal path, then moved (with the
    // tables they hold) to today at lunch: bookings that have started.
    let next_week = today + chrono::Duration::days(7);
    let mut lunch = Vec::new();
    for (time, name) in [
        ("12:00", "Grace Hopper"),
        ("12:30", "Alan Turing"),
        ("13:00", "Edsger Dijkstra"),
    ] {
        lunch.push(book(&harness, restaurant, table_type, next_week, time, name).await);
    }
    for (id, _) in &lunch {
        harness.wait_status(*id, "confirmed", DECIDED).await;
    }
    sqlx::query(
        "UPDATE inventory SET slot_start = slot_start - interval '7 days'
         WHERE table_type_id = $1",
    )
    .bind(table_type)
    .execute(harness.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "UPDATE reservation SET service_date = service_date - 7,
             reserved_slots = (SELECT array_agg(s - interval '7 days') FROM unnest(reserved_slots) s)
         WHERE restaurant_id = $1",
    )
    .bind(restaurant)
    .execute(harness.store.pool())
    .await
    .unwrap();
    let [(completed, completed_token), (no_show, no_show_token), (cancelled, cancelled_token)] =
        <[(Uuid, String); 3]>::try_from(lunch).unwrap();

    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "host@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}/book"))
        .await;
    for name in ["Grace Hopper", "Alan Turing", "Edsger Dijkstra"] {
        browser.wait_for_text("#book", name, SHOWN).await;
    }
    browser
        .wait_for_text("h1", &chrono_long_date(today), SHOWN)
        .await;
    // Each lunch slot holds one table of the four (plus 10% overbooking, rounded down: 4).
    browser.wait_for_text(".occupancy", "1 / 4", SHOWN).await;
    browser.assert_accessible("day's book").await;
    browser.screenshot("panel_book_day").await;

    // Grace came and went.
    click_in_book(
        &browser,
        &format!("#r-{completed} form[action$='/complete'] button"),
    )
    .await;
    browser
        .wait_for_text(&format!("#r-{completed} .badge"), "Completed", SHOWN)
        .await;
    // Alan never came: his table was booked for 12:30, long past.
    click_in_book(
        &browser,
        &format!("#r-{no_show} form[action$='/no-show'] button"),
    )
    .await;
    browser
        .wait_for_text(&format!("#r-{no_show} .badge"), "A no-show", SHOWN)
        .await;
    // Edsger's booking is cancelled by the restaurant: a full refund, after a confirmation.
    click_in_book(&browser, &format!("#r-{cancelled} a.button.danger")).await;
    browser
        .wait_for_text("#refund-note", "refunded in full", SHOWN)
        .await;
    browser.assert_accessible("cancel confirmation").await;
    browser.screenshot("panel_book_cancel").await;
    browser.click("form[data-once] button.danger").await;
    // Back on the book, which follows the cancellation and the refund by itself.
    browser
        .wait_for_text(
            &format!("#r-{cancelled} .badge"),
            "Cancelled and refunded",
            DECIDED,
        )
        .await;
    browser
        .wait_for_text(&format!("#r-{completed} .badge"), "Completed", SHOWN)
        .await;
    browser
        .wait_for_text(&format!("#r-{no_show} .badge"), "A no-show", SHOWN)
        .await;
    browser
        .assert_accessible("day's book after the lunch")
        .await;

    // A booking decided while the book is open appears without a reload.
    browser
        .client()
        .execute("window.stillTheSamePage = true;", vec![])
        .await
        .unwrap();
    let (evening, _) = book(
        &harness,
        restaurant,
        table_type,
        today,
        "19:00",
        "Barbara Liskov",
    )
    .await;
    browser
        .wait_for_text(&format!("#r-{evening}"), "Barbara Liskov", DECIDED)
        .await;
    browser
        .wait_for_text(&format!("#r-{evening} .badge"), "Confirmed", DECIDED)
        .await;
    let same_page = browser
        .client()
        .execute("return window.stillTheSamePage === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "the page was reloaded");
    browser.wait_for_text(".occupancy", "19:00", SHOWN).await;
    // Her booking has not started: the book offers no "No-show", and the domain refuses one.
    let row = browser.find(&format!("#r-{evening}")).await;
    assert!(!row.html(false).await.unwrap().contains("/no-show"));
    browser
        .assert_accessible("day's book with a new booking")
        .await;
    browser.screenshot("panel_book_live").await;
    let csrf = browser
        .attr(&format!("#r-{evening} input[name=csrf]"), "value")
        .await;
    let (status, page) = browser
        .post_form(
            &format!("/admin/reservations/{evening}/no-show"),
            // The token is base64url: nothing in it needs escaping.
            &format!("csrf={csrf}&from=book"),
        )
        .await;
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains(
            "Not yet: a no-show can only be marked once the booking has started, at 19:00"
        ),
        "{page}"
    );
    assert_eq!(harness_status(&harness, evening).await, "confirmed");

    // The cancelled booking's detail: its history, its charge and its refund.
    browser
        .goto(&format!("{base}/admin/reservations/{cancelled}"))
        .await;
    browser
        .wait_for_text(
            "#history-heading + .table-scroll",
            "canceled_by_restaurant",
            SHOWN,
        )
        .await;
    browser
        .wait_for_text(
            "#history-heading + .table-scroll",
            "host@example.com",
            SHOWN,
        )
        .await;
    browser
        .wait_for_text("#payments-heading ~ .table-scroll", "Refund", SHOWN)
        .await;
    browser
        .wait_for_text("#payments-heading ~ .table-scroll", "Captured", SHOWN)
        .await;
    browser.assert_accessible("reservation detail").await;
    browser.screenshot("panel_book_detail").await;

    // Another restaurant's book is not this host's; an unknown reservation is not found.
    browser
        .goto(&format!("{base}/admin/restaurants/{other}/book"))
        .await;
    browser
        .wait_for_text("main", "You do not manage this restaurant.", SHOWN)
        .await;
    browser.assert_accessible("someone else's book").await;
    browser
        .goto(&format!("{base}/admin/reservations/{}", Uuid::new_v4()))
        .await;
    browser
        .wait_for_text("main", "There is no reservation with this address.", SHOWN)
        .await;
    browser.assert_accessible("unknown reservation").await;

    // Each diner's page says what happened.
    for (id, token, word, detail) in [
        (
            completed,
            &completed_token,
            "Thank you for coming",
            "Completed",
        ),
        (
            no_show,
            &no_show_token,
            "Marked as not attended",
            "a no-show",
        ),
        (
            cancelled,
            &cancelled_token,
            "Cancelled and refunded",
            "Refunded",
        ),
    ] {
        browser
            .goto(&format!("{base}/reservations/{id}?token={token}"))
            .await;
        browser.wait_for_text("#status-word", word, SHOWN).await;
        browser.wait_for_text("#status", detail, SHOWN).await;
        browser.assert_accessible("diner's reservation page").await;
    }
    browser.screenshot("panel_book_diner_refunded").await;
    browser.close().await;
    harness.finish().await;
}

fn chrono_long_date(date: NaiveDate) -> String {
    date.format("%A %-d %B %Y").to_string()
}

async fn harness_status(harness: &Harness, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM reservation WHERE id = $1")
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_book_reads_on_a_phone(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "Paris",
        (48.85, 2.35),
        &[("2-top", 1, 2, 1800, 3), ("Window 4-top", 2, 4, 3200, 2)],
        |r| r.time_zone = five_pm_zone(),
    )
    .await;
    seed_staff(&harness.store, "boss@example.com", StaffRole::Admin).await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let tomorrow = harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .today(Utc::now())
        + chrono::Duration::days(1);
    let (id, _) = book(
        &harness,
        restaurant,
        types[1],
        tomorrow,
        "20:00",
        "Margaret Hamilton",
    )
    .await;
    harness.wait_status(id, "confirmed", DECIDED).await;

    let (width, height) = common::browser::PHONE;
    let browser = Browser::start_sized(width, height).await;
    browser
        .sign_in(&base, "boss@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}/book"))
        .await;
    browser
        .wait_for_text("#book", "No reservations on this date.", SHOWN)
        .await;
    // The date picker goes to tomorrow, where the booking is: not started, so no "No-show".
    browser
        .fill("Date", &tomorrow.format("%m%d%Y").to_string())
        .await;
    browser.click("form.book-date button[type=submit]").await;
    browser
        .wait_for_text(&format!("#r-{id}"), "Margaret Hamilton", SHOWN)
        .await;
    browser
        .wait_for_text(&format!("#r-{id}"), "Window 4-top", SHOWN)
        .await;
    browser
        .wait_for_text(
            &format!("#r-{id}"),
            "A no-show can be marked once the booking has started, at 20:00",
            SHOWN,
        )
        .await;
    browser.wait_for_text(".occupancy", "20:00", SHOWN).await;
    browser.assert_accessible("day's book on a phone").await;
    browser.screenshot("panel_book_phone").await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_diners_requests_and_the_hosts_note_show_in_the_book(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "Paris",
        (48.85, 2.35),
        &[("4-top", 1, 4, 2500, 4)],
        |r| r.time_zone = five_pm_zone(),
    )
    .await;
    seed_staff(&harness.store, "boss@example.com", StaffRole::Admin).await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let tomorrow = harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .today(Utc::now())
        + chrono::Duration::days(1);

    // The diner books on the website, ticking a birthday and writing a request.
    let (width, height) = common::browser::PHONE;
    let browser = Browser::start_sized(width, height).await;
    browser
        .goto(&format!(
            "{base}/restaurants/{restaurant}/book?tableType={}&date={tomorrow}&time=20:00&partySize=2",
            types[0]
        ))
        .await;
    browser.wait_for_text("h1", "Book a table", SHOWN).await;
    browser.fill("Name", "Katherine Johnson").await;
    browser.fill("Email", "katherine@example.com").await;
    browser.click("#tag-birthday").await;
    browser
        .fill("Special requests", "A quiet corner, please")
        .await;
    browser
        .assert_accessible("booking form with requests")
        .await;
    browser.click("form[method=post] button[type=submit]").await;
    browser
        .wait_for_text("#status-word", "Confirmed", DECIDED)
        .await;
    browser
        .wait_for_text("#special-requests", "A quiet corner, please", SHOWN)
        .await;
    browser.wait_for_text("#tags", "Birthday", SHOWN).await;
    let url = browser.current_url().await;
    let id: Uuid = url
        .rsplit('/')
        .next()
        .and_then(|last| last.split('?').next())
        .unwrap()
        .parse()
        .unwrap();

    // The host keeps a note about her on the booking's page; the book shows all three.
    browser
        .sign_in(&base, "boss@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/reservations/{id}"))
        .await;
    browser
        .wait_for_text("h1", "Reservation of Katherine Johnson", SHOWN)
        .await;
    browser.fill("Note", "Prefers the window").await;
    browser
        .click("form[action$='/guest-notes'] button[type=submit]")
        .await;
    browser
        .wait_for_text(".guest-notes", "Prefers the window", SHOWN)
        .await;
    browser
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/book?date={tomorrow}"
        ))
        .await;
    let card = format!("#r-{id}");
    for text in ["Birthday", "A quiet corner, please", "Prefers the window"] {
        browser.wait_for_text(&card, text, SHOWN).await;
    }
    browser
        .assert_accessible("book with requests and notes")
        .await;
    browser.screenshot("panel_book_requests_and_notes").await;
    let stored: (Vec<String>, String) =
        sqlx::query_as("SELECT tags, special_requests FROM reservation WHERE id = $1")
            .bind(id)
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(
        stored,
        (
            vec!["birthday".to_owned()],
            "A quiet corner, please".to_owned()
        )
    );
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_host_changes_a_booking_from_the_book_and_a_full_slot_leaves_it_as_it_was(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "Paris",
        (48.85, 2.35),
        &[("4-top", 1, 4, 2500, 1)],
        |r| r.time_zone = five_pm_zone(),
    )
    .await;
    seed_staff(&harness.store, "boss@example.com", StaffRole::Admin).await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let tomorrow = harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .today(Utc::now())
        + chrono::Duration::days(1);
    let (moved, _) = book(
        &harness,
        restaurant,
        types[0],
        tomorrow,
        "19:00",
        "Grace Hopper",
    )
    .await;
    let (other, _) = book(
        &harness,
        restaurant,
        types[0],
        tomorrow,
        "21:00",
        "Ada Lovelace",
    )
    .await;
    for id in [moved, other] {
        harness.wait_status(id, "confirmed", DECIDED).await;
    }

    let (width, height) = common::browser::PHONE;
    let browser = Browser::start_sized(width, height).await;
    browser
        .sign_in(&base, "boss@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/book?date={tomorrow}"
        ))
        .await;
    click_in_book(
        &browser,
        &format!("a[href='/admin/reservations/{moved}#change-heading']"),
    )
    .await;
    browser
        .wait_for_text("#change-heading", "Change this booking", SHOWN)
        .await;

    let page = format!("{base}/admin/reservations/{moved}");
    // 21:00 is taken (one table): the change is refused and the booking stays at 19:00.
    set_time(&browser, "21:00").await;
    browser
        .click("form[action$='/change'] button[type=submit]")
        .await;
    reload_until(&browser, &page, "#changes", "rejected: no availability").await;
    // 19:30 for three, whose 90 minutes end as the 21:00 booking starts, is free.
    set_time(&browser, "19:30").await;
    browser.fill("Guests", "3").await;
    browser
        .click("form[action$='/change'] button[type=submit]")
        .await;
    reload_until(&browser, &page, "#changes tbody tr:first-child", "applied").await;
    browser
        .assert_accessible("changed booking in the panel")
        .await;
    browser.screenshot("panel_change").await;
    let (time, party): (String, i32) = sqlx::query_as(
        "SELECT to_char(start_time, 'HH24:MI'), party_size FROM reservation WHERE id = $1",
    )
    .bind(moved)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!((time.as_str(), party), ("19:30", 3));
    browser.close().await;
    harness.finish().await;
}

/// Sets the change form's time input (typing into a time field depends on the locale).
async fn set_time(browser: &Browser, time: &str) {
    browser
        .client()
        .execute(
            "document.getElementById('change-time').value = arguments[0]",
            vec![json!(time)],
        )
        .await
        .unwrap();
}

/// Reloads `url` until `css` holds `text`: the reservation's page in the panel is not live.
async fn reload_until(browser: &Browser, url: &str, css: &str, text: &str) {
    let deadline = tokio::time::Instant::now() + DECIDED;
    loop {
        browser.goto(url).await;
        let shown = browser
            .client()
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
                vec![json!(css)],
            )
            .await
            .unwrap();
        if shown.as_str().is_some_and(|shown| shown.contains(text)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} never said {text:?}: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
