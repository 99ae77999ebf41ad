//! The test harness: a real PostgreSQL database per test (from `#[sqlx::test]`), and a real
//! RabbitMQ topology under a prefix of its own, deleted when the test ends.
#![allow(dead_code)] // each test binary uses its own part of the harness

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use booking::{OpeningInterval, Restaurant, Store, TableType};
use chrono::{NaiveTime, Utc};
use http_body_util::BodyExt;
use rabbitmq::{Publisher, Topology};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use uuid::Uuid;

pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The staff token of every test's API.
/// The bootstrap admin token (`MAITRED_ADMIN_TOKEN`): staff for every restaurant.
pub const STAFF_TOKEN: &str = "test-staff-token";
/// Signs the test's JWTs (`MAITRED_JWT_SECRET`).
pub const JWT_SECRET: &str = "test-jwt-secret-test-jwt-secret-0123456789";
/// The guest of [`booking_body`].
pub const GUEST_EMAIL: &str = "ada@example.com";

/// The secret that signs callbacks in tests (a Standard Webhooks test secret).
pub const CALLBACK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub struct Harness {
    pub store: Store,
    pub app: Router,
    pub topology: Topology,
    pub publisher: Arc<Publisher>,
    /// Mints tokens the app accepts.
    pub auth: Arc<api::Authority>,
    /// How long holds last in workers started from now on.
    pub hold_for: Duration,
    /// How workers started from now on deliver webhooks.
    pub webhooks: worker::webhooks::WebhookConfig,
    /// How long the simulated gateway takes to answer, in workers started from now on.
    pub gateway_latency: Duration,
    pub relay: outbox::RelayWaker,
    /// Intake's sold-out view; silent until [`Harness::follow_inventory`].
    pub sold_out: Arc<api::sold_out::SoldOutView>,
    shutdown: CancellationToken,
    /// Workers, relays and sweepers, stopped by [`Harness::finish`].
    workers: Vec<JoinHandle<()>>,
}

/// Tests deliver webhooks to servers on loopback, which production refuses by default.
pub fn loopback_policy() -> webhooks::UrlPolicy {
    webhooks::UrlPolicy::parse_allow_list("127.0.0.0/8,::1/128").unwrap()
}

impl Harness {
    /// A fresh topology with 4 partitions under a unique prefix.
    pub async fn new(pool: PgPool) -> Self {
        Self::with_max_length(pool, 10_000).await
    }

    pub async fn with_max_length(pool: PgPool, max_length: u32) -> Self {
        let topology = Topology {
            prefix: format!("test-{}.", Uuid::new_v4().simple()),
            partitions: 4,
            max_length,
            delivery_limit: 3,
        };
        let connection = rabbitmq::connect(&amqp_url(), "maitred-test")
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        topology.declare(&channel).await.unwrap();
        connection.close(200, "ok".into()).await.unwrap();
        let store = Store::new(pool);
        let publisher = Arc::new(Publisher::new(amqp_url(), topology.clone()));
        let shutdown = CancellationToken::new();
        let relay = outbox::Relay::new(store.clone(), publisher.clone());
        let waker = relay.waker();
        let relay_task = tokio::spawn(relay.run(Duration::from_millis(200), shutdown.clone()));
        let auth =
            Arc::new(api::Authority::new(&JWT_SECRET.into(), Some(STAFF_TOKEN.into())).unwrap());
        let sold_out = Arc::new(api::sold_out::SoldOutView::default());
        let app = api::app(api::AppState {
            store: store.clone(),
            publisher: publisher.clone(),
            relay: waker.clone(),
            url_policy: loopback_policy(),
            callbacks_enabled: true,
            gateway: "simulated".into(),
            auth: auth.clone(),
            pricing: booking::PricingSteps::default(),
            intake: outbox::IntakeBatcher::start(store.clone(), publisher.clone()),
            queue_insight: Arc::default(),
            sold_out: sold_out.clone(),
            dead_letters: Arc::new(rabbitmq::DeadLetters::new(amqp_url(), topology.clone())),
        });
        Self {
            store,
            app,
            topology,
            publisher,
            auth,
            hold_for: Duration::from_secs(600),
            webhooks: worker::webhooks::WebhookConfig {
                callback_secret: Some(webhooks::Secret::parse(CALLBACK_SECRET).unwrap()),
                max_attempts: 3,
                first_backoff: Duration::from_millis(300),
                max_backoff: Duration::from_secs(5),
                concurrency: 8,
            },
            gateway_latency: Duration::from_millis(10),
            relay: waker,
            sold_out,
            shutdown,
            workers: vec![relay_task],
        }
    }

    /// Lets intake hear the workers' inventory notices, as `maitred serve` does. Returns once
    /// the subscription is bound, so no notice after it is missed.
    pub async fn follow_inventory(&mut self) {
        let view = self.sold_out.clone();
        let (bound, mut on_bound) = tokio::sync::watch::channel(false);
        let topology = self.topology.clone();
        let shutdown = self.shutdown.clone();
        self.workers.push(tokio::spawn(async move {
            rabbitmq::inventory::follow(&amqp_url(), &topology, shutdown, |heard| match heard {
                rabbitmq::inventory::Heard::Notice(body) => view.apply(body),
                rabbitmq::inventory::Heard::Gap => {
                    view.forget();
                    let _ = bound.send(true);
                }
            })
            .await;
        }));
        on_bound.wait_for(|bound| *bound).await.unwrap();
    }

    pub fn worker_config(&self) -> worker::WorkerConfig {
        worker::WorkerConfig {
            amqp_url: amqp_url(),
            topology: self.topology.clone(),
            prefetch: 16,
            hold_for: self.hold_for,
            pricing: booking::PricingSteps::default(),
            home: None,
            payment_concurrency: 4,
            gateway_timeout: Duration::from_secs(10),
            webhooks: self.webhooks.clone(),
        }
    }

    pub fn start_worker(&mut self) {
        let context = Arc::new(worker::Context {
            store: self.store.clone(),
            config: self.worker_config(),
            gateway: Arc::new(payments::SimulatedGateway::new(
                self.store.pool().clone(),
                self.gateway_latency,
            )),
            sender: webhooks::Sender::new(loopback_policy(), Duration::from_secs(5)).unwrap(),
            publisher: self.publisher.clone(),
            pace: worker::pace::Pace::default(),
            notices: worker::notices::InventoryNotices::default(),
            relay: self.relay.clone(),
        });
        let handle = tokio::spawn(worker::run(context, self.shutdown.clone()));
        self.workers.push(handle);
    }

    /// Runs the sweeper with no minimum age, stopped by [`Harness::finish`].
    pub fn start_sweeper(&mut self) {
        let handle = tokio::spawn(outbox::run_sweeper(
            self.store.clone(),
            self.publisher.clone(),
            outbox::SweeperConfig {
                interval: Duration::from_millis(100),
                min_age: Duration::ZERO,
                hold_grace: Duration::from_secs(1),
            },
            self.shutdown.clone(),
        ));
        self.workers.push(handle);
    }

    /// A request with the staff bearer token.
    pub async fn staff_request(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.send_as(method, path, body, Some(STAFF_TOKEN)).await
    }

    /// A request with a staff token limited to `restaurants`.
    pub async fn scoped_staff_request(
        &self,
        restaurants: &[Uuid],
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let token = self.auth.staff_token(
            "scoped",
            Some(restaurants.to_vec()),
            Duration::from_secs(600),
        );
        self.send_as(method, path, body, Some(&token)).await
    }

    /// A request with the guest token of `email`.
    pub async fn guest_request_as(
        &self,
        email: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let token = self.auth.guest_token(email, Duration::from_secs(600));
        self.send_as(method, path, body, Some(&token)).await
    }

    /// A request as the guest of [`booking_body`].
    pub async fn guest_request(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.guest_request_as(GUEST_EMAIL, method, path, body).await
    }

    /// Waits until the reservation's status is `status`, or panics after `timeout`.
    pub async fn wait_status(&self, id: Uuid, status: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now: String = sqlx::query_scalar("SELECT status FROM reservation WHERE id = $1")
                .bind(id)
                .fetch_one(self.store.pool())
                .await
                .unwrap();
            if now == status {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "reservation {id} is {now}, not {status}, after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Records a booking as intake does, then "crashes" before publishing it. Returns its id.
    pub async fn record_without_publishing(&self, body: &Value) -> Uuid {
        let form: booking::request::BookingForm = serde_json::from_value(body.clone()).unwrap();
        let restaurant = self
            .store
            .restaurant(form.restaurant_id)
            .await
            .unwrap()
            .unwrap();
        let table_type = self
            .store
            .table_type(form.restaurant_id, form.table_type_id)
            .await
            .unwrap()
            .unwrap();
        let request =
            booking::BookingRequest::parse(&form, &restaurant, &table_type, Utc::now()).unwrap();
        self.store.record_pending(&request, None).await.unwrap();
        request.reservation_id
    }

    /// An anonymous request.
    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.send_as(method, path, body, None).await
    }

    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        bearer: Option<&str>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = bearer {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        send(&self.app, builder.body(body).unwrap()).await
    }

    pub async fn post_reservation(&self, body: &Value) -> Reply {
        self.request(Method::POST, "/v1/reservations", Some(body))
            .await
    }

    /// A read by staff for every restaurant, who may read anything.
    pub async fn get(&self, path: &str) -> Reply {
        self.staff_request(Method::GET, path, None).await
    }

    /// Waits until none of `ids` is pending, or panics after `timeout`.
    pub async fn wait_decided(&self, ids: &[Uuid], timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pending: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM reservation WHERE id = ANY($1) AND status = 'pending'",
            )
            .bind(ids)
            .fetch_one(self.store.pool())
            .await
            .unwrap();
            if pending == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{pending} reservations still pending after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ready messages in a queue of this test's topology.
    pub async fn queue_depth(&self, queue: &str) -> u32 {
        let connection = rabbitmq::connect(&amqp_url(), "maitred-test")
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let depth = self.topology.ready_messages(&channel, queue).await.unwrap();
        connection.close(200, "ok".into()).await.unwrap();
        depth
    }

    /// Waits until a queue's depth satisfies `done`, or panics after a minute.
    pub async fn wait_for_depth(&self, queue: &str, done: impl Fn(u32) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let depth = self.queue_depth(queue).await;
            if done(depth) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{queue} stuck at depth {depth}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn partition_depths(&self) -> u32 {
        let mut total = 0;
        for p in 0..self.topology.partitions {
            total += self.queue_depth(&self.topology.partition_queue(p)).await;
        }
        total
    }

    /// Stops the workers and deletes the test's queues and exchanges.
    pub async fn finish(self) {
        self.shutdown.cancel();
        for worker in self.workers {
            worker.await.unwrap();
        }
        let connection = rabbitmq::connect(&amqp_url(), "maitred-test")
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let delays: Vec<Duration> = std::iter::once(self.hold_for)
            .chain((1..=self.webhooks.max_attempts).map(|a| self.webhooks.backoff(a)))
            .collect();
        self.topology.delete(&channel, &delays).await.unwrap();
        connection.close(200, "ok".into()).await.unwrap();
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

/// A restaurant in UTC, open around the clock, with one table type of `tables` tables
/// (1-4 seats, 25.00 EUR) and 10% overbooking. Returns (restaurant id, table type id).
pub async fn seed_restaurant(store: &Store, tables: u32) -> (Uuid, Uuid) {
    let always_open = (1..=7)
        .map(|weekday| OpeningInterval {
            weekday,
            opens_at: NaiveTime::MIN,
            closes_at: NaiveTime::MIN, // closes at midnight the next day
        })
        .collect();
    let restaurant = Restaurant::with_defaults(
        Uuid::new_v4(),
        "Test Bistro",
        "UTC",
        (48.85, 2.35),
        always_open,
    );
    assert!(store.insert_restaurant(&restaurant).await.unwrap());
    let table_type = TableType {
        id: Uuid::new_v4(),
        restaurant_id: restaurant.id,
        name: "4-top".into(),
        seats_min: 1,
        seats_max: 4,
        base_price_cents: 2500,
        currency: "EUR".into(),
        tables: 0,
        version: 1,
    };
    store
        .insert_table_type(&table_type, tables, "T")
        .await
        .unwrap();
    (restaurant.id, table_type.id)
}

/// A valid booking body for a week from today at 19:00.
pub fn booking_body(restaurant_id: Uuid, table_type_id: Uuid) -> Value {
    json!({
        "reservationId": Uuid::new_v4(),
        "restaurantId": restaurant_id,
        "tableTypeId": table_type_id,
        "partySize": 2,
        "date": (Utc::now().date_naive() + chrono::Duration::days(7)).to_string(),
        "time": "19:00",
        "guest": { "name": "Ada Lovelace", "email": GUEST_EMAIL }
    })
}

pub fn id_of(body: &Value) -> Uuid {
    body["reservationId"].as_str().unwrap().parse().unwrap()
}

/// total_reserved of every slot of a table type, in slot order.
pub async fn reserved_per_slot(store: &Store, table_type_id: Uuid) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT total_reserved FROM inventory WHERE table_type_id = $1 ORDER BY slot_start",
    )
    .bind(table_type_id)
    .fetch_all(store.pool())
    .await
    .unwrap()
}
