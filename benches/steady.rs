//! Steady load (issue 6): 1,000 restaurants with Zipf-skewed popularity, requests spread over
//! 30 dates and 3 evening slots, at an open arrival rate stepped up until saturation. maitred
//! end to end beside the correct in-request peers (`for_update`, `conditional`), one process,
//! one database, each contender on its own restaurants (with a month of past bookings, so the
//! database is in a running state) and its own pool.
//!
//! `cargo bench --bench steady -- --rates 100,200,400,800 --step-secs 15`
//!
//! Flags: `--restaurants N` (1000), `--rates a,b,c` (requests/s per step), `--step-secs S`
//! (15), `--pool S` (20), `--worker-pool K` (8: maitred's workers get K of the S connections to
//! themselves, as `maitred up` gives them a pool of their own; 0: one shared pool),
//! `--partitions P` (16), `--prefetch K` (32), `--max-in-flight M`
//! (2000: beyond it the load generator sheds and counts), `--zipf S` (1.1),
//! `--only for_update,conditional,maitred`, `--out FILE` (target/bench-results/steady.json).

mod support;

use support::{fair_pool, percentile, serve, Maitred};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use booking::Store;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, PgPool};
use uuid::Uuid;

const TYPES_PER_RESTAURANT: usize = 2;
const TABLES_PER_TYPE: i32 = 10;
const OVERBOOKING_PCT: i32 = 10;
const LIMIT_PER_ROW: i64 = (TABLES_PER_TYPE as i64) * (100 + OVERBOOKING_PCT as i64) / 100;
const DATES: i64 = 30;
const SLOTS: [(u32, u32); 3] = [(18, 0), (19, 30), (21, 0)];
const LIMIT_EXPR: &str = "total_inventory * (100 + overbooking_pct) / 100";

#[derive(Debug, Clone)]
struct Args {
    restaurants: usize,
    rates: Vec<u32>,
    step: Duration,
    pool: u32,
    worker_pool: u32,
    partitions: u16,
    prefetch: u16,
    max_in_flight: usize,
    zipf: f64,
    only: Vec<String>,
    out: String,
}

fn parse_args() -> Args {
    let mut args = Args {
        restaurants: 1000,
        rates: vec![100, 200, 400, 800],
        step: Duration::from_secs(15),
        pool: 20,
        worker_pool: 8,
        partitions: 16,
        prefetch: 32,
        max_in_flight: 2000,
        zipf: 1.1,
        only: ["for_update", "conditional", "maitred"]
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
        out: "target/bench-results/steady.json".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--restaurants" => args.restaurants = value().parse().expect("--restaurants"),
            "--rates" => {
                args.rates = value()
                    .split(',')
                    .map(|r| r.parse().expect("--rates a,b,c"))
                    .collect()
            }
            "--step-secs" => args.step = Duration::from_secs(value().parse().expect("--step-secs")),
            "--pool" => args.pool = value().parse().expect("--pool"),
            "--worker-pool" => args.worker_pool = value().parse().expect("--worker-pool"),
            "--partitions" => args.partitions = value().parse().expect("--partitions"),
            "--prefetch" => args.prefetch = value().parse().expect("--prefetch"),
            "--max-in-flight" => args.max_in_flight = value().parse().expect("--max-in-flight"),
            "--zipf" => args.zipf = value().parse().expect("--zipf"),
            "--only" => args.only = value().split(',').map(str::to_string).collect(),
            "--out" => args.out = value(),
            "--bench" => {}
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

// ---------------------------------------------------------------------------------------------
// CPU from /proc (as in flash_crowd.rs)

fn proc_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    utime + stime
}

/// (this process, PostgreSQL except other databases' backends, RabbitMQ), per pid.
fn cpu_snapshot(database: &str) -> HashMap<String, (usize, u64)> {
    let mut snap = HashMap::new();
    snap.insert("self".to_string(), (0, proc_ticks("self")));
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
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
                let backend = cmdline.contains("127.0.0.1(") || cmdline.contains("[local]");
                if !backend || cmdline.contains(database) {
                    let ticks = proc_ticks(&pid);
                    snap.insert(pid, (1, ticks));
                }
            }
            "beam.smp" => {
                let ticks = proc_ticks(&pid);
                snap.insert(pid, (2, ticks));
            }
            _ => {}
        }
    }
    snap
}

fn cpu_between(
    before: &HashMap<String, (usize, u64)>,
    after: &HashMap<String, (usize, u64)>,
) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (pid, (kind, ticks)) in after {
        let was = before.get(pid).map_or(0, |(_, t)| *t);
        out[*kind] += ticks.saturating_sub(was) as f64 / 100.0;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Seeding: 1,000 restaurants in a few statements

#[derive(Debug, Clone)]
struct Chain {
    /// Restaurants by popularity rank, each with its table types.
    restaurants: Vec<(Uuid, Vec<Uuid>)>,
    first_date: NaiveDate,
}

async fn seed(pool: &PgPool, label: &str, n: usize) -> Chain {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO restaurant (id, name, latitude, longitude, time_zone, slot_minutes,
             default_duration_minutes, overbooking_pct, prepayment_required)
         SELECT gen_random_uuid(), $1 || ' ' || g, 48.85, 2.35, 'UTC', 90, 90, $3, false
         FROM generate_series(1, $2) g ORDER BY g RETURNING id",
    )
    .bind(label)
    .bind(n as i32)
    .bind(OVERBOOKING_PCT)
    .fetch_all(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO opening_hours (restaurant_id, weekday, opens_at, closes_at)
         SELECT r, w, '00:00', '00:00' FROM unnest($1::uuid[]) r, generate_series(1, 7) w",
    )
    .bind(&ids)
    .execute(pool)
    .await
    .unwrap();
    let types: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "INSERT INTO table_type (id, restaurant_id, name, seats_min, seats_max, base_price_cents,
             currency)
         SELECT gen_random_uuid(), r, 'Type ' || t, 1, 4, 2500, 'EUR'
         FROM unnest($1::uuid[]) r, generate_series(1, $2) t
         RETURNING id, restaurant_id",
    )
    .bind(&ids)
    .bind(TYPES_PER_RESTAURANT as i32)
    .fetch_all(pool)
    .await
    .unwrap();
    let type_ids: Vec<Uuid> = types.iter().map(|(t, _)| *t).collect();
    sqlx::query(
        "INSERT INTO dining_table (id, table_type_id, label)
         SELECT gen_random_uuid(), t, 'T' || n FROM unnest($1::uuid[]) t, generate_series(1, $2) n",
    )
    .bind(&type_ids)
    .bind(TABLES_PER_TYPE)
    .execute(pool)
    .await
    .unwrap();
    seed_history(pool, label, &type_ids).await;
    let mut by_restaurant: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (t, r) in types {
        by_restaurant.entry(r).or_default().push(t);
    }
    Chain {
        restaurants: ids
            .into_iter()
            .map(|r| (r, by_restaurant.remove(&r).unwrap_or_default()))
            .collect(),
        first_date: Utc::now().date_naive() + chrono::Duration::days(1),
    }
}

/// A month of past bookings (one confirmed reservation, by its own diner, in every slot of every
/// type, with its inventory row), then fresh planner statistics: a steady state is a database
/// that has been running, not one created a second ago. In an empty database the plans cached
/// in the first seconds are made for tiny tables and kept while they grow (the foreign-key
/// check on `guest` becomes a sequential scan per inserted row), which is not the production
/// regime, for any contender.
async fn seed_history(pool: &PgPool, label: &str, type_ids: &[Uuid]) {
    let slots: Vec<String> = SLOTS
        .iter()
        .map(|(h, m)| format!("{h:02}:{m:02}"))
        .collect();
    let today = Utc::now().date_naive();
    sqlx::query(
        "INSERT INTO inventory (table_type_id, slot_start, total_inventory, total_reserved,
             overbooking_pct)
         SELECT t, ($3::date - d) + s::time, $4, 1, $5
         FROM unnest($1::uuid[]) t, generate_series(1, $2) d, unnest($6::text[]) s",
    )
    .bind(type_ids)
    .bind(DATES as i32)
    .bind(today)
    .bind(TABLES_PER_TYPE)
    .bind(OVERBOOKING_PCT)
    .bind(&slots)
    .execute(pool)
    .await
    .unwrap();
    // One past diner per booking, as a running chain has.
    sqlx::query(
        "WITH past AS (
             SELECT gen_random_uuid() AS guest, tt.restaurant_id, tt.id AS table_type,
                    $3::date - d AS service_date, s::time AS start_time,
                    'past.' || $5 || '.' || tt.id || '.' || d || '.' || s || '@example.com' AS email
             FROM table_type tt, generate_series(1, $2) d, unnest($4::text[]) s
             WHERE tt.id = ANY($1)
         ), g AS (
             INSERT INTO guest (id, name, email) SELECT guest, 'Past Diner', email FROM past
         )
         INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name,
             guest_email, table_count, party_size, service_date, start_time, duration_minutes,
             status, price_cents, currency)
         SELECT gen_random_uuid(), restaurant_id, table_type, guest, 'Past Diner', email, 1, 2,
                service_date, start_time, 90, 'confirmed', 2500, 'EUR'
         FROM past",
    )
    .bind(type_ids)
    .bind(DATES as i32)
    .bind(today)
    .bind(&slots)
    .bind(label)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// A small deterministic generator (xorshift64*), so runs draw the same request mix.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next_f64() * n as f64) as usize).min(n - 1)
    }
}

/// Cumulative Zipf weights over ranks 1..=n.
fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=n).map(|k| 1.0 / (k as f64).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

fn request_body(chain: &Chain, cdf: &[f64], rng: &mut Rng, i: u64, run: &str) -> (Uuid, String) {
    let u = rng.next_f64();
    let rank = cdf.partition_point(|c| *c < u).min(cdf.len() - 1);
    let (restaurant, types) = &chain.restaurants[rank];
    let table_type = types[rng.below(types.len())];
    let date = chain.first_date + chrono::Duration::days(rng.below(DATES as usize) as i64);
    let (h, m) = SLOTS[rng.below(SLOTS.len())];
    let id = Uuid::new_v4();
    let body = json!({
        "reservationId": id,
        "restaurantId": restaurant,
        "tableTypeId": table_type,
        "partySize": 2,
        "date": date.to_string(),
        "time": format!("{h:02}:{m:02}"),
        "guest": {"name": "Bench Diner", "email": format!("d{i}.{run}@example.com")},
    });
    (id, body.to_string())
}

// ---------------------------------------------------------------------------------------------
// The peers (deciding in the request; inventory rows made on first need, as maitred does)

#[derive(Clone)]
struct PeerState {
    for_update: bool,
    pool: PgPool,
}

async fn peer_decide(state: &PeerState, body: &Value) -> sqlx::Result<bool> {
    let id: Uuid = body["reservationId"]
        .as_str()
        .unwrap_or("")
        .parse()
        .unwrap();
    let restaurant: Uuid = body["restaurantId"].as_str().unwrap_or("").parse().unwrap();
    let table_type: Uuid = body["tableTypeId"].as_str().unwrap_or("").parse().unwrap();
    let date: NaiveDate = body["date"].as_str().unwrap_or("").parse().unwrap();
    let time = NaiveTime::parse_from_str(body["time"].as_str().unwrap_or(""), "%H:%M").unwrap();
    let email = body["guest"]["email"].as_str().unwrap_or("");
    let slot = date.and_time(time);
    let mut conn = state.pool.acquire().await?;
    sqlx::query(
        "INSERT INTO inventory (table_type_id, slot_start, total_inventory, overbooking_pct)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(table_type)
    .bind(slot)
    .bind(TABLES_PER_TYPE)
    .bind(OVERBOOKING_PCT)
    .execute(&mut *conn)
    .await?;
    let mut tx = conn.begin().await?;
    let fits = if state.for_update {
        let (reserved, limit): (i32, i32) = sqlx::query_as(&format!(
            "SELECT total_reserved, {LIMIT_EXPR} FROM inventory
             WHERE table_type_id = $1 AND slot_start = $2 FOR UPDATE"
        ))
        .bind(table_type)
        .bind(slot)
        .fetch_one(&mut *tx)
        .await?;
        if reserved < limit {
            sqlx::query(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2",
            )
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
        }
        reserved < limit
    } else {
        sqlx::query(&format!(
            "UPDATE inventory SET total_reserved = total_reserved + 1
             WHERE table_type_id = $1 AND slot_start = $2 AND total_reserved + 1 <= {LIMIT_EXPR}"
        ))
        .bind(table_type)
        .bind(slot)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1
    };
    if !fits {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "WITH g AS (
             INSERT INTO guest (id, name, email) VALUES ($1, 'Bench Diner', $2) RETURNING id
         )
         INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name,
             guest_email, table_count, party_size, service_date, start_time, duration_minutes,
             status, reason, price_cents, currency, reserved_slots)
         SELECT $3, $4, $5, g.id, 'Bench Diner', $2, 1, 2, $6, $7, 90, 'confirmed',
                'no_prepayment', 2500, 'EUR', ARRAY[$8::timestamp]
         FROM g",
    )
    .bind(Uuid::new_v4())
    .bind(email)
    .bind(id)
    .bind(restaurant)
    .bind(table_type)
    .bind(date)
    .bind(time)
    .bind(slot)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

async fn peer_book(State(state): State<PeerState>, body: String) -> (StatusCode, String) {
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad json".into());
    };
    match peer_decide(&state, &body).await {
        Ok(true) => (StatusCode::OK, r#"{"status":"confirmed"}"#.into()),
        Ok(false) => (StatusCode::OK, r#"{"status":"rejected"}"#.into()),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Open-loop load: requests leave on a schedule, whatever the answers do

#[derive(Debug, Clone)]
struct Sent {
    id: Uuid,
    step: usize,
    sent_wall: DateTime<Utc>,
    sent: Duration,
    answered: Duration,
    status: u16,
    confirmed: bool,
}

struct Load {
    sent: Vec<Sent>,
    shed: Vec<u64>,
    /// Per step: (start, end) since the start of the run.
    windows: Vec<(Duration, Duration)>,
}

async fn open_loop(url: String, chain: &Chain, args: &Args, run: &str, start: Instant) -> Load {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.max_in_flight)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let cdf = zipf_cdf(chain.restaurants.len(), args.zipf);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let results = Arc::new(Mutex::new(Vec::new()));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(args.max_in_flight));
    let mut counter = 0u64;
    let mut shed = Vec::new();
    let mut windows = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (step, rate) in args.rates.iter().enumerate() {
        let step_start = start.elapsed();
        let mut step_shed = 0;
        let tick = Duration::from_millis(10);
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut owed = 0.0;
        while start.elapsed() - step_start < args.step {
            interval.tick().await;
            owed += f64::from(*rate) * tick.as_secs_f64();
            while owed >= 1.0 {
                owed -= 1.0;
                let i = counter;
                counter += 1;
                let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                    step_shed += 1;
                    continue;
                };
                let (id, body) = request_body(chain, &cdf, &mut rng, i, run);
                let client = client.clone();
                let url = url.clone();
                let results = results.clone();
                tasks.spawn(async move {
                    let sent_wall = Utc::now();
                    let sent = start.elapsed();
                    let (status, confirmed) = match client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let text = r.text().await.unwrap_or_default();
                            (status, text.contains("\"confirmed\""))
                        }
                        Err(_) => (0, false),
                    };
                    drop(permit);
                    results.lock().unwrap().push(Sent {
                        id,
                        step,
                        sent_wall,
                        sent,
                        answered: start.elapsed(),
                        status,
                        confirmed,
                    });
                });
            }
            while tasks.try_join_next().is_some() {}
        }
        shed.push(step_shed);
        windows.push((step_start, start.elapsed()));
    }
    while tasks.join_next().await.is_some() {}
    let sent = std::mem::take(&mut *results.lock().unwrap());
    Load {
        sent,
        shed,
        windows,
    }
}

// ---------------------------------------------------------------------------------------------
// Contenders

/// Per contender: step figures, CPU and gates.
async fn run_contender(name: &str, args: &Args, admin: &PgPool, db_url: &str) -> Value {
    let database = db_url.rsplit('/').next().unwrap_or_default().to_string();
    // maitred's S connections: intake S − K and the workers K (--worker-pool), or all shared.
    let split = name == "maitred" && args.worker_pool > 0 && args.worker_pool < args.pool;
    let pool = fair_pool(
        db_url,
        if split {
            args.pool - args.worker_pool
        } else {
            args.pool
        },
    )
    .await;
    let worker_pool = if split {
        fair_pool(db_url, args.worker_pool).await
    } else {
        pool.clone()
    };
    let chain = seed(admin, name, args.restaurants).await;
    let restaurant_ids: Vec<Uuid> = chain.restaurants.iter().map(|(r, _)| *r).collect();
    let mut maitred = None;
    let mut peer_server = None;
    let url = if name == "maitred" {
        let started = Maitred::start(
            Store::new(pool.clone()),
            Store::new(worker_pool.clone()),
            args.partitions,
            1_000_000,
            args.prefetch,
        )
        .await;
        let url = started.url.clone();
        maitred = Some(started);
        url
    } else {
        let app = Router::new()
            .route("/book", post(peer_book))
            .with_state(PeerState {
                for_update: name == "for_update",
                pool: pool.clone(),
            });
        let (addr, server, stop) = serve(app).await;
        peer_server = Some((server, stop));
        format!("http://{addr}/book")
    };

    let cpu_before = cpu_snapshot(&database);
    let start = Instant::now();
    let start_wall = Utc::now();
    let load = open_loop(url, &chain, args, name, start).await;
    let load_end = start.elapsed();

    // Final states: peers at the answer; maitred at the decision (updated_at), drained with a
    // bound of 10 minutes.
    let mut finals: HashMap<Uuid, (bool, Duration, DateTime<Utc>)> = HashMap::new();
    let accepted: Vec<&Sent> = load
        .sent
        .iter()
        // 409: maitred's sold-out answer, final when given (nothing is recorded).
        .filter(|s| s.status == 200 || s.status == 202 || s.status == 409)
        .collect();
    if name == "maitred" {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let pending: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM reservation
                 WHERE restaurant_id = ANY($1) AND service_date >= $2 AND status = 'pending'",
            )
            .bind(&restaurant_ids)
            .bind(chain.first_date)
            .fetch_one(admin)
            .await
            .unwrap();
            if pending == 0 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let rows: Vec<(Uuid, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT id, status, updated_at FROM reservation
             WHERE restaurant_id = ANY($1) AND service_date >= $2",
        )
        .bind(&restaurant_ids)
        .bind(chain.first_date)
        .fetch_all(admin)
        .await
        .unwrap();
        for (id, status, at) in rows {
            if status != "pending" {
                let since = (at - start_wall).to_std().unwrap_or_default();
                finals.insert(id, (status == "confirmed", since, at));
            }
        }
        for s in accepted.iter().filter(|s| s.status == 409) {
            let at =
                s.sent_wall + chrono::Duration::from_std(s.answered - s.sent).unwrap_or_default();
            finals.insert(s.id, (false, s.answered, at));
        }
    } else {
        for s in &accepted {
            finals.insert(
                s.id,
                (
                    s.confirmed,
                    s.answered,
                    s.sent_wall
                        + chrono::Duration::from_std(s.answered - s.sent).unwrap_or_default(),
                ),
            );
        }
    }
    let cpu = cpu_between(&cpu_before, &cpu_snapshot(&database));

    let mut steps = Vec::new();
    let mut best_sustained = 0.0f64;
    for (step, (from, to)) in load.windows.iter().enumerate() {
        let secs = (*to - *from).as_secs_f64();
        let sent_in_step: Vec<&&Sent> = accepted.iter().filter(|s| s.step == step).collect();
        let decided_in_window = finals
            .values()
            .filter(|(_, at, _)| at >= from && at < to)
            .count();
        let mut latencies: Vec<f64> = sent_in_step
            .iter()
            .filter_map(|s| finals.get(&s.id).map(|(_, _, at)| (*at, s.sent_wall)))
            .map(|(at, sent)| (at - sent).num_microseconds().unwrap_or(0) as f64 / 1e3)
            .collect();
        latencies.sort_by(f64::total_cmp);
        let offered = f64::from(args.rates[step]);
        let decisions_per_s = decided_in_window as f64 / secs;
        let p99 = percentile(&latencies, 99.0);
        let errors = load
            .sent
            .iter()
            .filter(|s| s.step == step && ![200, 202, 409].contains(&s.status))
            .count();
        // Sustained: kept up with the offered rate, answered in time, nothing shed or failed.
        let sustained = decisions_per_s >= 0.95 * offered
            && p99 < 2000.0
            && load.shed[step] == 0
            && errors == 0;
        if sustained {
            best_sustained = best_sustained.max(decisions_per_s);
        }
        steps.push(json!({
            "offered_per_s": offered,
            "sent": sent_in_step.len(),
            "shed": load.shed[step],
            "errors": errors,
            "decisions_per_s": decisions_per_s,
            "p50_ms": percentile(&latencies, 50.0),
            "p99_ms": p99,
            "p99_9_ms": percentile(&latencies, 99.9),
            "sustained": sustained,
        }));
    }

    // Gates.
    let oversold_inventory: i64 = sqlx::query_scalar(&format!(
        "SELECT coalesce(sum(greatest(i.total_reserved - {LIMIT_EXPR}, 0)), 0)::bigint
         FROM inventory i JOIN table_type t ON t.id = i.table_type_id
         WHERE t.restaurant_id = ANY($1)"
    ))
    .bind(&restaurant_ids)
    .fetch_one(admin)
    .await
    .unwrap();
    let oversold_reservations: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(greatest(n - $2, 0)), 0)::bigint FROM (
             SELECT count(*) AS n FROM reservation
             WHERE restaurant_id = ANY($1) AND status IN ('held', 'confirmed')
             GROUP BY table_type_id, service_date, start_time) c",
    )
    .bind(&restaurant_ids)
    .bind(LIMIT_PER_ROW)
    .fetch_one(admin)
    .await
    .unwrap();
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT e.reservation_id FROM reservation_event e
             JOIN reservation r ON r.id = e.reservation_id
             WHERE r.restaurant_id = ANY($1) AND e.from_status = 'pending'
             GROUP BY e.reservation_id HAVING count(*) > 1) d",
    )
    .bind(&restaurant_ids)
    .fetch_one(admin)
    .await
    .unwrap();
    let lost = if name == "maitred" {
        accepted
            .iter()
            .filter(|s| !finals.contains_key(&s.id))
            .count()
    } else {
        let confirmed: Vec<Uuid> = accepted
            .iter()
            .filter(|s| s.confirmed)
            .map(|s| s.id)
            .collect();
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM reservation WHERE id = ANY($1)")
            .bind(&confirmed)
            .fetch_one(admin)
            .await
            .unwrap();
        (confirmed.len() as i64 - rows) as usize
    };

    if let Some((server, stop)) = peer_server {
        stop.cancel();
        server.await.unwrap();
    }
    if let Some(maitred) = maitred {
        maitred.stop().await;
    }
    pool.close().await;
    worker_pool.close().await;

    let decided = finals.len();
    let result = json!({
        "contender": name,
        "steps": steps,
        "best_sustained_decisions_per_s": best_sustained,
        "load_s": load_end.as_secs_f64(),
        "decided": decided,
        "sold": finals.values().filter(|(c, _, _)| *c).count(),
        "cpu_s": {"bench_process": cpu[0], "postgres": cpu[1], "rabbitmq": cpu[2]},
        "cpu_s_per_1000_decisions": (cpu[0] + cpu[1] + cpu[2]) / (decided.max(1) as f64 / 1000.0),
        "gates": {
            "oversold_inventory": oversold_inventory,
            "oversold_reservations": oversold_reservations,
            "duplicates": duplicates,
            "accepted_but_lost": lost,
        },
    });
    println!("\n{name}:");
    println!(
        "  {:>9} {:>7} {:>6} {:>6} {:>11} {:>9} {:>9} {:>9} {:>9}",
        "offered/s",
        "sent",
        "shed",
        "errors",
        "decisions/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "sustained"
    );
    for s in result["steps"].as_array().unwrap() {
        println!(
            "  {:>9} {:>7} {:>6} {:>6} {:>11.0} {:>9.1} {:>9.1} {:>9.1} {:>9}",
            s["offered_per_s"],
            s["sent"],
            s["shed"],
            s["errors"],
            s["decisions_per_s"].as_f64().unwrap_or(0.0),
            s["p50_ms"].as_f64().unwrap_or(f64::NAN),
            s["p99_ms"].as_f64().unwrap_or(f64::NAN),
            s["p99_9_ms"].as_f64().unwrap_or(f64::NAN),
            s["sustained"],
        );
    }
    println!(
        "  best sustained {:.0} decisions/s; CPU s/1000 {:.2}; gates {}",
        best_sustained,
        result["cpu_s_per_1000_decisions"]
            .as_f64()
            .unwrap_or(f64::NAN),
        result["gates"]
    );
    result
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
    api::monitoring::prometheus();
    println!(
        "steady: {} restaurants (Zipf s = {}), {} types × {TABLES_PER_TYPE} tables, {DATES} dates × {} slots, \
         steps {:?} req/s × {:?}, pool {} (maitred's workers {} of it), {} partitions, database {database}",
        args.restaurants,
        args.zipf,
        TYPES_PER_RESTAURANT,
        SLOTS.len(),
        args.rates,
        args.step,
        args.pool,
        args.worker_pool,
        args.partitions
    );
    let mut results = Vec::new();
    for name in ["for_update", "conditional", "maitred"] {
        if args.only.iter().any(|o| o == name) {
            eprintln!("running {name} …");
            results.push(run_contender(name, &args, &admin, &db_url).await);
        }
    }
    let best_peer = results
        .iter()
        .filter(|r| r["contender"] != "maitred")
        .map(|r| r["best_sustained_decisions_per_s"].as_f64().unwrap_or(0.0))
        .fold(0.0f64, f64::max);
    if let Some(m) = results.iter().find(|r| r["contender"] == "maitred") {
        let ours = m["best_sustained_decisions_per_s"].as_f64().unwrap_or(0.0);
        println!(
            "\nmaitred sustains {ours:.0} decisions/s; best correct peer {best_peer:.0}: {:.2}× (target ≥ 3×)",
            if best_peer > 0.0 { ours / best_peer } else { f64::NAN }
        );
    }
    let report = json!({
        "scenario": "steady",
        "at": Utc::now(),
        "restaurants": args.restaurants,
        "rates": args.rates,
        "step_s": args.step.as_secs_f64(),
        "pool_per_contender": args.pool,
        "maitred_worker_pool": args.worker_pool,
        "partitions": args.partitions,
        "results": results,
    });
    support::write_report(&args.out, &report);
    bench_db.drop_it().await;
}
