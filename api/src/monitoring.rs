//! Prometheus metrics: the process-wide recorder, and the HTTP series (requests by route and
//! status, and their latency; `POST /v1/reservations` is the intake latency).
//!
//! The series every process may export, by the crate that records them:
//! - api: `maitred_http_requests_total{method,route,status}`,
//!   `maitred_http_request_duration_seconds{method,route}`;
//! - worker: `maitred_commands_total{command,outcome}`, `maitred_command_duration_seconds`,
//!   `maitred_webhook_deliveries_total{result}`, `maitred_dead_lettered_total{queue}`,
//!   `maitred_queue_depth{queue}` and `maitred_dead_letters{queue}` (polled);
//! - booking: `maitred_decision_latency_seconds{status}` (from acceptance to a final answer).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: from a cached read to a decision behind a long queue.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process's Prometheus recorder, installed on first use. Metrics recorded before it is
/// installed are dropped, so start-up calls this first.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only when another recorder was installed first; then ours renders nothing.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

/// The text exposition of every series.
pub fn render() -> String {
    let handle = prometheus();
    // Without the exporter's own runtime, histograms are compacted here.
    handle.run_upkeep();
    handle.render()
}

/// Counts and times every request by its route template and a known method, so neither ids
/// nor made-up methods (`A1`, `A2`, … or a 400 KB one) can add series until memory runs out.
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "maitred_http_requests_total",
        "method" => method, "route" => route.clone(), "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "maitred_http_request_duration_seconds",
        "method" => method, "route" => route
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a label: one of the standard methods, or `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for made_up in ["A1", "TRACE", "CONNECT", &"X".repeat(4096)] {
            assert_eq!(
                method_label(&made_up.parse().unwrap()),
                "other",
                "{made_up}"
            );
        }
    }
}
