//! maitred, end to end: HTTP intake, RabbitMQ, the worker, PostgreSQL.

use super::*;
use crate::cpu::{cpu_between, cpu_snapshot};
use crate::load::{drive, Outcome, Sent};
use crate::results::{database_name, oversold, Figures, Gates};
use crate::scene::seed;
use crate::support::metric_sum_count;

pub(crate) async fn run_maitred(args: &Args, admin: &PgPool, db_url: &str) -> Figures {
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
    // The floor's server records the same request metric in this process: count from here.
    let (intake_sum_before, intake_count_before) = intake_metric();
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

    // The clients have learned every decision; the database must agree that none is pending.
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
    let since_start =
        |at: DateTime<Utc>| (at - start_wall).num_microseconds().unwrap_or(0) as f64 / 1e6;
    // Turned away at intake (sold out): final when answered.
    let turned_away: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.outcome == Outcome::Rejected)
        .collect();
    // Latency as each client saw it: the answer, or the followed decision of a 202.
    let mut latencies: Vec<f64> = sent
        .iter()
        .filter_map(|s| s.final_at.map(|at| (at - s.sent).as_secs_f64() * 1e3))
        .collect();
    let lost = sent
        .iter()
        .filter(|s| s.outcome == Outcome::Accepted && s.final_at.is_none())
        .count();
    let last_final = sent
        .iter()
        .filter_map(|s| s.final_at)
        .max()
        .unwrap_or_default()
        .as_secs_f64();
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
    let (intake_sum, intake_count) = intake_metric();
    let (intake_sum, intake_count) = (
        intake_sum - intake_sum_before,
        intake_count - intake_count_before,
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

/// The server-side time of `POST /v1/reservations` so far: (seconds, requests).
fn intake_metric() -> (f64, f64) {
    metric_sum_count(
        &api::monitoring::render(),
        "maitred_http_request_duration_seconds",
        "route=\"/v1/reservations\"",
    )
}
