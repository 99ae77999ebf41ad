//! The report: the table printed at the end, the ratios, and the JSON.

use super::*;
use crate::results::Figures;

pub(crate) fn print_table(results: &[Figures]) {
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
pub(crate) fn ratios(results: &[Figures]) -> Value {
    let for_update = results.iter().find(|f| f.name == "for_update");
    let best_correct_peer = results
        .iter()
        .filter(|f| !matches!(f.name.as_str(), "maitred" | "floor"))
        .filter(|f| f.gates.all_zero() && f.errors == 0)
        .min_by(|a, b| a.all_final_s.total_cmp(&b.all_final_s));
    println!();
    if let Some(best) = best_correct_peer {
        println!(
            "best correct peer: {} ({:.2} s to all final)",
            best.name, best.all_final_s
        );
    }
    let floor = results.iter().find(|f| f.name == "floor");
    let mut out = serde_json::Map::new();
    for f in results {
        let vs_for_update = for_update.map(|r| r.all_final_s / f.all_final_s);
        let vs_best = best_correct_peer.map(|r| r.all_final_s / f.all_final_s);
        let dps_vs_best = best_correct_peer.map(|r| f.decisions_per_s / r.decisions_per_s);
        // How many times HTTP alone's time to answer everything: 1 is the floor itself.
        let floor_multiple = floor.map(|floor| f.all_final_s / floor.all_final_s);
        println!(
            "  {:<12} drains {}× the speed of for_update, {}× the best correct peer (decisions/s {}×), {}× the floor's time",
            f.name,
            vs_for_update.map_or("-".into(), |r| format!("{r:.2}")),
            vs_best.map_or("-".into(), |r| format!("{r:.2}")),
            dps_vs_best.map_or("-".into(), |r| format!("{r:.2}")),
            floor_multiple.map_or("-".into(), |r| format!("{r:.2}")),
        );
        out.insert(
            f.name.clone(),
            json!({
                "speedup_vs_for_update": vs_for_update,
                "speedup_vs_best_correct_peer": vs_best,
                "decisions_per_s_vs_best_correct_peer": dps_vs_best,
                "multiple_of_floor": floor_multiple,
            }),
        );
    }
    json!({
        "best_correct_peer": best_correct_peer.map(|f| f.name.clone()),
        "by_contender": out,
    })
}

pub(crate) fn figures_json(f: &Figures) -> Value {
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
