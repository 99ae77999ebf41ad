//! A contender's figures: the background before, during and after the drop, the drop itself,
//! CPU and the gates; and the summary across contenders.

use super::*;
use crate::load::{Kind, Load, Outcome};

/// The background over one phase, by when its requests were sent.
#[derive(Debug, Clone)]
pub(crate) struct Phase {
    name: &'static str,
    /// [from, to) since the start of the run.
    window: (Duration, Duration),
    sent: usize,
    decisions_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    p99_9_ms: f64,
    /// Answers other than 200, 202, 409 and 503, and requests with no answer.
    errors: usize,
    unavailable: usize,
}

impl Phase {
    fn of(name: &'static str, window: (Duration, Duration), background: &[&Outcome]) -> Self {
        let (from, to) = window;
        let sent: Vec<&&Outcome> = background
            .iter()
            .filter(|o| o.sent >= from && o.sent < to)
            .collect();
        let decided = background
            .iter()
            .filter(|o| o.final_at.is_some_and(|at| at >= from && at < to))
            .count();
        let mut latencies: Vec<f64> = sent
            .iter()
            .filter_map(|o| o.final_at.map(|at| (at - o.sent).as_secs_f64() * 1e3))
            .collect();
        latencies.sort_by(f64::total_cmp);
        Self {
            name,
            window,
            sent: sent.len(),
            decisions_per_s: decided as f64 / (to - from).as_secs_f64().max(1e-3),
            p50_ms: percentile(&latencies, 50.0),
            p99_ms: percentile(&latencies, 99.0),
            p99_9_ms: percentile(&latencies, 99.9),
            errors: sent
                .iter()
                .filter(|o| !o.accepted() && o.status != 503)
                .count(),
            unavailable: sent.iter().filter(|o| o.status == 503).count(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "phase": self.name,
            "from_s": self.window.0.as_secs_f64(),
            "to_s": self.window.1.as_secs_f64(),
            "sent": self.sent,
            "decisions_per_s": self.decisions_per_s,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "p99_9_ms": self.p99_9_ms,
            "errors": self.errors,
            "unavailable_503": self.unavailable,
        })
    }
}

pub(crate) struct Figures {
    name: String,
    phases: [Phase; 3],
    shed: u64,
    drop_requests: usize,
    drop_sent_in_s: f64,
    /// From the drop's start until its last request was final, as its client learned it.
    drop_all_final_s: f64,
    drop_never_final: usize,
    drop_sold: usize,
    drop_turned_away_at_once: usize,
    drop_unavailable: usize,
    drop_errors: usize,
    /// [bench process, PostgreSQL, RabbitMQ] CPU seconds.
    cpu_s: [f64; 3],
    decided: usize,
    /// [oversold inventory, oversold reservations, duplicates].
    gates: [i64; 3],
    lost: usize,
}

impl Figures {
    pub(crate) fn new(
        name: &str,
        args: &Args,
        load: &Load,
        cpu_s: [f64; 3],
        gates: [i64; 3],
        lost: usize,
    ) -> Self {
        let of =
            |kind| -> Vec<&Outcome> { load.outcomes.iter().filter(|o| o.kind == kind).collect() };
        let (background, drop) = (of(Kind::Background), of(Kind::Drop));
        let drop_over = drop
            .iter()
            .filter_map(|o| o.final_at)
            .max()
            .unwrap_or_default()
            .max(load.drop_start + args.drop_for);
        let phases = [
            Phase::of("before", (Duration::ZERO, load.drop_start), &background),
            Phase::of("during", (load.drop_start, drop_over), &background),
            Phase::of("after", (drop_over, load.end.max(drop_over)), &background),
        ];
        Self {
            name: name.to_string(),
            phases,
            shed: load.shed,
            drop_requests: drop.len(),
            drop_sent_in_s: (load.drop_sent_by - load.drop_start).as_secs_f64(),
            drop_all_final_s: (drop_over - load.drop_start).as_secs_f64(),
            drop_never_final: drop
                .iter()
                .filter(|o| o.accepted() && o.final_at.is_none())
                .count(),
            drop_sold: drop.iter().filter(|o| o.confirmed).count(),
            drop_turned_away_at_once: drop.iter().filter(|o| o.status == 409).count(),
            drop_unavailable: drop.iter().filter(|o| o.status == 503).count(),
            drop_errors: drop
                .iter()
                .filter(|o| !o.accepted() && o.status != 503)
                .count(),
            cpu_s,
            decided: load
                .outcomes
                .iter()
                .filter(|o| o.final_at.is_some())
                .count(),
            gates,
            lost,
        }
    }

    /// Background p99 during the drop ÷ before it.
    fn during_over_before(&self) -> f64 {
        self.phases[1].p99_ms / self.phases[0].p99_ms
    }

    fn cpu_ms_per_decision(&self) -> f64 {
        self.cpu_s.iter().sum::<f64>() * 1e3 / self.decided.max(1) as f64
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "contender": self.name,
            "background": self.phases.iter().map(Phase::to_json).collect::<Vec<_>>(),
            "background_shed": self.shed,
            "p99_during_over_before": self.during_over_before(),
            "drop": {
                "requests": self.drop_requests,
                "sent_in_s": self.drop_sent_in_s,
                "all_final_s": self.drop_all_final_s,
                "never_final": self.drop_never_final,
                "sold": self.drop_sold,
                "turned_away_at_once_409": self.drop_turned_away_at_once,
                "unavailable_503": self.drop_unavailable,
                "errors": self.drop_errors,
            },
            "decided": self.decided,
            "cpu_s": {"bench_process": self.cpu_s[0], "postgres": self.cpu_s[1], "rabbitmq": self.cpu_s[2]},
            "cpu_ms_per_decision": self.cpu_ms_per_decision(),
            "gates": {
                "oversold_inventory": self.gates[0],
                "oversold_reservations": self.gates[1],
                "duplicates": self.gates[2],
                "accepted_but_lost": self.lost,
            },
        })
    }

    pub(crate) fn print(&self) {
        println!("\n{}: the background", self.name);
        println!(
            "  {:>7} {:>13} {:>6} {:>11} {:>9} {:>9} {:>9} {:>6} {:>5}",
            "phase",
            "window s",
            "sent",
            "decisions/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "errors",
            "503"
        );
        for p in &self.phases {
            println!(
                "  {:>7} {:>13} {:>6} {:>11.0} {:>9.1} {:>9.1} {:>9.1} {:>6} {:>5}",
                p.name,
                format!(
                    "{:.1}-{:.1}",
                    p.window.0.as_secs_f64(),
                    p.window.1.as_secs_f64()
                ),
                p.sent,
                p.decisions_per_s,
                p.p50_ms,
                p.p99_ms,
                p.p99_9_ms,
                p.errors,
                p.unavailable
            );
        }
        println!(
            "  shed {}; p99 during ÷ before {:.2}×",
            self.shed,
            self.during_over_before()
        );
        println!(
            "  the drop: {} requests sent in {:.2} s, all final after {:.2} s; sold {}, \
             turned away at once (409) {}, 503 {}, errors {}, never final {}",
            self.drop_requests,
            self.drop_sent_in_s,
            self.drop_all_final_s,
            self.drop_sold,
            self.drop_turned_away_at_once,
            self.drop_unavailable,
            self.drop_errors,
            self.drop_never_final
        );
        println!(
            "  CPU {:.2} ms per decision (bench process {:.1} s, PostgreSQL {:.1} s, RabbitMQ {:.1} s); \
             gates: oversold {} / {}, duplicates {}, accepted but lost {}",
            self.cpu_ms_per_decision(),
            self.cpu_s[0],
            self.cpu_s[1],
            self.cpu_s[2],
            self.gates[0],
            self.gates[1],
            self.gates[2],
            self.lost
        );
    }
}

/// The comparison: each contender's during-drop p99, and its ratio to before.
pub(crate) fn print_summary(results: &[Value]) {
    println!(
        "\n{:>12} {:>15} {:>15} {:>13} {:>17}",
        "contender", "p99 before ms", "p99 during ms", "during÷before", "drop all final s"
    );
    for r in results {
        println!(
            "{:>12} {:>15.1} {:>15.1} {:>12.2}× {:>17.2}",
            r["contender"].as_str().unwrap_or_default(),
            r["background"][0]["p99_ms"].as_f64().unwrap_or(f64::NAN),
            r["background"][1]["p99_ms"].as_f64().unwrap_or(f64::NAN),
            r["p99_during_over_before"].as_f64().unwrap_or(f64::NAN),
            r["drop"]["all_final_s"].as_f64().unwrap_or(f64::NAN),
        );
    }
}
