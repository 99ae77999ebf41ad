//! Abuse limits: bookings per client address, requests per staff token (GCRA limiters from
//! governor), and a lane per guest email so the limit on a guest's active bookings is counted
//! one booking at a time. A request past a limit is answered `429` with `Retry-After`.
//!
//! The client address is the TCP peer ([`crate::server::serve`] puts it on every request), or,
//! when the peer is a trusted proxy, the right-most `X-Forwarded-For` entry that is not one.
//! A request with no peer address (in-process tests, `tower::ServiceExt::oneshot`) counts
//! under one shared key, the unspecified address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::NaiveDate;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use uuid::Uuid;

use crate::{ApiError, AppState};

/// Keys a limiter may hold before its state is forgotten: a client spraying addresses or
/// tokens costs at most this many entries (some tens of bytes each).
pub const MAX_KEYS: usize = 100_000;

/// How often limiters forget the keys whose quota is full again.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What a guest over the active-bookings limit is told to wait: a hold that is not paid
/// expires within minutes (10 by default) and frees its place under the limit.
pub const ACTIVE_BOOKINGS_RETRY_AFTER_SECONDS: u64 = 600;

/// The limits, as configured (`MAITRED_RATE_LIMITS` and its companions).
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// `false`: no limit at all (benchmarks, load tests).
    pub enabled: bool,
    /// Bookings a client address may make per minute, on average.
    pub bookings_per_minute: NonZeroU32,
    /// Bookings a client address may make at once before the rate applies.
    pub booking_burst: NonZeroU32,
    /// Requests a staff token may make per minute, on average.
    pub staff_requests_per_minute: NonZeroU32,
    /// Requests a staff token may make at once before the rate applies.
    pub staff_burst: NonZeroU32,
    /// Active bookings (pending, held, confirmed) one email may hold at one restaurant on one day.
    pub active_bookings_per_email: u32,
    /// Proxies whose `X-Forwarded-For` is believed. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<IpNet>,
}

impl RateLimitConfig {
    /// Every limit off.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}

impl Default for RateLimitConfig {
    /// What a restaurant site would use: 30 bookings a minute per address with a burst of 60,
    /// 600 staff requests a minute per token with a burst of 300, 4 active bookings per email,
    /// restaurant and day.
    fn default() -> Self {
        Self {
            enabled: true,
            bookings_per_minute: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            booking_burst: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
            staff_requests_per_minute: NonZeroU32::new(600).unwrap_or(NonZeroU32::MIN),
            staff_burst: NonZeroU32::new(300).unwrap_or(NonZeroU32::MIN),
            active_bookings_per_email: 4,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The limiters of one API process.
pub struct RateLimits {
    config: RateLimitConfig,
    bookings: Option<Bounded<IpAddr>>,
    staff: Option<Bounded<u64>>,
    /// One lane per (email, restaurant, day): the count of active bookings and the recording
    /// of a new one are not interleaved with another request of the same guest in this process.
    guest_lanes: moka::sync::Cache<(String, Uuid, NaiveDate), Arc<tokio::sync::Mutex<()>>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::new(RateLimitConfig::off())
    }
}

impl RateLimits {
    pub fn new(config: RateLimitConfig) -> Self {
        let enabled = config.enabled;
        let quota = |per_minute: NonZeroU32, burst: NonZeroU32| {
            Quota::per_minute(per_minute).allow_burst(burst)
        };
        Self {
            bookings: enabled
                .then(|| Bounded::new(quota(config.bookings_per_minute, config.booking_burst))),
            staff: enabled
                .then(|| Bounded::new(quota(config.staff_requests_per_minute, config.staff_burst))),
            guest_lanes: moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS as u64)
                .time_to_idle(PRUNE_EVERY)
                .build(),
            config,
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// The most active bookings one email may hold at a restaurant on a day; `None` when
    /// limits are off.
    pub fn active_bookings_per_email(&self) -> Option<u32> {
        self.enabled()
            .then_some(self.config.active_bookings_per_email)
    }

    /// Waits for the guest's lane; held while their bookings are counted and the new one is
    /// recorded. `None` when limits are off.
    pub async fn guest_lane(
        &self,
        email: &str,
        restaurant_id: Uuid,
        date: NaiveDate,
    ) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        if !self.enabled() {
            return None;
        }
        let lane = self
            .guest_lanes
            .get_with((email.to_owned(), restaurant_id, date), Arc::default);
        Some(lane.lock_owned().await)
    }

    /// Counts one booking against `client`.
    ///
    /// # Errors
    /// `429` when the address is over its booking rate.
    pub fn check_booking(&self, client: IpAddr) -> Result<(), ApiError> {
        let Some(bookings) = &self.bookings else {
            return Ok(());
        };
        bookings.check(&address_key(client)).map_err(|wait| {
            metrics::counter!("maitred_intake_rate_limited_total", "limit" => "client_address")
                .increment(1);
            ApiError::TooManyRequests {
                detail: format!(
                    "too many bookings from this client address: at most {} a minute (bursts \
                     of {}); nothing was booked. Retry after {} s",
                    self.config.bookings_per_minute,
                    self.config.booking_burst,
                    wait.as_secs().max(1)
                ),
                field: None,
                retry_after: wait,
            }
        })
    }

    /// Counts one request against a staff token (only hashed, so no secret stays in memory).
    ///
    /// # Errors
    /// `429` when the token is over its request rate.
    pub fn check_staff(&self, token: &str) -> Result<(), ApiError> {
        let Some(staff) = &self.staff else {
            return Ok(());
        };
        let key = xxhash_rust::xxh3::xxh3_64(token.as_bytes());
        staff.check(&key).map_err(|wait| {
            metrics::counter!("maitred_intake_rate_limited_total", "limit" => "staff_token")
                .increment(1);
            ApiError::TooManyRequests {
                detail: format!(
                    "too many requests with this staff token: at most {} a minute (bursts of \
                     {}). Retry after {} s",
                    self.config.staff_requests_per_minute,
                    self.config.staff_burst,
                    wait.as_secs().max(1)
                ),
                field: None,
                retry_after: wait,
            }
        })
    }

    /// The client of a request: the peer, or behind trusted proxies the right-most
    /// `X-Forwarded-For` address that is not one of them. Without a peer address (in-process
    /// requests), the unspecified address: every such request shares one key.
    pub fn client_address(&self, parts: &Parts) -> IpAddr {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        };
        let trusted = |ip: &IpAddr| self.config.trusted_proxies.iter().any(|n| n.contains(ip));
        let mut client = peer.ip().to_canonical();
        if !trusted(&client) {
            return client;
        }
        // Each proxy appends the address it received from: read from the right, past our own.
        let hops = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .rev()
            .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
        for hop in hops {
            // Anything unreadable was written by whoever is beyond the last trusted proxy.
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip.to_canonical();
            if !trusted(&client) {
                break;
            }
        }
        client
    }
}

/// An IPv6 client usually has a whole /64: it is one key, or one client could take as many
/// keys (and bookings) as it has addresses.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
    }
}

/// A keyed limiter whose keys stay bounded: keys whose quota is full again are forgotten every
/// [`PRUNE_EVERY`], and past [`MAX_KEYS`] live keys the whole state is started afresh (a
/// sprayer then resets others' counts, but never exhausts memory).
struct Bounded<K: std::hash::Hash + Eq + Clone> {
    quota: Quota,
    limiter: RwLock<Arc<DefaultKeyedRateLimiter<K>>>,
    started: Instant,
    /// Seconds after `started` of the last pruning.
    pruned_at: AtomicU64,
}

impl<K: std::hash::Hash + Eq + Clone> Bounded<K> {
    fn new(quota: Quota) -> Self {
        Self {
            quota,
            limiter: RwLock::new(Arc::new(DefaultKeyedRateLimiter::keyed(quota))),
            started: Instant::now(),
            pruned_at: AtomicU64::new(0),
        }
    }

    fn current(&self) -> Arc<DefaultKeyedRateLimiter<K>> {
        // A poisoned lock only means a panic elsewhere; the limiter in it is still sound.
        self.limiter
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// `Err(wait)`: over the quota until `wait` has passed.
    fn check(&self, key: &K) -> Result<(), Duration> {
        self.prune_if_due();
        self.current()
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn prune_if_due(&self) {
        let now = self.started.elapsed().as_secs();
        let last = self.pruned_at.load(Ordering::Relaxed);
        let limiter = self.current();
        let crowded = limiter.len() > MAX_KEYS;
        if now.saturating_sub(last) < PRUNE_EVERY.as_secs() && !crowded {
            return;
        }
        // One request does the pruning; the others go on.
        if self
            .pruned_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        limiter.retain_recent();
        limiter.shrink_to_fit();
        if limiter.len() > MAX_KEYS {
            tracing::warn!(
                keys = limiter.len(),
                "a rate limiter holds too many keys; its state starts afresh"
            );
            *self
                .limiter
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Arc::new(DefaultKeyedRateLimiter::keyed(self.quota));
        }
    }
}

/// Counts a booking against its client's address; a `429` before the body is even read.
#[derive(Debug, Clone, Copy)]
pub struct BookingAllowance;

impl FromRequestParts<AppState> for BookingAllowance {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.rate_limits.enabled() {
            let client = state.rate_limits.client_address(parts);
            state.rate_limits.check_booking(client)?;
        }
        Ok(BookingAllowance)
    }
}

/// The client's address, as [`RateLimits::client_address`] tells it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(ClientAddress(state.rate_limits.client_address(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn limits(trusted: &[&str]) -> RateLimits {
        RateLimits::new(RateLimitConfig {
            bookings_per_minute: NonZeroU32::new(1).unwrap(),
            booking_burst: NonZeroU32::new(2).unwrap(),
            trusted_proxies: trusted.iter().map(|n| n.parse().unwrap()).collect(),
            ..RateLimitConfig::default()
        })
    }

    fn parts(peer: Option<&str>, forwarded: &[&str]) -> Parts {
        let mut request = Request::builder();
        for value in forwarded {
            request = request.header("x-forwarded-for", *value);
        }
        let mut request = request.body(()).unwrap();
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
        }
        request.into_parts().0
    }

    fn client(limits: &RateLimits, peer: Option<&str>, forwarded: &[&str]) -> String {
        limits.client_address(&parts(peer, forwarded)).to_string()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let direct = limits(&[]);
        // Anyone can write the header: without trusted proxies it is ignored.
        assert_eq!(
            client(&direct, Some("203.0.113.9:4000"), &["1.2.3.4"]),
            "203.0.113.9"
        );
        assert_eq!(client(&direct, None, &[]), "0.0.0.0");

        let proxied = limits(&["10.0.0.0/8"]);
        // The right-most address that is not a trusted proxy; what is left of it was written
        // by the client and may be forged.
        let peer = Some("10.0.0.2:4000");
        assert_eq!(
            client(&proxied, peer, &["6.6.6.6, 198.51.100.7"]),
            "198.51.100.7"
        );
        assert_eq!(
            client(&proxied, peer, &["6.6.6.6, 198.51.100.7", "10.0.0.5"]),
            "198.51.100.7"
        );
        assert_eq!(client(&proxied, peer, &["garbage, 10.0.0.7"]), "10.0.0.7");
        assert_eq!(client(&proxied, peer, &[]), "10.0.0.2");
        // A peer outside the trusted networks is the client whatever it claims.
        assert_eq!(
            client(&proxied, Some("198.51.100.7:1"), &["1.1.1.1"]),
            "198.51.100.7"
        );
    }

    #[test]
    fn an_address_gets_its_burst_then_waits_and_others_are_untouched() {
        let limits = limits(&[]);
        let ada: IpAddr = "203.0.113.1".parse().unwrap();
        limits.check_booking(ada).unwrap();
        limits.check_booking(ada).unwrap();
        let ApiError::TooManyRequests { retry_after, .. } = limits.check_booking(ada).unwrap_err()
        else {
            panic!("a 429")
        };
        assert!(retry_after > Duration::from_secs(50), "{retry_after:?}");
        limits
            .check_booking("203.0.113.2".parse().unwrap())
            .unwrap();
        assert!(RateLimits::new(RateLimitConfig::off())
            .check_booking(ada)
            .is_ok());
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let limits = limits(&[]);
        limits
            .check_booking("2001:db8::1".parse().unwrap())
            .unwrap();
        limits
            .check_booking("2001:db8::2".parse().unwrap())
            .unwrap();
        assert!(limits
            .check_booking("2001:db8::ffff:3".parse().unwrap())
            .is_err());
        assert!(limits
            .check_booking("2001:db8:0:1::1".parse().unwrap())
            .is_ok());
    }

    #[test]
    fn keys_stay_bounded_however_many_addresses_are_sprayed() {
        let limits = limits(&[]);
        let bookings = limits.bookings.as_ref().unwrap();
        for n in 0..(MAX_KEYS as u32 + 10) {
            limits.check_booking(IpAddr::V4(Ipv4Addr::from(n))).unwrap();
        }
        bookings.prune_if_due();
        assert!(
            bookings.current().len() <= MAX_KEYS,
            "{}",
            bookings.current().len()
        );
    }
}
