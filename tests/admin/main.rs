//! The staff's admin API for the catalog, end to end against real PostgreSQL and RabbitMQ:
//! the CRUD round trip of restaurants, table types, tables and rates with their ETags, scoping
//! by role and restaurant, inventory changes through the serial lane, forced deletion with
//! refunds, and validation that names each bad field.
//!
//! One test binary (linking the app is slow), one module per part of the admin API; the
//! helpers they share are here.

#[path = "../common/mod.rs"]
mod common;

mod deletion;
mod documentation;
mod inventory;
mod rates;
mod restaurants;
mod scoping;
mod table_types;
mod tables;
mod validation;

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
        ("city", json!("Paris")),
        ("slotMinutes", json!(15)),
        ("defaultDurationMinutes", json!(90)),
        ("overbookingPct", json!(10)),
        ("bookingHorizonDays", json!(90)),
        ("refundWindowHours", json!(24)),
        ("prepaymentRequired", json!(true)),
        ("noShowFeeCents", json!(0)),
        ("lateCancellationFee", json!(false)),
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

async fn status_of(harness: &Harness, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM reservation WHERE id = $1")
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap()
}
