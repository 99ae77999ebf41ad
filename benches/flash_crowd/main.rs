//! Flash crowd (issue 6): one restaurant, three table types (sections A, B, C) of 200 tables
//! each, 10% overbooking, one slot that everyone books, N requests from C concurrent HTTP
//! clients. maitred end to end (HTTP intake → RabbitMQ → worker → PostgreSQL) beside four
//! direct-to-database peers, in one process, one run, one database and one schema.
//!
//! `cargo bench --bench flash_crowd -- --requests 20000 --concurrency 64`
//!
//! Flags: `--requests N` (100000), `--concurrency C` (64), `--pool S` (database connections
//! per contender, 20 = maitred's default), `--partitions P` (4), `--prefetch K` (256),
//! `--worker-pool K` (0: maitred's intake and worker share the pool; K: the worker gets K of
//! the pool's connections to itself, as `maitred up` and a separate `maitred work` do),
//! `--only floor,naive,for_update,conditional,optimistic,maitred`, `--out FILE`
//! (target/bench-results/flash_crowd.json), `--drain-timeout SECS` (1800).
//! `--serve-floor ADDR [--serve-secs S]` serves the floor alone for S (30) seconds, for a load
//! generator in another process: `wrk -t2 -c64 -d20s -s benches/flash_crowd/floor.lua
//! http://ADDR/v1/reservations`.
//! Environment: `BENCH_PG_URL` (postgres://postgres@127.0.0.1:5432), `AMQP_URL`.
//!
//! Layout: `scene` seeds each contender's restaurant, `floor` is HTTP alone (maitred's server
//! stack answering a sold-out 409 without touching anything), `peers` are the direct-to-database
//! contenders, `maitred` runs maitred end to end, `load` drives the requests, `cpu` reads
//! CPU time from /proc, `results` and `report` make the figures, the table and the JSON.

#[path = "../support/mod.rs"]
mod support;

mod cpu;
mod floor;
mod load;
mod maitred;
mod peers;
mod report;
mod results;
mod scene;

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

use crate::maitred::run_maitred;
use crate::peers::Peer;
use crate::report::{figures_json, print_table, ratios};
use crate::results::run_peer;

const TABLES_PER_TYPE: u32 = 200;
const OVERBOOKING_PCT: i32 = 10;
/// floor(200 × 110 / 100): what each type may sell.
const LIMIT_PER_TYPE: i64 = (TABLES_PER_TYPE as i64) * (100 + OVERBOOKING_PCT as i64) / 100;
const SECTIONS: [&str; 3] = ["A", "B", "C"];
/// The optimistic peer's attempts per request before it gives up.
const OPTIMISTIC_ATTEMPTS: usize = 10;
const CONTENDERS: [&str; 6] = [
    "floor",
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
    /// `--serve-floor ADDR`: serve the floor alone, for another process's load generator.
    serve_floor: Option<String>,
    serve_secs: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        requests: 100_000,
        concurrency: 64,
        pool: 20,
        partitions: 4,
        prefetch: 256,
        worker_pool: 0,
        only: CONTENDERS.iter().map(|s| (*s).to_string()).collect(),
        out: "target/bench-results/flash_crowd.json".into(),
        drain_timeout: Duration::from_secs(1800),
        serve_floor: None,
        serve_secs: 30,
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
            "--serve-floor" => args.serve_floor = Some(value()),
            "--serve-secs" => args.serve_secs = value().parse().expect("--serve-secs"),
            // cargo bench passes --bench to harness = false targets.
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
    if let Some(addr) = &args.serve_floor {
        return floor::serve_floor(addr, args.serve_secs).await;
    }
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
            "floor" => floor::run_floor(&args, &db_url).await,
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
