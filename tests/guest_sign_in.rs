//! Diners' sign-in by emailed link, against real PostgreSQL, RabbitMQ and a real SMTP server
//! on loopback ([`common::smtp`]); then the whole journey in a real browser: ask for a link,
//! open it from the email, see the history with its receipt, open and cancel a booking, sign
//! out. Screenshots under `target/screenshots/`.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::browser::Browser;
use common::smtp::SmtpSink;
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const PUBLIC_URL: &str = "https://book.example";
const DECIDED: Duration = Duration::from_secs(60);

fn settings_with(smtp: &SmtpSink) -> maitred::settings::Settings {
    let mut settings = test_settings(10_000);
    settings.smtp_url = Some(smtp.url());
    settings.public_url = Some(PUBLIC_URL.into());
    settings
}

async fn ask(harness: &Harness, email: &str) -> Reply {
    harness
        .request(
            Method::POST,
            "/v1/guest-sessions",
            Some(&json!({ "email": email })),
        )
        .await
}

/// The sign-in links sent to `to`, in the order received, as their tokens.
fn tokens_sent_to(messages: &[Value], to: &str) -> Vec<String> {
    let prefix = format!("{PUBLIC_URL}/me/sign-in?token=");
    messages
        .iter()
        .filter(|m| m["to"] == to)
        .map(|m| {
            let text = m["text"].as_str().unwrap();
            let start = text.find(&prefix).expect("the link") + prefix.len();
            text[start..].split_whitespace().next().unwrap().to_owned()
        })
        .collect()
}

/// A page of the website: status, headers and HTML.
async fn page(
    harness: &Harness,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    if form.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let request = builder
        .body(form.map_or_else(Body::empty, |f| Body::from(f.to_owned())))
        .unwrap();
    let response = tower::ServiceExt::oneshot(harness.app.clone(), request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// The `name=value` of the guest session cookie a response sets.
fn session_cookie(headers: &axum::http::HeaderMap) -> String {
    let set = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("maitred_guest="))
        .expect("a guest session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_link_goes_only_to_a_known_email_and_signs_in_once_within_fifteen_minutes(pool: PgPool) {
    let smtp = SmtpSink::up().await;
    let harness = Harness::with_settings(pool, settings_with(&smtp)).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    let mut body = booking_body(restaurant, table_type);
    body["guest"]["email"] = json!("ada@example.com");
    let ada_booking = harness.record_without_publishing(&body).await;
    body["reservationId"] = json!(Uuid::new_v4());
    body["guest"]["email"] = json!("grace@example.com");
    let grace_booking = harness.record_without_publishing(&body).await;

    // Known or not, the answer is the same; only the known email gets a link.
    let unknown = ask(&harness, "nobody@example.com").await;
    let known = ask(&harness, "  Ada@Example.COM ").await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED, "{}", unknown.body);
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!(unknown.body, known.body);
    let links: Vec<String> = sqlx::query_scalar("SELECT email FROM guest_sign_in")
        .fetch_all(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(links, ["ada@example.com"]);
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages[0]["subject"], "Your sign-in link");
    let tokens = tokens_sent_to(&messages, "ada@example.com");
    assert_eq!(tokens.len(), 1, "{messages:#?}");
    // Only digests are stored.
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM guest_sign_in WHERE token_sha256 = $1::bytea")
            .bind(tokens[0].as_bytes())
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(stored, 0);

    // Opening the link spends nothing (a mail scanner may open it); the button signs in.
    let (status, headers, html) = page(
        &harness,
        Method::GET,
        &format!("/me/sign-in?token={}", tokens[0]),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(html.contains("action=\"/me/sign-in\""), "{html}");
    let form = format!("token={}", tokens[0]);
    // Another site's page posting the link is refused, and spends nothing.
    let forged = Request::post("/me/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(form.clone()))
        .unwrap();
    let forged = tower::ServiceExt::oneshot(harness.app.clone(), forged)
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.headers().get(header::SET_COOKIE).is_none());
    let (status, headers, _) = page(&harness, Method::POST, "/me/sign-in", None, Some(&form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/me");
    let cookie = session_cookie(&headers);

    // The history holds Ada's booking, not Grace's, and opens only Ada's.
    let (status, _, html) = page(&harness, Method::GET, "/me", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ada@example.com"), "{html}");
    assert!(html.contains(&format!("/me/reservations/{ada_booking}")));
    assert!(!html.contains(&grace_booking.to_string()));
    let (status, headers, _) = page(
        &harness,
        Method::GET,
        &format!("/me/reservations/{ada_booking}"),
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        format!("/reservations/{ada_booking}").as_str()
    );
    let (status, _, _) = page(
        &harness,
        Method::GET,
        &format!("/me/reservations/{grace_booking}"),
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Used once: the same link again is gone.
    let (status, headers, html) =
        page(&harness, Method::POST, "/me/sign-in", None, Some(&form)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(html.contains("used already"), "{html}");

    // A link older than fifteen minutes is gone too.
    assert_eq!(
        ask(&harness, "ada@example.com").await.status,
        StatusCode::ACCEPTED
    );
    let second = tokens_sent_to(&smtp.wait_for(2).await, "ada@example.com")
        .into_iter()
        .find(|token| *token != tokens[0])
        .expect("a second link");
    sqlx::query(
        "UPDATE guest_sign_in SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    )
    .execute(harness.store.pool())
    .await
    .unwrap();
    let (status, _, _) = page(
        &harness,
        Method::POST,
        "/me/sign-in",
        None,
        Some(&format!("token={second}")),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);

    // Signing out ends the session on the server: the old cookie opens nothing.
    let (_, _, html) = page(&harness, Method::GET, "/me", Some(&cookie), None).await;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let (status, _, _) = page(
        &harness,
        Method::POST,
        "/me/sign-out",
        Some(&cookie),
        Some("csrf=forged"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = page(
        &harness,
        Method::POST,
        "/me/sign-out",
        Some(&cookie),
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = page(&harness, Method::GET, "/me", Some(&cookie), None).await;
    assert!(html.contains("Email me a sign-in link"), "{html}");
    assert!(!html.contains("Signed in as"));

    // A malformed email is named; a flood for one email is stopped at the sixth request in
    // a quarter of an hour (Ada asked twice already).
    let bad = ask(&harness, "not-an-email").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["field"], "email");
    let (status, _, html) = page(
        &harness,
        Method::POST,
        "/me/sign-in-link",
        None,
        Some("email=not-an-email"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("must be an email address"), "{html}");
    assert!(html.contains("value=\"not-an-email\""), "{html}");
    for _ in 0..3 {
        assert_eq!(
            ask(&harness, "ada@example.com").await.status,
            StatusCode::ACCEPTED
        );
    }
    let flooded = ask(&harness, "ada@example.com").await;
    assert_eq!(flooded.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(flooded.body["field"], "email");
    assert!(flooded.headers.contains_key(header::RETRY_AFTER));
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_diner_signs_in_from_the_email_sees_the_receipt_and_cancels(pool: PgPool) {
    let smtp = SmtpSink::up().await;
    let mut harness = Harness::with_settings(pool, settings_with(&smtp)).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();
    let base = harness.serve_http().await;

    // A paid booking a week ahead: full refund if cancelled now.
    let mut body = booking_body(restaurant, table_type);
    body["date"] = json!((chrono::Utc::now().date_naive() + chrono::Duration::days(7)).to_string());
    body["paymentToken"] = json!("tok_visa");
    let booked = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(booked, "confirmed", DECIDED).await;

    let browser = Browser::start_sized(390, 844).await;
    browser.goto(&format!("{base}/")).await;
    browser.click("a[href='/me']").await;
    browser.wait_for_text("h1", "Your bookings", DECIDED).await;
    browser.assert_accessible("sign-in form").await;
    browser
        .fill("The email you booked with", "Ada@Example.com")
        .await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#sign-in-notice", "a sign-in link is on its way", DECIDED)
        .await;
    browser.screenshot("me_link_asked").await;

    let token = tokens_sent_to(&smtp.wait_for(1).await, "ada@example.com")
        .pop()
        .expect("the link");
    browser
        .goto(&format!("{base}/me/sign-in?token={token}"))
        .await;
    browser
        .wait_for_text("h1", "Sign in to see your bookings", DECIDED)
        .await;
    browser.assert_accessible("sign-in link").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("#history", "Paid", DECIDED).await;
    browser
        .wait_for_text("main", "Signed in as ada@example.com", DECIDED)
        .await;
    browser.assert_accessible("history").await;
    browser.screenshot("me_history").await;

    // Open the booking from the history and cancel it: refunded in full, on the receipt.
    browser
        .click(&format!("a[href='/me/reservations/{booked}']"))
        .await;
    browser.wait_for_text("h1", "Your table at", DECIDED).await;
    browser
        .goto(&format!("{base}/reservations/{booked}/cancel"))
        .await;
    browser.click("button.danger").await;
    harness.wait_status(booked, "refunded", DECIDED).await;
    browser.goto(&format!("{base}/me")).await;
    browser
        .wait_for_text("#history", "Refunded: ", DECIDED)
        .await;
    browser.screenshot("me_history_refunded").await;

    // The link was spent: opening it again says so, with the form to ask anew.
    browser
        .goto(&format!("{base}/me/sign-in?token={token}"))
        .await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#sign-in-problem", "used already", DECIDED)
        .await;
    browser.assert_accessible("spent link").await;
    browser.screenshot("me_link_spent").await;

    // Sign out: the history is closed on this device.
    browser.goto(&format!("{base}/me")).await;
    browser.click("form[action='/me/sign-out'] button").await;
    browser
        .wait_for_text("#sign-in-notice", "You are signed out", DECIDED)
        .await;
    browser.close().await;
    harness.finish().await;
}
