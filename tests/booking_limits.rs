//! Abuse limits on booking against a real server on a local port: bookings per client address
//! (and behind a trusted proxy, per forwarded client), requests per staff token, active bookings
//! per guest email, control characters refused at the boundary, and tables or durations beyond
//! what the party and the restaurant call for.

mod common;

use common::*;
use maitred::application::{Application, Databases, Roles};
use maitred::settings::{Settings, Switch};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// The whole API serving on a free port with the limits on, then `adjust`ed.
async fn serve(pool: PgPool, adjust: impl FnOnce(&mut Settings)) -> Served {
    let mut settings = test_settings(1000);
    settings.http_addr = "127.0.0.1:0".parse().unwrap();
    settings.rate_limits = Switch::On;
    adjust(&mut settings);
    let cleanup = QueueCleanup::for_settings(&settings);
    let store = booking::Store::new(pool);
    let databases = Databases::shared(store.clone());
    let mut application = Application::build(settings, Roles::API, databases)
        .await
        .unwrap();
    application.start().await.unwrap();
    Served {
        base: format!("http://{}", application.http_addr().unwrap()),
        client: reqwest::Client::new(),
        store,
        application,
        cleanup,
    }
}

struct Served {
    base: String,
    client: reqwest::Client,
    store: booking::Store,
    application: Application,
    cleanup: QueueCleanup,
}

struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    content_type: String,
    body: Value,
}

impl Served {
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let reply = request.send().await.unwrap();
        let header = |name: &str| {
            reply
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        Answer {
            status: reply.status(),
            retry_after: header("retry-after").map(|v| v.parse().unwrap()),
            content_type: header("content-type").unwrap_or_default(),
            body: serde_json::from_str(&reply.text().await.unwrap()).unwrap_or(Value::Null),
        }
    }

    async fn book(&self, body: &Value) -> Answer {
        self.book_from(body, None).await
    }

    async fn book_from(&self, body: &Value, forwarded_for: Option<&str>) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/v1/reservations", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("x-forwarded-for", forwarded_for);
        }
        self.send(request).await
    }

    async fn recorded(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM reservation")
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }

    async fn stop(mut self) {
        self.application.stop().await.unwrap();
        self.cleanup.delete().await;
    }
}

/// A 429 with a whole-second Retry-After, as problem+json whose detail says what was exceeded.
fn assert_limited(answer: &Answer, says: &str) {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.body
    );
    assert_eq!(answer.content_type, "application/problem+json");
    assert!(answer.retry_after.is_some_and(|s| s >= 1), "Retry-After");
    assert_eq!(answer.body["status"], 429);
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(detail.contains(says), "{detail}");
}

fn with_email(mut body: Value, email: &str) -> Value {
    body["guest"]["email"] = json!(email);
    body
}

fn fresh(body: &Value) -> Value {
    let mut body = body.clone();
    body["reservationId"] = json!(Uuid::new_v4());
    body
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn an_address_past_its_burst_gets_429_and_other_addresses_still_book(pool: PgPool) {
    let served = serve(pool, |settings| {
        settings.bookings_per_minute = 1.try_into().unwrap();
        settings.booking_burst = 3.try_into().unwrap();
    })
    .await;
    let (restaurant, table_type) = seed_restaurant(&served.store, 10).await;
    // Different emails, so only the address limit is in play.
    let body = |n: usize| {
        with_email(
            booking_body(restaurant, table_type),
            &format!("g{n}@example.com"),
        )
    };
    for n in 0..3 {
        let answer = served.book(&body(n)).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    }
    let refused = served.book(&body(3)).await;
    assert_limited(&refused, "client address");
    assert!(refused.retry_after.unwrap() >= 50, "a minute per booking");
    assert_eq!(
        served.recorded().await,
        3,
        "the refused booking is not recorded"
    );
    // Without trusted proxies, a forwarded address is only a header anyone can write.
    assert_limited(
        &served.book_from(&body(4), Some("198.51.100.1")).await,
        "client address",
    );
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(pool: PgPool) {
    let served = serve(pool, |settings| {
        settings.bookings_per_minute = 1.try_into().unwrap();
        settings.booking_burst = 1.try_into().unwrap();
        settings.trusted_proxies = "127.0.0.0/8, ::1/128".into();
    })
    .await;
    let (restaurant, table_type) = seed_restaurant(&served.store, 10).await;
    let body = |n: usize| {
        with_email(
            booking_body(restaurant, table_type),
            &format!("g{n}@example.com"),
        )
    };
    let ada = Some("203.0.113.10");
    assert_eq!(
        served.book_from(&body(0), ada).await.status,
        StatusCode::ACCEPTED
    );
    assert_limited(&served.book_from(&body(1), ada).await, "client address");
    // A forged left-most entry changes nothing: the proxy's right-most entry is the client.
    assert_limited(
        &served
            .book_from(&body(2), Some("192.0.2.77, 203.0.113.10"))
            .await,
        "client address",
    );
    let grace = Some("203.0.113.11");
    assert_eq!(
        served.book_from(&body(3), grace).await.status,
        StatusCode::ACCEPTED
    );
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_staff_token_past_its_burst_gets_429(pool: PgPool) {
    let served = serve(pool, |settings| {
        settings.staff_requests_per_minute = 1.try_into().unwrap();
        settings.staff_burst = 2.try_into().unwrap();
    })
    .await;
    let (restaurant, _) = seed_restaurant(&served.store, 1).await;
    let list = || {
        served
            .client
            .get(format!(
                "{}/v1/restaurants/{restaurant}/webhook-endpoints",
                served.base
            ))
            .bearer_auth(STAFF_TOKEN)
    };
    for _ in 0..2 {
        let answer = served.send(list()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    assert_limited(&served.send(list()).await, "staff token");
    // A token that is not valid is refused as such, and takes no part of anyone's limit.
    let forged = served
        .send(
            served
                .client
                .get(format!(
                    "{}/v1/restaurants/{restaurant}/webhook-endpoints",
                    served.base
                ))
                .bearer_auth("not-a-token"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn an_email_past_its_active_bookings_gets_429_but_its_retries_go_through(pool: PgPool) {
    let served = serve(pool, |settings| {
        settings.active_bookings_per_email = 2.try_into().unwrap();
    })
    .await;
    let (restaurant, table_type) = seed_restaurant(&served.store, 10).await;
    let first = booking_body(restaurant, table_type);
    assert_eq!(served.book(&first).await.status, StatusCode::ACCEPTED);
    // The same email typed differently is the same guest.
    let second = with_email(fresh(&first), "ADA@example.com");
    assert_eq!(served.book(&second).await.status, StatusCode::ACCEPTED);

    let third = served.book(&fresh(&first)).await;
    assert_limited(&third, "active bookings");
    assert_eq!(third.body["field"], "guest.email");
    assert_eq!(served.recorded().await, 2);

    // A retry of a recorded request is never refused by the limit.
    let retry = served.book(&first).await;
    assert!(retry.status.is_success(), "{}", retry.body);
    assert_eq!(retry.body["reservationId"], first["reservationId"]);
    // Other guests, and this guest on another day, book as usual.
    let other = with_email(fresh(&first), "grace@example.com");
    assert_eq!(served.book(&other).await.status, StatusCode::ACCEPTED);
    let mut next_day = fresh(&first);
    next_day["date"] =
        json!((chrono::Utc::now().date_naive() + chrono::Duration::days(8)).to_string());
    assert_eq!(served.book(&next_day).await.status, StatusCode::ACCEPTED);

    // A canceled booking no longer counts.
    sqlx::query("UPDATE reservation SET status = 'canceled' WHERE id = $1")
        .bind(id_of(&second))
        .execute(served.store.pool())
        .await
        .unwrap();
    assert_eq!(
        served.book(&fresh(&first)).await.status,
        StatusCode::ACCEPTED
    );
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_concurrent_burst_from_one_email_does_not_slip_past_the_limit(pool: PgPool) {
    let served = serve(pool, |settings| {
        settings.active_bookings_per_email = 3.try_into().unwrap();
    })
    .await;
    let (restaurant, table_type) = seed_restaurant(&served.store, 50).await;
    let template = booking_body(restaurant, table_type);
    let bodies: Vec<Value> = (0..12).map(|_| fresh(&template)).collect();
    let answers = futures_util::future::join_all(bodies.iter().map(|b| served.book(b))).await;
    let accepted = answers
        .iter()
        .filter(|a| a.status == StatusCode::ACCEPTED)
        .count();
    for answer in answers.iter().filter(|a| a.status != StatusCode::ACCEPTED) {
        assert_limited(answer, "active bookings");
    }
    // One API process counts one booking of a guest at a time: the limit is exact.
    assert_eq!(accepted, 3);
    assert_eq!(served.recorded().await, 3);
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_nul_in_any_free_text_field_is_422_and_the_rest_of_the_burst_is_accepted(pool: PgPool) {
    let served = serve(pool, |_| {}).await;
    let (restaurant, table_type) = seed_restaurant(&served.store, 50).await;
    let template = booking_body(restaurant, table_type);
    let poisoned: Vec<(&str, Value)> = [
        ("guest.name", ("guest", "name", json!("Ada\u{0}Lovelace"))),
        (
            "guest.email",
            ("guest", "email", json!("ada\u{0}@example.com")),
        ),
        ("guest.phone", ("guest", "phone", json!("+33 1\u{0}"))),
        ("paymentToken", ("", "paymentToken", json!("tok_\u{0}visa"))),
        (
            "callbackUrl",
            ("", "callbackUrl", json!("http://127.0.0.1:9/\u{0}")),
        ),
    ]
    .into_iter()
    .map(|(field, (parent, key, value))| {
        let mut body = fresh(&template);
        if parent.is_empty() {
            body[key] = value;
        } else {
            body[parent][key] = value;
        }
        (field, body)
    })
    .collect();
    // Each alone: 422 naming the field, nothing recorded.
    for (field, body) in &poisoned {
        let answer = served.book(body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            answer.body
        );
        assert_eq!(answer.content_type, "application/problem+json");
        assert_eq!(answer.body["field"], *field, "{}", answer.body);
        assert!(answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("control characters"));
    }
    assert_eq!(served.recorded().await, 0);

    // In one burst with good requests (other guests, so no limit is in play): the good ones
    // are recorded and answered 202, the poisoned ones 422.
    let good: Vec<Value> = (0..10)
        .map(|n| with_email(fresh(&template), &format!("g{n}@example.com")))
        .collect();
    let burst = good.iter().chain(poisoned.iter().map(|(_, body)| body));
    let answers = futures_util::future::join_all(burst.map(|b| served.book(b))).await;
    for (n, answer) in answers.iter().enumerate() {
        let expected = if n < good.len() {
            StatusCode::ACCEPTED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(answer.status, expected, "{}", answer.body);
    }
    assert_eq!(served.recorded().await, good.len() as i64);
    served.stop().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn tables_beyond_the_party_and_durations_other_than_the_restaurants_are_422(pool: PgPool) {
    let served = serve(pool, |_| {}).await;
    let (restaurant, table_type) = seed_restaurant(&served.store, 10).await;
    let template = booking_body(restaurant, table_type);
    // 4-tops: a party of 2 needs one, of 6 needs two.
    for (count, party, expected) in [(2, 2, 422), (3, 6, 422), (2, 6, 202), (1, 4, 202)] {
        let mut body = with_email(fresh(&template), &format!("t{count}-{party}@example.com"));
        body["tableCount"] = json!(count);
        body["partySize"] = json!(party);
        let answer = served.book(&body).await;
        assert_eq!(
            answer.status.as_u16(),
            expected,
            "{count}×{party}: {}",
            answer.body
        );
        if expected == 422 {
            assert_eq!(answer.body["field"], "tableCount");
        }
    }
    let mut longer = with_email(fresh(&template), "long@example.com");
    longer["durationMinutes"] = json!(600);
    let answer = served.book(&longer).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(answer.body["field"], "durationMinutes");
    let mut usual = with_email(fresh(&template), "usual@example.com");
    usual["durationMinutes"] = json!(90);
    assert_eq!(served.book(&usual).await.status, StatusCode::ACCEPTED);
    served.stop().await;
}
