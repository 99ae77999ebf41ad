//! The whole way from nothing to a bookable restaurant, in a real browser (see tests/browser.rs):
//! a chain admin creates a restaurant open past midnight, gives it a table type and a month of
//! rates in the admin panel, and a diner then finds it, its tables, its prices and its hours on
//! the diners' website.

mod common;

use std::time::Duration;

use booking::staff::StaffRole;
use chrono::{Duration as Days, NaiveDate, Utc};
use common::browser::Browser;
use common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const SHOWN: Duration = Duration::from_secs(30);

/// The restaurant id in the browser's address (`/admin/restaurants/{id}…`).
async fn restaurant_in_url(browser: &Browser) -> Uuid {
    let url = browser.current_url().await;
    let rest = url.split("/admin/restaurants/").nth(1).unwrap();
    rest[..36].parse().unwrap()
}

/// The text of the diners' price calendar cell of `date` (its first line is "5 Mar").
async fn calendar_cell(browser: &Browser, date: NaiveDate) -> String {
    browser
        .client()
        .execute(
            "const cell = [...document.querySelectorAll('table.calendar td')]
               .find(td => td.querySelector('span')?.textContent.trim() === arguments[0]);
             return cell ? cell.textContent.replace(/\\s+/g, ' ').trim() : null;",
            vec![json!(date.format("%-d %b").to_string())],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_else(|| panic!("no calendar cell for {date}"))
        .to_owned()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_chain_admin_opens_a_restaurant_from_nothing_and_diners_see_its_prices(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    seed_staff(&harness.store, "chain@example.com", StaffRole::Admin).await;
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;
    browser.assert_accessible("restaurant list (empty)").await;

    // A restaurant open every evening until two in the morning.
    browser.goto(&format!("{base}/admin/restaurants/new")).await;
    browser.wait_for_text("h1", "New restaurant", SHOWN).await;
    browser.assert_accessible("new restaurant form").await;
    browser.fill("Name", "La Nuit Blanche").await;
    browser.fill("Address", "12 quai de la Fosse").await;
    browser.fill("City", "Nantes").await;
    browser.fill("Latitude", "47.2098").await;
    browser.fill("Longitude", "-1.5620").await;
    browser.fill("Time zone", "Europe/Paris").await;
    for day in [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ] {
        browser.fill(day, "18:00-02:00").await;
    }
    browser.screenshot("panel_journey_new_restaurant").await;
    browser.click("button[type=submit][data-busy-label]").await;
    browser
        .wait_for_text("[role=status]", "The restaurant was created.", SHOWN)
        .await;
    browser
        .wait_for_text("#opening-hours", "18:00–02:00", SHOWN)
        .await;
    browser.assert_accessible("restaurant overview").await;
    browser.screenshot("panel_journey_restaurant").await;
    let restaurant = restaurant_in_url(&browser).await;
    let created = harness.store.restaurant(restaurant).await.unwrap().unwrap();
    assert_eq!(
        (
            created.name.as_str(),
            created.city.as_str(),
            created.time_zone.as_str()
        ),
        ("La Nuit Blanche", "Nantes", "Europe/Paris")
    );
    assert_eq!(
        created.opening_hours.len(),
        7,
        "{:?}",
        created.opening_hours
    );
    assert!(created
        .opening_hours
        .iter()
        .all(|hours| hours.crosses_midnight()));

    // Its table types: none yet; six window tables added.
    browser.click("a[href$='/table-types']").await;
    browser
        .wait_for_text("h1", "Table types of La Nuit Blanche", SHOWN)
        .await;
    browser.assert_accessible("table types (empty)").await;
    browser.fill("Name", "Window").await;
    browser.fill("Fewest seats", "1").await;
    browser.fill("Most seats", "4").await;
    browser.fill("Base price per table", "40.00").await;
    browser.fill("Currency", "EUR").await;
    browser.fill("Number of tables", "6").await;
    browser
        .click("form[aria-labelledby=add-heading] button[type=submit]")
        .await;
    browser
        .wait_for_text("[role=status]", "The table type is added.", SHOWN)
        .await;
    browser.wait_for_text("table.list tbody", "T6", SHOWN).await;
    browser.assert_accessible("table type page").await;
    browser.screenshot("panel_journey_table_type").await;
    let types = harness.store.table_types(restaurant).await.unwrap();
    assert_eq!(types.len(), 1);
    let window = &types[0];
    assert_eq!(
        (
            window.name.as_str(),
            window.seats_min,
            window.seats_max,
            window.base_price_cents,
            window.tables
        ),
        ("Window", 1, 4, 4000, 6)
    );

    // 55.00 a table for the next thirty days (from tomorrow: a date that has begun in every
    // time zone is never refused as past).
    let today = Utc::now().date_naive();
    let first = today + Days::days(1);
    let last = today + Days::days(30);
    let evening = today + Days::days(10);
    browser.click("a[href$='/rates']").await;
    browser.wait_for_text("h1", "Rates of Window", SHOWN).await;
    browser.assert_accessible("rates calendar").await;
    browser.set_date("First date", first).await;
    browser.set_date("Last date", last).await;
    browser.fill("Price per table", "55.00").await;
    browser
        .click("form[aria-labelledby=set-heading] button[type=submit]")
        .await;
    browser
        .wait_for_text("[role=status]", "The price is set on 30 dates.", SHOWN)
        .await;
    browser
        .wait_for_text(
            &format!("td[data-date='{evening}'] .price"),
            "€55.00",
            SHOWN,
        )
        .await;
    browser.assert_accessible("rates calendar with rates").await;
    browser.screenshot("panel_journey_rates").await;
    let rates = harness
        .store
        .table_type_rates(
            restaurant,
            window.id,
            &booking::catalog_forms::DateRange::starting(today, 40),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rates.len(), 30);
    assert!(rates
        .iter()
        .all(|rate| rate.price_cents == 5500 && (first..=last).contains(&rate.date)));

    // A diner looks for a table in Nantes that evening at 19:00 for two.
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("h1", "Find a table", SHOWN).await;
    browser.fill("City", "Nantes").await;
    browser.set_date("Date", evening).await;
    browser.select_by_value("Time", "19:00").await;
    browser.select_by_value("Guests", "2").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser
        .wait_for_text("#results-heading", "Tables for 2 in Nantes", SHOWN)
        .await;
    browser
        .wait_for_text("ul.results h3", "La Nuit Blanche", SHOWN)
        .await;
    browser
        .wait_for_text("ul.results", "From €55.00 per table", SHOWN)
        .await;
    browser
        .wait_for_text("ul.results a[href*='time=19:00']", "€55.00", SHOWN)
        .await;
    browser.assert_accessible("search results").await;
    browser.screenshot("panel_journey_search").await;

    // Its page: six tables at 19:00 (10% overbooking of six sells six), and the hours.
    browser.click("ul.results h3 a").await;
    browser.wait_for_text("h1", "La Nuit Blanche", SHOWN).await;
    browser
        .wait_for_text("a[href*='time=19:00']", "€55.00", SHOWN)
        .await;
    browser
        .wait_for_text("a[href*='time=19:00']", "6 left", SHOWN)
        .await;
    browser.wait_for_text("main", "6 tables", SHOWN).await;
    let main = browser.find("main").await.text().await.unwrap();
    assert_eq!(
        main.matches("18:00–02:00").count(),
        7,
        "every day open 18:00–02:00: {main}"
    );
    assert!(!main.contains("Closed"), "{main}");
    browser.assert_accessible("diners' restaurant page").await;
    browser.screenshot("panel_journey_diners_page").await;

    // The table type's own page prices that evening at 55.00 too.
    browser
        .click(&format!("a[href$='/table-types/{}']", window.id))
        .await;
    browser.wait_for_text("h1", "Window", SHOWN).await;
    assert!(browser.current_url().await.ends_with(&format!(
        "/restaurants/{restaurant}/table-types/{}",
        window.id
    )));
    browser
        .wait_for_text("table.calendar", "€55.00", SHOWN)
        .await;
    let cell = calendar_cell(&browser, evening).await;
    assert!(cell.ends_with("€55.00"), "{evening}: {cell}");
    browser.assert_accessible("diners' table type page").await;
    browser.screenshot("panel_journey_diners_table_type").await;

    browser.close().await;
    harness.finish().await;
}
