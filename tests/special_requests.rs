//! What a diner tells the restaurant with a booking (special requests and tags), and the notes a
//! restaurant's staff keep about a guest, through the JSON API against real PostgreSQL and
//! RabbitMQ.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const DECIDED: Duration = Duration::from_secs(60);

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_booking_carries_its_requests_and_tags_and_a_retry_must_repeat_them(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["specialRequests"] = json!("  Nut allergy\r\nA cake at dessert, please  ");
    body["tags"] = json!(["birthday", "allergy", "birthday"]);
    body["paymentToken"] = json!("tok_visa");
    let reply = harness.post_reservation(&body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(
        reply.body["specialRequests"],
        "Nut allergy\nA cake at dessert, please"
    );
    assert_eq!(reply.body["tags"], json!(["allergy", "birthday"]));
    let id = id_of(&reply.body);
    harness.wait_status(id, "confirmed", DECIDED).await;
    let read = harness.get(&format!("/v1/reservations/{id}")).await;
    assert_eq!(read.body["tags"], json!(["allergy", "birthday"]));
    assert_eq!(
        read.body["specialRequests"],
        "Nut allergy\nA cake at dessert, please"
    );

    // A retry is the same booking when it says the same, in any order; not when it differs.
    body["tags"] = json!(["allergy", "birthday"]);
    assert!(harness.post_reservation(&body).await.status.is_success());
    body["tags"] = json!(["allergy"]);
    assert_eq!(
        harness.post_reservation(&body).await.status,
        StatusCode::CONFLICT
    );

    // A booking without either has none.
    let plain = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(plain.body["specialRequests"], Value::Null);
    assert_eq!(plain.body["tags"], json!([]));

    // Bad ones are named, and nothing is recorded.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM reservation")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    for (key, value, field) in [
        ("specialRequests", json!("x".repeat(501)), "specialRequests"),
        ("specialRequests", json!("red\u{1b}[31m"), "specialRequests"),
        ("tags", json!(["vip"]), "tags"),
    ] {
        let mut bad = booking_body(restaurant, table_type);
        bad[key] = value;
        let reply = harness.post_reservation(&bad).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        // A rule of ours names the field in `field`; a value the schema refuses (an unknown
        // tag) is named in `detail`, as every JSON type error is.
        let named = reply.body["field"] == field
            || reply.body["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("{field}["));
        assert!(named, "{}", reply.body);
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM reservation")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(after, before);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn guest_notes_belong_to_one_restaurant_and_only_its_staff_see_them(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (mine, _) = seed_restaurant(&harness.store, 2).await;
    let (theirs, _) = seed_restaurant(&harness.store, 2).await;
    let notes_of = |restaurant: Uuid| format!("/v1/restaurants/{restaurant}/guest-notes");
    let manager = |method: Method, path: String, body: Option<Value>| {
        let harness = &harness;
        async move {
            harness
                .scoped_staff_request(&[mine], method, &path, body.as_ref())
                .await
        }
    };

    let kept = manager(
        Method::POST,
        notes_of(mine),
        Some(json!({ "email": "Ada@Example.com", "note": " Prefers the window " })),
    )
    .await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.body);
    assert_eq!(kept.body["note"], "Prefers the window");
    assert_eq!(kept.body["guestEmail"], "ada@example.com");
    assert_eq!(kept.body["author"], "staff:scoped");
    let listed = manager(
        Method::GET,
        format!("{}?email=ada@example.com", notes_of(mine)),
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);

    // Another restaurant's manager can neither read nor write them; its own list is empty
    // even for the chain's staff.
    for (method, body) in [
        (Method::GET, None),
        (
            Method::POST,
            Some(json!({ "email": "ada@example.com", "note": "x" })),
        ),
    ] {
        let path = if method == Method::GET {
            format!("{}?email=ada@example.com", notes_of(theirs))
        } else {
            notes_of(theirs)
        };
        let refused = manager(method, path, body).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    let elsewhere = harness
        .get(&format!("{}?email=ada@example.com", notes_of(theirs)))
        .await;
    assert_eq!(elsewhere.body, json!([]));

    // A blank or control-character note is named; an unknown restaurant is 404.
    for note in ["   ", "bell\u{7}"] {
        let bad = manager(
            Method::POST,
            notes_of(mine),
            Some(json!({ "email": "ada@example.com", "note": note })),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.body["field"], "note");
    }
    let nowhere = harness
        .staff_request(
            Method::POST,
            &notes_of(Uuid::new_v4()),
            Some(&json!({ "email": "ada@example.com", "note": "x" })),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    // Removed once; the second time there is nothing to remove.
    let note = kept.body["noteId"].as_str().unwrap();
    let path = format!("{}/{note}", notes_of(mine));
    assert_eq!(
        manager(Method::DELETE, path.clone(), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        manager(Method::DELETE, path, None).await.status,
        StatusCode::NOT_FOUND
    );
    harness.finish().await;
}
