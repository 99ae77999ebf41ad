//! Clients waiting for a decision (`Prefer: wait=N`, RFC 7240). A waiting request registers
//! here and sleeps; the workers announce each run of decisions on the inventory notices'
//! exchange, which every API process follows, and the notice wakes the waiters of those
//! reservations in whichever process holds them. No waiter reads the database while it
//! waits: one read when it is woken (or its time is up) makes its answer.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use booking::messages::InventoryNotice;
use tokio::sync::oneshot;
use uuid::Uuid;

/// The longest wait a client may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// What a wait leaves of the request's deadline, for the one read that makes its answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(3);

/// The waiting clients of this process, by reservation. Each holds one of the requests in
/// flight that the server caps, so at most `capacity` wait at once (three quarters of that cap,
/// [`Self::for_limit`]): a request beyond them is answered at once, as without the preference,
/// and a crowd of waiting clients always leaves a quarter of the server to the others.
#[derive(Debug)]
pub struct DecisionWaiters {
    waiting: Mutex<Waiting>,
    capacity: usize,
}

impl Default for DecisionWaiters {
    fn default() -> Self {
        Self::for_limit(crate::server::HttpLimits::default().max_concurrent_requests)
    }
}

#[derive(Debug, Default)]
struct Waiting {
    by_reservation: HashMap<Uuid, Vec<oneshot::Sender<()>>>,
    count: usize,
}

impl Waiting {
    fn wake(&mut self, reservation_id: Uuid) {
        for wake in self
            .by_reservation
            .remove(&reservation_id)
            .unwrap_or_default()
        {
            self.count -= 1;
            if wake.send(()).is_ok() {
                metrics::counter!("maitred_decision_waiters_woken_total").increment(1);
            }
        }
        self.report();
    }

    fn report(&self) {
        metrics::gauge!("maitred_decision_waiters").set(self.count as f64);
    }
}

/// A registration: resolves when a worker says the reservation was decided (or the notices
/// had a gap, when anything may have been missed). Dropped, however its request ends (an
/// answer, a timeout, a client gone), it takes itself out of the waiters.
#[derive(Debug)]
pub struct Woken {
    receiver: Option<oneshot::Receiver<()>>,
    reservation_id: Uuid,
    waiters: Arc<DecisionWaiters>,
}

impl Future for Woken {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.receiver.as_mut() {
            // A closed sender (a wake or a drain) is a wake too.
            Some(receiver) => Pin::new(receiver).poll(cx).map(|_| ()),
            None => Poll::Ready(()),
        }
    }
}

impl Drop for Woken {
    fn drop(&mut self) {
        // The receiver first, so its sender reads closed and is the one forgotten.
        drop(self.receiver.take());
        self.waiters.forget_gone(self.reservation_id);
    }
}

impl DecisionWaiters {
    /// Waiters for a server that serves `max_concurrent_requests` at once: three quarters of
    /// them. A waiter is a parked task and a map entry; what is scarce is the requests in
    /// flight, and a flash crowd's queued diners all wait at once.
    pub fn for_limit(max_concurrent_requests: usize) -> Self {
        Self::with_capacity(max_concurrent_requests / 4 * 3)
    }

    /// At most `capacity` waiters.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            waiting: Mutex::default(),
            capacity,
        }
    }

    /// Registers a waiter for `reservation_id`; `None` when the process waits for too many.
    pub fn register(self: &Arc<Self>, reservation_id: Uuid) -> Option<Woken> {
        let mut waiting = self.waiting.lock().ok()?;
        if waiting.count >= self.capacity {
            metrics::counter!("maitred_decision_waiters_refused_total").increment(1);
            return None;
        }
        let (wake, woken) = oneshot::channel();
        waiting
            .by_reservation
            .entry(reservation_id)
            .or_default()
            .push(wake);
        waiting.count += 1;
        waiting.report();
        Some(Woken {
            receiver: Some(woken),
            reservation_id,
            waiters: self.clone(),
        })
    }

    /// Forgets the waiters of `reservation_id` that are gone (their [`Woken`] was dropped).
    fn forget_gone(&self, reservation_id: Uuid) {
        let Ok(mut waiting) = self.waiting.lock() else {
            return;
        };
        let Some(wakes) = waiting.by_reservation.get_mut(&reservation_id) else {
            return;
        };
        let before = wakes.len();
        wakes.retain(|wake| !wake.is_closed());
        let gone = before - wakes.len();
        if wakes.is_empty() {
            waiting.by_reservation.remove(&reservation_id);
        }
        waiting.count -= gone;
        waiting.report();
    }

    /// Applies a notice's body: a run of decisions wakes their waiters. Other notices, and
    /// bytes that are not one, are not about waiters.
    pub fn apply(&self, body: &[u8]) {
        let Ok(InventoryNotice::Decided {
            reservation_ids, ..
        }) = serde_json::from_slice::<InventoryNotice>(body)
        else {
            return;
        };
        let Ok(mut waiting) = self.waiting.lock() else {
            return;
        };
        for id in reservation_ids {
            waiting.wake(id);
        }
    }

    /// Wakes everyone: notices may have been missed. Each re-reads its reservation and, if it
    /// is still pending, waits again.
    pub fn wake_all(&self) {
        if let Ok(mut waiting) = self.waiting.lock() {
            let ids: Vec<Uuid> = waiting.by_reservation.keys().copied().collect();
            for id in ids {
                waiting.wake(id);
            }
        }
    }

    /// How many clients wait, for the metrics.
    pub fn len(&self) -> usize {
        self.waiting
            .lock()
            .map(|waiting| waiting.count)
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Waits until `reservation_id` leaves `pending` or `deadline` passes, having registered
/// `woken` before the caller's last read of it (so no decision falls between the two), and
/// returns the reservation as it then is: one read per wake, none while waiting.
///
/// # Errors
/// On a database error.
pub async fn wait_for_decision(
    state: &crate::AppState,
    reservation_id: Uuid,
    mut woken: Woken,
    deadline: tokio::time::Instant,
) -> booking::Result<Option<booking::Reservation>> {
    loop {
        if tokio::time::timeout_at(deadline, &mut woken).await.is_err() {
            drop(woken);
            return state.store.reservation(reservation_id).await;
        }
        // Woken by its decision, or by a gap in the notices: registered again before reading,
        // so a still-pending reservation misses nothing while it waits on.
        let again = state.decisions.register(reservation_id);
        drop(woken);
        let reservation = state.store.reservation(reservation_id).await?;
        let pending = reservation
            .as_ref()
            .is_some_and(|reservation| reservation.status.is_pending());
        match again {
            Some(again) if pending => woken = again,
            _ => return Ok(reservation),
        }
    }
}

/// How long a request with `Prefer: wait=N` waits: N, but never so long that the server's
/// request deadline (`request_timeout`, counted from the start) cuts the answer off.
pub fn wait_until(
    started: tokio::time::Instant,
    wait: Duration,
    request_timeout: Duration,
) -> tokio::time::Instant {
    started + wait.min(request_timeout.saturating_sub(ANSWER_MARGIN))
}

/// The wait a request's `Prefer` headers ask for (`wait=N` seconds, at most [`MAX_WAIT`]), if
/// any. Other preferences, and a malformed wait, are ignored, as RFC 7240 asks.
pub fn preferred_wait(headers: &axum::http::HeaderMap) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split([',', ';']))
        .filter_map(|preference| {
            let (name, value) = preference.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("wait")
                .then(|| value.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
        })
        .next()
        .map(|seconds| Duration::from_secs(seconds).min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn prefer(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert("prefer", HeaderValue::from_str(value).unwrap());
        preferred_wait(&headers)
    }

    #[test]
    fn the_wait_is_read_among_other_preferences_and_capped() {
        assert_eq!(prefer("wait=5"), Some(Duration::from_secs(5)));
        assert_eq!(
            prefer("respond-async, wait=10"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            prefer("return=minimal; Wait=\"7\""),
            Some(Duration::from_secs(7))
        );
        assert_eq!(prefer("wait=3600"), Some(MAX_WAIT));
        assert_eq!(prefer("wait=soon"), None);
        assert_eq!(prefer("respond-async"), None);
    }

    #[tokio::test]
    async fn a_decision_notice_wakes_its_waiters_only() {
        let waiters = Arc::new(DecisionWaiters::default());
        let (decided, other) = (Uuid::new_v4(), Uuid::new_v4());
        let woken = waiters.register(decided).unwrap();
        let still = waiters.register(other).unwrap();
        let notice = InventoryNotice::Decided {
            restaurant_id: Uuid::nil(),
            reservation_ids: vec![decided],
        };
        waiters.apply(&serde_json::to_vec(&notice).unwrap());
        woken.await;
        assert_eq!(waiters.len(), 1);
        // A request that ends however it ends takes its registration with it.
        drop(still);
        assert!(waiters.is_empty());
        let small = Arc::new(DecisionWaiters::with_capacity(1));
        let _first = small.register(decided).unwrap();
        assert!(small.register(other).is_none());
    }
}
