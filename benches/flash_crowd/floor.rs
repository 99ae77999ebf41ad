//! The floor: what HTTP alone costs. maitred's own server (the same hyper server, the same
//! layers: deadline, cap on requests in flight, metrics, span, request id, panic catcher) and
//! the same load generator, with a handler that parses the booking and answers maitred's
//! sold-out `409` without touching anything. Every contender's time is also printed as a
//! multiple of this one's.

use super::*;
use crate::cpu::{cpu_between, cpu_snapshot};
use crate::load::{drive, Outcome};
use crate::results::{database_name, Figures};
use crate::scene::seed;

/// Parses the body as intake does, then turns it away as a sold-out slot would.
async fn sold_out(
    api::extract::Json(form): api::extract::Json<booking::request::BookingForm>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    api::ApiError::SoldOut(format!(
        "table type {} is sold out for this time",
        form.table_type_id
    ))
    .into_response()
}

/// Serves the floor on `listener` until `stop`.
fn start_floor(
    listener: tokio::net::TcpListener,
    stop: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    let limits = api::server::HttpLimits::default();
    let app = api::server_stack(
        Router::new().route("/v1/reservations", post(sold_out)),
        &limits,
    );
    tokio::spawn(api::server::serve(
        listener,
        app,
        limits.header_read_timeout,
        stop,
    ))
}

/// `--serve-floor ADDR`: only the floor's server, for `secs` seconds, so that a load generator
/// in another process (`wrk -s benches/flash_crowd/floor.lua`) can be compared with this one.
pub(crate) async fn serve_floor(addr: &str, secs: u64) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    println!(
        "floor: POST http://{}/v1/reservations for {secs} s",
        listener.local_addr().unwrap()
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let server = start_floor(listener, stop.clone());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.cancel();
    server.await.unwrap().unwrap();
}

pub(crate) async fn run_floor(args: &Args, db_url: &str) -> Figures {
    // A restaurant only so that the requests look like the others'; nothing reads it.
    let pool = fair_pool(db_url, 2).await;
    let scene = seed(&Store::new(pool.clone()), "floor").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/reservations", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let server = start_floor(listener, stop.clone());

    let database = database_name(db_url);
    let cpu_before = cpu_snapshot(&database);
    let start = Instant::now();
    let sent = drive(url, &scene, args, "floor", start).await;
    let cpu_after = cpu_snapshot(&database);
    stop.cancel();
    server.await.unwrap().unwrap();
    pool.close().await;

    let all_final = sent
        .iter()
        .map(|s| s.answered)
        .max()
        .unwrap_or_default()
        .as_secs_f64();
    let mut latencies: Vec<f64> = sent
        .iter()
        .map(|s| (s.answered - s.sent).as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let errors: Vec<_> = sent
        .iter()
        .filter(|s| s.outcome != Outcome::Rejected)
        .collect();
    let cpu = cpu_between(&cpu_before, &cpu_after);
    Figures {
        name: "floor".into(),
        requests: sent.len(),
        accepted: 0,
        intake_per_s: sent.len() as f64 / all_final,
        decisions_per_s: sent.len() as f64 / all_final,
        all_final_s: all_final,
        sold_out_s: None,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        p999_ms: percentile(&latencies, 99.9),
        cpu,
        cpu_per_1000: cpu.total() / (sent.len() as f64 / 1000.0),
        rejected: sent.len() - errors.len(),
        errors: errors.len(),
        first_error: errors.first().map(|s| format!("{:?}", s.outcome)),
        ..Figures::default()
    }
}
