//! Who may do what, against real servers: the token a diner gets with a booking, guest tokens
//! and their history, staff tokens limited to some restaurants, and refusals as problem+json.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const DECIDE_TIMEOUT: Duration = Duration::from_secs(30);

fn body_for(restaurant: Uuid, table_type: Uuid, email: &str) -> Value {
    let mut body = booking_body(restaurant, table_type);
    body["guest"] = json!({ "name": "Someone", "email": email });
    body
}

/// Books anonymously; returns the id and the receipt's access token.
async fn book(harness: &Harness, body: &Value) -> (Uuid, String) {
    let reply = harness.post_reservation(body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let token = reply.body["accessToken"].as_str().unwrap().to_owned();
    (id_of(&reply.body), token)
}

fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{}",
        reply.body
    );
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_guest_sees_and_cancels_only_their_own_reservations(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;
    harness.start_worker();

    let (ada, ada_token) = book(&harness, &body_for(restaurant, table_type, GUEST_EMAIL)).await;
    let (bob, bob_token) = book(
        &harness,
        &body_for(restaurant, table_type, "bob@example.com"),
    )
    .await;
    harness.wait_decided(&[ada, bob], DECIDE_TIMEOUT).await;
    let ada_path = format!("/v1/reservations/{ada}");
    let bob_path = format!("/v1/reservations/{bob}");

    // Without a token the id alone reveals nothing.
    let anonymous = harness.request(Method::GET, &ada_path, None).await;
    assert_problem(&anonymous, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");

    // The receipt's token opens its own reservation, and only that one.
    let own = harness
        .send_as(Method::GET, &ada_path, None, Some(&ada_token))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.body["status"], "held");
    // The scheme is case-insensitive.
    let request = axum::http::Request::get(&ada_path)
        .header("authorization", format!("bearer {ada_token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(send(&harness.app, request).await.status, StatusCode::OK);
    let other = harness
        .send_as(Method::GET, &bob_path, None, Some(&ada_token))
        .await;
    assert_problem(&other, StatusCode::FORBIDDEN);
    let cancel_other = harness
        .send_as(Method::DELETE, &bob_path, None, Some(&ada_token))
        .await;
    assert_problem(&cancel_other, StatusCode::FORBIDDEN);
    let events_other = harness
        .send_as(
            Method::GET,
            &format!("{bob_path}/events"),
            None,
            Some(&ada_token),
        )
        .await;
    assert_problem(&events_other, StatusCode::FORBIDDEN);

    // A guest token covers every reservation of its email, and no one else's.
    let bob_reads_ada = harness
        .guest_request_as("bob@example.com", Method::GET, &ada_path, None)
        .await;
    assert_problem(&bob_reads_ada, StatusCode::FORBIDDEN);
    let bob_cancels_own = harness
        .send_as(Method::DELETE, &bob_path, None, Some(&bob_token))
        .await;
    assert_eq!(
        bob_cancels_own.status,
        StatusCode::ACCEPTED,
        "{}",
        bob_cancels_own.body
    );
    harness.wait_status(bob, "canceled", DECIDE_TIMEOUT).await;

    // Refused requests changed nothing.
    let status: String = sqlx::query_scalar("SELECT status FROM reservation WHERE id = $1")
        .bind(ada)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "held");

    // A token that is not ours is refused, however it looks.
    let forged = harness
        .send_as(
            Method::GET,
            &ada_path,
            None,
            Some("eyJhbGciOiJIUzI1NiJ9.e30.x"),
        )
        .await;
    assert_problem(&forged, StatusCode::UNAUTHORIZED);
    let mut tampered = ada_token.clone();
    tampered.insert(ada_token.len() - 3, 'A');
    let tampered = harness
        .send_as(Method::GET, &ada_path, None, Some(&tampered))
        .await;
    assert_problem(&tampered, StatusCode::UNAUTHORIZED);

    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_guest_token_pages_through_its_own_history_newest_first(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;

    let mut ada = Vec::new();
    for _ in 0..3 {
        ada.push(
            book(&harness, &body_for(restaurant, table_type, GUEST_EMAIL))
                .await
                .0,
        );
        // created_at orders the history; keep the three apart.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (_, ada_receipt_token) = book(
        &harness,
        &body_for(restaurant, table_type, "ADA@example.com"),
    )
    .await;
    let (bob, _) = book(
        &harness,
        &body_for(restaurant, table_type, "bob@example.com"),
    )
    .await;

    let first = harness
        .guest_request(Method::GET, "/v1/reservations?limit=3", None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let ids = |page: &Value| -> Vec<Uuid> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect()
    };
    let first_ids = ids(&first.body);
    assert_eq!(first_ids.len(), 3);
    // Newest first: the upper-cased booking is the same guest, booked last.
    assert_eq!(&first_ids[1..], &[ada[2], ada[1]]);
    assert!(!first_ids.contains(&bob));
    assert!(first.body["items"][0]["status"].is_string());
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let second = harness
        .guest_request(
            Method::GET,
            &format!("/v1/reservations?limit=3&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&second.body), vec![ada[0]]);
    assert!(second.body.get("nextCursor").is_none());

    // History needs a guest token: not a booking's token, not staff, not nobody.
    let receipt = harness
        .send_as(
            Method::GET,
            "/v1/reservations",
            None,
            Some(&ada_receipt_token),
        )
        .await;
    assert_problem(&receipt, StatusCode::FORBIDDEN);
    let staff = harness
        .staff_request(Method::GET, "/v1/reservations", None)
        .await;
    assert_problem(&staff, StatusCode::FORBIDDEN);
    let anonymous = harness.request(Method::GET, "/v1/reservations", None).await;
    assert_problem(&anonymous, StatusCode::UNAUTHORIZED);
    let bad_page = harness
        .guest_request(Method::GET, "/v1/reservations?limit=1000", None)
        .await;
    assert_problem(&bad_page, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_page.body["field"], "limit");

    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn staff_of_one_restaurant_cannot_touch_another(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (mine, my_type) = seed_restaurant(&harness.store, 10).await;
    let (theirs, their_type) = seed_restaurant(&harness.store, 10).await;
    harness.start_worker();
    let mut paid = booking_body(mine, my_type);
    paid["paymentToken"] = json!("tok_visa");
    let (my_booking, _) = book(&harness, &paid).await;
    let (their_booking, _) = book(&harness, &booking_body(theirs, their_type)).await;
    harness
        .wait_status(my_booking, "confirmed", DECIDE_TIMEOUT)
        .await;
    harness.wait_decided(&[their_booking], DECIDE_TIMEOUT).await;

    let as_mine = |method: Method, path: String| {
        let harness = &harness;
        async move {
            harness
                .scoped_staff_request(&[mine], method, &path, None)
                .await
        }
    };
    for (method, path) in [
        (Method::GET, format!("/v1/reservations/{their_booking}")),
        (Method::DELETE, format!("/v1/reservations/{their_booking}")),
        (
            Method::GET,
            format!("/v1/reservations/{their_booking}/events"),
        ),
        (
            Method::POST,
            format!("/v1/reservations/{their_booking}/complete"),
        ),
        (
            Method::GET,
            format!("/v1/restaurants/{theirs}/webhook-endpoints"),
        ),
    ] {
        let reply = as_mine(method.clone(), path.clone()).await;
        assert_problem(&reply, StatusCode::FORBIDDEN);
    }
    let reply = harness
        .scoped_staff_request(
            &[mine],
            Method::POST,
            &format!("/v1/restaurants/{theirs}/webhook-endpoints"),
            Some(&json!({ "url": "http://127.0.0.1:9/hook" })),
        )
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    let endpoints: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_endpoint")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(endpoints, 0);

    // Their own restaurant is theirs to manage; a restaurant cancels with a full refund, even
    // inside the refund window a guest would be held to.
    let own = as_mine(Method::GET, format!("/v1/reservations/{my_booking}")).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    sqlx::query("UPDATE restaurant SET refund_window_hours = 720 WHERE id = $1")
        .bind(mine)
        .execute(harness.store.pool())
        .await
        .unwrap();
    let cancel = as_mine(Method::DELETE, format!("/v1/reservations/{my_booking}")).await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{}", cancel.body);
    harness
        .wait_status(my_booking, "refunded", DECIDE_TIMEOUT)
        .await;
    let events = as_mine(Method::GET, format!("/v1/reservations/{my_booking}/events")).await;
    let canceled = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["toStatus"] == "canceled");
    assert_eq!(canceled.unwrap()["reason"], "canceled_by_restaurant");
    assert_eq!(canceled.unwrap()["actor"], "staff:scoped");

    // Guests are not staff.
    let guest = harness
        .guest_request(
            Method::POST,
            &format!("/v1/reservations/{my_booking}/no-show"),
            None,
        )
        .await;
    assert_problem(&guest, StatusCode::FORBIDDEN);

    harness.finish().await;
}

/// A retry of a booking is answered with the same reservation, but is handed its access token
/// (and callback secret) only if it carries the first request's `retryKey`: a webhook receiver
/// knows the reservation's details, and could otherwise mint itself a token and cancel.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_retry_gets_the_token_only_with_the_first_requests_retry_key(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["callbackUrl"] = json!("http://127.0.0.1:9/hook");
    body["retryKey"] = json!("a-secret-of-the-client-0123456789");
    let first = harness.post_reservation(&body).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let token = first.body["accessToken"].as_str().unwrap().to_owned();
    let callback_secret = first.body["callbackSecret"].as_str().unwrap().to_owned();
    let id = id_of(&body);
    harness.wait_decided(&[id], DECIDE_TIMEOUT).await;

    // Someone who copied the details from a webhook, without the key: same reservation, no
    // token, no secret.
    let mut copied = body.clone();
    copied.as_object_mut().unwrap().remove("retryKey");
    let replay = harness.post_reservation(&copied).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(id_of(&replay.body), id);
    assert!(replay.body.get("accessToken").is_none(), "{}", replay.body);
    assert!(
        replay.body.get("callbackSecret").is_none(),
        "{}",
        replay.body
    );
    let mut guessed = body.clone();
    guessed["retryKey"] = json!("not-the-key-of-the-first-request");
    let replay = harness.post_reservation(&guessed).await;
    assert!(replay.body.get("accessToken").is_none(), "{}", replay.body);

    // The client itself, retrying after a lost answer, gets them again.
    let retry = harness.post_reservation(&body).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    let again = retry.body["accessToken"].as_str().unwrap();
    assert_eq!(retry.body["callbackSecret"], callback_secret);
    let own = harness
        .send_as(
            Method::GET,
            &format!("/v1/reservations/{id}"),
            None,
            Some(again),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(!token.is_empty());

    // A key that is too short is refused before anything is recorded.
    let mut weak = booking_body(restaurant, table_type);
    weak["retryKey"] = json!("short");
    let refused = harness.post_reservation(&weak).await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "retryKey");
    harness.finish().await;
}
