//! The admin panel's restaurant pages in a real browser (see tests/browser.rs): a chain admin
//! creates, finds and edits a restaurant whose hours run past midnight, and an edit after
//! someone else's is refused; a manager opens only their own restaurant, and forms need their
//! CSRF token; deleting a booked restaurant warns, then cancels and refunds by force; webhook
//! endpoints are registered (the secret shown once) and removed.

mod common;

use std::time::Duration;

use booking::staff::StaffRole;
use common::browser::Browser;
use common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const SHOWN: Duration = Duration::from_secs(30);
/// Long enough for a decision, a payment and a refund on a busy machine.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// `fetch` from the page: the status of a request with the browser's cookies.
async fn fetch_status(browser: &Browser, method: &str, path: &str, form: &str) -> u64 {
    browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const init = { method: arguments[0], redirect: 'manual' };
             if (arguments[0] !== 'GET') {
               init.headers = { 'content-type': 'application/x-www-form-urlencoded' };
               init.body = arguments[2];
             }
             fetch(arguments[1], init).then(r => done(r.status));",
            vec![json!(method), json!(path), json!(form)],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

/// The page's whole HTML.
async fn source(browser: &Browser) -> String {
    browser.client().source().await.unwrap()
}

/// The value of the form control matching `css`.
async fn value_of(browser: &Browser, css: &str) -> String {
    browser
        .find(css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The restaurant id in the browser's address (`/admin/restaurants/{id}…`).
async fn restaurant_in_url(browser: &Browser) -> Uuid {
    let url = browser.current_url().await;
    let rest = url.split("/admin/restaurants/").nth(1).unwrap();
    rest[..36].parse().unwrap()
}

/// A form body: every field of the edit form on the page as it is, then `changes`.
async fn edit_form_body(browser: &Browser, changes: &[(&str, &str)]) -> String {
    form_body(browser, "form[action$='/edit']", changes).await
}

/// A form body: every field of the form matching `css` as it is, then `changes`.
async fn form_body(browser: &Browser, css: &str, changes: &[(&str, &str)]) -> String {
    let changes: serde_json::Map<String, serde_json::Value> = changes
        .iter()
        .map(|(name, value)| ((*name).to_owned(), json!(value)))
        .collect();
    browser
        .client()
        .execute(
            "const form = new FormData(document.querySelector(arguments[1]));
             for (const [name, value] of Object.entries(arguments[0])) form.set(name, value);
             return new URLSearchParams(form).toString();",
            vec![serde_json::Value::Object(changes), json!(css)],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

async fn name_of(harness: &Harness, id: Uuid) -> String {
    harness.store.restaurant(id).await.unwrap().unwrap().name
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_chain_admin_creates_finds_and_edits_a_restaurant_open_past_midnight(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    seed_restaurant_with(
        &harness.store,
        "Le Zinc",
        "Lyon",
        (45.76, 4.83),
        &[],
        |_| {},
    )
    .await;
    // More than a page of them.
    for n in 1..=21 {
        let name = format!("Bistro {n:02}");
        seed_restaurant_with(&harness.store, &name, "Lille", (50.63, 3.06), &[], |_| {}).await;
    }
    seed_staff(&harness.store, "chain@example.com", StaffRole::Admin).await;
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;
    browser
        .wait_for_text("#restaurants", "Bistro 20", SHOWN)
        .await;
    let first_page = browser.find("#restaurants").await.text().await.unwrap();
    assert!(!first_page.contains("Bistro 21"), "{first_page}");
    assert!(!first_page.contains("Le Zinc"), "{first_page}");
    browser.assert_accessible("restaurant list").await;
    browser
        .click("nav[aria-label=Pages] a[href='/admin?page=2']")
        .await;
    browser
        .wait_for_text("#restaurants", "Le Zinc", SHOWN)
        .await;
    browser
        .wait_for_text("#restaurants", "Bistro 21", SHOWN)
        .await;
    browser.screenshot("panel_restaurants_list_page_2").await;

    browser.click("a[href='/admin/restaurants/new']").await;
    browser.wait_for_text("h1", "New restaurant", SHOWN).await;
    browser.assert_accessible("new restaurant form").await;
    browser.fill("Name", "Chez Minuit").await;
    browser.fill("Address", "3 place de la Bastille").await;
    browser.fill("City", "Paris").await;
    browser.fill("Latitude", "48.8532").await;
    browser.fill("Longitude", "2.3691").await;
    browser.fill("Time zone", "Europe/Paris").await;
    browser.fill("Thursday", "12:00-14:30, 19:00-23:00").await;
    browser.fill("Friday", "18:00-02:00").await;
    // A typing slip: refused next to Saturday, and nothing typed is lost.
    browser.fill("Saturday", "25:00-03:00").await;
    browser.fill("Overbooking (%)", "5").await;
    browser.click("button[type=submit][data-busy-label]").await;
    browser
        .wait_for_text("#hours6-error", "opening time must be HH:MM", SHOWN)
        .await;
    assert_eq!(value_of(&browser, "#name").await, "Chez Minuit");
    assert_eq!(value_of(&browser, "#hours5").await, "18:00-02:00");
    assert_eq!(value_of(&browser, "#overbookingPct").await, "5");
    browser
        .assert_accessible("refused new restaurant form")
        .await;
    browser.screenshot("panel_restaurants_refused").await;
    let refused = form_body(&browser, "form[action='/admin/restaurants/new']", &[]).await;
    assert_eq!(
        fetch_status(&browser, "POST", "/admin/restaurants/new", &refused).await,
        422
    );
    assert_eq!(
        harness.store.restaurants(None, 100).await.unwrap().len(),
        22,
        "nothing was created"
    );

    browser.fill("Saturday", "18:00-03:00").await;
    browser.click("button[type=submit][data-busy-label]").await;
    browser
        .wait_for_text("[role=status]", "The restaurant was created.", SHOWN)
        .await;
    browser
        .wait_for_text("#opening-hours", "18:00–02:00", SHOWN)
        .await;
    browser.assert_accessible("restaurant overview").await;
    browser.screenshot("panel_restaurants_created").await;
    let id = restaurant_in_url(&browser).await;
    let created = harness.store.restaurant(id).await.unwrap().unwrap();
    assert_eq!(created.time_zone, "Europe/Paris");
    assert_eq!(created.overbooking_pct, 5);
    assert!(created
        .opening_hours
        .iter()
        .any(|hours| hours.weekday == 5 && hours.crosses_midnight()));

    // In the list, and found by city and by name, whatever the case.
    browser.click("main a[href='/admin']").await;
    browser
        .wait_for_text("#restaurants", "Bistro 01", SHOWN)
        .await;
    browser
        .click("nav[aria-label=Pages] a[href='/admin?page=2']")
        .await;
    browser
        .wait_for_text("#restaurants", "Chez Minuit", SHOWN)
        .await;
    browser.fill("Search by name or city", "PARIS").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser
        .wait_for_text("[role=status]", "contains “PARIS”", SHOWN)
        .await;
    let found = browser.find("#restaurants").await.text().await.unwrap();
    assert!(found.contains("Chez Minuit"), "{found}");
    assert!(!found.contains("Le Zinc"), "{found}");
    browser.assert_accessible("search results").await;
    browser.screenshot("panel_restaurants_search").await;
    browser.fill("Search by name or city", "zin").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser
        .wait_for_text("#restaurants", "Le Zinc", SHOWN)
        .await;
    browser.fill("Search by name or city", "nowhere").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser
        .wait_for_text(
            "[role=status]",
            "No restaurant's name or city contains",
            SHOWN,
        )
        .await;

    // An unknown restaurant is a 404 page.
    browser
        .goto(&format!("{base}/admin/restaurants/{}", Uuid::new_v4()))
        .await;
    browser.wait_for_text("h1", "Not found", SHOWN).await;
    browser.assert_accessible("unknown restaurant").await;
    assert_eq!(
        fetch_status(
            &browser,
            "GET",
            &format!("/admin/restaurants/{}", Uuid::new_v4()),
            ""
        )
        .await,
        404
    );

    // Someone else saves while the form is open: the save is refused, not applied over theirs.
    browser
        .goto(&format!("{base}/admin/restaurants/{id}/edit"))
        .await;
    browser.wait_for_text("h1", "Edit Chez Minuit", SHOWN).await;
    browser.assert_accessible("edit form").await;
    sqlx::query(
        "UPDATE restaurant SET refund_window_hours = 48, version = version + 1 WHERE id = $1",
    )
    .bind(id)
    .execute(harness.store.pool())
    .await
    .unwrap();
    browser.fill("Friday", "19:00-03:00").await;
    browser.click("button[type=submit][data-busy-label]").await;
    browser
        .wait_for_text(
            "#stale",
            "Changed by someone else — reload to see their change",
            SHOWN,
        )
        .await;
    assert_eq!(value_of(&browser, "#hours5").await, "19:00-03:00");
    let stale = edit_form_body(&browser, &[]).await;
    assert_eq!(
        fetch_status(
            &browser,
            "POST",
            &format!("/admin/restaurants/{id}/edit"),
            &stale
        )
        .await,
        409
    );
    browser.assert_accessible("stale edit").await;
    browser.screenshot("panel_restaurants_stale").await;
    let unchanged = harness.store.restaurant(id).await.unwrap().unwrap();
    assert_eq!(unchanged.refund_window_hours, 48, "their change stands");
    assert!(unchanged
        .opening_hours
        .iter()
        .any(|hours| hours.weekday == 5 && hours.opens_at.to_string() == "18:00:00"));

    // Reloaded: their change is there, and saving now goes through.
    browser.click("#stale a").await;
    browser.wait_for_text("h1", "Edit Chez Minuit", SHOWN).await;
    assert_eq!(value_of(&browser, "#refundWindowHours").await, "48");
    browser.fill("Friday", "19:00-03:00").await;
    browser.fill("Name", "Chez Minuit Passé").await;
    browser.click("button[type=submit][data-busy-label]").await;
    browser
        .wait_for_text("[role=status]", "Your changes were saved.", SHOWN)
        .await;
    browser
        .wait_for_text("#opening-hours", "19:00–03:00", SHOWN)
        .await;
    browser.screenshot("panel_restaurants_edited").await;
    assert_eq!(name_of(&harness, id).await, "Chez Minuit Passé");

    // The diners see the new hours.
    browser.goto(&format!("{base}/restaurants/{id}")).await;
    browser.wait_for_text("main", "19:00–03:00", SHOWN).await;
    browser
        .wait_for_text("h1", "Chez Minuit Passé", SHOWN)
        .await;
    browser.assert_accessible("diners' restaurant page").await;
    browser.screenshot("panel_restaurants_diners_page").await;
    browser.close().await;

    // The form on a phone.
    let phone = Browser::start().await;
    phone
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;
    phone
        .goto(&format!("{base}/admin/restaurants/{id}/edit"))
        .await;
    phone
        .wait_for_text("h1", "Edit Chez Minuit Passé", SHOWN)
        .await;
    phone.assert_accessible("edit form on a phone").await;
    phone.screenshot("panel_restaurants_phone_form").await;
    phone.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_manager_opens_only_their_restaurant_and_forms_need_their_csrf_token(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (ours, _) =
        seed_restaurant_with(&harness.store, "Ours", "Paris", (48.85, 2.35), &[], |_| {}).await;
    let (theirs, _) = seed_restaurant_with(
        &harness.store,
        "Theirs",
        "Paris",
        (48.86, 2.34),
        &[],
        |_| {},
    )
    .await;
    seed_staff(
        &harness.store,
        "manager@example.com",
        StaffRole::Manager(vec![ours]),
    )
    .await;
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "manager@example.com", STAFF_PASSWORD)
        .await;
    browser.wait_for_text("#restaurants", "Ours", SHOWN).await;
    let listed = browser.find("#restaurants").await.text().await.unwrap();
    assert!(!listed.contains("Theirs"), "{listed}");
    assert!(
        !source(&browser).await.contains("/admin/restaurants/new"),
        "no New restaurant for a manager"
    );
    browser.assert_accessible("a manager's restaurants").await;

    for page in ["", "/edit", "/delete", "/webhooks"] {
        let path = format!("/admin/restaurants/{theirs}{page}");
        browser.goto(&format!("{base}{path}")).await;
        browser
            .wait_for_text("main", "You do not manage this restaurant.", SHOWN)
            .await;
        assert_eq!(
            fetch_status(&browser, "GET", &path, "").await,
            403,
            "{path}"
        );
    }
    browser.assert_accessible("forbidden page").await;
    browser.screenshot("panel_restaurants_forbidden").await;
    browser.goto(&format!("{base}/admin/restaurants/new")).await;
    browser
        .wait_for_text("main", "Only the chain's administrators", SHOWN)
        .await;
    assert_eq!(
        fetch_status(&browser, "GET", "/admin/restaurants/new", "").await,
        403
    );

    // Their own restaurant's form, posted to the other restaurant with a good token: refused.
    browser
        .goto(&format!("{base}/admin/restaurants/{ours}/edit"))
        .await;
    browser.wait_for_text("h1", "Edit Ours", SHOWN).await;
    let hijack = edit_form_body(&browser, &[("name", "Taken over")]).await;
    assert!(hijack.contains("csrf="));
    assert_eq!(
        fetch_status(
            &browser,
            "POST",
            &format!("/admin/restaurants/{theirs}/edit"),
            &hijack
        )
        .await,
        403
    );
    assert_eq!(
        fetch_status(
            &browser,
            "POST",
            &format!("/admin/restaurants/{theirs}/delete"),
            &hijack
        )
        .await,
        403
    );
    assert_eq!(name_of(&harness, theirs).await, "Theirs");

    // Their own form without its token (or with another): refused, and nothing changes.
    let no_token = edit_form_body(&browser, &[("name", "Renamed"), ("csrf", "")]).await;
    let forged = edit_form_body(&browser, &[("name", "Renamed"), ("csrf", "forged")]).await;
    for body in [no_token, forged] {
        assert_eq!(
            fetch_status(
                &browser,
                "POST",
                &format!("/admin/restaurants/{ours}/edit"),
                &body
            )
            .await,
            403
        );
    }
    assert_eq!(
        fetch_status(
            &browser,
            "POST",
            &format!("/admin/restaurants/{ours}/webhooks"),
            "csrf=&url=https%3A%2F%2Fexample.com%2Fhook"
        )
        .await,
        403
    );
    assert_eq!(name_of(&harness, ours).await, "Ours");
    assert!(harness
        .store
        .webhook_endpoints(ours)
        .await
        .unwrap()
        .is_empty());
    let version = harness
        .store
        .restaurant(ours)
        .await
        .unwrap()
        .unwrap()
        .version;
    assert_eq!(version, 1, "nothing was saved");

    // With the token, their own restaurant saves.
    browser.fill("Name", "Ours, renamed").await;
    browser.click("button[type=submit][data-busy-label]").await;
    browser
        .wait_for_text("[role=status]", "Your changes were saved.", SHOWN)
        .await;
    assert_eq!(name_of(&harness, ours).await, "Ours, renamed");
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn deleting_a_booked_restaurant_warns_then_cancels_and_refunds_by_force(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    seed_staff(&harness.store, "chain@example.com", StaffRole::Admin).await;
    harness.start_worker();
    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    let paid = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(paid, "confirmed", SETTLE_TIMEOUT).await;

    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "chain@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}"))
        .await;
    browser.wait_for_text("h1", "Test Bistro", SHOWN).await;
    browser
        .click(&format!("a[href='/admin/restaurants/{restaurant}/delete']"))
        .await;
    browser
        .wait_for_text("#upcoming", "Test Bistro has 1 upcoming reservation", SHOWN)
        .await;
    browser.assert_accessible("delete confirmation").await;
    browser.screenshot("panel_restaurants_delete_warning").await;

    // Without force, the deletion is refused as the JSON API refuses it.
    let csrf = value_of(&browser, "input[name=csrf]").await;
    let unforced = format!("csrf={csrf}");
    assert_eq!(
        fetch_status(
            &browser,
            "POST",
            &format!("/admin/restaurants/{restaurant}/delete"),
            &unforced
        )
        .await,
        409
    );
    assert!(harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .is_some());

    browser.click("form button.danger").await;
    browser
        .wait_for_text(
            "[role=status]",
            "1 upcoming reservation is being canceled and refunded in full",
            SHOWN,
        )
        .await;
    browser.assert_accessible("restaurant deleted").await;
    browser.screenshot("panel_restaurants_deleted").await;
    assert!(harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .is_none());
    harness.wait_status(paid, "refunded", SETTLE_TIMEOUT).await;
    let status: String = sqlx::query_scalar("SELECT status FROM reservation WHERE id = $1")
        .bind(paid)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "refunded");
    let payments: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, status FROM payment WHERE reservation_id = $1 ORDER BY created_at",
    )
    .bind(paid)
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(
        payments,
        [
            ("charge".to_owned(), "captured".to_owned()),
            ("refund".to_owned(), "refunded".to_owned())
        ]
    );
    let canceled_by: String = sqlx::query_scalar(
        "SELECT actor FROM reservation_event WHERE reservation_id = $1 AND to_status = 'canceled'",
    )
    .bind(paid)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(canceled_by, "staff:chain@example.com");
    // No longer listed.
    let listed = browser.find("main").await.text().await.unwrap();
    assert!(!listed.contains("Test Bistro"), "{listed}");
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_webhook_endpoint_is_registered_with_its_secret_shown_once_then_removed(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant(&harness.store, 2).await;
    seed_staff(
        &harness.store,
        "manager@example.com",
        StaffRole::Manager(vec![restaurant]),
    )
    .await;
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "manager@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}"))
        .await;
    browser
        .click(&format!(
            "a[href='/admin/restaurants/{restaurant}/webhooks']"
        ))
        .await;
    browser
        .wait_for_text("#no-endpoints", "None yet.", SHOWN)
        .await;
    browser.assert_accessible("webhook endpoints").await;

    // The URL policy of the JSON API: no credentials in the URL.
    browser
        .fill("URL", "https://user:pw@example.com/hook")
        .await;
    browser.fill("Description (optional)", "Front desk").await;
    browser
        .click("button[data-busy-label='Registering…']")
        .await;
    browser.wait_for_text("#url-error", "", SHOWN).await;
    assert_eq!(
        value_of(&browser, "#url").await,
        "https://user:pw@example.com/hook"
    );
    assert_eq!(value_of(&browser, "#description").await, "Front desk");
    browser.assert_accessible("refused webhook endpoint").await;
    assert!(harness
        .store
        .webhook_endpoints(restaurant)
        .await
        .unwrap()
        .is_empty());

    browser.fill("URL", "https://example.com/maitred").await;
    browser
        .click("button[data-busy-label='Registering…']")
        .await;
    browser
        .wait_for_text("#registered", "shown this once", SHOWN)
        .await;
    let secret = browser.find("#secret").await.text().await.unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let stored = harness.store.webhook_endpoints(restaurant).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].secret, secret);
    assert_eq!(stored[0].description, "Front desk");
    browser
        .assert_accessible("registered webhook endpoint")
        .await;
    browser.screenshot("panel_restaurants_webhook_secret").await;

    // The list afterwards never shows it again.
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}/webhooks"))
        .await;
    browser
        .wait_for_text("#endpoints", "https://example.com/maitred", SHOWN)
        .await;
    assert!(!source(&browser).await.contains(&secret));
    assert!(!source(&browser).await.contains("whsec_"));
    browser.assert_accessible("webhook endpoint list").await;
    browser.screenshot("panel_restaurants_webhooks").await;

    browser.click("#endpoints button.danger").await;
    browser
        .wait_for_text("[role=status]", "The endpoint was removed", SHOWN)
        .await;
    browser
        .wait_for_text("#no-endpoints", "None yet.", SHOWN)
        .await;
    browser.assert_accessible("webhook endpoint removed").await;
    browser
        .screenshot("panel_restaurants_webhook_removed")
        .await;
    assert!(harness
        .store
        .webhook_endpoints(restaurant)
        .await
        .unwrap()
        .is_empty());
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_manager_sets_pacing_and_turn_times_and_a_bad_row_is_named(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant(&harness.store, 4).await;
    seed_staff(
        &harness.store,
        "manager@example.com",
        StaffRole::Manager(vec![restaurant]),
    )
    .await;
    let base = harness.serve_http().await;
    let browser = Browser::start().await;
    browser
        .sign_in(&base, "manager@example.com", STAFF_PASSWORD)
        .await;
    browser
        .goto(&format!("{base}/admin/restaurants/{restaurant}"))
        .await;
    browser
        .click(&format!(
            "a[href='/admin/restaurants/{restaurant}/booking-rules']"
        ))
        .await;
    browser.wait_for_text("h1", "Booking rules", SHOWN).await;
    let set = |name: &'static str, value: &'static str| {
        let browser = &browser;
        async move {
            browser
                .client()
                .execute(
                    "document.querySelector(`[name='${arguments[0]}']`).value = arguments[1]",
                    vec![json!(name), json!(value)],
                )
                .await
                .unwrap();
        }
    };
    set("pacing_from_0", "18:00").await;
    set("pacing_until_0", "22:00").await;
    set("pacing_covers_0", "16").await;
    set("turn_size_0", "6").await;
    set("turn_minutes_0", "120").await;
    set("turn_size_1", "2").await;
    set("turn_minutes_1", "90").await;
    browser
        .click("form[action$='/booking-rules'] button[type=submit]")
        .await;
    // Turn times must grow with the party: the row is named and nothing is saved.
    browser
        .wait_for_text(
            "#rules-error",
            "turnTimes [1].partySizeUpTo must be larger",
            SHOWN,
        )
        .await;
    browser.assert_accessible("booking rules refused").await;
    assert!(harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .booking_rules
        .pacing
        .is_empty());
    set("turn_size_0", "2").await;
    set("turn_minutes_0", "90").await;
    set("turn_size_1", "6").await;
    set("turn_minutes_1", "120").await;
    browser
        .click("form[action$='/booking-rules'] button[type=submit]")
        .await;
    browser.wait_for_text(".notice.ok", "Saved", SHOWN).await;
    browser.assert_accessible("booking rules").await;
    browser.screenshot("panel_booking_rules").await;
    let rules = harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .booking_rules;
    assert_eq!(rules.pacing.len(), 1);
    assert_eq!(rules.pacing[0].max_covers, 16);
    assert_eq!(rules.sitting_minutes(2, 75), 90);
    assert_eq!(rules.sitting_minutes(5, 75), 120);
    assert_eq!(rules.modification_cutoff_minutes, 120);
    browser.close().await;
    harness.finish().await;
}
