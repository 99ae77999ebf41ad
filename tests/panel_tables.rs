//! The admin panel's table types, tables and rates in a real browser (see tests/browser.rs):
//! a table type created and priced for a month, as the diners then see it; two people saving
//! the same table type, the second refused rather than silently overwriting the first; a table
//! taken out of service and back, the availability following once the worker has run.

mod common;

use std::time::Duration;

use booking::staff::StaffRole;
use chrono::{Datelike, NaiveDate, Utc, Weekday};
use common::browser::Browser;
use common::*;
use sqlx::PgPool;
use uuid::Uuid;

const SHOWN: Duration = Duration::from_secs(30);
/// Long enough for a decision, a payment and an inventory sync on a busy CI machine.
const DECIDED: Duration = Duration::from_secs(60);

/// The first date after today that falls on `weekday`.
fn next(weekday: Weekday) -> NaiveDate {
    let mut date = Utc::now().date_naive() + chrono::Duration::days(1);
    while date.weekday() != weekday {
        date += chrono::Duration::days(1);
    }
    date
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_chain_admin_creates_a_table_type_and_prices_fridays_and_saturdays(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant_with(
        &harness.store,
        "Chez Panel",
        "Lyon",
        (45.76, 4.83),
        &[],
        |_| {},
    )
    .await;
    seed_staff(&harness.store, "chain@example.com", StaffRole::Admin).await;
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;

    browser
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/table-types"
        ))
        .await;
    browser
        .wait_for_text("h1", "Table types of Chez Panel", SHOWN)
        .await;
    browser.assert_accessible("table types (empty)").await;
    // A mistake first: the error is next to its field, and nothing is created.
    browser.fill("Name", "Window").await;
    browser.fill("Fewest seats", "2").await;
    browser.fill("Most seats", "4").await;
    browser.fill("Base price per table", "thirty").await;
    browser.fill("Currency", "EUR").await;
    browser.fill("Number of tables", "6").await;
    browser
        .click("form[aria-labelledby=add-heading] button[type=submit]")
        .await;
    browser
        .wait_for_text(
            "#new-basePrice-error",
            "The base price must be an amount",
            SHOWN,
        )
        .await;
    browser
        .assert_accessible("table type form with an error")
        .await;
    assert!(harness
        .store
        .table_types(restaurant)
        .await
        .unwrap()
        .is_empty());

    browser.fill("Base price per table", "30.00").await;
    browser
        .click("form[aria-labelledby=add-heading] button[type=submit]")
        .await;
    browser
        .wait_for_text("[role=status]", "The table type is added.", SHOWN)
        .await;
    browser.assert_accessible("table type page").await;
    let types = harness.store.table_types(restaurant).await.unwrap();
    assert_eq!(types.len(), 1);
    let window = &types[0];
    assert_eq!(
        (
            window.name.as_str(),
            window.seats_min,
            window.seats_max,
            window.base_price_cents,
            window.currency.as_str(),
            window.tables
        ),
        ("Window", 2, 4, 3000, "EUR", 6)
    );
    browser.wait_for_text("table.list tbody", "T6", SHOWN).await;

    // 45.00 on the Fridays and Saturdays of the next month.
    browser.click("a[href$='/rates']").await;
    browser.wait_for_text("h1", "Rates of Window", SHOWN).await;
    browser.assert_accessible("rates calendar").await;
    let today = Utc::now().date_naive();
    let last = today + chrono::Duration::days(30);
    browser.set_date("First date", today).await;
    browser.set_date("Last date", last).await;
    browser.fill("Price per table", "45.00").await;
    browser.click("#set-weekday-5").await;
    browser.click("#set-weekday-6").await;
    browser
        .click("form[aria-labelledby=set-heading] button[type=submit]")
        .await;
    let weekend_days = (0..=30)
        .map(|day| today + chrono::Duration::days(day))
        .filter(|date| matches!(date.weekday(), Weekday::Fri | Weekday::Sat))
        .count();
    browser
        .wait_for_text(
            "[role=status]",
            &format!("The price is set on {weekend_days} dates."),
            SHOWN,
        )
        .await;
    let friday = next(Weekday::Fri);
    let monday = next(Weekday::Mon);
    browser
        .wait_for_text(&format!("td[data-date='{friday}'] .price"), "€45.00", SHOWN)
        .await;
    browser
        .wait_for_text(
            &format!("td[data-date='{friday}'] .next"),
            "€45.00 at 19:00",
            SHOWN,
        )
        .await;
    browser
        .wait_for_text(&format!("td[data-date='{monday}'] .price"), "€30.00", SHOWN)
        .await;
    browser.assert_accessible("rates calendar with rates").await;
    browser.screenshot("panel_tables_rates").await;
    let rates = harness
        .store
        .table_type_rates(
            restaurant,
            window.id,
            &booking::catalog_forms::DateRange::starting(today, 31),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rates.len(), weekend_days);
    assert!(rates.iter().all(|rate| rate.price_cents == 4500
        && matches!(rate.date.weekday(), Weekday::Fri | Weekday::Sat)));

    // The diners see it.
    browser
        .goto(&format!(
            "{base}/restaurants/{restaurant}?date={friday}&partySize=2"
        ))
        .await;
    browser
        .wait_for_text("a[href*='time=19:00']", "€45.00", SHOWN)
        .await;
    browser.assert_accessible("diners' restaurant page").await;
    browser
        .goto(&format!(
            "{base}/restaurants/{restaurant}?date={monday}&partySize=2"
        ))
        .await;
    browser
        .wait_for_text("a[href*='time=19:00']", "€30.00", SHOWN)
        .await;

    // A phone shows the same calendar.
    browser.close().await;
    let phone = Browser::start_sized(390, 844).await;
    phone
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;
    phone
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/table-types/{}/rates",
            window.id
        ))
        .await;
    phone
        .wait_for_text(&format!("td[data-date='{friday}'] .price"), "€45.00", SHOWN)
        .await;
    phone.assert_accessible("rates calendar on a phone").await;
    phone.screenshot("panel_tables_rates_phone").await;
    phone.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_save_after_someone_elses_change_is_refused_not_applied(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, type_id) = seed_restaurant(&harness.store, 3).await;
    let (other, _) = seed_restaurant(&harness.store, 1).await;
    seed_staff(&harness.store, "ann@example.com", StaffRole::Admin).await;
    seed_staff(&harness.store, "bob@example.com", StaffRole::Admin).await;
    seed_staff(
        &harness.store,
        "elsewhere@example.com",
        StaffRole::Manager(vec![other]),
    )
    .await;
    let base = harness.serve_http().await;
    let edit = format!("{base}/admin/restaurants/{restaurant}/table-types/{type_id}");
    let ann = Browser::start_sized(1024, 768).await;
    let bob = Browser::start_sized(1024, 768).await;
    ann.sign_in(&base, "ann@example.com", STAFF_PASSWORD).await;
    bob.sign_in(&base, "bob@example.com", STAFF_PASSWORD).await;
    for browser in [&ann, &bob] {
        browser.goto(&edit).await;
        browser.wait_for_text("h1", "4-top", SHOWN).await;
    }
    ann.assert_accessible("table type edit form").await;

    ann.fill("Name", "Garden four").await;
    ann.click("form[aria-labelledby=edit-heading] button[type=submit]")
        .await;
    ann.wait_for_text("[role=status]", "Saved.", SHOWN).await;
    ann.wait_for_text("h1", "Garden four", SHOWN).await;

    // Bob's form was read before Ann's save.
    bob.fill("Base price per table", "99.00").await;
    bob.click("form[aria-labelledby=edit-heading] button[type=submit]")
        .await;
    bob.wait_for_text(
        "[role=alert]",
        "changed by someone else — reload to see their change",
        SHOWN,
    )
    .await;
    bob.assert_accessible("refused save").await;
    bob.screenshot("panel_tables_changed_elsewhere").await;
    // Saving again is refused again: the form still names the version Bob read.
    bob.click("form[aria-labelledby=edit-heading] button[type=submit]")
        .await;
    bob.wait_for_text("[role=alert]", "changed by someone else", SHOWN)
        .await;
    let stored = harness
        .store
        .table_type(restaurant, type_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "Garden four");
    assert_eq!(stored.base_price_cents, 2500, "Bob's price was not applied");
    assert_eq!(stored.version, 2);

    // Reloaded, Bob sees Ann's change and may make his own.
    bob.goto(&edit).await;
    bob.wait_for_text("h1", "Garden four", SHOWN).await;
    bob.fill("Base price per table", "99.00").await;
    bob.click("form[aria-labelledby=edit-heading] button[type=submit]")
        .await;
    bob.wait_for_text("[role=status]", "Saved.", SHOWN).await;
    let stored = harness
        .store
        .table_type(restaurant, type_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.base_price_cents),
        ("Garden four", 9900)
    );

    // Deleting asks first.
    bob.click("a[href$='/delete']").await;
    bob.wait_for_text("h1", "Delete Garden four?", SHOWN).await;
    bob.assert_accessible("delete confirmation").await;
    bob.click("form[action$='/delete'] button.danger").await;
    bob.wait_for_text("[role=status]", "The table type is deleted.", SHOWN)
        .await;
    assert!(harness
        .store
        .table_type(restaurant, type_id)
        .await
        .unwrap()
        .is_none());

    // Unknown ids are not found; another restaurant's manager may not open the page.
    bob.goto(&format!(
        "{base}/admin/restaurants/{restaurant}/table-types/{}",
        Uuid::new_v4()
    ))
    .await;
    bob.wait_for_text("main", "has no such table type", SHOWN)
        .await;
    bob.assert_accessible("unknown table type").await;
    ann.sign_in(&base, "elsewhere@example.com", STAFF_PASSWORD)
        .await;
    ann.goto(&edit).await;
    ann.wait_for_text("main", "You do not manage this restaurant.", SHOWN)
        .await;
    ann.goto(&format!("{edit}/rates")).await;
    ann.wait_for_text("main", "You do not manage this restaurant.", SHOWN)
        .await;
    ann.assert_accessible("another restaurant's table type")
        .await;
    ann.close().await;
    bob.close().await;
    harness.finish().await;
}

/// Tables left at 19:00 on `date` for the table type, per the JSON availability.
async fn left_at_seven(harness: &Harness, restaurant: Uuid, date: &str) -> i64 {
    let reply = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/availability?date={date}&partySize=2"
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let slots = reply.body["slots"].as_array().unwrap();
    let slot = slots
        .iter()
        .find(|slot| slot["time"] == "19:00")
        .unwrap_or_else(|| panic!("no 19:00 slot: {}", reply.body));
    slot["tableTypes"][0]["tablesLeft"].as_i64().unwrap()
}

async fn wait_left(harness: &Harness, restaurant: Uuid, date: &str, expected: i64) {
    let deadline = tokio::time::Instant::now() + DECIDED;
    loop {
        let left = left_at_seven(harness, restaurant, date).await;
        if left == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} tables left at 19:00 on {date}, not {expected}, after {DECIDED:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_table_out_of_service_and_back_moves_the_availability(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, type_id) = seed_restaurant(&harness.store, 6).await;
    seed_staff(
        &harness.store,
        "manager@example.com",
        StaffRole::Manager(vec![restaurant]),
    )
    .await;
    harness.start_worker();
    // A booking held at 19:00 next week (holds last ten minutes in the tests): that evening's slots have inventory rows, which
    // only the restaurant's queue changes.
    let body = booking_body(restaurant, type_id);
    let date = body["date"].as_str().unwrap().to_owned();
    let reply = harness.post_reservation(&body).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    harness.wait_status(id_of(&body), "held", DECIDED).await;
    // Six tables with 10% overbooking sell six; one is booked.
    assert_eq!(left_at_seven(&harness, restaurant, &date).await, 5);

    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "manager@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/table-types/{type_id}"
        ))
        .await;
    browser.wait_for_text("table.list tbody", "T1", SHOWN).await;
    browser.assert_accessible("tables").await;
    // A label already in use is refused next to its field; nothing changes.
    browser.fill("Label", "T3").await;
    browser
        .click("form[aria-labelledby=add-table-heading] button[type=submit]")
        .await;
    browser
        .wait_for_text("#table-label-error", "already has this label", SHOWN)
        .await;
    browser.assert_accessible("a refused table").await;
    let first_row = "table.list tbody tr:first-child";
    browser
        .click(&format!("{first_row} form[action$='/service'] button"))
        .await;
    browser
        .wait_for_text("[role=status]", "The table is out of service", SHOWN)
        .await;
    browser
        .wait_for_text(first_row, "Out of service", SHOWN)
        .await;
    browser.assert_accessible("a table out of service").await;
    browser.screenshot("panel_tables_out_of_service").await;
    let stored = harness
        .store
        .table_type(restaurant, type_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tables, 5);
    // Five tables sell five: four left once the worker has synced the inventory.
    wait_left(&harness, restaurant, &date, 4).await;
    browser
        .goto(&format!(
            "{base}/restaurants/{restaurant}?date={date}&partySize=2"
        ))
        .await;
    browser
        .wait_for_text("a[href*='time=19:00']", "4 left", SHOWN)
        .await;

    browser
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/table-types/{type_id}"
        ))
        .await;
    browser
        .click(&format!("{first_row} form[action$='/service'] button"))
        .await;
    browser
        .wait_for_text("[role=status]", "The table is back in service", SHOWN)
        .await;
    wait_left(&harness, restaurant, &date, 5).await;
    // The diners' page may be reused for five seconds: another address, as a fresh visit.
    browser
        .goto(&format!(
            "{base}/restaurants/{restaurant}?partySize=2&date={date}"
        ))
        .await;
    browser
        .wait_for_text("a[href*='time=19:00']", "5 left", SHOWN)
        .await;
    browser
        .assert_accessible("diners' page after the table came back")
        .await;

    // Removing a table lowers the inventory the same way.
    browser
        .goto(&format!(
            "{base}/admin/restaurants/{restaurant}/table-types/{type_id}"
        ))
        .await;
    browser
        .click(&format!("{first_row} form[action$='/delete'] button"))
        .await;
    browser
        .wait_for_text("[role=status]", "The table is removed.", SHOWN)
        .await;
    wait_left(&harness, restaurant, &date, 4).await;
    browser.close().await;
    harness.finish().await;
}
