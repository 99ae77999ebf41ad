//! Outgoing webhook delivery for maitred, following the
//! [Standard Webhooks](https://www.standardwebhooks.com/) convention.
//!
//! Every request carries three headers:
//! - `webhook-id`: the message id, stable across retries so receivers can deduplicate;
//! - `webhook-timestamp`: unix seconds at the time of this attempt;
//! - `webhook-signature`: `v1,` + base64(HMAC-SHA256 of `"{id}.{timestamp}.{body}"`).
//!
//! Destinations are chosen by our clients, so the server must not become a way to reach its own
//! network (SSRF): [`UrlPolicy`] refuses non-public addresses, both when a URL is registered
//! ([`UrlPolicy::check_url`]) and again at delivery time, after DNS resolution, so a public name
//! that later resolves to an internal address is refused as well.
//!
//! This crate knows nothing of AMQP or the database: queueing and retry scheduling live elsewhere;
//! [`DeliveryError::is_permanent`] tells them whether a retry can help.
//!
//! # Layout
//! - `secret`: [`Secret`] (the `whsec_` signing key), [`Secret::sign`] and [`verify`].
//! - `policy`: [`UrlPolicy`], which destinations are allowed, and [`UrlRejected`].
//! - `sender`: [`Sender`], the HTTP client with the policy-checking DNS resolver.

mod policy;
mod secret;
mod sender;

pub use policy::{InvalidAllowList, UrlPolicy, UrlRejected};
pub use secret::{verify, InvalidSecret, Secret};
pub use sender::{DeliveryError, Sender, SenderError};
