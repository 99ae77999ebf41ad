//! How long this worker process takes per command: an exponentially weighted mean, reported
//! to the store every few seconds so intake can estimate a waiting request's wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::Context;

/// How often the pace is reported.
const REPORT_EVERY: Duration = Duration::from_secs(5);
/// The weight of the newest observation: about the last 50 commands count.
const WEIGHT: f64 = 0.02;

/// The mean time per command, in nanoseconds as f64 bits; 0 before the first command.
#[derive(Debug, Default)]
pub struct Pace(AtomicU64);

impl Pace {
    pub fn observe(&self, took: Duration) {
        let took = took.as_nanos() as f64;
        // Only the worker's partition tasks write; a lost update under a race costs nothing.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                let mean = f64::from_bits(bits);
                let next = if bits == 0 {
                    took
                } else {
                    mean + WEIGHT * (took - mean)
                };
                Some(next.to_bits())
            });
    }

    pub fn mean(&self) -> Option<Duration> {
        let mean = f64::from_bits(self.0.load(Ordering::Relaxed));
        (mean > 0.0).then(|| Duration::from_nanos(mean as u64))
    }
}

/// Reports the pace until `shutdown`, under an id of its own.
pub async fn report(context: Arc<Context>, shutdown: CancellationToken) {
    let worker_id = Uuid::new_v4();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(REPORT_EVERY) => {}
        }
        if let Some(mean) = context.pace.mean() {
            if let Err(error) = context.store.record_pace(worker_id, mean).await {
                tracing::debug!(%error, "could not report the pace");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_starts_at_the_first_observation_and_moves_slowly() {
        let pace = Pace::default();
        assert_eq!(pace.mean(), None);
        pace.observe(Duration::from_millis(10));
        assert_eq!(pace.mean(), Some(Duration::from_millis(10)));
        pace.observe(Duration::from_millis(110));
        let mean = pace.mean().unwrap().as_secs_f64();
        assert!((mean - 0.012).abs() < 1e-6, "{mean}");
    }
}
