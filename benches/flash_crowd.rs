//! Flash crowd (issue 6): one restaurant, three table types (sections A, B, C) of 200 tables
//! each, 10% overbooking, one slot that everyone books, N requests from C concurrent HTTP
//! clients. maitred end to end (HTTP intake → RabbitMQ → worker → PostgreSQL) beside four
//! direct-to-database peers, in one process, one run, one database and one schema.
//!
//! `cargo bench --bench flash_crowd -- --requests 20000 --concurrency 64`
//!
//! Flags: `--requests N` (100000), `--concurrency C` (64), `--pool S` (database connections
//! per contender, 20 = maitred's default), `--partitions P` (4), `--prefetch K` (32),
//! `--worker-pool K` (0: maitred's intake and worker share the pool; K: the worker gets K of
//! the pool's connections to itself, as `maitred up` and a separate `maitred work` do),
//! `--only naive,for_update,conditional,optimistic,maitred`, `--out FILE`
//! (target/bench-results/flash_crowd.json), `--drain-timeout SECS` (1800).
//! Environment: `BENCH_PG_URL` (postgres://postgres@127.0.0.1:5432), `AMQP_URL`.

mod support;

use support::{fair_pool, percentile, serve, Maitred};

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use booking::{OpeningInterval, Restaurant, Store, TableType};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, PgPool};
use uuid::Uuid;

const TABLES_PER_TYPE: u32 = 200;
const OVERBOOKING_PCT: i32 = 10;
/// floor(200 × 110 / 100): what each type may sell.
const LIMIT_PER_TYPE: i64 = (TABLES_PER_TYPE as i64) * (100 + OVERBOOKING_PCT as i64) / 100;
const SECTIONS: [&str; 3] = ["A", "B", "C"];
/// The optimistic peer's attempts per request before it gives up.
const OPTIMISTIC_ATTEMPTS: usize = 10;
const CONTENDERS: [&str; 5] = [
    "naive",
    "for_update",
    "conditional",
    "optimistic",
    "maitred",
];

#[derive(Debug, Clone)]
struct Args {
    requests: usize,
    concurrency: usize,
    pool: u32,
    partitions: u16,
    prefetch: u16,
    worker_pool: u32,
    only: Vec<String>,
    out: String,
    drain_timeout: Duration,
}

fn parse_args() -> Args {
    let mut args = Args {
        requests: 100_000,
        concurrency: 64,
        pool: 20,
        partitions: 4,
        prefetch: 32,
        worker_pool: 0,
        only: CONTENDERS.iter().map(|s| (*s).to_string()).collect(),
        out: "target/bench-results/flash_crowd.json".into(),
        drain_timeout: Duration::from_secs(1800),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--requests" => args.requests = value().parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value().parse().expect("--concurrency C"),
            "--pool" => args.pool = value().parse().expect("--pool S"),
            "--partitions" => args.partitions = value().parse().expect("--partitions P"),
            "--prefetch" => args.prefetch = value().parse().expect("--prefetch K"),
            "--worker-pool" => args.worker_pool = value().parse().expect("--worker-pool K"),
            "--only" => args.only = value().split(',').map(str::to_string).collect(),
            "--out" => args.out = value(),
            "--drain-timeout" => {
                args.drain_timeout = Duration::from_secs(value().parse().expect("--drain-timeout"))
            }
            // cargo bench passes --bench to harness = false targets.
            "--bench" => {}
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc

/// utime + stime, in clock ticks (100 per second here: `getconf CLK_TCK`).
fn proc_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); utime is field 14, stime 15.
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    utime + stime
}

#[derive(Debug, Clone, Default)]
struct CpuSnapshot {
    /// Per pid: ticks.
    bench: u64,
    postgres: HashMap<String, u64>,
    rabbitmq: HashMap<String, u64>,
}

/// This process, every PostgreSQL process that is not a backend of another database, and the
/// RabbitMQ node (beam.smp; it also serves other users of the broker).
fn cpu_snapshot(database: &str) -> CpuSnapshot {
    let mut snap = CpuSnapshot {
        bench: proc_ticks("self"),
        ..CpuSnapshot::default()
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return snap;
    };
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        match comm.trim() {
            "postgres" => {
                let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                    .unwrap_or_default()
                    .replace('\0', " ");
                // A backend's title is "postgres: 15/main: <user> <database> <client> <state>".
                let is_backend = cmdline.contains("127.0.0.1(") || cmdline.contains("[local]");
                if !is_backend || cmdline.contains(database) {
                    snap.postgres
                        .insert(pid, proc_ticks(&entry.file_name().to_string_lossy()));
                }
            }
            "beam.smp" => {
                snap.rabbitmq.insert(pid.clone(), proc_ticks(&pid));
            }
            _ => {}
        }
    }
    snap
}

#[derive(Debug, Clone, Copy, Default)]
struct CpuSeconds {
    bench: f64,
    postgres: f64,
    rabbitmq: f64,
}

impl CpuSeconds {
    fn total(self) -> f64 {
        self.bench + self.postgres + self.rabbitmq
    }
}

fn cpu_between(before: &CpuSnapshot, after: &CpuSnapshot) -> CpuSeconds {
    let diff = |b: &HashMap<String, u64>, a: &HashMap<String, u64>| -> f64 {
        a.iter()
            .map(|(pid, t)| t.saturating_sub(*b.get(pid).unwrap_or(&0)))
            .sum::<u64>() as f64
            / 100.0
    };
    CpuSeconds {
        bench: after.bench.saturating_sub(before.bench) as f64 / 100.0,
        postgres: diff(&before.postgres, &after.postgres),
        rabbitmq: diff(&before.rabbitmq, &after.rabbitmq),
    }
}

// ---------------------------------------------------------------------------------------------
// The scenario

/// One restaurant of a contender: its own rows, so each contender starts on fresh inventory.
#[derive(Debug, Clone)]
struct Scene {
    restaurant_id: Uuid,
    table_types: Vec<Uuid>,
    date: NaiveDate,
    time: NaiveTime,
}

impl Scene {
    fn slot(&self) -> NaiveDateTime {
        self.date.and_time(self.time)
    }
}

/// A restaurant open around the clock, with 90-minute slots and 90-minute stays (so a booking
/// holds exactly one slot), 10% overbooking, no prepayment (a decision is the final state), and
/// three table types of 200 tables.
async fn seed(store: &Store, label: &str) -> Scene {
    let always_open = (1..=7)
        .map(|weekday| OpeningInterval {
            weekday,
            opens_at: NaiveTime::MIN,
            closes_at: NaiveTime::MIN,
        })
        .collect();
    let mut restaurant = Restaurant::with_defaults(
        Uuid::new_v4(),
        format!("Flash crowd ({label})"),
        "UTC",
        (48.85, 2.35),
        always_open,
    );
    restaurant.slot_minutes = 90;
    restaurant.default_duration_minutes = 90;
    restaurant.overbooking_pct = OVERBOOKING_PCT;
    restaurant.prepayment_required = false;
    assert!(store.insert_restaurant(&restaurant).await.unwrap());
    let mut table_types = Vec::new();
    for section in SECTIONS {
        let table_type = TableType {
            id: Uuid::new_v4(),
            restaurant_id: restaurant.id,
            name: format!("Section {section}"),
            seats_min: 1,
            seats_max: 4,
            base_price_cents: 2500,
            currency: "EUR".into(),
            tables: 0,
            version: 1,
        };
        store
            .insert_table_type(&table_type, TABLES_PER_TYPE, section)
            .await
            .unwrap();
        table_types.push(table_type.id);
    }
    Scene {
        restaurant_id: restaurant.id,
        table_types,
        date: Utc::now().date_naive() + chrono::Duration::days(7),
        // 19:30 = 13 × 90 minutes: on the 90-minute grid.
        time: NaiveTime::from_hms_opt(19, 30, 0).unwrap(),
    }
}

/// The peers find their inventory rows made (maitred makes them on first need).
async fn make_inventory(pool: &PgPool, scene: &Scene) {
    for table_type in &scene.table_types {
        sqlx::query(
            "INSERT INTO inventory (table_type_id, slot_start, total_inventory, overbooking_pct)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(table_type)
        .bind(scene.slot())
        .bind(TABLES_PER_TYPE as i32)
        .bind(OVERBOOKING_PCT)
        .execute(pool)
        .await
        .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The peers: an HTTP endpoint each, deciding in the request

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Naive,
    ForUpdate,
    Conditional,
    Optimistic,
}

#[derive(Clone)]
struct PeerState {
    kind: Peer,
    pool: PgPool,
    scene: Arc<Scene>,
}

/// The reservation row of an accepted booking, with its guest, in one statement.
const INSERT_RESERVATION: &str = "WITH g AS (
        INSERT INTO guest (id, name, email) VALUES ($1, 'Bench Diner', $2) RETURNING id
    )
    INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name, guest_email,
        table_count, party_size, service_date, start_time, duration_minutes, status, reason,
        price_cents, currency, reserved_slots)
    SELECT $3, $4, $5, g.id, 'Bench Diner', $2, 1, 2, $6, $7, 90, 'confirmed', 'no_prepayment',
           2500, 'EUR', ARRAY[$8::timestamp]
    FROM g";

async fn insert_reservation(
    conn: &mut sqlx::PgConnection,
    scene: &Scene,
    id: Uuid,
    table_type: Uuid,
    email: &str,
) -> sqlx::Result<()> {
    sqlx::query(INSERT_RESERVATION)
        .bind(Uuid::new_v4())
        .bind(email)
        .bind(id)
        .bind(scene.restaurant_id)
        .bind(table_type)
        .bind(scene.date)
        .bind(scene.time)
        .bind(scene.slot())
        .execute(conn)
        .await?;
    Ok(())
}

const LIMIT_EXPR: &str = "total_inventory * (100 + overbooking_pct) / 100";

/// Decides one booking in the request. Returns whether it was accepted.
async fn peer_decide(
    state: &PeerState,
    id: Uuid,
    table_type: Uuid,
    email: &str,
) -> sqlx::Result<bool> {
    let scene = &state.scene;
    let slot = scene.slot();
    let mut conn = state.pool.acquire().await?;
    match state.kind {
        Peer::Naive => {
            // Check, then write what was read plus one: lost updates oversell.
            let (reserved, limit): (i32, i32) = sqlx::query_as(&format!(
                "SELECT total_reserved, {LIMIT_EXPR} FROM inventory
                 WHERE table_type_id = $1 AND slot_start = $2"
            ))
            .bind(table_type)
            .bind(slot)
            .fetch_one(&mut *conn)
            .await?;
            if reserved >= limit {
                return Ok(false);
            }
            let mut tx = conn.begin().await?;
            insert_reservation(&mut tx, scene, id, table_type, email).await?;
            sqlx::query(
                "UPDATE inventory SET total_reserved = $3 WHERE table_type_id = $1 AND slot_start = $2",
            )
            .bind(table_type)
            .bind(slot)
            .bind(reserved + 1)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }
        Peer::ForUpdate => {
            let mut tx = conn.begin().await?;
            let (reserved, limit): (i32, i32) = sqlx::query_as(&format!(
                "SELECT total_reserved, {LIMIT_EXPR} FROM inventory
                 WHERE table_type_id = $1 AND slot_start = $2 FOR UPDATE"
            ))
            .bind(table_type)
            .bind(slot)
            .fetch_one(&mut *tx)
            .await?;
            if reserved + 1 > limit {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2",
            )
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
            insert_reservation(&mut tx, scene, id, table_type, email).await?;
            tx.commit().await?;
            Ok(true)
        }
        Peer::Conditional => {
            let mut tx = conn.begin().await?;
            let updated = sqlx::query(&format!(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2 AND total_reserved + 1 <= {LIMIT_EXPR}"
            ))
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            insert_reservation(&mut tx, scene, id, table_type, email).await?;
            tx.commit().await?;
            Ok(true)
        }
        Peer::Optimistic => {
            for _ in 0..OPTIMISTIC_ATTEMPTS {
                let (reserved, limit, version): (i32, i32, i64) = sqlx::query_as(&format!(
                    "SELECT total_reserved, {LIMIT_EXPR}, version FROM inventory
                     WHERE table_type_id = $1 AND slot_start = $2"
                ))
                .bind(table_type)
                .bind(slot)
                .fetch_one(&mut *conn)
                .await?;
                if reserved + 1 > limit {
                    return Ok(false);
                }
                let mut tx = conn.begin().await?;
                let updated = sqlx::query(
                    "UPDATE inventory SET total_reserved = total_reserved + 1, version = version + 1
                     WHERE table_type_id = $1 AND slot_start = $2 AND version = $3",
                )
                .bind(table_type)
                .bind(slot)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated == 1 {
                    insert_reservation(&mut tx, scene, id, table_type, email).await?;
                    tx.commit().await?;
                    return Ok(true);
                }
                tx.rollback().await?;
            }
            // Gave up after bounded retries: the client hears "try again later".
            Err(sqlx::Error::Protocol(
                "optimistic: retries exhausted".into(),
            ))
        }
    }
}

async fn peer_book(State(state): State<PeerState>, body: String) -> (StatusCode, String) {
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad json".into());
    };
    let id: Uuid = body["reservationId"]
        .as_str()
        .unwrap_or("")
        .parse()
        .unwrap();
    let table_type: Uuid = body["tableTypeId"].as_str().unwrap_or("").parse().unwrap();
    let email = body["guest"]["email"].as_str().unwrap_or("").to_string();
    match peer_decide(&state, id, table_type, &email).await {
        Ok(true) => (StatusCode::OK, r#"{"status":"confirmed"}"#.into()),
        Ok(false) => (StatusCode::OK, r#"{"status":"rejected"}"#.into()),
        Err(sqlx::Error::Protocol(message)) if message.starts_with("optimistic") => {
            (StatusCode::SERVICE_UNAVAILABLE, message)
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Load generation

#[derive(Debug, Clone)]
struct Sent {
    id: Uuid,
    /// When the request left, by the wall clock (the database's clock is the same host's).
    sent_wall: DateTime<Utc>,
    /// Since the start of the run.
    sent: Duration,
    answered: Duration,
    /// 202 for maitred; for peers "confirmed" / "rejected"; or the error.
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Confirmed,
    Rejected,
    GaveUp,
    Error(String),
}

fn booking_body(scene: &Scene, i: usize, run: &str) -> (Uuid, String) {
    let id = Uuid::new_v4();
    let body = json!({
        "reservationId": id,
        "restaurantId": scene.restaurant_id,
        "tableTypeId": scene.table_types[i % scene.table_types.len()],
        "partySize": 2,
        "date": scene.date.to_string(),
        "time": scene.time.format("%H:%M").to_string(),
        "guest": {"name": "Bench Diner", "email": format!("diner{i}.{run}@example.com")},
    });
    (id, body.to_string())
}

/// C clients, each taking the next request number until N are sent. A 503 from maitred is
/// retried with the same id (it promises that nothing happened).
async fn drive(url: String, scene: &Scene, args: &Args, run: &str, start: Instant) -> Vec<Sent> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let client = client.clone();
        let next = next.clone();
        let url = url.clone();
        let scene = scene.clone();
        let n = args.requests;
        let run = run.to_string();
        tasks.spawn(async move {
            let mut sent = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let (id, body) = booking_body(&scene, i, &run);
                let sent_wall = Utc::now();
                let sent_at = start.elapsed();
                let mut outcome = Outcome::Error("never answered".into());
                for _attempt in 0..100 {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match response {
                        Ok(r) => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            outcome = match status.as_u16() {
                                202 => Outcome::Accepted,
                                200 if text.contains("confirmed") => Outcome::Confirmed,
                                200 => Outcome::Rejected,
                                // maitred's sold-out answer: final, nothing recorded.
                                409 if text.contains("sold-out") => Outcome::Rejected,
                                503 if text.contains("optimistic") => Outcome::GaveUp,
                                503 => {
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                    continue;
                                }
                                other => Outcome::Error(format!("{other}: {text}")),
                            };
                        }
                        Err(error) => outcome = Outcome::Error(error.to_string()),
                    }
                    break;
                }
                sent.push(Sent {
                    id,
                    sent_wall,
                    sent: sent_at,
                    answered: start.elapsed(),
                    outcome,
                });
            }
            sent
        });
    }
    let mut all = Vec::with_capacity(args.requests);
    while let Some(part) = tasks.join_next().await {
        all.extend(part.unwrap());
    }
    all
}

// ---------------------------------------------------------------------------------------------
// Results

#[derive(Debug, Clone, Default)]
struct Gates {
    oversold_inventory: i64,
    oversold_reservations: i64,
    duplicates: i64,
    accepted_but_lost: i64,
}

impl Gates {
    fn all_zero(&self) -> bool {
        self.oversold_inventory == 0
            && self.oversold_reservations == 0
            && self.duplicates == 0
            && self.accepted_but_lost == 0
    }
}

#[derive(Debug, Clone, Default)]
struct Figures {
    name: String,
    requests: usize,
    accepted: usize,
    intake_per_s: f64,
    decisions_per_s: f64,
    all_final_s: f64,
    sold_out_s: Option<f64>,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    cpu: CpuSeconds,
    cpu_per_1000: f64,
    sold: i64,
    unsold: i64,
    rejected: usize,
    gave_up: usize,
    errors: usize,
    first_error: Option<String>,
    gates: Gates,
    /// maitred only: where the time goes.
    profile: Option<Value>,
}

/// Oversold from inventory rows and from counting the reservations held per type.
async fn oversold(pool: &PgPool, scene: &Scene) -> (i64, i64, i64) {
    let from_inventory: i64 = sqlx::query_scalar(&format!(
        "SELECT coalesce(sum(greatest(total_reserved - {LIMIT_EXPR}, 0)), 0)::bigint
         FROM inventory WHERE table_type_id = ANY($1)"
    ))
    .bind(&scene.table_types)
    .fetch_one(pool)
    .await
    .unwrap();
    let per_type: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT table_type_id, count(*) FROM reservation
         WHERE restaurant_id = $1 AND status IN ('held', 'confirmed') GROUP BY table_type_id",
    )
    .bind(scene.restaurant_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let from_reservations = per_type
        .iter()
        .map(|(_, n)| (n - LIMIT_PER_TYPE).max(0))
        .sum();
    let sold = per_type.iter().map(|(_, n)| *n).sum();
    (from_inventory, from_reservations, sold)
}

async fn run_peer(kind: Peer, name: &str, args: &Args, admin: &PgPool, db_url: &str) -> Figures {
    let pool = fair_pool(db_url, args.pool).await;
    let store = Store::new(pool.clone());
    let scene = seed(&store, name).await;
    make_inventory(&pool, &scene).await;
    let state = PeerState {
        kind,
        pool: pool.clone(),
        scene: Arc::new(scene.clone()),
    };
    let app = Router::new()
        .route("/book", post(peer_book))
        .with_state(state);
    let (addr, server, stop) = serve(app).await;
    let url = format!("http://{addr}/book");

    let database = database_name(db_url);
    let cpu_before = cpu_snapshot(&database);
    let start = Instant::now();
    let sent = drive(url, &scene, args, name, start).await;
    let cpu_after = cpu_snapshot(&database);
    stop.cancel();
    server.await.unwrap();

    let all_final = sent
        .iter()
        .map(|s| s.answered)
        .max()
        .unwrap_or_default()
        .as_secs_f64();
    let sold_out = sent
        .iter()
        .filter(|s| s.outcome == Outcome::Confirmed)
        .map(|s| s.answered)
        .max()
        .map(|d| d.as_secs_f64());
    let mut latencies: Vec<f64> = sent
        .iter()
        .map(|s| (s.answered - s.sent).as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let confirmed: Vec<Uuid> = sent
        .iter()
        .filter(|s| s.outcome == Outcome::Confirmed)
        .map(|s| s.id)
        .collect();
    let (oversold_inventory, oversold_reservations, sold) = oversold(admin, &scene).await;
    // Told "confirmed" but no row; or a row although the client was not told "confirmed".
    let rows_of_confirmed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reservation WHERE id = ANY($1)")
            .bind(&confirmed)
            .fetch_one(admin)
            .await
            .unwrap();
    let all_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reservation WHERE restaurant_id = $1")
            .bind(scene.restaurant_id)
            .fetch_one(admin)
            .await
            .unwrap();
    pool.close().await;
    let cpu = cpu_between(&cpu_before, &cpu_after);
    let errors: Vec<&Sent> = sent
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Error(_)))
        .collect();
    Figures {
        name: name.into(),
        requests: sent.len(),
        accepted: sent.len(),
        intake_per_s: sent.len() as f64 / all_final,
        decisions_per_s: sent.len() as f64 / all_final,
        all_final_s: all_final,
        sold_out_s: sold_out,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        p999_ms: percentile(&latencies, 99.9),
        cpu,
        cpu_per_1000: cpu.total() / (sent.len() as f64 / 1000.0),
        sold,
        unsold: (LIMIT_PER_TYPE * 3 - sold).max(0),
        rejected: sent
            .iter()
            .filter(|s| s.outcome == Outcome::Rejected)
            .count(),
        gave_up: sent.iter().filter(|s| s.outcome == Outcome::GaveUp).count(),
        errors: errors.len(),
        first_error: errors.first().map(|s| format!("{:?}", s.outcome)),
        profile: None,
        gates: Gates {
            oversold_inventory,
            oversold_reservations,
            duplicates: (all_rows - confirmed.len() as i64).max(0),
            accepted_but_lost: confirmed.len() as i64 - rows_of_confirmed,
        },
    }
}

/// The sum and count of a Prometheus histogram (or summary), over the series whose labels
/// contain `filter`.
fn metric_sum_count(text: &str, name: &str, filter: &str) -> (f64, f64) {
    let mut sum = 0.0;
    let mut count = 0.0;
    for line in text.lines() {
        let value = || {
            line.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        if !line.contains(filter) {
            continue;
        }
        if line.starts_with(&format!("{name}_sum")) {
            sum += value();
        } else if line.starts_with(&format!("{name}_count")) {
            count += value();
        }
    }
    (sum, count)
}

fn database_name(db_url: &str) -> String {
    db_url.rsplit('/').next().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------------------------------------
// maitred, end to end

async fn run_maitred(args: &Args, admin: &PgPool, db_url: &str) -> Figures {
    // One pool shared by intake and the worker; or, with --worker-pool K, the worker's own K
    // connections and intake's pool − K, as `maitred up` and separate `maitred serve` and
    // `maitred work` processes have (here within the same total).
    let api_size = args.pool - args.worker_pool.min(args.pool - 1);
    let pool = fair_pool(db_url, api_size).await;
    let store = Store::new(pool.clone());
    let worker_pool = if args.worker_pool > 0 {
        fair_pool(db_url, args.pool - api_size).await
    } else {
        pool.clone()
    };
    let worker_store = Store::new(worker_pool.clone());
    let scene = seed(&store, "maitred").await;
    let maitred = Maitred::start(
        store.clone(),
        worker_store.clone(),
        args.partitions,
        u32::try_from(args.requests).unwrap_or(u32::MAX).max(10_000) + 10_000,
        args.prefetch,
    )
    .await;
    let url = maitred.url.clone();

    let database = database_name(db_url);
    let cpu_before = cpu_snapshot(&database);
    let start = Instant::now();
    let start_wall = Utc::now();
    let sent = drive(url, &scene, args, "maitred", start).await;
    let intake_done = sent.iter().map(|s| s.answered).max().unwrap_or_default();
    let accepted: Vec<Uuid> = sent
        .iter()
        .filter(|s| s.outcome == Outcome::Accepted)
        .map(|s| s.id)
        .collect();

    // Watch the statuses in bulk: one count per 50 ms instead of N polls of the API.
    let deadline = Instant::now() + args.drain_timeout;
    let observed_final = loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reservation WHERE restaurant_id = $1 AND status = 'pending'",
        )
        .bind(scene.restaurant_id)
        .fetch_one(admin)
        .await
        .unwrap();
        if pending == 0 || Instant::now() > deadline {
            break start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let cpu_after = cpu_snapshot(&database);

    // Decision times by the database clock (the decision transaction's now()).
    let decided: Vec<(Uuid, String, DateTime<Utc>)> =
        sqlx::query_as("SELECT id, status, updated_at FROM reservation WHERE restaurant_id = $1")
            .bind(scene.restaurant_id)
            .fetch_all(admin)
            .await
            .unwrap();
    let by_id: HashMap<Uuid, (&str, DateTime<Utc>)> = decided
        .iter()
        .map(|(id, status, at)| (*id, (status.as_str(), *at)))
        .collect();
    let since_start =
        |at: DateTime<Utc>| (at - start_wall).num_microseconds().unwrap_or(0) as f64 / 1e6;
    // Turned away at intake (sold out): final when answered.
    let turned_away: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.outcome == Outcome::Rejected)
        .collect();
    let mut latencies: Vec<f64> = turned_away
        .iter()
        .map(|s| (s.answered - s.sent).as_secs_f64() * 1e3)
        .collect();
    let mut lost = 0;
    let mut last_final = 0f64;
    for s in sent.iter().filter(|s| s.outcome == Outcome::Accepted) {
        match by_id.get(&s.id) {
            Some((status, at)) if *status != "pending" => {
                latencies.push((*at - s.sent_wall).num_microseconds().unwrap_or(0) as f64 / 1e3);
                last_final = last_final.max(since_start(*at));
            }
            _ => lost += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let sold_out = decided
        .iter()
        .filter(|(_, status, _)| status == "confirmed")
        .map(|(_, _, at)| since_start(*at))
        .fold(None, |acc: Option<f64>, t| {
            Some(acc.map_or(t, |a| a.max(t)))
        });
    let rejected = turned_away.len()
        + decided
            .iter()
            .filter(|(_, status, _)| status == "rejected")
            .count();
    let (oversold_inventory, oversold_reservations, sold) = oversold(admin, &scene).await;
    // A reservation decided twice would have two events leaving 'pending'.
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
             SELECT e.reservation_id FROM reservation_event e
             JOIN reservation r ON r.id = e.reservation_id
             WHERE r.restaurant_id = $1 AND e.from_status = 'pending'
             GROUP BY e.reservation_id HAVING count(*) > 1) d",
    )
    .bind(scene.restaurant_id)
    .fetch_one(admin)
    .await
    .unwrap();

    maitred.stop().await;
    pool.close().await;
    worker_pool.close().await;

    let cpu = cpu_between(&cpu_before, &cpu_after);
    let errors: Vec<&Sent> = sent
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Error(_)))
        .collect();
    let all_final = if lost == 0 {
        last_final.max(intake_done.as_secs_f64())
    } else {
        observed_final.as_secs_f64()
    };
    // Decisions while the crowd was still arriving, and after: the serial lane alone.
    let intake_s = intake_done.as_secs_f64();
    let decided_during_intake = decided
        .iter()
        .filter(|(_, status, at)| status != "pending" && since_start(*at) <= intake_s)
        .count();
    let decided_after_intake = decided
        .iter()
        .filter(|(_, status, at)| status != "pending" && since_start(*at) > intake_s)
        .count();
    let metrics = api::monitoring::render();
    let (command_sum, command_count) =
        metric_sum_count(&metrics, "maitred_command_duration_seconds", "");
    let (intake_sum, intake_count) = metric_sum_count(
        &metrics,
        "maitred_http_request_duration_seconds",
        "route=\"/v1/reservations\"",
    );
    let profile = json!({
        "intake_s": intake_s,
        "decided_during_intake": decided_during_intake,
        "decisions_per_s_during_intake": decided_during_intake as f64 / intake_s,
        "decided_after_intake": decided_after_intake,
        "decisions_per_s_after_intake":
            decided_after_intake as f64 / (all_final - intake_s).max(1e-9),
        "worker_ms_per_command": 1000.0 * command_sum / command_count.max(1.0),
        "commands": command_count,
        "intake_ms_per_post_server_side": 1000.0 * intake_sum / intake_count.max(1.0),
        "intake_posts": intake_count,
        "turned_away_sold_out": turned_away.len(),
        "observed_all_final_by_polling_s": observed_final.as_secs_f64(),
    });
    println!("maitred profile: {profile}");
    Figures {
        name: "maitred".into(),
        requests: sent.len(),
        accepted: accepted.len(),
        intake_per_s: accepted.len() as f64 / intake_done.as_secs_f64(),
        // Every request that reached its final state: decided, or turned away as sold out.
        decisions_per_s: (accepted.len() - lost + turned_away.len()) as f64 / all_final,
        all_final_s: all_final,
        sold_out_s: sold_out,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        p999_ms: percentile(&latencies, 99.9),
        cpu,
        cpu_per_1000: cpu.total() / ((accepted.len() + turned_away.len()) as f64 / 1000.0),
        sold,
        unsold: (LIMIT_PER_TYPE * 3 - sold).max(0),
        rejected,
        gave_up: 0,
        errors: errors.len(),
        first_error: errors.first().map(|s| format!("{:?}", s.outcome)),
        profile: Some(profile),
        gates: Gates {
            oversold_inventory,
            oversold_reservations,
            duplicates,
            accepted_but_lost: lost as i64,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Report

fn print_table(results: &[Figures]) {
    println!();
    println!(
        "{:<12} {:>9} {:>10} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5} {:>5}",
        "contender",
        "accepted",
        "intake/s",
        "decisions/s",
        "final s",
        "soldout s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "cpu s/1000",
        "sold",
        "unsold",
        "gaveup",
        "errors",
        "ovInv",
        "ovRes",
        "dup",
        "lost",
        "ok",
    );
    for f in results {
        println!(
            "{:<12} {:>9} {:>10.0} {:>11.0} {:>9.2} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>11.3} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5} {:>5}",
            f.name,
            f.accepted,
            f.intake_per_s,
            f.decisions_per_s,
            f.all_final_s,
            f.sold_out_s.map_or("-".into(), |s| format!("{s:.2}")),
            f.p50_ms,
            f.p99_ms,
            f.p999_ms,
            f.cpu_per_1000,
            f.sold,
            f.unsold,
            f.gave_up,
            f.errors,
            f.gates.oversold_inventory,
            f.gates.oversold_reservations,
            f.gates.duplicates,
            f.gates.accepted_but_lost,
            if f.gates.all_zero() { "yes" } else { "NO" },
        );
    }
    println!();
    println!(
        "CPU seconds (bench process = load generator + servers + workers | PostgreSQL | RabbitMQ):"
    );
    for f in results {
        println!(
            "  {:<12} {:>7.2} | {:>7.2} | {:>7.2}   total {:>7.2}",
            f.name,
            f.cpu.bench,
            f.cpu.postgres,
            f.cpu.rabbitmq,
            f.cpu.total()
        );
    }
    for f in results.iter().filter(|f| f.first_error.is_some()) {
        println!(
            "  {} first error: {}",
            f.name,
            f.first_error.as_deref().unwrap_or("")
        );
    }
}

/// Ratios of time until all final (higher = faster than the reference).
fn ratios(results: &[Figures]) -> Value {
    let for_update = results.iter().find(|f| f.name == "for_update");
    let best_correct_peer = results
        .iter()
        .filter(|f| f.name != "maitred" && f.gates.all_zero() && f.errors == 0)
        .min_by(|a, b| a.all_final_s.total_cmp(&b.all_final_s));
    println!();
    if let Some(best) = best_correct_peer {
        println!(
            "best correct peer: {} ({:.2} s to all final)",
            best.name, best.all_final_s
        );
    }
    let mut out = serde_json::Map::new();
    for f in results {
        let vs_for_update = for_update.map(|r| r.all_final_s / f.all_final_s);
        let vs_best = best_correct_peer.map(|r| r.all_final_s / f.all_final_s);
        let dps_vs_best = best_correct_peer.map(|r| f.decisions_per_s / r.decisions_per_s);
        println!(
            "  {:<12} drains {}× the speed of for_update, {}× the best correct peer (decisions/s {}×)",
            f.name,
            vs_for_update.map_or("-".into(), |r| format!("{r:.2}")),
            vs_best.map_or("-".into(), |r| format!("{r:.2}")),
            dps_vs_best.map_or("-".into(), |r| format!("{r:.2}")),
        );
        out.insert(
            f.name.clone(),
            json!({
                "speedup_vs_for_update": vs_for_update,
                "speedup_vs_best_correct_peer": vs_best,
                "decisions_per_s_vs_best_correct_peer": dps_vs_best,
            }),
        );
    }
    json!({
        "best_correct_peer": best_correct_peer.map(|f| f.name.clone()),
        "by_contender": out,
    })
}

fn figures_json(f: &Figures) -> Value {
    json!({
        "contender": f.name,
        "requests": f.requests,
        "accepted": f.accepted,
        "intake_per_s": f.intake_per_s,
        "decisions_per_s": f.decisions_per_s,
        "all_final_s": f.all_final_s,
        "sold_out_s": f.sold_out_s,
        "latency_ms": {"p50": f.p50_ms, "p99": f.p99_ms, "p99_9": f.p999_ms},
        "cpu_s": {"bench_process": f.cpu.bench, "postgres": f.cpu.postgres,
                  "rabbitmq": f.cpu.rabbitmq, "total": f.cpu.total()},
        "cpu_s_per_1000_decisions": f.cpu_per_1000,
        "sold": f.sold,
        "unsold": f.unsold,
        "rejected": f.rejected,
        "gave_up": f.gave_up,
        "errors": f.errors,
        "profile": f.profile,
        "gates": {
            "oversold_inventory": f.gates.oversold_inventory,
            "oversold_reservations": f.gates.oversold_reservations,
            "duplicates": f.gates.duplicates,
            "accepted_but_lost": f.gates.accepted_but_lost,
            "all_zero": f.gates.all_zero(),
        },
    })
}

fn main() {
    support::run(async_main(parse_args()));
}

async fn async_main(args: Args) {
    let bench_db = support::BenchDatabase::create().await;
    let (database, db_url, admin) = (
        bench_db.name.clone(),
        bench_db.url.clone(),
        bench_db.admin.clone(),
    );
    // The optimistic peer's version column: bench-only schema, not a migration.
    sqlx::query("ALTER TABLE inventory ADD COLUMN version bigint NOT NULL DEFAULT 0")
        .execute(&admin)
        .await
        .unwrap();
    api::monitoring::prometheus();

    println!(
        "flash crowd: {} requests, {} clients, pool {} per contender, {} partitions, prefetch {}, \
         maitred worker pool {} (0 = shared), 3 types × {TABLES_PER_TYPE} tables, +{OVERBOOKING_PCT}% ⇒ {} sellable, database {database}",
        args.requests,
        args.concurrency,
        args.pool,
        args.partitions,
        args.prefetch,
        args.worker_pool,
        LIMIT_PER_TYPE * 3
    );
    let mut results = Vec::new();
    for name in CONTENDERS
        .iter()
        .filter(|c| args.only.iter().any(|o| o == *c))
    {
        eprintln!("running {name} …");
        let figures = match *name {
            "naive" => run_peer(Peer::Naive, name, &args, &admin, &db_url).await,
            "for_update" => run_peer(Peer::ForUpdate, name, &args, &admin, &db_url).await,
            "conditional" => run_peer(Peer::Conditional, name, &args, &admin, &db_url).await,
            "optimistic" => run_peer(Peer::Optimistic, name, &args, &admin, &db_url).await,
            _ => run_maitred(&args, &admin, &db_url).await,
        };
        eprintln!(
            "  {name}: {:.2} s to all final, gates {}",
            figures.all_final_s,
            if figures.gates.all_zero() {
                "0"
            } else {
                "FAILED"
            }
        );
        results.push(figures);
    }
    print_table(&results);
    let ratios = ratios(&results);

    let report = json!({
        "scenario": "flash_crowd",
        "at": Utc::now(),
        "requests": args.requests,
        "concurrency": args.concurrency,
        "pool_per_contender": args.pool,
        "partitions": args.partitions,
        "prefetch": args.prefetch,
        "maitred_worker_pool": args.worker_pool,
        "sellable": LIMIT_PER_TYPE * 3,
        "results": results.iter().map(figures_json).collect::<Vec<_>>(),
        "ratios": ratios,
    });
    support::write_report(&args.out, &report);
    bench_db.drop_it().await;
}
