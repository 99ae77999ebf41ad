//! The test harness: a real PostgreSQL database per test (from `#[sqlx::test]`), and a real
//! RabbitMQ topology under a prefix of its own, deleted when the test ends.
#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod browser;
pub mod cluster;
pub mod smtp;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use booking::{OpeningInterval, Restaurant, Store, TableType};
use chrono::{NaiveTime, Timelike, Utc};
use http_body_util::BodyExt;
use maitred::application::{Application, Databases, Roles};
use maitred::settings::Settings;
use rabbitmq::{Publisher, Topology};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// `maitred <subcommand>` as its own process, on this test's database (`pool`'s) and queues
/// (`topology`, on the brokers of `amqp_url`), in development mode, logging only warnings.
pub fn maitred_process(
    pool: &PgPool,
    topology: &Topology,
    amqp_url: &str,
    subcommand: &str,
) -> std::process::Command {
    let database = pool
        .connect_options()
        .get_database()
        .unwrap_or("postgres")
        .to_owned();
    let base = std::env::var("DATABASE_URL").unwrap();
    let url = format!("{}/{database}", base.rsplit_once('/').unwrap().0);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_maitred"));
    command
        .arg(subcommand)
        .env("MAITRED_ENV", "development")
        .env("DATABASE_URL", url)
        .env("AMQP_URL", amqp_url)
        .env("MAITRED_AMQP_PREFIX", &topology.prefix)
        .env("MAITRED_PARTITIONS", topology.partitions.to_string())
        .env("MAITRED_MAX_QUEUE_LENGTH", topology.max_length.to_string())
        .env(
            "MAITRED_DELIVERY_LIMIT",
            topology.delivery_limit.to_string(),
        )
        .env("MAITRED_GATEWAY_LATENCY", "5ms")
        .env("MAITRED_DB_POOL_SIZE", "8")
        .env("MAITRED_JWT_SECRET", JWT_SECRET)
        .env("MAITRED_ADMIN_TOKEN", STAFF_TOKEN)
        // Warnings and errors only, into the test's output (shown when it fails).
        .env("RUST_LOG", "warn")
        .env("MAITRED_LOG_FORMAT", "text")
        .stdout(std::process::Stdio::null());
    if let Some(size) = topology.quorum_size {
        command.env("MAITRED_QUORUM_SIZE", size.to_string());
    }
    command
}

/// A test's `maitred` processes ([`maitred_process`]), killed when it ends however it ends:
/// a failing test leaves none behind holding its database.
pub struct Processes(pub Vec<std::process::Child>);

impl Processes {
    pub fn pids(&self) -> std::collections::HashSet<u32> {
        self.0.iter().map(std::process::Child::id).collect()
    }

    /// Kills `pid` with SIGKILL, giving it no chance to hand anything back.
    pub fn kill(&mut self, pid: u32) {
        let index = self.0.iter().position(|c| c.id() == pid).unwrap();
        let mut child = self.0.remove(index);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
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
    /// Requests waiting for a decision; woken only after [`Harness::follow_inventory`].
    pub decisions: Arc<api::decisions::DecisionWaiters>,
    /// The application under test, built as `maitred up` builds it; `None` once stopped.
    application: Option<Application>,
    /// Deletes the test's queues and exchanges when the harness goes away, even when the test
    /// fails before [`Harness::finish`].
    cleanup: QueueCleanup,
}

/// Tests deliver webhooks to servers on loopback, which production refuses by default.
pub const LOOPBACK_NETWORKS: &str = "127.0.0.0/8,::1/128";

pub fn loopback_policy() -> webhooks::UrlPolicy {
    webhooks::UrlPolicy::parse_allow_list(LOOPBACK_NETWORKS).unwrap()
}

/// The settings of every test's application: a topology of 4 partitions under a prefix of its
/// own, quick timers, loopback webhooks and the test secrets.
pub fn test_settings(max_length: u32) -> Settings {
    let mut settings = Settings::from_env().unwrap();
    // The short test tokens and loopback webhooks are for development only.
    settings.environment = maitred::settings::Environment::Development;
    settings.amqp_url = amqp_url();
    settings.amqp_prefix = format!("test-{}.", Uuid::new_v4().simple());
    settings.partitions = 4;
    settings.max_queue_length = max_length;
    settings.delivery_limit = 3;
    settings.prefetch = 16;
    settings.relay_interval = Duration::from_millis(200);
    settings.sweep_interval = Duration::from_millis(100);
    settings.sweep_min_age = Duration::ZERO;
    settings.hold_grace = Duration::from_secs(1);
    settings.hold_for = Duration::from_secs(600);
    settings.pricing_steps = booking::PricingSteps::default();
    settings.payment_concurrency = 4;
    settings.gateway_latency = Duration::from_millis(10);
    settings.gateway_timeout = Duration::from_secs(10);
    settings.webhook_secret = Some(CALLBACK_SECRET.into());
    settings.webhook_allowed_networks = LOOPBACK_NETWORKS.into();
    settings.webhook_max_attempts = 3;
    settings.webhook_first_backoff = Duration::from_millis(300);
    settings.webhook_max_backoff = Duration::from_secs(5);
    settings.webhook_timeout = Duration::from_secs(5);
    settings.webhook_concurrency = 8;
    settings.webhook_callback_concurrency = 4;
    settings.webhook_per_host_concurrency = 4;
    settings.jwt_secret = Some(JWT_SECRET.into());
    settings.admin_token = Some(STAFF_TOKEN.into());
    settings.shutdown_grace = Duration::from_secs(30);
    // Tests book under one email from one address; tests/booking_limits.rs turns them on.
    settings.rate_limits = maitred::settings::Switch::Off;
    settings
}

impl Harness {
    /// A fresh topology with 4 partitions under a unique prefix.
    pub async fn new(pool: PgPool) -> Self {
        Self::with_max_length(pool, 10_000).await
    }

    pub async fn with_max_length(pool: PgPool, max_length: u32) -> Self {
        Self::with_settings(pool, test_settings(max_length)).await
    }

    /// With settings of the test's own (start from [`test_settings`]).
    pub async fn with_settings(pool: PgPool, settings: Settings) -> Self {
        let topology = settings.topology();
        // Armed before anything is declared, so a failing build still cleans up.
        let cleanup = QueueCleanup::new(topology.clone());
        let store = Store::new(pool);
        let mut application =
            Application::build(settings, Roles::ALL, Databases::shared(store.clone()))
                .await
                .unwrap();
        application.spawn_relay();
        let state = application.api_state().unwrap();
        let (auth, sold_out, decisions) = (
            state.auth.clone(),
            state.sold_out.clone(),
            state.decisions.clone(),
        );
        let worker = application.settings.worker_config().unwrap();
        let mut harness = Self {
            store,
            app: application.router().unwrap(),
            topology,
            publisher: application.publisher().clone(),
            auth,
            hold_for: worker.hold_for,
            webhooks: worker.webhooks,
            gateway_latency: application.settings.gateway_latency,
            relay: application.relay_waker().clone(),
            sold_out,
            decisions,
            application: Some(application),
            cleanup,
        };
        harness
            .cleanup
            .remember_delays(&harness.hold_for, &harness.webhooks);
        harness
    }

    /// Deletes the test's queues on `amqp_url` when it ends: for a test whose topology is on
    /// the RabbitMQ cluster rather than the machine's broker.
    pub fn delete_queues_on(&mut self, amqp_url: &str) {
        self.cleanup.amqp_url = amqp_url.to_owned();
    }

    fn application(&mut self) -> &mut Application {
        self.application
            .as_mut()
            .expect("the application was stopped")
    }

    /// Serves the API and the website on a free loopback port, as `maitred serve` does, for
    /// clients that need a real socket (a browser). Returns the base URL.
    pub async fn serve_http(&mut self) -> String {
        let application = self.application();
        application.settings.http_addr = "127.0.0.1:0".parse().unwrap();
        application.serve_http().await.unwrap();
        format!("http://{}", application.http_addr().unwrap())
    }

    /// Lets intake hear the workers' inventory notices, as `maitred serve` does. Returns once
    /// the subscription is bound, so no notice after it is missed.
    pub async fn follow_inventory(&mut self) {
        let (view, waiters) = (self.sold_out.clone(), self.decisions.clone());
        let topology = self.topology.clone();
        follow_notices(self.application(), view, waiters, topology).await;
    }

    /// Another API process on the same queues and database, as a second `maitred serve`
    /// would be, following the workers' notices (bound when this returns). Returns its router
    /// and the application, to stop when done.
    pub async fn another_api_process(&mut self) -> (axum::Router, Application) {
        let settings = self.application().settings.clone();
        let mut other =
            Application::build(settings, Roles::API, Databases::shared(self.store.clone()))
                .await
                .unwrap();
        let state = other.api_state().unwrap();
        let (view, waiters) = (state.sold_out.clone(), state.decisions.clone());
        let router = other.router().unwrap();
        follow_notices(&mut other, view, waiters, self.topology.clone()).await;
        (router, other)
    }

    /// Starts a worker with the harness's hold, gateway latency and webhook settings.
    pub fn start_worker(&mut self) {
        let (hold_for, latency, webhooks) =
            (self.hold_for, self.gateway_latency, self.webhooks.clone());
        self.cleanup.remember_delays(&hold_for, &webhooks);
        let settings = &mut self.application().settings;
        settings.hold_for = hold_for;
        settings.gateway_latency = latency;
        settings.webhook_max_attempts = webhooks.max_attempts;
        settings.webhook_first_backoff = webhooks.first_backoff;
        settings.webhook_max_backoff = webhooks.max_backoff;
        settings.webhook_concurrency = webhooks.concurrency;
        settings.webhook_callback_concurrency = webhooks.callback_concurrency;
        settings.webhook_per_host_concurrency = webhooks.per_host_concurrency;
        self.application().spawn_worker().unwrap();
    }

    /// Runs the sweeper with no minimum age, stopped by [`Harness::finish`].
    pub fn start_sweeper(&mut self) {
        self.application().spawn_sweeper();
    }

    /// Stops the workers, relay and sweepers, and waits until they have settled what they had
    /// in hand: after this, nothing more happens. Panics if one of them failed.
    pub async fn stop_workers(&mut self) {
        if let Some(application) = self.application.take() {
            application.stop().await.unwrap();
        }
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

    /// How many of `ids` are reservations: a refused request must be none.
    pub async fn recorded_among(&self, ids: &[Uuid]) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM reservation WHERE id = ANY($1)")
            .bind(ids)
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }

    /// Asserts that every one of `ids` left `pending` exactly once: decided, and never twice.
    pub async fn assert_decided_once(&self, ids: &[Uuid]) {
        let decisions: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT r.id, count(e.id) FROM unnest($1::uuid[]) AS r(id)
             LEFT JOIN reservation_event e ON e.reservation_id = r.id AND e.from_status = 'pending'
             GROUP BY r.id",
        )
        .bind(ids)
        .fetch_all(self.store.pool())
        .await
        .unwrap();
        let wrong: Vec<&(Uuid, i64)> = decisions.iter().filter(|(_, n)| *n != 1).collect();
        assert!(
            wrong.is_empty(),
            "decisions of {} of {} reservations are not one: {wrong:?}",
            wrong.len(),
            ids.len()
        );
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

    /// Waits until none of `queues` holds a message, ready or in a consumer's hands: every
    /// message that was in them has been handled and acked (workers ack after their commit),
    /// so whatever they were going to do is done. Asks `rabbitmqctl`, because AMQP only tells
    /// the ready count.
    pub async fn wait_settled(&self, queues: &[String]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let output = tokio::task::spawn_blocking(|| {
                std::process::Command::new("rabbitmqctl")
                    .args([
                        "list_queues",
                        "-q",
                        "--no-table-headers",
                        "name",
                        "messages",
                    ])
                    .output()
            })
            .await
            .unwrap()
            .expect("rabbitmqctl runs (the broker is local)");
            assert!(output.status.success(), "rabbitmqctl list_queues failed");
            let listing = String::from_utf8_lossy(&output.stdout);
            let busy: Vec<&str> = listing
                .lines()
                .filter(|line| {
                    let mut columns = line.split_whitespace();
                    let (name, messages) = (columns.next(), columns.next());
                    name.is_some_and(|name| queues.iter().any(|queue| queue == name))
                        && messages != Some("0")
                })
                .collect();
            if busy.is_empty() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "still holding messages after a minute: {busy:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets how long webhook receivers have to answer, in workers started from now on.
    pub fn set_webhook_timeout(&mut self, timeout: Duration) {
        self.application().settings.webhook_timeout = timeout;
    }

    /// Every partition queue of the test's topology.
    pub fn partition_queues(&self) -> Vec<String> {
        (0..self.topology.partitions)
            .map(|p| self.topology.partition_queue(p))
            .collect()
    }

    /// The webhooks queue and the delay queues its retries wait in.
    pub fn webhook_queues(&self) -> Vec<String> {
        std::iter::once(self.topology.webhooks_queue())
            .chain(
                (1..=self.webhooks.max_attempts)
                    .map(|attempt| self.topology.delay_queue(self.webhooks.backoff(attempt))),
            )
            .collect()
    }

    pub async fn partition_depths(&self) -> u32 {
        let mut total = 0;
        for p in 0..self.topology.partitions {
            total += self.queue_depth(&self.topology.partition_queue(p)).await;
        }
        total
    }

    /// Stops the workers and deletes the test's queues and exchanges.
    pub async fn finish(mut self) {
        self.stop_workers().await;
        self.cleanup.delete().await;
    }
}

/// The test's queues and exchanges, deleted by [`QueueCleanup::delete`] or, when a test fails
/// before that, on drop: leftover quorum queues pile up on a reused broker until it runs out
/// of file handles.
pub struct QueueCleanup {
    topology: Topology,
    /// Where the queues are: the machine's broker (tests that go through a proxy to it still
    /// delete directly), unless [`Harness::delete_queues_on`] names the test's cluster.
    amqp_url: String,
    /// Every delay queue the test may have declared (hold expiry, webhook back-offs).
    delays: Vec<Duration>,
    done: bool,
}

impl QueueCleanup {
    /// For an application built from `settings` whose workers keep those settings.
    pub fn for_settings(settings: &Settings) -> Self {
        let mut cleanup = Self::new(settings.topology());
        let webhooks = settings.webhook_config().unwrap();
        cleanup.remember_delays(&settings.hold_for, &webhooks);
        cleanup
    }

    fn new(topology: Topology) -> Self {
        Self {
            topology,
            amqp_url: amqp_url(),
            delays: Vec::new(),
            done: false,
        }
    }

    fn remember_delays(&mut self, hold_for: &Duration, webhooks: &worker::webhooks::WebhookConfig) {
        let delays = std::iter::once(*hold_for)
            .chain((1..=webhooks.max_attempts).map(|attempt| webhooks.backoff(attempt)));
        for delay in delays {
            if !self.delays.contains(&delay) {
                self.delays.push(delay);
            }
        }
    }

    pub async fn delete(&mut self) {
        let connection = rabbitmq::connect(&self.amqp_url, "maitred-test-cleanup")
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        self.topology.delete(&channel, &self.delays).await.unwrap();
        connection.close(200, "ok".into()).await.unwrap();
        self.done = true;
    }
}

impl Drop for QueueCleanup {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Drop cannot await, and the test's runtime may be unwinding: delete from a runtime of
        // our own on another thread.
        let mut cleanup = Self {
            topology: self.topology.clone(),
            amqp_url: self.amqp_url.clone(),
            delays: std::mem::take(&mut self.delays),
            done: false,
        };
        self.done = true;
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(cleanup.delete());
        })
        .join();
        if deleted.is_err() {
            eprintln!("could not delete the queues of {}", self.topology.prefix);
        }
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

/// Lets an application's intake hear the workers' notices (its sold-out view and its waiting
/// requests), as `maitred serve` does. Returns once the subscription is bound, so no notice
/// after it is missed.
async fn follow_notices(
    application: &mut Application,
    view: Arc<api::sold_out::SoldOutView>,
    waiters: Arc<api::decisions::DecisionWaiters>,
    topology: Topology,
) {
    let (bound, mut on_bound) = tokio::sync::watch::channel(false);
    let shutdown = application.shutdown_token();
    application.spawn("sold-out view", async move {
        rabbitmq::inventory::follow(&amqp_url(), &topology, shutdown, |heard| match heard {
            rabbitmq::inventory::Heard::Notice(body) => {
                view.apply(body);
                waiters.apply(body);
            }
            rabbitmq::inventory::Heard::Gap => {
                view.forget();
                waiters.wake_all();
                let _ = bound.send(true);
            }
        })
        .await;
    });
    on_bound.wait_for(|bound| *bound).await.unwrap();
}

/// A restaurant in UTC, open around the clock, with one table type of `tables` tables
/// (1-4 seats, 25.00 EUR) and 10% overbooking. Returns (restaurant id, table type id).
pub async fn seed_restaurant(store: &Store, tables: u32) -> (Uuid, Uuid) {
    let four_top = ("4-top", 1, 4, 2500, tables);
    let (restaurant, types) =
        seed_restaurant_with(store, "Test Bistro", "", (48.85, 2.35), &[four_top], |_| {}).await;
    (restaurant, types[0])
}

/// A table type to seed: (name, seats min, seats max, price in cents, tables).
pub type Kind = (&'static str, i32, i32, i64, u32);

/// A restaurant in UTC, open around the clock, in `city` at `at` (latitude, longitude), with
/// these table types (in EUR), after `change` has had its say. Returns its id and its types'.
pub async fn seed_restaurant_with(
    store: &Store,
    name: &str,
    city: &str,
    at: (f64, f64),
    kinds: &[Kind],
    change: impl FnOnce(&mut Restaurant),
) -> (Uuid, Vec<Uuid>) {
    let always_open = (1..=7)
        .map(|weekday| OpeningInterval {
            weekday,
            opens_at: NaiveTime::MIN,
            closes_at: NaiveTime::MIN, // closes at midnight the next day
        })
        .collect();
    let mut restaurant = Restaurant::with_defaults(Uuid::new_v4(), name, "UTC", at, always_open);
    restaurant.city = city.into();
    change(&mut restaurant);
    assert!(store.insert_restaurant(&restaurant).await.unwrap());
    let mut types = Vec::new();
    for &(type_name, seats_min, seats_max, price, tables) in kinds {
        let table_type = TableType {
            id: Uuid::new_v4(),
            restaurant_id: restaurant.id,
            name: type_name.into(),
            seats_min,
            seats_max,
            base_price_cents: price,
            currency: "EUR".into(),
            tables: 0,
            version: 1,
        };
        store
            .insert_table_type(&table_type, tables, "T")
            .await
            .unwrap();
        types.push(table_type.id);
    }
    (restaurant.id, types)
}

/// The password of every staff account [`seed_staff`] makes.
pub const STAFF_PASSWORD: &str = "a long test password";

/// A staff account of the admin panel with [`STAFF_PASSWORD`]: a chain admin, or the manager
/// of `restaurants`.
pub async fn seed_staff(
    store: &Store,
    email: &str,
    role: booking::staff::StaffRole,
) -> booking::staff::StaffAccount {
    let new = booking::staff::NewStaff {
        email: email.into(),
        name: email.split('@').next().unwrap_or(email).into(),
        role,
    };
    let account = store.insert_staff(&new).await.unwrap().unwrap();
    store
        .set_staff_password(account.id, &api::admin::password::hash(STAFF_PASSWORD))
        .await
        .unwrap();
    account
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

/// A fixed-offset zone in which it is now between 17:00 and 18:00: the hour a host opens the
/// book, whatever the hour of the machine running the test.
pub fn five_pm_zone() -> String {
    let mut offset = 17 - i64::from(Utc::now().hour());
    if offset > 14 {
        offset -= 24;
    }
    match offset {
        0 => "UTC".to_owned(),
        // The Etc zones' signs are POSIX's: Etc/GMT-5 is five hours ahead of UTC.
        ahead if ahead > 0 => format!("Etc/GMT-{ahead}"),
        behind => format!("Etc/GMT+{}", -behind),
    }
}
