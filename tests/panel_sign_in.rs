//! The admin panel's sign-in in a real browser (see tests/browser.rs): passwords set from a
//! one-time link, locked after repeated failures, sessions that sign-out really ends, and forms
//! refused without their CSRF token.

mod common;

use std::time::Duration;

use booking::staff::StaffRole;
use common::browser::Browser;
use common::*;
use serde_json::json;
use sqlx::PgPool;

const SHOWN: Duration = Duration::from_secs(30);

/// `fetch` from the page: the status of a POST of `form` to `path`, with the browser's cookies.
async fn post_status(browser: &Browser, path: &str, form: &str) -> u64 {
    browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { method: 'POST', redirect: 'manual',
                                   headers: { 'content-type': 'application/x-www-form-urlencoded' },
                                   body: arguments[1] })
               .then(r => done(r.status));",
            vec![json!(path), json!(form)],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_new_manager_sets_a_password_from_the_link_and_signs_in(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, _) = seed_restaurant(&harness.store, 2).await;
    let account = harness
        .store
        .insert_staff(&booking::staff::NewStaff {
            email: "new.manager@example.com".into(),
            name: "Nina New".into(),
            role: StaffRole::Manager(vec![restaurant]),
        })
        .await
        .unwrap()
        .unwrap();
    let link = api::admin::session::password_link(&harness.store, account.id)
        .await
        .unwrap();
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;

    browser.goto(&format!("{base}{link}")).await;
    browser
        .wait_for_text("main", "new.manager@example.com", SHOWN)
        .await;
    browser.assert_accessible("set a password").await;
    browser.fill("New password", "too short").await;
    browser.fill("The same password again", "too short").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#password-error", "at least 12 characters", SHOWN)
        .await;
    browser
        .fill("New password", "a perfectly long password")
        .await;
    browser
        .fill("The same password again", "a perfectly long password")
        .await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("main", "Your password is set", SHOWN)
        .await;
    browser.assert_accessible("sign-in page").await;
    browser
        .sign_in(
            &base,
            "New.Manager@example.com",
            "a perfectly long password",
        )
        .await;
    browser.wait_for_text("main", "Test Bistro", SHOWN).await;
    browser.screenshot("panel_signed_in").await;

    // The link is spent.
    browser.goto(&format!("{base}{link}")).await;
    browser
        .wait_for_text("main", "used already or has expired", SHOWN)
        .await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn five_wrong_passwords_lock_sign_in_and_the_answer_never_says_who_exists(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    seed_staff(&harness.store, "host@example.com", StaffRole::Admin).await;
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;

    for email in ["host@example.com", "nobody@example.com"] {
        browser.goto(&format!("{base}/admin/login")).await;
        browser.fill("Email", email).await;
        browser.fill("Password", "not the password").await;
        browser.click("button[type=submit]").await;
        browser
            .wait_for_text("#sign-in-error", "Wrong email or password.", SHOWN)
            .await;
    }
    for _ in 0..4 {
        browser.fill("Email", "host@example.com").await;
        browser.fill("Password", "still not it").await;
        browser.click("button[type=submit]").await;
        browser.wait_for_text("#sign-in-error", "", SHOWN).await;
    }
    // Five failures for the account: even the right password is refused for a while.
    browser.fill("Email", "host@example.com").await;
    browser.fill("Password", STAFF_PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#sign-in-error", "Sign-in is locked for 15 minutes", SHOWN)
        .await;
    browser.assert_accessible("locked sign-in").await;
    browser.screenshot("panel_sign_in_locked").await;
    browser.close().await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn sign_out_ends_the_session_and_forms_need_their_csrf_token(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    seed_restaurant(&harness.store, 2).await;
    seed_staff(&harness.store, "boss@example.com", StaffRole::Admin).await;
    let base = harness.serve_http().await;
    let browser = Browser::start_sized(1024, 768).await;
    browser
        .sign_in(&base, "boss@example.com", STAFF_PASSWORD)
        .await;
    browser.assert_accessible("restaurants").await;
    let session = browser
        .client()
        .get_named_cookie(api::admin::session::SESSION_COOKIE)
        .await
        .unwrap();
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(
        session.same_site().map(|same_site| same_site.to_string()),
        Some("Strict".to_owned())
    );

    // A form without its token is refused, and changes nothing: still signed in.
    assert_eq!(post_status(&browser, "/admin/logout", "csrf=").await, 403);
    browser.goto(&format!("{base}/admin")).await;
    browser
        .wait_for_text("header.site", "Sign out", SHOWN)
        .await;

    // The JSON API takes the session too.
    let status = browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/v1/restaurants').then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(200));

    browser.click("header.site button.link").await;
    browser
        .wait_for_text("h1", "Sign in to the admin panel", SHOWN)
        .await;
    // The old cookie, put back as a thief would, opens nothing.
    browser.client().add_cookie(session).await.unwrap();
    browser.goto(&format!("{base}/admin")).await;
    browser
        .wait_for_text("h1", "Sign in to the admin panel", SHOWN)
        .await;
    browser.screenshot("panel_signed_out").await;
    browser.close().await;
    harness.finish().await;
}
