//! Contenders: one contender's whole run, its step figures, CPU and gates.

use super::*;
use crate::cpu::{cpu_between, cpu_snapshot};
use crate::gates::{database_gates, not_kept};
use crate::load::{open_loop, Sent};
use crate::seeding::seed;
use crate::serving::serve_contender;

/// Per contender: step figures, CPU and gates.
pub(crate) async fn run_contender(name: &str, args: &Args, admin: &PgPool, db_url: &str) -> Value {
    let database = db_url.rsplit('/').next().unwrap_or_default().to_string();
    let served = serve_contender(
        name,
        db_url,
        (args.pool, args.worker_pool),
        (args.partitions, args.prefetch),
    )
    .await;
    let chain = seed(admin, name, args.restaurants).await;
    let restaurant_ids: Vec<Uuid> = chain.restaurants.iter().map(|(r, _)| *r).collect();

    let cpu_before = cpu_snapshot(&database);
    let start = Instant::now();
    let load = open_loop(&served.urls, &chain, args, name, start).await;
    let load_end = start.elapsed();

    // Final states as each client learned them: a peer's answer, maitred's answer to a
    // waiting POST or GET (`support::book`).
    let accepted: Vec<&Sent> = load
        .sent
        .iter()
        // 409: maitred's sold-out answer, final when given (nothing is recorded).
        .filter(|s| s.status == 200 || s.status == 202 || s.status == 409)
        .collect();
    let finals: HashMap<Uuid, (bool, Duration, DateTime<Utc>)> = accepted
        .iter()
        .filter_map(|s| {
            let at = s.final_at?;
            let wall = s.sent_wall + chrono::Duration::from_std(at - s.sent).unwrap_or_default();
            Some((s.id, (s.confirmed, at, wall)))
        })
        .collect();
    let cpu = cpu_between(&cpu_before, &cpu_snapshot(&database));
    // Where maitred's time went (the process's metrics hold only maitred's requests).
    let stages = (name == "maitred").then(support::maitred_stages);

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

    let [oversold_inventory, oversold_reservations, duplicates] =
        database_gates(admin, &restaurant_ids).await;
    // Lost: accepted and never final, or confirmed to its client and not kept.
    let confirmed: Vec<Uuid> = accepted
        .iter()
        .filter(|s| s.confirmed)
        .map(|s| s.id)
        .collect();
    let lost = accepted
        .iter()
        .filter(|s| !finals.contains_key(&s.id))
        .count()
        + not_kept(admin, &confirmed).await;

    served.stop().await;

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
        "maitred_stages": stages,
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
    if let Some(stages) = &result["maitred_stages"].as_object() {
        println!("  maitred's mean stages: {stages:?}");
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
