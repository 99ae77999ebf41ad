//! Results: the gates and figures of a run, and a peer's whole run.

use super::*;
use crate::cpu::{cpu_between, cpu_snapshot, CpuSeconds};
use crate::load::{drive, Outcome, Sent};
use crate::peers::{peer_book, Peer, PeerState, LIMIT_EXPR};
use crate::scene::{make_inventory, seed, Scene};

#[derive(Debug, Clone, Default)]
pub(crate) struct Gates {
    pub(crate) oversold_inventory: i64,
    pub(crate) oversold_reservations: i64,
    pub(crate) duplicates: i64,
    pub(crate) accepted_but_lost: i64,
}

impl Gates {
    pub(crate) fn all_zero(&self) -> bool {
        self.oversold_inventory == 0
            && self.oversold_reservations == 0
            && self.duplicates == 0
            && self.accepted_but_lost == 0
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Figures {
    pub(crate) name: String,
    pub(crate) requests: usize,
    pub(crate) accepted: usize,
    pub(crate) intake_per_s: f64,
    pub(crate) decisions_per_s: f64,
    pub(crate) all_final_s: f64,
    pub(crate) sold_out_s: Option<f64>,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p999_ms: f64,
    pub(crate) cpu: CpuSeconds,
    pub(crate) cpu_per_1000: f64,
    pub(crate) sold: i64,
    pub(crate) unsold: i64,
    pub(crate) rejected: usize,
    pub(crate) gave_up: usize,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
    pub(crate) gates: Gates,
    /// maitred only: where the time goes.
    pub(crate) profile: Option<Value>,
}

/// Oversold from inventory rows and from counting the reservations held per type.
pub(crate) async fn oversold(pool: &PgPool, scene: &Scene) -> (i64, i64, i64) {
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

pub(crate) async fn run_peer(
    kind: Peer,
    name: &str,
    args: &Args,
    admin: &PgPool,
    db_url: &str,
) -> Figures {
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

pub(crate) fn database_name(db_url: &str) -> String {
    db_url.rsplit('/').next().unwrap_or_default().to_string()
}
