//! A peak event (issue 19): the chain keeps booking while one restaurant's Saturday evening
//! opens. Background: Zipf-skewed bookings over 1,000 restaurants at a fixed open rate for the
//! whole run. At `--before-secs` (10) a drop: `--drop-requests` (20,000) requests for the
//! popular restaurant arrive within `--drop-secs` (2), most of which must be turned away; the
//! background then goes on for `--after-secs` (20). For each contender (maitred end to end and
//! the in-request peers), the background's decisions/s and latency before, during and after the
//! drop, the drop's time until all are final, CPU per decision and the correctness gates.
//!
//! `cargo bench --bench peak_event -- --rate 400`
//!
//! Flags: `--restaurants N` (1000), `--rate R` (background requests/s, 400), `--before-secs`,
//! `--drop-secs`, `--after-secs`, `--drop-requests N`, `--drop-in-flight M` (1000: the drop's
//! clients; beyond it a drop request waits for one), `--max-in-flight M` (2000: the
//! background sheds beyond it, and counts), `--pool S` (20), `--worker-pool K` (8),
//! `--partitions P` (16), `--prefetch K` (256), `--zipf S` (1.1),
//! `--only for_update,conditional,optimistic,maitred`, `--out FILE`
//! (target/bench-results/peak_event.json).
//!
//! Final states are what the client sees: a peer's answer, and maitred's answer to
//! `POST /v1/reservations` with `Prefer: wait=30` (a decision, or a sold-out `409`) or, when
//! that answer is `202`, to `GET /v1/reservations/{id}` with the same preference.
//!
//! The chain, the peers, CPU and the gates are the steady benchmark's (`../steady/`); `load`
//! is this benchmark's generator and `figures` its phases.

#[path = "../support/mod.rs"]
mod support;

#[path = "../steady/cpu.rs"]
mod cpu;
mod figures;
#[path = "../steady/gates.rs"]
mod gates;
mod load;
#[path = "../steady/peers.rs"]
mod peers;
#[path = "../steady/seeding.rs"]
mod seeding;
#[path = "../steady/serving.rs"]
mod serving;

use support::{fair_pool, percentile, serve, Maitred};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use booking::Store;
use chrono::{NaiveDate, NaiveTime, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, PgPool};
use uuid::Uuid;

use crate::cpu::{cpu_between, cpu_snapshot};
use crate::figures::Figures;
use crate::gates::{database_gates, not_kept};
use crate::load::run_load;
use crate::seeding::seed;
use crate::serving::serve_contender;

#[derive(Debug, Clone)]
struct Args {
    restaurants: usize,
    rate: u32,
    before: Duration,
    drop_for: Duration,
    after: Duration,
    drop_requests: usize,
    drop_in_flight: usize,
    max_in_flight: usize,
    pool: u32,
    worker_pool: u32,
    partitions: u16,
    prefetch: u16,
    zipf: f64,
    only: Vec<String>,
    out: String,
}

const CONTENDERS: [&str; 4] = ["for_update", "conditional", "optimistic", "maitred"];

fn parse_args() -> Args {
    let mut args = Args {
        restaurants: 1000,
        rate: 400,
        before: Duration::from_secs(10),
        drop_for: Duration::from_secs(2),
        after: Duration::from_secs(20),
        drop_requests: 20_000,
        drop_in_flight: 1000,
        max_in_flight: 2000,
        pool: 20,
        worker_pool: 8,
        partitions: 16,
        prefetch: 256,
        zipf: 1.1,
        only: CONTENDERS.iter().map(|s| (*s).to_string()).collect(),
        out: "target/bench-results/peak_event.json".into(),
    };
    let secs = |v: String, flag: &str| Duration::from_secs_f64(v.parse().expect(flag));
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--restaurants" => args.restaurants = value().parse().expect("--restaurants"),
            "--rate" => args.rate = value().parse().expect("--rate"),
            "--before-secs" => args.before = secs(value(), "--before-secs"),
            "--drop-secs" => args.drop_for = secs(value(), "--drop-secs"),
            "--after-secs" => args.after = secs(value(), "--after-secs"),
            "--drop-requests" => args.drop_requests = value().parse().expect("--drop-requests"),
            "--drop-in-flight" => args.drop_in_flight = value().parse().expect("--drop-in-flight"),
            "--max-in-flight" => args.max_in_flight = value().parse().expect("--max-in-flight"),
            "--pool" => args.pool = value().parse().expect("--pool"),
            "--worker-pool" => args.worker_pool = value().parse().expect("--worker-pool"),
            "--partitions" => args.partitions = value().parse().expect("--partitions"),
            "--prefetch" => args.prefetch = value().parse().expect("--prefetch"),
            "--zipf" => args.zipf = value().parse().expect("--zipf"),
            "--only" => args.only = value().split(',').map(str::to_string).collect(),
            "--out" => args.out = value(),
            "--bench" => {}
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn main() {
    support::run(async_main(parse_args()));
}

async fn async_main(args: Args) {
    let bench_db = support::BenchDatabase::create().await;
    api::monitoring::prometheus();
    peers::add_version_column(&bench_db.admin).await;
    println!(
        "peak_event: {} restaurants (Zipf s = {}) at {} req/s for {:?} + {:?} + {:?}; \
         the drop: {} requests for one restaurant within {:?} (at most {} at once); \
         pool {} (maitred's workers {} of it), {} partitions, database {}",
        args.restaurants,
        args.zipf,
        args.rate,
        args.before,
        args.drop_for,
        args.after,
        args.drop_requests,
        args.drop_for,
        args.drop_in_flight,
        args.pool,
        args.worker_pool,
        args.partitions,
        bench_db.name,
    );
    let mut results = Vec::new();
    for name in CONTENDERS {
        if args.only.iter().any(|o| o == name) {
            eprintln!("running {name} …");
            let figures = run_contender(name, &args, &bench_db).await;
            figures.print();
            results.push(figures.to_json());
        }
    }
    figures::print_summary(&results);
    let report = json!({
        "scenario": "peak_event",
        "at": Utc::now(),
        "restaurants": args.restaurants,
        "background_per_s": args.rate,
        "before_s": args.before.as_secs_f64(),
        "drop_s": args.drop_for.as_secs_f64(),
        "after_s": args.after.as_secs_f64(),
        "drop_requests": args.drop_requests,
        "pool_per_contender": args.pool,
        "maitred_worker_pool": args.worker_pool,
        "partitions": args.partitions,
        "results": results,
    });
    support::write_report(&args.out, &report);
    bench_db.drop_it().await;
}

/// One contender's run: its own pools, server and restaurants, the load, then the gates.
async fn run_contender(name: &str, args: &Args, db: &support::BenchDatabase) -> Figures {
    let served = serve_contender(
        name,
        &db.url,
        (args.pool, args.worker_pool),
        (args.partitions, args.prefetch),
    )
    .await;
    let chain = seed(&db.admin, name, args.restaurants).await;
    let popular = seed(&db.admin, &format!("{name}-popular"), 1).await;
    let mut restaurant_ids: Vec<Uuid> = chain.restaurants.iter().map(|(r, _)| *r).collect();
    restaurant_ids.push(popular.restaurants[0].0);

    let cpu_before = cpu_snapshot(&db.name);
    let load = run_load(served.urls[0].clone(), &chain, &popular, args, name).await;
    let cpu = cpu_between(&cpu_before, &cpu_snapshot(&db.name));

    let gates = database_gates(&db.admin, &restaurant_ids).await;
    // Lost: answered as accepted and never final, or confirmed to the client and not kept.
    let confirmed: Vec<Uuid> = load.confirmed_ids();
    let lost = load.never_final() + not_kept(&db.admin, &confirmed).await;

    served.stop().await;
    Figures::new(name, args, &load, cpu, gates, lost)
}
