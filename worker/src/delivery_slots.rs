//! Who may hold the webhook dispatchers' slots. A receiver that never answers holds a slot for
//! the whole delivery timeout; anonymous clients choose their `callbackUrl`s, so without a cap
//! one of them could stall every restaurant's registered endpoints. Callbacks may hold at most
//! `callbacks` slots at once, and any one host at most `per_host`; a delivery that finds no slot
//! is deferred (published again after a back-off), never waited for, so the slot it would have
//! blocked stays free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
pub struct DeliverySlots {
    callbacks: Arc<Semaphore>,
    per_host: usize,
    busy_hosts: Arc<Mutex<HashMap<String, usize>>>,
}

/// A taken slot, given back on drop.
#[derive(Debug)]
pub struct Slot {
    _callback: Option<OwnedSemaphorePermit>,
    host: String,
    busy_hosts: Arc<Mutex<HashMap<String, usize>>>,
}

impl DeliverySlots {
    pub fn new(callbacks: u16, per_host: u16) -> Self {
        Self {
            callbacks: Arc::new(Semaphore::new(usize::from(callbacks.max(1)))),
            per_host: usize::from(per_host.max(1)),
            busy_hosts: Arc::default(),
        }
    }

    /// A slot for a delivery to `host`, or `None` when callbacks (if it is one) or the host
    /// already hold all theirs.
    pub fn try_take(&self, host: &str, is_callback: bool) -> Option<Slot> {
        let callback = if is_callback {
            Some(self.callbacks.clone().try_acquire_owned().ok()?)
        } else {
            None
        };
        let mut busy = self.busy_hosts.lock().unwrap_or_else(|e| e.into_inner());
        let count = busy.entry(host.to_owned()).or_insert(0);
        if *count >= self.per_host {
            return None;
        }
        *count += 1;
        Some(Slot {
            _callback: callback,
            host: host.to_owned(),
            busy_hosts: self.busy_hosts.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = self.busy_hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = busy.get_mut(&self.host) {
            *count -= 1;
            // Forget idle hosts, so the map only ever holds hosts being delivered to.
            if *count == 0 {
                busy.remove(&self.host);
            }
        }
    }
}

/// The host (and port) a URL delivers to, as slots count them; the URL itself when it has none.
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_ascii_lowercase();
            Some(match url.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_else(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_and_each_host_are_capped_and_slots_come_back() {
        let slots = DeliverySlots::new(2, 3);
        let a = slots.try_take("tarpit:443", true).unwrap();
        let b = slots.try_take("tarpit:443", true).unwrap();
        assert!(
            slots.try_take("elsewhere:443", true).is_none(),
            "callbacks full"
        );
        let c = slots.try_take("tarpit:443", false).unwrap();
        assert!(slots.try_take("tarpit:443", false).is_none(), "host full");
        assert!(slots.try_take("restaurant:443", false).is_some());
        drop((a, b, c));
        assert!(slots.try_take("elsewhere:443", true).is_some());
        assert!(slots.busy_hosts.lock().unwrap().is_empty());
    }

    #[test]
    fn hosts_are_counted_with_their_port() {
        assert_eq!(host_of("https://Example.com/hook"), "example.com:443");
        assert_eq!(host_of("http://127.0.0.1:9000/x"), "127.0.0.1:9000");
        assert_eq!(host_of("not a url"), "not a url");
    }
}
