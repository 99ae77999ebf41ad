//! Front of house through the JSON API, against the real PostgreSQL, RabbitMQ and workers:
//! seating a confirmed booking at tables of its type, the database refusing one table to two
//! parties at once, tables freed when a party leaves, the floor, and walk-ins that take the
//! slot's inventory on the serial lane.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{Duration as Minutes, NaiveDateTime, Timelike, Utc};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const DECIDED: Duration = Duration::from_secs(60);

/// The slot start 30 to 45 minutes from now in `restaurant`'s zone: a booking a host may seat
/// now (within the hour before its start).
async fn soon(harness: &Harness, restaurant: Uuid) -> NaiveDateTime {
    let zone: chrono_tz::Tz = harness
        .store
        .restaurant(restaurant)
        .await
        .unwrap()
        .unwrap()
        .time_zone
        .parse()
        .unwrap();
    let now = Utc::now().with_timezone(&zone).naive_local();
    let floored = now
        .with_minute(now.minute() - now.minute() % 15)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    floored + Minutes::minutes(30)
}

/// A restaurant without prepayment (bookings are confirmed at once), with one table type of
/// `tables` tables and this overbooking. Returns the restaurant, the type and its tables' ids
/// by label.
async fn restaurant(
    harness: &Harness,
    tables: u32,
    overbooking_pct: i32,
) -> (Uuid, Uuid, Vec<Uuid>) {
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "",
        (48.85, 2.35),
        &[("4-top", 1, 4, 2500, tables)],
        |r| {
            r.prepayment_required = false;
            r.overbooking_pct = overbooking_pct;
            // Now is between 17:00 and 18:00 there: a booking soon, or a walk-in now, ends
            // before the restaurant closes at midnight, whatever the hour of the machine.
            r.time_zone = five_pm_zone();
        },
    )
    .await;
    let table_ids = tables_of(harness, types[0]).await;
    (restaurant, types[0], table_ids)
}

async fn tables_of(harness: &Harness, table_type: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT id FROM dining_table WHERE table_type_id = $1 ORDER BY label")
        .bind(table_type)
        .fetch_all(harness.store.pool())
        .await
        .unwrap()
}

/// A confirmed booking at `at` for `name`.
async fn book(harness: &Harness, restaurant: Uuid, table_type: Uuid, at: NaiveDateTime) -> Uuid {
    let mut body = booking_body(restaurant, table_type);
    body["date"] = json!(at.date().to_string());
    body["time"] = json!(at.format("%H:%M").to_string());
    body["guest"] = json!({
        "name": "Guest",
        "email": format!("guest-{}@example.com", Uuid::new_v4().simple()),
    });
    let reply = harness.post_reservation(&body).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    let id = id_of(&reply.body);
    harness.wait_status(id, "confirmed", DECIDED).await;
    id
}

async fn seat(harness: &Harness, reservation: Uuid, tables: &[Uuid]) -> Reply {
    harness
        .staff_request(
            Method::POST,
            &format!("/v1/reservations/{reservation}/seat"),
            Some(&json!({ "tableIds": tables })),
        )
        .await
}

async fn seatings_at(harness: &Harness, table: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM seating WHERE table_id = $1")
        .bind(table)
        .fetch_one(harness.store.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn two_hosts_seating_parties_at_one_table_at_once_seat_exactly_one(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    // Two tables sold twice over: four confirmed parties for the same time.
    let (restaurant, table_type, tables) = restaurant(&harness, 2, 100).await;
    harness.start_worker();
    let at = soon(&harness, restaurant).await;
    let mut parties = Vec::new();
    for _ in 0..4 {
        parties.push(book(&harness, restaurant, table_type, at).await);
    }

    // Four hosts seat the four parties at table T1, all at once.
    let attempts = parties
        .iter()
        .map(|party| seat(&harness, *party, &tables[..1]));
    let replies = futures_util::future::join_all(attempts).await;
    let seated: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    let refused: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .collect();
    assert_eq!(
        seated.len(),
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert_eq!(refused.len(), 3);
    for reply in refused {
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("T1") || detail.contains("just seated"),
            "{detail}"
        );
    }
    assert_eq!(seated[0].body["status"], "seated");
    assert_eq!(seated[0].body["tables"][0]["label"], "T1");
    assert_eq!(seatings_at(&harness, tables[0]).await, 1);
    let seated_id = id_of(&seated[0].body);
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM reservation WHERE id = ANY($1) ORDER BY status")
            .bind(&parties)
            .fetch_all(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(statuses, ["confirmed", "confirmed", "confirmed", "seated"]);

    // The database itself refuses a second overlapping seating, whatever the code checks.
    let other = parties.iter().find(|p| **p != seated_id).unwrap();
    let refused = sqlx::query(
        "INSERT INTO seating (reservation_id, table_id, during)
         VALUES ($1, $2, tsrange($3, $3 + interval '10 minutes'))",
    )
    .bind(other)
    .bind(tables[0])
    .bind(at)
    .execute(harness.store.pool())
    .await
    .unwrap_err();
    let refused = refused.as_database_error().unwrap();
    assert_eq!(refused.constraint(), Some("seating_table_taken"));
    // A seating after the party's booked end is no overlap.
    sqlx::query(
        "INSERT INTO seating (reservation_id, table_id, during)
         VALUES ($1, $2, tsrange($3 + interval '90 minutes', $3 + interval '100 minutes'))",
    )
    .bind(other)
    .bind(tables[0])
    .bind(at)
    .execute(harness.store.pool())
    .await
    .unwrap();
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_party_leaving_early_frees_its_table_for_the_next(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    // One table sold twice: the second party arrives while the first sits there.
    let (restaurant, table_type, tables) = restaurant(&harness, 1, 100).await;
    let (_, other_type) = seed_restaurant(&harness.store, 1).await;
    let other_tables = tables_of(&harness, other_type).await;
    harness.start_worker();
    let at = soon(&harness, restaurant).await;
    let first = book(&harness, restaurant, table_type, at).await;
    let second = book(&harness, restaurant, table_type, at).await;

    // Bad choices are named, and seat nobody.
    let reply = seat(&harness, first, &[tables[0], tables[0]]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body["detail"].as_str().unwrap().contains("tableIds"));
    let reply = seat(&harness, first, &other_tables).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body["detail"]
        .as_str()
        .unwrap()
        .contains("not of the booked table type"));
    let reply = seat(&harness, first, &[]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The suggestion is the one table; the first party takes it.
    let options = harness
        .get(&format!("/v1/reservations/{first}/table-options"))
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    assert_eq!(options.body["free"][0]["tableId"], json!(tables[0]));
    assert_eq!(options.body["nextFreeAt"], Value::Null);
    let reply = seat(&harness, first, &tables).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let until = reply.body["tables"][0]["until"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        until,
        (at + Minutes::minutes(90))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    );

    // Overbooked: nothing is free for the second party, and the page can say when it will be.
    let options = harness
        .get(&format!("/v1/reservations/{second}/table-options"))
        .await;
    assert_eq!(options.body["free"], json!([]));
    assert_eq!(options.body["nextFreeAt"], json!(until));
    let reply = seat(&harness, second, &tables).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body["detail"].as_str().unwrap().contains("T1"));
    // A seated party cannot be seated again, nor marked a no-show.
    let reply = seat(&harness, first, &tables).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = harness
        .staff_request(
            Method::POST,
            &format!("/v1/reservations/{first}/no-show"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);

    // The first party leaves: the table is the second's.
    let reply = harness
        .staff_request(
            Method::POST,
            &format!("/v1/reservations/{first}/complete"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "completed");
    let options = harness
        .get(&format!("/v1/reservations/{second}/table-options"))
        .await;
    assert_eq!(options.body["free"][0]["tableId"], json!(tables[0]));
    let reply = seat(&harness, second, &tables).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(seatings_at(&harness, tables[0]).await, 2);

    // The audit log names the table.
    let events = harness
        .get(&format!("/v1/reservations/{second}/events"))
        .await;
    let seated = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(seated["toStatus"], "seated");
    assert_eq!(seated["reason"], "table T1");
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_floor_shows_seated_held_free_and_out_of_service_tables(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type, tables) = restaurant(&harness, 4, 10).await;
    harness.start_worker();
    let at = soon(&harness, restaurant).await;
    let seated = book(&harness, restaurant, table_type, at).await;
    let coming = book(&harness, restaurant, table_type, at).await;
    assert_eq!(
        seat(&harness, seated, &tables[2..3]).await.status,
        StatusCode::OK
    );
    sqlx::query("UPDATE dining_table SET active = false WHERE id = $1")
        .bind(tables[3])
        .execute(harness.store.pool())
        .await
        .unwrap();

    let floor = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/floor?at={}",
            at.format("%Y-%m-%dT%H:%M")
        ))
        .await;
    assert_eq!(floor.status, StatusCode::OK, "{}", floor.body);
    let states: Vec<(&str, &str)> = floor.body["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["label"].as_str().unwrap(), t["state"].as_str().unwrap()))
        .collect();
    // T1 is kept for the party still to come, T3 has the seated one.
    assert_eq!(
        states,
        [
            ("T1", "held"),
            ("T2", "free"),
            ("T3", "seated"),
            ("T4", "out_of_service")
        ]
    );
    let tables_json = floor.body["tables"].as_array().unwrap();
    assert_eq!(tables_json[0]["reservationId"], json!(coming));
    assert_eq!(tables_json[2]["reservationId"], json!(seated));

    let reply = harness
        .get(&format!("/v1/restaurants/{restaurant}/floor?at=tonight"))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["detail"].as_str().unwrap().starts_with("at:"));
    // A manager of another restaurant sees nothing of this one.
    let reply = harness
        .scoped_staff_request(
            &[Uuid::new_v4()],
            Method::GET,
            &format!("/v1/restaurants/{restaurant}/floor"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    harness.finish().await;
}

fn walk_in_body(tables: &[Uuid], party_size: i64) -> Value {
    json!({
        "reservationId": Uuid::new_v4(),
        "tableIds": tables,
        "partySize": party_size,
        "guestName": "Walk-in at the bar",
    })
}

async fn walk_in(harness: &Harness, restaurant: Uuid, body: &Value) -> Reply {
    harness
        .staff_request(
            Method::POST,
            &format!("/v1/restaurants/{restaurant}/walk-ins"),
            Some(body),
        )
        .await
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn walk_ins_take_the_slots_inventory_and_never_oversell_it(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    // Prepayment on and no overbooking: a walk-in is still confirmed at once (it pays at the
    // table), and it can only have what bookings left.
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        "Test Bistro",
        "",
        (48.85, 2.35),
        &[("4-top", 1, 4, 2500, 3)],
        |r| {
            r.overbooking_pct = 0;
            // A walk-in seated now ends before midnight there, whatever the hour here.
            r.time_zone = five_pm_zone();
        },
    )
    .await;
    let table_type = types[0];
    let tables = tables_of(&harness, table_type).await;
    harness.start_worker();

    let body = walk_in_body(&tables[..1], 3);
    let reply = walk_in(&harness, restaurant, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["status"], "seated");
    assert_eq!(reply.body["tables"][0]["label"], "T1");
    let walked_in = id_of(&reply.body);
    // Sent again (a double submit): the same party, seated once.
    let again = walk_in(&harness, restaurant, &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(id_of(&again.body), walked_in);
    assert_eq!(seatings_at(&harness, tables[0]).await, 1);
    let events: Vec<(Option<String>, String)> = sqlx::query_as(
        "SELECT reason, to_status FROM reservation_event WHERE reservation_id = $1 ORDER BY id",
    )
    .bind(walked_in)
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(
        events,
        [
            (None, "pending".to_owned()),
            (Some("walk_in".to_owned()), "confirmed".to_owned()),
            (Some("table T1".to_owned()), "seated".to_owned()),
        ]
    );
    let reserved = reserved_per_slot(&harness.store, table_type).await;
    assert!(
        !reserved.is_empty() && reserved.iter().all(|n| *n == 1),
        "{reserved:?}"
    );

    // T1 is taken: a second walk-in there is refused before anything is booked.
    let reply = walk_in(&harness, restaurant, &walk_in_body(&tables[..1], 2)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body["detail"].as_str().unwrap().contains("T1"));

    // Diners book the two other tables from the next slot: the slots the next walk-in would
    // need are full, though T2 and T3 stand empty now.
    let next = soon(&harness, restaurant).await - Minutes::minutes(15);
    for _ in 0..2 {
        let mut booking = booking_body(restaurant, table_type);
        booking["date"] = json!(next.date().to_string());
        booking["time"] = json!(next.format("%H:%M").to_string());
        booking["guest"]["email"] = json!(format!("{}@example.com", Uuid::new_v4().simple()));
        booking["paymentToken"] = json!("tok_visa");
        let reply = harness.post_reservation(&booking).await;
        assert!(reply.status.is_success(), "{}", reply.body);
        harness
            .wait_status(id_of(&reply.body), "confirmed", DECIDED)
            .await;
    }
    let reply = walk_in(&harness, restaurant, &walk_in_body(&tables[1..2], 2)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body["detail"]
        .as_str()
        .unwrap()
        .contains("no table of this type is left"));
    let reserved = reserved_per_slot(&harness.store, table_type).await;
    assert!(reserved.iter().all(|n| *n <= 3), "{reserved:?}");
    assert_eq!(seatings_at(&harness, tables[1]).await, 0);

    // Bad walk-ins are named and book nothing.
    for (body, field) in [
        (walk_in_body(&[], 2), "tableIds"),
        (walk_in_body(&[Uuid::new_v4()], 2), "tableIds"),
        (walk_in_body(&tables[1..2], 0), "partySize"),
        (walk_in_body(&tables[1..2], 9), "partySize"),
    ] {
        let reply = walk_in(&harness, restaurant, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert!(
            reply.body["detail"].as_str().unwrap().starts_with(field),
            "{}",
            reply.body
        );
    }
    let walk_ins: i64 = sqlx::query_scalar("SELECT count(*) FROM reservation WHERE walk_in")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(
        walk_ins, 2,
        "the refused walk-in was decided, the bad ones never recorded"
    );
    harness.finish().await;
}
