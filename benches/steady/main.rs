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
//! `--partitions P` (16), `--prefetch K` (256), `--max-in-flight M`
//! (2000: beyond it the load generator sheds and counts), `--zipf S` (1.1),
//! `--only for_update,conditional,maitred` (`optimistic` and `maitred_processes` too, when
//! named), `--out FILE` (target/bench-results/steady.json).
//!
//! `maitred_processes` is maitred as three `maitred serve` and three `maitred work` processes
//! of the built binary, on the broker(s) of `AMQP_URL`: with
//! `AMQP_URL=$(scripts/rabbitmq-cluster.sh urls)`, on the three-node cluster.
//!
//! Layout: `seeding` makes each contender's restaurants and requests, `peers` are the
//! in-request contenders, `load` is the open-loop generator, `contenders` runs one contender
//! (maitred or a peer) through the steps, `cpu` reads CPU time from /proc.

#[path = "../support/mod.rs"]
mod support;

mod contenders;
mod cpu;
mod gates;
mod load;
mod peers;
mod seeding;
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
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, PgPool};
use uuid::Uuid;

use crate::contenders::run_contender;
use crate::seeding::{DATES, SLOTS, TABLES_PER_TYPE, TYPES_PER_RESTAURANT};

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
        prefetch: 256,
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
    peers::add_version_column(&admin).await;
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
    for name in [
        "for_update",
        "conditional",
        "optimistic",
        "maitred",
        serving::PROCESSES_CONTENDER,
    ] {
        if args.only.iter().any(|o| o == name) {
            eprintln!("running {name} …");
            results.push(run_contender(name, &args, &admin, &db_url).await);
        }
    }
    let best_peer = results
        .iter()
        .filter(|r| r["contender"] != "maitred" && r["contender"] != serving::PROCESSES_CONTENDER)
        .map(|r| r["best_sustained_decisions_per_s"].as_f64().unwrap_or(0.0))
        .fold(0.0f64, f64::max);
    let maitred = results.iter().find(|r| r["contender"] == "maitred");
    if let Some(m) = maitred.filter(|_| best_peer > 0.0) {
        let ours = m["best_sustained_decisions_per_s"].as_f64().unwrap_or(0.0);
        println!(
            "\nmaitred sustains {ours:.0} decisions/s; best correct peer {best_peer:.0}: {:.2}× (target ≥ 1×)",
            ours / best_peer
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
