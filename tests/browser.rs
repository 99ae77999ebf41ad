//! The diners' website in a real browser (Debian's headless Chromium through chromedriver),
//! against the whole application on real PostgreSQL and RabbitMQ, used as a person uses it:
//! links clicked, fields typed, buttons pressed, and the page read. Every page visited is
//! checked with axe-core, and each test saves a screenshot of its last page under
//! `target/screenshots/`.

mod common;

use std::time::Duration;

use common::browser::Browser;
use common::*;
use fantoccini::key::Key;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// Long enough for a decision and a payment on a busy CI machine.
const DECIDED: Duration = Duration::from_secs(60);

fn next_week_date() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(7)
}

fn next_week() -> String {
    next_week_date().to_string()
}

/// The restaurant page on next week's date for two.
fn restaurant_page(base: &str, restaurant: Uuid) -> String {
    format!(
        "{base}/restaurants/{restaurant}?date={}&partySize=2",
        next_week()
    )
}

/// Clicks the 19:00 time on the restaurant page.
async fn pick_seven_pm(browser: &Browser) {
    browser.click("a[href*='time=19:00']").await;
    browser.wait_for_text("h1", "Book a table", DECIDED).await;
}

async fn fill_guest(browser: &Browser, email: &str) {
    browser.fill("Name", "Ann Lee").await;
    browser.fill("Email", email).await;
    browser.fill("Phone (optional)", "+33 1 23 45 67 89").await;
}

async fn bookings_of(harness: &Harness, email: &str) -> Vec<(Uuid, String)> {
    sqlx::query_as("SELECT id, status FROM reservation WHERE guest_email = $1")
        .bind(email)
        .fetch_all(harness.store.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_diner_searches_books_watches_it_confirm_without_reloading_and_cancels(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let four_top = ("4-top", 1, 4, 2500, 4);
    seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "Paris",
        (48.85, 2.35),
        &[four_top],
        |_| {},
    )
    .await;
    let base = harness.serve_http().await;
    let browser = Browser::start().await;

    // From the front page: a city, next week, two guests, then the restaurant's own page.
    browser.goto(&format!("{base}/")).await;
    browser.fill("City", "Paris").await;
    browser.set_date("Date", next_week_date()).await;
    browser.click("form[role=search] button[type=submit]").await;
    browser
        .wait_for_text("#results-heading", "Tables for 2 in Paris", DECIDED)
        .await;
    browser.click("ul.results h3 a").await;
    browser.wait_for_text("h1", "Test Bistro", DECIDED).await;
    browser.assert_accessible("restaurant page").await;
    browser.screenshot("browser_restaurant").await;
    pick_seven_pm(&browser).await;
    browser.assert_accessible("booking form").await;
    fill_guest(&browser, "ann@example.com").await;
    browser.click("button[type=submit]").await;

    // No worker yet: the request waits in the queue, and the page says where.
    browser
        .wait_for_text("#status", "You are number 1 in the queue", DECIDED)
        .await;
    browser.assert_accessible("pending reservation").await;
    browser.screenshot("browser_pending").await;
    browser
        .client()
        .execute("window.stillTheSamePage = true", vec![])
        .await
        .unwrap();
    harness.start_worker();
    browser
        .wait_for_text("#status-word", "Confirmed", DECIDED)
        .await;
    browser
        .wait_for_text("#status", "You paid €25.00", DECIDED)
        .await;
    let same_page = browser
        .client()
        .execute("return window.stillTheSamePage === true", vec![])
        .await
        .unwrap();
    assert_eq!(
        same_page,
        json!(true),
        "the page updated itself, without a reload"
    );
    browser.assert_accessible("confirmed reservation").await;
    browser.screenshot("browser_confirmed").await;

    browser.click("a[href$='/cancel']").await;
    browser
        .wait_for_text(
            "#refund-policy",
            "Cancel now: full refund of €25.00",
            DECIDED,
        )
        .await;
    browser.assert_accessible("cancel confirmation").await;
    browser.click("button.danger").await;
    browser
        .wait_for_text("#status-word", "Cancelled and refunded", DECIDED)
        .await;
    browser
        .wait_for_text("#status", "We refunded €25.00", DECIDED)
        .await;
    browser.screenshot("browser_refunded").await;
    let booked = bookings_of(&harness, "ann@example.com").await;
    assert_eq!(booked.len(), 1);
    assert_eq!(booked[0].1, "refunded");
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_declined_card_says_so_and_frees_the_table(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    // One table: no overbooking is possible (10% of 1 rounds down).
    let (restaurant, _) = seed_restaurant(&harness.store, 1).await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let browser = Browser::start().await;

    browser.goto(&restaurant_page(&base, restaurant)).await;
    browser
        .wait_for_text("a[href*='time=19:00']", "1 left", DECIDED)
        .await;
    pick_seven_pm(&browser).await;
    fill_guest(&browser, "ann@example.com").await;
    browser.click("label[for='card-tok_chargeDeclined']").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#status-word", "Not booked", DECIDED)
        .await;
    browser
        .wait_for_text("#status", "Your card was declined", DECIDED)
        .await;
    browser.assert_accessible("declined reservation").await;
    browser.screenshot("browser_declined").await;

    // The table is free again for the next diner.
    browser.click("a.button[href*='#book-heading']").await;
    browser
        .wait_for_text("a[href*='time=19:00']", "1 left", DECIDED)
        .await;
    browser.screenshot("browser_declined_table_free").await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_double_submit_books_once(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let browser = Browser::start().await;

    browser.goto(&restaurant_page(&base, restaurant)).await;
    pick_seven_pm(&browser).await;
    fill_guest(&browser, "twice@example.com").await;
    // Two submissions of the same form, as an impatient double click sends them: one in the
    // background, one that navigates.
    browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const form = document.querySelector('form[data-once]');
             fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) })
               .then(() => { form.submit(); done(true); });",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for_text("#status-word", "Confirmed", DECIDED)
        .await;
    let booked = bookings_of(&harness, "twice@example.com").await;
    assert_eq!(booked.len(), 1, "{booked:?}");
    assert!(browser
        .current_url()
        .await
        .ends_with(&format!("/reservations/{}", booked[0].0)));
    browser.screenshot("browser_double_submit").await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_diner_books_with_the_keyboard_only(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1280, 900).await;

    browser.goto(&restaurant_page(&base, restaurant)).await;
    browser.wait_for_text("h1", "Test Bistro", DECIDED).await;
    tab_to(&browser, "a[href*='time=19:00']").await;
    browser.press(&Key::Enter.to_string()).await;
    browser.wait_for_text("h1", "Book a table", DECIDED).await;
    tab_to(&browser, "#name").await;
    browser.press("Kim Keys").await;
    browser.press(&Key::Tab.to_string()).await;
    browser.press("kim@example.com").await;
    tab_to(&browser, "button[type=submit]").await;
    browser.press(&Key::Enter.to_string()).await;
    browser
        .wait_for_text("#status-word", "Confirmed", DECIDED)
        .await;
    browser.screenshot("browser_keyboard_only").await;
    assert_eq!(bookings_of(&harness, "kim@example.com").await.len(), 1);
    browser.close().await;
    harness.finish().await;
}

/// Presses Tab until the element matching `css` has the focus (at most 200 times).
async fn tab_to(browser: &Browser, css: &str) {
    for _ in 0..200 {
        let there = browser
            .client()
            .execute(
                "return document.activeElement !== null && document.activeElement.matches(arguments[0])",
                vec![json!(css)],
            )
            .await
            .unwrap();
        if there == json!(true) {
            return;
        }
        browser.press(&Key::Tab.to_string()).await;
    }
    panic!("Tab never reached {css}");
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_flash_crowd_shows_each_diner_their_place_in_the_queue(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 40).await;
    let base = harness.serve_http().await;
    // 30 diners ahead, queued while no worker runs.
    for _ in 0..30 {
        let mut body = booking_body(restaurant, table_type);
        body["guest"]["email"] = json!(format!("{}@example.com", Uuid::new_v4().simple()));
        body["time"] = json!("19:00");
        let reply = harness.post_reservation(&body).await;
        assert_eq!(reply.status, axum::http::StatusCode::ACCEPTED);
    }
    let browser = Browser::start().await;
    browser.goto(&restaurant_page(&base, restaurant)).await;
    pick_seven_pm(&browser).await;
    fill_guest(&browser, "last@example.com").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#status", "You are number 31 in the queue", DECIDED)
        .await;
    browser.screenshot("browser_queue_place").await;
    harness.start_worker();
    browser
        .wait_for_text("#status-word", "Confirmed", DECIDED)
        .await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_table_type_page_and_a_missing_page_read_well(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let base = harness.serve_http().await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{base}/restaurants/{restaurant}"))
        .await;
    browser
        .click(&format!("a[href$='/table-types/{table_type}']"))
        .await;
    browser.wait_for_text("h1", "4-top", DECIDED).await;
    browser.wait_for_text("dl", "1 to 4 seats", DECIDED).await;
    browser
        .wait_for_text("table.calendar", "€25.00", DECIDED)
        .await;
    browser.assert_accessible("table-type page").await;
    browser.screenshot("browser_table_type").await;

    browser
        .goto(&format!("{base}/restaurants/{}", Uuid::new_v4()))
        .await;
    browser
        .wait_for_text("main", "We could not find that restaurant.", DECIDED)
        .await;
    browser.assert_accessible("not found page").await;
    browser.screenshot("browser_not_found").await;
    browser.close().await;
    harness.finish().await;
}

/// The page's result cards, their restaurant names in order.
async fn result_names(browser: &Browser) -> Vec<String> {
    let names = browser
        .client()
        .execute(
            "return [...document.querySelectorAll('ul.results h3')].map(h => h.textContent.trim())",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(names).unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn finding_a_table_lists_who_has_room_for_the_party_nearest_first(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let store = harness.store.clone();
    let four_top = ("4-top", 1, 4, 4000, 3);
    let two_top = ("2-top", 1, 2, 2000, 3);
    // Around the Louvre (48.8606, 2.3376): near, farther, too small for four, another city.
    let (near, _) = seed_restaurant_with(
        &store,
        "Chez Near",
        "Paris",
        (48.8610, 2.3400),
        &[four_top],
        |_| {},
    )
    .await;
    seed_restaurant_with(
        &store,
        "Bistro Far",
        "Paris",
        (48.8800, 2.3700),
        &[four_top],
        |_| {},
    )
    .await;
    seed_restaurant_with(
        &store,
        "Tiny Table",
        "Paris",
        (48.8607, 2.3380),
        &[two_top],
        |_| {},
    )
    .await;
    seed_restaurant_with(
        &store,
        "Lyon Bouchon",
        "Lyon",
        (45.7640, 4.8357),
        &[four_top],
        |_| {},
    )
    .await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let browser = Browser::start().await;

    // By city, typed as a person types it.
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("h1", "Find a table", DECIDED).await;
    // The cities with the most restaurants first, as shortcuts.
    browser.wait_for_text("nav.cities", "Paris", DECIDED).await;
    let shortcuts = browser
        .client()
        .execute(
            "return [...document.querySelectorAll('nav.cities a')].map(a => a.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shortcuts, json!(["Paris", "Lyon"]));
    browser.assert_accessible("find a table").await;
    browser.screenshot("browser_find_a_table").await;
    browser.fill("City", "paris").await;
    browser.set_date("Date", next_week_date()).await;
    browser.select_by_value("Time", "19:00").await;
    browser.select_by_value("Guests", "4").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser
        .wait_for_text("#results-heading", "Tables for 4 in Paris", DECIDED)
        .await;
    browser
        .wait_for_text(
            "#results-heading",
            &api::web::format::long_date(next_week_date()),
            DECIDED,
        )
        .await;
    assert_eq!(result_names(&browser).await, ["Bistro Far", "Chez Near"]);
    browser.assert_accessible("search results").await;
    browser.screenshot("browser_find_by_city").await;

    // Near me: the browser says where it is (here the Louvre), and the nearest comes first.
    browser
        .client()
        .execute(
            "navigator.geolocation.getCurrentPosition = (found) =>
               found({ coords: { latitude: 48.8606, longitude: 2.3376 } });",
            vec![],
        )
        .await
        .unwrap();
    browser.click("#near-me").await;
    browser
        .wait_for_text("#results-heading", "Tables for 4 near you", DECIDED)
        .await;
    assert_eq!(result_names(&browser).await, ["Chez Near", "Bistro Far"]);
    browser.wait_for_text("ul.results", "m away", DECIDED).await;
    browser.screenshot("browser_find_near_me").await;

    // A time opens the booking form for that restaurant, time and party.
    browser
        .click(&format!(
            "a[href^='/restaurants/{near}/book'][href*='time=19:00']"
        ))
        .await;
    browser.wait_for_text("h1", "Book a table", DECIDED).await;
    browser.wait_for_text("main", "Chez Near", DECIDED).await;
    let party = browser.control("Guests").await.prop("value").await.unwrap();
    assert_eq!(party.as_deref(), Some("4"));

    // A search nobody can answer says so, and a bad one names its field.
    browser
        .goto(&format!(
            "{base}/?city=Atlantis&date={}&time=19:00&partySize=4",
            next_week()
        ))
        .await;
    browser
        .wait_for_text(
            "main",
            "No restaurant in Atlantis has a table for 4",
            DECIDED,
        )
        .await;
    browser
        .goto(&format!(
            "{base}/?city=Paris&date=2020-01-01&time=19:00&partySize=4"
        ))
        .await;
    browser
        .wait_for_text("#date-error", "The date", DECIDED)
        .await;
    browser.assert_accessible("search with an error").await;
    browser.screenshot("browser_find_error").await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_diner_changes_the_time_and_table_sees_the_price_and_pays_the_difference(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let four_top = ("4-top", 1, 4, 2500, 4);
    let six_top = ("6-top", 1, 6, 4000, 2);
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "Paris",
        (48.85, 2.35),
        &[four_top, six_top],
        |_| {},
    )
    .await;
    harness.start_worker();
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(412, 915).await;

    browser.goto(&restaurant_page(&base, restaurant)).await;
    browser
        .click(&format!(
            "a[href*='time=19:00'][href*='tableType={}']",
            types[0]
        ))
        .await;
    browser.wait_for_text("h1", "Book a table", DECIDED).await;
    fill_guest(&browser, "ann@example.com").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#status", "You paid €25.00", DECIDED)
        .await;

    // The change page offers the times still free, each with its price and the difference.
    browser.click("#change-booking").await;
    browser
        .wait_for_text("h1", "Change your booking", DECIDED)
        .await;
    browser
        .wait_for_text(
            &format!("#change-choice option[value='20:00|{}']", types[1]),
            "20:00 · 6-top · €40.00 (€15.00 more)",
            DECIDED,
        )
        .await;
    browser.assert_accessible("change page").await;
    browser.screenshot("browser_change").await;
    browser
        .select_by_value(
            &format!(
                "New time and table on {} for 2 guests",
                next_week_date().format("%A %-d %B %Y")
            ),
            &format!("20:00|{}", types[1]),
        )
        .await;
    browser.click("form[method=post] button[type=submit]").await;

    // The difference is charged, then the booking changes, and its page says so by itself.
    browser
        .wait_for_text("#change-notice", "Your booking was changed to", DECIDED)
        .await;
    browser
        .wait_for_text("#status", "You paid €40.00", DECIDED)
        .await;
    browser.assert_accessible("changed reservation").await;
    browser.screenshot("browser_changed").await;
    let (time, table_type): (String, Uuid) = sqlx::query_as(
        "SELECT to_char(start_time, 'HH24:MI'), table_type_id FROM reservation
         WHERE guest_email = 'ann@example.com'",
    )
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!((time.as_str(), table_type), ("20:00", types[1]));
    let charged: Vec<i64> = sqlx::query_scalar(
        "SELECT amount_cents FROM payment WHERE kind = 'charge' AND status = 'captured'
         ORDER BY created_at",
    )
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(charged, vec![2500, 1500]);
    browser.close().await;
    harness.finish().await;
}
