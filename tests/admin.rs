//! The staff's admin API for the catalog, end to end against real PostgreSQL and RabbitMQ:
//! the CRUD round trip of restaurants, table types, tables and rates with their ETags, scoping
//! by role and restaurant, inventory changes through the serial lane, forced deletion with
//! refunds, and validation that names each bad field.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A request with the chain-wide staff token and, optionally, `If-Match`.
async fn staff_send(
    harness: &Harness,
    method: Method,
    path: &str,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Reply {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {STAFF_TOKEN}"));
    if let Some(tag) = if_match {
        builder = builder.header("if-match", tag);
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    send(&harness.app, builder.body(body).unwrap()).await
}

fn etag(reply: &Reply) -> String {
    reply
        .headers
        .get("etag")
        .unwrap_or_else(|| panic!("no ETag in {} {}", reply.status, reply.body))
        .to_str()
        .unwrap()
        .to_owned()
}

fn uuid_of(value: &Value) -> Uuid {
    value.as_str().unwrap().parse().unwrap()
}

fn restaurant_body(name: &str) -> Value {
    json!({
        "name": name,
        "address": "1 Quai de Conti, Paris",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "timeZone": "Europe/Paris",
        "openingHours": [
            {"weekday": 5, "opensAt": "18:00", "closesAt": "01:00"},
            {"weekday": 6, "opensAt": "12:00", "closesAt": "15:00"},
        ]
    })
}

/// Every field of a restaurant, as a full replacement needs.
fn full_restaurant_body(name: &str) -> Value {
    let mut body = restaurant_body(name);
    for (key, value) in [
        ("slotMinutes", json!(15)),
        ("defaultDurationMinutes", json!(90)),
        ("overbookingPct", json!(10)),
        ("bookingHorizonDays", json!(90)),
        ("refundWindowHours", json!(24)),
        ("prepaymentRequired", json!(true)),
    ] {
        body[key] = value;
    }
    body
}

fn table_type_body(name: &str) -> Value {
    json!({
        "name": name,
        "seatsMin": 2,
        "seatsMax": 4,
        "basePriceCents": 3000,
        "currency": "EUR"
    })
}

async fn create_restaurant(harness: &Harness, name: &str) -> Uuid {
    let created = staff_send(
        harness,
        Method::POST,
        "/v1/restaurants",
        Some(&restaurant_body(name)),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    uuid_of(&created.body["id"])
}

async fn problem(reply: &Reply, status: StatusCode) -> String {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    reply.body["detail"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_restaurant_is_created_read_replaced_and_deleted_with_etags(pool: PgPool) {
    let harness = Harness::new(pool).await;

    let created = staff_send(
        &harness,
        Method::POST,
        "/v1/restaurants",
        Some(&restaurant_body("  Chez Ada  ")),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = uuid_of(&created.body["id"]);
    let path = format!("/v1/restaurants/{id}");
    assert_eq!(created.headers["location"], path.as_str());
    assert_eq!(etag(&created), "\"1\"");
    assert_eq!(created.body["name"], "Chez Ada");
    // The chain's defaults.
    assert_eq!(created.body["slotMinutes"], 15);
    assert_eq!(created.body["overbookingPct"], 10);
    assert_eq!(created.body["refundWindowHours"], 24);
    assert_eq!(created.body["prepaymentRequired"], true);

    // The public page carries the ETag too, and shows the hours across midnight.
    let page = harness.request(Method::GET, &path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(etag(&page), "\"1\"");
    assert_eq!(page.body["openingHours"][0]["closesAt"], "01:00");
    assert_eq!(page.body["tableTypes"], json!([]));

    // A replacement needs If-Match, and the current one.
    let mut changed = full_restaurant_body("Chez Ada et Charles");
    changed["overbookingPct"] = json!(20);
    changed["timeZone"] = json!("America/New_York");
    let without = staff_send(&harness, Method::PUT, &path, Some(&changed), None).await;
    assert!(problem(&without, StatusCode::PRECONDITION_REQUIRED)
        .await
        .contains("If-Match"));
    let stale = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"7\"")).await;
    assert!(problem(&stale, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"1\""));
    let weak = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&changed),
        Some("W/\"1\""),
    )
    .await;
    assert_eq!(weak.status, StatusCode::PRECONDITION_FAILED);
    let unchanged = harness.get(&path).await;
    assert_eq!(unchanged.body["name"], "Chez Ada");
    assert_eq!(etag(&unchanged), "\"1\"");

    // A replacement gives every field: a forgotten one is named, not reset to its default.
    let mut partial = changed.clone();
    partial.as_object_mut().unwrap().remove("refundWindowHours");
    let forgotten = staff_send(&harness, Method::PUT, &path, Some(&partial), Some("\"1\"")).await;
    assert_eq!(forgotten.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(forgotten.body["field"], "refundWindowHours");

    let replaced = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"1\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(etag(&replaced), "\"2\"");
    assert_eq!(replaced.body["name"], "Chez Ada et Charles");
    assert_eq!(replaced.body["timeZone"], "America/New_York");
    assert_eq!(replaced.body["overbookingPct"], 20);
    let page = harness.get(&path).await;
    assert_eq!(etag(&page), "\"2\"");
    assert_eq!(page.body["overbookingPct"], 20);
    // The ETag just read by another writer is now stale.
    let late = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"1\"")).await;
    assert!(problem(&late, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"2\""));

    // Two staff members who read the same version and write at once: exactly one wins.
    let mut first = changed.clone();
    first["name"] = json!("First writer");
    let mut second = changed.clone();
    second["name"] = json!("Second writer");
    let (a, b) = tokio::join!(
        staff_send(&harness, Method::PUT, &path, Some(&first), Some("\"2\"")),
        staff_send(&harness, Method::PUT, &path, Some(&second), Some("\"2\"")),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED]);
    let winner = if a.status == StatusCode::OK { &a } else { &b };
    let page = harness.get(&path).await;
    assert_eq!(etag(&page), "\"3\"");
    assert_eq!(page.body["name"], winner.body["name"]);

    // Deleting honours If-Match when given.
    let stale_delete = staff_send(&harness, Method::DELETE, &path, None, Some("\"2\"")).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let deleted = staff_send(&harness, Method::DELETE, &path, None, Some("\"3\"")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    let listed = harness.get("/v1/restaurants").await;
    assert!(listed.body["items"].as_array().unwrap().is_empty());
    let again = staff_send(&harness, Method::DELETE, &path, None, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let put_gone = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("*")).await;
    assert_eq!(put_gone.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_table_type_is_created_with_tables_replaced_and_deleted_with_etags(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let restaurant = create_restaurant(&harness, "Chez Ada").await;
    let types = format!("/v1/restaurants/{restaurant}/table-types");

    let mut body = table_type_body("Window 4");
    body["tables"] = json!(3);
    body["labelPrefix"] = json!("W");
    let created = staff_send(&harness, Method::POST, &types, Some(&body), None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = uuid_of(&created.body["id"]);
    let path = format!("{types}/{id}");
    assert_eq!(created.headers["location"], path.as_str());
    assert_eq!(etag(&created), "\"1\"");
    assert_eq!(created.body["tables"], 3);
    assert_eq!(created.body["currency"], "EUR");
    let tables = harness.get(&format!("{path}/tables")).await;
    let mut labels: Vec<&str> = tables.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    labels.sort_unstable();
    assert_eq!(labels, ["W1", "W2", "W3"]);

    // Names are unique among a restaurant's live types.
    let duplicate = staff_send(
        &harness,
        Method::POST,
        &types,
        Some(&table_type_body(" Window 4 ")),
        None,
    )
    .await;
    assert!(problem(&duplicate, StatusCode::CONFLICT)
        .await
        .contains("Window 4"));
    let booth = staff_send(
        &harness,
        Method::POST,
        &types,
        Some(&table_type_body("Booth 6")),
        None,
    )
    .await;
    assert_eq!(booth.status, StatusCode::CREATED);
    assert_eq!(booth.body["tables"], 0);

    // Two staff members naming a type at the same moment: one wins, the other gets a 409
    // (from the check or from the unique index), never a 500.
    let terrace = table_type_body("Terrace 2");
    let (a, b) = tokio::join!(
        staff_send(&harness, Method::POST, &types, Some(&terrace), None),
        staff_send(&harness, Method::POST, &types, Some(&terrace), None),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);

    // The check cannot see a name another transaction is about to commit; the unique index
    // still refuses it, and that is a 409 too.
    let mut other_writer = harness.store.pool().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO table_type (id, restaurant_id, name, seats_min, seats_max,
             base_price_cents, currency)
         VALUES ($1, $2, 'Race', 1, 2, 0, 'EUR')",
    )
    .bind(Uuid::new_v4())
    .bind(restaurant)
    .execute(&mut *other_writer)
    .await
    .unwrap();
    let race = table_type_body("Race");
    let (raced, ()) = tokio::join!(
        staff_send(&harness, Method::POST, &types, Some(&race), None),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            other_writer.commit().await.unwrap();
        },
    );
    assert!(problem(&raced, StatusCode::CONFLICT)
        .await
        .contains("already has this name"));

    // The public detail carries the ETag.
    let detail = harness.request(Method::GET, &path, None).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(etag(&detail), "\"1\"");

    let mut changed = table_type_body("Window 4 deluxe");
    changed["basePriceCents"] = json!(4500);
    changed["currency"] = json!("chf");
    let without = staff_send(&harness, Method::PUT, &path, Some(&changed), None).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED);
    let stale = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"3\"")).await;
    assert!(problem(&stale, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"1\""));
    assert_eq!(harness.get(&path).await.body["name"], "Window 4");
    let mut with_tables = changed.clone();
    with_tables["tables"] = json!(5);
    let refused = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&with_tables),
        Some("\"1\""),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "tables");
    let taken = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&table_type_body("Booth 6")),
        Some("\"1\""),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let replaced = staff_send(&harness, Method::PUT, &path, Some(&changed), Some("\"1\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(etag(&replaced), "\"2\"");
    assert_eq!(replaced.body["name"], "Window 4 deluxe");
    assert_eq!(replaced.body["basePriceCents"], 4500);
    assert_eq!(replaced.body["currency"], "CHF");
    assert_eq!(
        replaced.body["tables"], 3,
        "replacing a type keeps its tables"
    );
    assert_eq!(etag(&harness.get(&path).await), "\"2\"");

    // Deleted: gone from the restaurant's page, and its name is free again.
    let deleted = staff_send(&harness, Method::DELETE, &path, None, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        harness.get(&format!("{path}/tables")).await.status,
        StatusCode::NOT_FOUND
    );
    let page = harness.get(&format!("/v1/restaurants/{restaurant}")).await;
    let names: Vec<&str> = page.body["tableTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Booth 6", "Race", "Terrace 2"]);
    let reused = staff_send(
        &harness,
        Method::POST,
        &types,
        Some(&table_type_body("Window 4 deluxe")),
        None,
    )
    .await;
    assert_eq!(reused.status, StatusCode::CREATED, "{}", reused.body);

    // A type is only found under its own restaurant.
    let other = create_restaurant(&harness, "Elsewhere").await;
    let booth_id = uuid_of(&booth.body["id"]);
    let wrong = staff_send(
        &harness,
        Method::PUT,
        &format!("/v1/restaurants/{other}/table-types/{booth_id}"),
        Some(&table_type_body("Stolen")),
        Some("*"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_table_is_added_listed_replaced_and_removed_with_etags(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let type_path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}");
    let tables = format!("{type_path}/tables");

    // Paged in id order.
    let first = harness.get(&format!("{tables}?limit=3")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = harness
        .get(&format!("{tables}?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    let too_big = harness.get(&format!("{tables}?limit=1000")).await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_big.body["field"], "limit");

    let created = staff_send(
        &harness,
        Method::POST,
        &tables,
        Some(&json!({"label": "X1", "area": "terrace"})),
        None,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = uuid_of(&created.body["id"]);
    let path = format!("{tables}/{id}");
    assert_eq!(created.headers["location"], path.as_str());
    assert_eq!(etag(&created), "\"1\"");
    assert_eq!(created.body["active"], true);
    assert_eq!(harness.get(&type_path).await.body["tables"], 5);
    let duplicate = staff_send(
        &harness,
        Method::POST,
        &tables,
        Some(&json!({"label": "X1"})),
        None,
    )
    .await;
    assert!(problem(&duplicate, StatusCode::CONFLICT)
        .await
        .contains("X1"));

    let shown = harness.get(&path).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(etag(&shown), "\"1\"");
    assert_eq!(shown.body["area"], "terrace");

    let out_of_service = json!({"label": "X1", "area": "terrace", "active": false});
    let without = staff_send(&harness, Method::PUT, &path, Some(&out_of_service), None).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED);
    let stale = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&out_of_service),
        Some("\"9\""),
    )
    .await;
    assert!(problem(&stale, StatusCode::PRECONDITION_FAILED)
        .await
        .contains("\"1\""));
    assert_eq!(harness.get(&path).await.body["active"], true);
    let taken = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&json!({"label": "T1", "area": "", "active": true})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let replaced = staff_send(
        &harness,
        Method::PUT,
        &path,
        Some(&out_of_service),
        Some("\"1\""),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(etag(&replaced), "\"2\"");
    assert_eq!(replaced.body["active"], false);
    assert_eq!(harness.get(&type_path).await.body["tables"], 4);
    // Taking a table out of service queued an inventory sync for the restaurant's lane (the
    // relay may already have published it).
    let stale_delete = staff_send(&harness, Method::DELETE, &path, None, Some("\"1\"")).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let deleted = staff_send(&harness, Method::DELETE, &path, None, Some("\"2\"")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    let again = staff_send(&harness, Method::DELETE, &path, None, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn rates_are_set_in_bulk_listed_cleared_and_priced_by_the_worker(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let rates = format!("/v1/restaurants/{restaurant}/table-types/{table_type}/rates");

    let set = staff_send(
        &harness,
        Method::PUT,
        &rates,
        Some(&json!({"from": "2027-01-01", "to": "2027-01-31", "priceCents": 4000})),
        None,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["days"], 31);
    // Setting a part of the range again changes those dates only.
    let again = staff_send(
        &harness,
        Method::PUT,
        &rates,
        Some(&json!({"from": "2027-01-10", "to": "2027-01-12", "priceCents": 5500})),
        None,
    )
    .await;
    assert_eq!(again.body["days"], 3);
    let listed = harness
        .get(&format!("{rates}?from=2027-01-09&to=2027-01-13"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body,
        json!([
            {"date": "2027-01-09", "priceCents": 4000},
            {"date": "2027-01-10", "priceCents": 5500},
            {"date": "2027-01-11", "priceCents": 5500},
            {"date": "2027-01-12", "priceCents": 5500},
            {"date": "2027-01-13", "priceCents": 4000},
        ])
    );
    let cleared = staff_send(
        &harness,
        Method::DELETE,
        &format!("{rates}?from=2027-01-02&to=2027-01-31"),
        None,
        None,
    )
    .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    let left = harness
        .get(&format!("{rates}?from=2027-01-01&to=2027-12-31"))
        .await;
    assert_eq!(
        left.body,
        json!([{"date": "2027-01-01", "priceCents": 4000}])
    );

    for (body, field) in [
        (
            json!({"from": "2027-01-01", "to": "2027-01-31", "priceCents": -1}),
            "priceCents",
        ),
        (
            json!({"from": "2027-01-31", "to": "2027-01-01", "priceCents": 1}),
            "to",
        ),
        (
            json!({"from": "2027-01-01", "to": "2029-01-01", "priceCents": 1}),
            "to",
        ),
        (
            json!({"from": "01/01/2027", "to": "2027-01-02", "priceCents": 1}),
            "from",
        ),
    ] {
        let refused = staff_send(&harness, Method::PUT, &rates, Some(&body), None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(refused.body["field"], field, "{body}");
    }
    let missing_range = harness.get(&rates).await;
    assert_eq!(missing_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing_range.body["field"], "from");
    let unknown_type = harness
        .get(&format!(
            "/v1/restaurants/{restaurant}/table-types/{}/rates?from=2027-01-01&to=2027-01-02",
            Uuid::new_v4()
        ))
        .await;
    assert_eq!(unknown_type.status, StatusCode::NOT_FOUND);

    // The worker prices a booking at the day's rate (nothing booked yet: no surcharge).
    let body = booking_body(restaurant, table_type);
    let date = body["date"].as_str().unwrap().to_owned();
    let set = staff_send(
        &harness,
        Method::PUT,
        &rates,
        Some(&json!({"from": date, "to": date, "priceCents": 9999})),
        None,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK);
    harness.start_worker();
    let id = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(id, "held", SETTLE_TIMEOUT).await;
    let price: Option<i64> =
        sqlx::query_scalar("SELECT price_cents FROM reservation WHERE id = $1")
            .bind(id)
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(price, Some(9999));
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn staff_of_one_restaurant_cannot_write_to_another_and_others_cannot_write_at_all(
    pool: PgPool,
) {
    let harness = Harness::new(pool).await;
    let (mine, my_type) = seed_restaurant(&harness.store, 2).await;
    let (theirs, their_type) = seed_restaurant(&harness.store, 2).await;
    let their_table: Uuid = sqlx::query_scalar(
        "SELECT id FROM dining_table WHERE table_type_id = $1 ORDER BY label LIMIT 1",
    )
    .bind(their_type)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    let their_restaurant = format!("/v1/restaurants/{theirs}");
    let their_type_path = format!("{their_restaurant}/table-types/{their_type}");
    let rates_body = json!({"from": "2027-01-01", "to": "2027-01-02", "priceCents": 1});
    let writes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/v1/restaurants".into(),
            Some(restaurant_body("New")),
        ),
        (
            Method::PUT,
            their_restaurant.clone(),
            Some(full_restaurant_body("Mine now")),
        ),
        (
            Method::DELETE,
            format!("{their_restaurant}?force=true"),
            None,
        ),
        (
            Method::POST,
            format!("{their_restaurant}/table-types"),
            Some(table_type_body("Sneaky")),
        ),
        (
            Method::PUT,
            their_type_path.clone(),
            Some(table_type_body("Sneaky")),
        ),
        (Method::DELETE, their_type_path.clone(), None),
        (Method::GET, format!("{their_type_path}/tables"), None),
        (
            Method::POST,
            format!("{their_type_path}/tables"),
            Some(json!({"label": "Z"})),
        ),
        (
            Method::GET,
            format!("{their_type_path}/tables/{their_table}"),
            None,
        ),
        (
            Method::PUT,
            format!("{their_type_path}/tables/{their_table}"),
            Some(json!({"label": "Z", "area": "", "active": false})),
        ),
        (
            Method::DELETE,
            format!("{their_type_path}/tables/{their_table}"),
            None,
        ),
        (
            Method::PUT,
            format!("{their_type_path}/rates"),
            Some(rates_body.clone()),
        ),
        (
            Method::GET,
            format!("{their_type_path}/rates?from=2027-01-01&to=2027-01-02"),
            None,
        ),
        (
            Method::DELETE,
            format!("{their_type_path}/rates?from=2027-01-01&to=2027-01-02"),
            None,
        ),
    ];
    for (method, path, body) in &writes {
        let scoped = harness
            .scoped_staff_request(&[mine], method.clone(), path, body.as_ref())
            .await;
        assert_eq!(scoped.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(scoped.headers["content-type"], "application/problem+json");
        let anonymous = harness.request(method.clone(), path, body.as_ref()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
        let guest = harness
            .guest_request(method.clone(), path, body.as_ref())
            .await;
        assert_eq!(guest.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let forged = harness
        .send_as(
            Method::DELETE,
            &their_restaurant,
            None,
            Some("not-a-valid-token"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    // Nothing of theirs changed.
    let page = harness.get(&their_restaurant).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(etag(&page), "\"1\"");
    assert_eq!(page.body["name"], "Test Bistro");
    assert_eq!(page.body["tableTypes"][0]["tables"], 2);
    let rates: i64 = sqlx::query_scalar("SELECT count(*) FROM rate")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(rates, 0);

    // The same token does manage its own restaurant.
    let own = harness
        .scoped_staff_request(
            &[mine],
            Method::PUT,
            &format!("/v1/restaurants/{mine}/table-types/{my_type}/rates"),
            Some(&rates_body),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let own_table = harness
        .scoped_staff_request(
            &[mine],
            Method::POST,
            &format!("/v1/restaurants/{mine}/table-types/{my_type}/tables"),
            Some(&json!({"label": "Z"})),
        )
        .await;
    assert_eq!(own_table.status, StatusCode::CREATED, "{}", own_table.body);
    harness.finish().await;
}

/// The total inventory of every slot row of a table type, in slot order.
async fn inventory_per_slot(harness: &Harness, table_type_id: Uuid) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT total_inventory FROM inventory WHERE table_type_id = $1 ORDER BY slot_start",
    )
    .bind(table_type_id)
    .fetch_all(harness.store.pool())
    .await
    .unwrap()
}

async fn wait_inventory(harness: &Harness, table_type_id: Uuid, expected: i32) {
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let rows = inventory_per_slot(harness, table_type_id).await;
        if !rows.is_empty() && rows.iter().all(|&n| n == expected) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "inventory is {rows:?}, not all {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Takes a table out of service through the API, as a staff member would: GET, then PUT with
/// its ETag.
async fn deactivate(harness: &Harness, tables_path: &str, table: &Value) {
    let path = format!("{tables_path}/{}", table["id"].as_str().unwrap());
    let current = harness.get(&path).await;
    let body = json!({
        "label": current.body["label"],
        "area": current.body["area"],
        "active": false,
    });
    let reply = staff_send(
        harness,
        Method::PUT,
        &path,
        Some(&body),
        Some(&etag(&current)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn taking_tables_out_of_service_lowers_future_inventory_but_never_below_bookings(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();
    let body = booking_body(restaurant, table_type);
    let booked = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(booked, "held", SETTLE_TIMEOUT).await;
    assert_eq!(
        inventory_per_slot(&harness, table_type).await,
        [4; 6],
        "a 90-minute stay holds six 15-minute slots of 4 tables"
    );

    let tables_path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}/tables");
    let tables = harness.get(&tables_path).await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    for table in &tables[..2] {
        deactivate(&harness, &tables_path, table).await;
    }
    wait_inventory(&harness, table_type, 2).await;

    // With every table out of service, the booked slots keep the one table their guest holds.
    for table in &tables[2..] {
        deactivate(&harness, &tables_path, table).await;
    }
    wait_inventory(&harness, table_type, 1).await;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        [1; 6],
        "the booking keeps its slots"
    );
    assert_eq!(
        harness
            .get(&format!(
                "/v1/restaurants/{restaurant}/table-types/{table_type}"
            ))
            .await
            .body["tables"],
        0
    );
    // And they sell nothing more.
    let mut another = booking_body(restaurant, table_type);
    another["date"] = body["date"].clone();
    let refused = id_of(&harness.post_reservation(&another).await.body);
    harness
        .wait_status(refused, "rejected", SETTLE_TIMEOUT)
        .await;
    let reason: Option<String> = sqlx::query_scalar("SELECT reason FROM reservation WHERE id = $1")
        .bind(refused)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("no_availability"));
    assert_eq!(inventory_per_slot(&harness, table_type).await, [1; 6]);
    assert_eq!(status_of(&harness, booked).await, "held");
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_slot_booked_past_its_new_limit_sells_nothing_more(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;
    harness.start_worker();
    let body = booking_body(restaurant, table_type);
    for _ in 0..10 {
        let mut one = booking_body(restaurant, table_type);
        one["date"] = body["date"].clone();
        let id = id_of(&harness.post_reservation(&one).await.body);
        harness.wait_status(id, "held", SETTLE_TIMEOUT).await;
    }
    // Half the tables go: 5 in service allow floor(5 × 1.1) = 5, and 10 are booked. Those
    // guests keep their tables, and the limit becomes exactly 10: nothing more sells (an
    // inventory of 10 with 10% overbooking would still sell an 11th).
    let tables_path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}/tables");
    let tables = harness.get(&tables_path).await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    for table in &tables[..5] {
        deactivate(&harness, &tables_path, table).await;
    }
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let limits: Vec<i32> = sqlx::query_scalar(
            "SELECT total_inventory * (100 + overbooking_pct) / 100 FROM inventory \
             WHERE table_type_id = $1 ORDER BY slot_start",
        )
        .bind(table_type)
        .fetch_all(harness.store.pool())
        .await
        .unwrap();
        if limits == [10; 6] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "limits stuck at {limits:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut another = booking_body(restaurant, table_type);
    another["date"] = body["date"].clone();
    let refused = id_of(&harness.post_reservation(&another).await.body);
    harness
        .wait_status(refused, "rejected", SETTLE_TIMEOUT)
        .await;
    assert_eq!(reserved_per_slot(&harness.store, table_type).await, [10; 6]);
    harness.finish().await;
}

async fn status_of(harness: &Harness, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM reservation WHERE id = $1")
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn overbooking_goes_through_the_lane_and_slot_length_waits_for_upcoming_bookings(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();
    let booked = id_of(
        &harness
            .post_reservation(&booking_body(restaurant, table_type))
            .await
            .body,
    );
    harness.wait_status(booked, "held", SETTLE_TIMEOUT).await;

    let path = format!("/v1/restaurants/{restaurant}");
    let mut body = full_restaurant_body("Test Bistro");
    body["timeZone"] = json!("UTC");
    body["openingHours"] = json!((1..=7)
        .map(|weekday| json!({"weekday": weekday, "opensAt": "00:00", "closesAt": "00:00"}))
        .collect::<Vec<_>>());
    body["slotMinutes"] = json!(30);
    let refused = staff_send(&harness, Method::PUT, &path, Some(&body), Some("\"1\"")).await;
    let detail = problem(&refused, StatusCode::CONFLICT).await;
    assert!(detail.contains("slotMinutes"), "{detail}");
    assert_eq!(harness.get(&path).await.body["slotMinutes"], 15);

    body["slotMinutes"] = json!(15);
    body["overbookingPct"] = json!(50);
    let replaced = staff_send(&harness, Method::PUT, &path, Some(&body), Some("\"1\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let pcts: Vec<i32> =
            sqlx::query_scalar("SELECT overbooking_pct FROM inventory WHERE table_type_id = $1")
                .bind(table_type)
                .fetch_all(harness.store.pool())
                .await
                .unwrap();
        if !pcts.is_empty() && pcts.iter().all(|&p| p == 50) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "inventory overbooking is {pcts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Once nothing upcoming is booked, the slot length may change.
    let canceled = harness
        .staff_request(Method::DELETE, &format!("/v1/reservations/{booked}"), None)
        .await;
    assert_eq!(canceled.status, StatusCode::ACCEPTED);
    harness
        .wait_status(booked, "canceled", SETTLE_TIMEOUT)
        .await;
    body["slotMinutes"] = json!(30);
    let replaced = staff_send(&harness, Method::PUT, &path, Some(&body), Some("\"2\"")).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["slotMinutes"], 30);
    harness.finish().await;
}

async fn book_and_pay(harness: &Harness, restaurant: Uuid, table_type: Uuid) -> Uuid {
    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    let id = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;
    id
}

async fn payments_of(harness: &Harness, id: Uuid) -> Vec<(String, String)> {
    sqlx::query_as("SELECT kind, status FROM payment WHERE reservation_id = $1 ORDER BY created_at")
        .bind(id)
        .fetch_all(harness.store.pool())
        .await
        .unwrap()
}

async fn last_reason(harness: &Harness, id: Uuid, status: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT reason FROM reservation_event WHERE reservation_id = $1 AND to_status = $2",
    )
    .bind(id)
    .bind(status)
    .fetch_one(harness.store.pool())
    .await
    .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn deleting_a_booked_restaurant_needs_force_and_refunds_its_guests(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    harness.start_worker();
    let paid = book_and_pay(&harness, restaurant, table_type).await;

    let path = format!("/v1/restaurants/{restaurant}");
    let refused = harness.staff_request(Method::DELETE, &path, None).await;
    let detail = problem(&refused, StatusCode::CONFLICT).await;
    assert!(detail.contains("1 upcoming"), "{detail}");
    assert!(detail.contains("force=true"), "{detail}");
    assert_eq!(harness.get(&path).await.status, StatusCode::OK);
    assert_eq!(status_of(&harness, paid).await, "confirmed");

    let forced = harness
        .staff_request(Method::DELETE, &format!("{path}?force=true"), None)
        .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT, "{}", forced.body);
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        harness
            .request(
                Method::GET,
                &format!("{path}/table-types/{table_type}"),
                None
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    harness.wait_status(paid, "refunded", SETTLE_TIMEOUT).await;
    assert_eq!(
        payments_of(&harness, paid).await,
        [
            ("charge".to_owned(), "captured".to_owned()),
            ("refund".to_owned(), "refunded".to_owned())
        ]
    );
    assert_eq!(
        last_reason(&harness, paid, "canceled").await.as_deref(),
        Some("canceled_by_restaurant")
    );
    assert!(reserved_per_slot(&harness.store, table_type)
        .await
        .iter()
        .all(|&n| n == 0));
    // The guest still sees the reservation; new bookings are refused up front.
    assert_eq!(
        harness.get(&format!("/v1/reservations/{paid}")).await.body["status"],
        "refunded"
    );
    let late = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(late.body["field"], "restaurantId");
    assert_eq!(
        harness
            .staff_request(Method::DELETE, &path, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn deleting_a_booked_table_type_needs_force_and_leaves_the_others(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 2).await;
    let booth = staff_send(
        &harness,
        Method::POST,
        &format!("/v1/restaurants/{restaurant}/table-types"),
        Some(&json!({"name": "Booth 6", "seatsMin": 1, "seatsMax": 6,
                     "basePriceCents": 6000, "currency": "EUR", "tables": 2})),
        None,
    )
    .await;
    assert_eq!(booth.status, StatusCode::CREATED);
    let booth = uuid_of(&booth.body["id"]);
    harness.start_worker();
    let upcoming = book_and_pay(&harness, restaurant, table_type).await;
    // A reservation that is over does not block anything and is left alone.
    let past = book_and_pay(&harness, restaurant, table_type).await;
    sqlx::query("UPDATE reservation SET service_date = service_date - 30 WHERE id = $1")
        .bind(past)
        .execute(harness.store.pool())
        .await
        .unwrap();

    let path = format!("/v1/restaurants/{restaurant}/table-types/{table_type}");
    let refused = harness.staff_request(Method::DELETE, &path, None).await;
    let detail = problem(&refused, StatusCode::CONFLICT).await;
    assert!(detail.contains("1 upcoming"), "{detail}");
    assert!(detail.contains("force=true"), "{detail}");
    let stale = staff_send(
        &harness,
        Method::DELETE,
        &format!("{path}?force=true"),
        None,
        Some("\"9\""),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(harness.get(&path).await.status, StatusCode::OK);

    let forced = staff_send(
        &harness,
        Method::DELETE,
        &format!("{path}?force=true"),
        None,
        Some("\"1\""),
    )
    .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT, "{}", forced.body);
    harness
        .wait_status(upcoming, "refunded", SETTLE_TIMEOUT)
        .await;
    assert_eq!(
        last_reason(&harness, upcoming, "canceled").await.as_deref(),
        Some("canceled_by_restaurant")
    );
    assert_eq!(status_of(&harness, past).await, "confirmed");

    // The restaurant and its other type live on.
    let page = harness.get(&format!("/v1/restaurants/{restaurant}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let types: Vec<&str> = page.body["tableTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Booth 6"]);
    let gone = harness
        .post_reservation(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(gone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(gone.body["field"], "tableTypeId");
    let booth_booking = harness
        .post_reservation(&booking_body(restaurant, booth))
        .await;
    assert_eq!(
        booth_booking.status,
        StatusCode::ACCEPTED,
        "{}",
        booth_booking.body
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn bad_bodies_are_refused_naming_the_field(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let restaurant = create_restaurant(&harness, "Chez Ada").await;

    let overlapping = json!([
        {"weekday": 5, "opensAt": "18:00", "closesAt": "02:00"},
        {"weekday": 6, "opensAt": "01:00", "closesAt": "03:00"},
    ]);
    for (key, value, field) in [
        ("timeZone", json!("Europe/Atlantis"), "timeZone"),
        ("latitude", json!(90.5), "latitude"),
        ("longitude", json!(-200), "longitude"),
        ("name", json!("   "), "name"),
        ("openingHours", overlapping, "openingHours"),
        (
            "openingHours",
            json!([{"weekday": 1, "opensAt": "7pm", "closesAt": "23:00"}]),
            "openingHours",
        ),
        (
            "openingHours",
            json!([{"weekday": 0, "opensAt": "18:00", "closesAt": "23:00"}]),
            "openingHours",
        ),
        ("slotMinutes", json!(7), "slotMinutes"),
        ("overbookingPct", json!(150), "overbookingPct"),
        ("bookingHorizonDays", json!(0), "bookingHorizonDays"),
    ] {
        let mut body = restaurant_body("Bad");
        body[key] = value;
        let reply = staff_send(&harness, Method::POST, "/v1/restaurants", Some(&body), None).await;
        problem(&reply, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(reply.body["field"], field, "{key}: {}", reply.body);
    }
    // A missing field is named as well; an unknown one is refused.
    let mut no_zone = restaurant_body("Bad");
    no_zone.as_object_mut().unwrap().remove("timeZone");
    let reply = staff_send(
        &harness,
        Method::POST,
        "/v1/restaurants",
        Some(&no_zone),
        None,
    )
    .await;
    assert_eq!(reply.body["field"], "timeZone");
    let mut unknown = restaurant_body("Bad");
    unknown["stars"] = json!(3);
    let reply = staff_send(
        &harness,
        Method::POST,
        "/v1/restaurants",
        Some(&unknown),
        None,
    )
    .await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    assert!(reply.body["detail"].as_str().unwrap().contains("stars"));

    let types = format!("/v1/restaurants/{restaurant}/table-types");
    for (key, value, field) in [
        ("currency", json!("EURO"), "currency"),
        ("currency", json!("XYZ"), "currency"),
        ("basePriceCents", json!(-100), "basePriceCents"),
        ("seatsMax", json!(1), "seatsMax"),
        ("seatsMin", json!(0), "seatsMin"),
        ("name", json!("x".repeat(101)), "name"),
        ("tables", json!(-1), "tables"),
    ] {
        let mut body = table_type_body("Bad");
        body[key] = value;
        let reply = staff_send(&harness, Method::POST, &types, Some(&body), None).await;
        problem(&reply, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(reply.body["field"], field, "{key}: {}", reply.body);
    }
    // A malformed If-Match is a bad request, not a silent overwrite.
    let reply = staff_send(
        &harness,
        Method::PUT,
        &format!("/v1/restaurants/{restaurant}"),
        Some(&full_restaurant_body("Chez Ada")),
        Some("1"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // Nothing was created by the refused requests.
    let restaurants: i64 = sqlx::query_scalar("SELECT count(*) FROM restaurant")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    let table_types: i64 = sqlx::query_scalar("SELECT count(*) FROM table_type")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!((restaurants, table_types), (1, 0));
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_openapi_document_describes_etags_and_preconditions(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let document = harness
        .request(Method::GET, "/openapi.json", None)
        .await
        .body;
    for path in [
        "/v1/restaurants/{id}",
        "/v1/restaurants/{id}/table-types/{type_id}",
        "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    ] {
        let put = &document["paths"][path]["put"];
        let if_match = put["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "If-Match")
            .unwrap_or_else(|| panic!("no If-Match on PUT {path}"));
        assert_eq!(if_match["in"], "header", "{path}");
        assert_eq!(if_match["required"], true, "{path}");
        for status in ["200", "412", "428", "422", "403", "401"] {
            assert!(put["responses"][status].is_object(), "PUT {path} {status}");
        }
        assert!(
            put["responses"]["200"]["headers"]["ETag"].is_object(),
            "{path}"
        );
        assert_eq!(put["tags"][0], "staff");
        assert!(put["security"][0]["bearer"].is_array(), "{path}");
        let delete = &document["paths"][path]["delete"];
        assert!(delete["responses"]["412"].is_object(), "DELETE {path}");
    }
    let create = &document["paths"]["/v1/restaurants"]["post"];
    assert!(create["responses"]["201"]["headers"]["Location"].is_object());
    let force = document["paths"]["/v1/restaurants/{id}"]["delete"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "force" && p["in"] == "query");
    assert!(force);
    harness.finish().await;
}
