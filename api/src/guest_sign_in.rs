//! Diners sign in to their history (`/me`) with a link sent by email: no password to keep.
//!
//! Asking for a link (`POST /v1/guest-sessions`, or the form on `/me`) answers the same whether
//! or not the email has booked with us; a link is written and emailed only when it has. The
//! link works once, within [`LINK_MINUTES`]; using it starts a session: a random secret in an
//! HttpOnly cookie, looked up by its SHA-256 in `guest_session`, ended on the server at
//! sign-out. Requests for links are counted per email and per client address, so the form can
//! neither flood a mailbox nor probe many addresses.
//!
//! The email is sent in the background, apart from the request, so the answer's timing says
//! nothing either. A link lost to a failed send (counted in `maitred_notifications_total`) is
//! asked for again: it lives 15 minutes, longer than any retry schedule would be worth.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use chrono::Utc;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::admin::session::{digest, new_secret};
use crate::{ApiError, AppState};

/// How long a sign-in link works.
pub const LINK_MINUTES: u32 = 15;
/// How long a diner stays signed in.
const SESSION_DAYS: i64 = 30;
/// The guest session cookie's name.
pub const GUEST_COOKIE: &str = "maitred_guest";
/// Links asked for one email, and from one client address, per [`COUNTED_FOR`].
const LINKS_PER_EMAIL: u32 = 5;
const LINKS_PER_ADDRESS: u32 = 30;
const COUNTED_FOR: Duration = Duration::from_secs(15 * 60);
/// Emails being sent at once; past it a link is not sent (and counted as dropped).
const SENDS_AT_ONCE: usize = 32;

/// Sends sign-in links, and counts who asks for them.
pub struct SignInLinks {
    notifier: Arc<dyn notify::Notifier>,
    /// May a link go to the development log sink? Never outside development: whoever reads
    /// the log could sign in as anyone.
    may_log_links: bool,
    /// Where the website is, for the link.
    public_url: String,
    sending: Arc<Semaphore>,
    by_email: moka::sync::Cache<String, u32>,
    by_address: moka::sync::Cache<IpAddr, u32>,
}

impl std::fmt::Debug for SignInLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLinks")
            .field("notifier", &self.notifier.name())
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl SignInLinks {
    pub fn new(notifier: Arc<dyn notify::Notifier>, public_url: &str, development: bool) -> Self {
        Self {
            may_log_links: development || notifier.name() != "log",
            notifier,
            public_url: public_url.trim_end_matches('/').to_owned(),
            sending: Arc::new(Semaphore::new(SENDS_AT_ONCE)),
            by_email: counter(),
            by_address: counter(),
        }
    }

    /// Counts one request for a link; `429` past either limit.
    fn count(&self, email: &str, client: IpAddr) -> Result<(), ApiError> {
        let email_count = self
            .by_email
            .entry(email.to_owned())
            .and_upsert_with(|old| old.map_or(1, |old| old.into_value() + 1))
            .into_value();
        let address_count = self
            .by_address
            .entry(client)
            .and_upsert_with(|old| old.map_or(1, |old| old.into_value() + 1))
            .into_value();
        if email_count > LINKS_PER_EMAIL || address_count > LINKS_PER_ADDRESS {
            metrics::counter!("maitred_guest_sign_in_links_total", "outcome" => "limited")
                .increment(1);
            return Err(ApiError::TooManyRequests {
                detail: format!(
                    "too many sign-in links asked for: at most {LINKS_PER_EMAIL} for one email \
                     in {} minutes; nothing was sent. Use the last link you got, or try again \
                     later",
                    COUNTED_FOR.as_secs() / 60
                ),
                field: Some("email"),
                retry_after: COUNTED_FOR,
            });
        }
        Ok(())
    }

    /// Sends `email` in the background.
    fn send_later(&self, email: notify::Email) {
        if !self.may_log_links {
            tracing::warn!(
                "a sign-in link was asked for, but MAITRED_SMTP_URL is not set: not sent, and \
                 not written to this log"
            );
            metrics::counter!("maitred_notifications_total", "kind" => "sign_in", "result" => "not_sent")
                .increment(1);
            return;
        }
        let Ok(permit) = self.sending.clone().try_acquire_owned() else {
            tracing::warn!("too many sign-in emails in flight: this link is not sent");
            metrics::counter!("maitred_notifications_total", "kind" => "sign_in", "result" => "dropped")
                .increment(1);
            return;
        };
        let notifier = self.notifier.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let result = match notifier.send(&email).await {
                Ok(()) => {
                    tracing::info!(notifier = notifier.name(), "sign-in link sent");
                    "sent"
                }
                Err(error) => {
                    tracing::warn!(%error, "sign-in link not sent");
                    "failed"
                }
            };
            metrics::counter!("maitred_notifications_total", "kind" => "sign_in", "result" => result)
                .increment(1);
        });
    }
}

/// Counts per key for [`COUNTED_FOR`] after the last count.
fn counter<K: std::hash::Hash + Eq + Send + Sync + 'static>() -> moka::sync::Cache<K, u32> {
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(COUNTED_FOR)
        .build()
}

/// The email a diner typed, lower-case, if it reads as one.
///
/// # Errors
/// `422` naming `email`.
pub fn parse_email(email: &str) -> Result<String, booking::Invalid> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && !email.contains(|c: char| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if plausible {
        Ok(email)
    } else {
        Err(booking::Invalid::new(
            "email",
            "must be an email address like name@example.com",
        ))
    }
}

/// Asks for a sign-in link for `email`: written and sent if the email has booked with us,
/// nothing otherwise; the caller cannot tell which.
///
/// # Errors
/// `422` for an email that is not one, `429` past the limits, `503` on a database error.
#[tracing::instrument(skip_all)]
pub async fn ask_for_link(state: &AppState, email: &str, client: IpAddr) -> Result<(), ApiError> {
    let email = parse_email(email)?;
    let links = &state.sign_in_links;
    links.count(&email, client)?;
    let token = new_secret();
    let expires_at = Utc::now() + chrono::Duration::minutes(i64::from(LINK_MINUTES));
    let known = state
        .store
        .insert_guest_sign_in(&email, &digest(&token), expires_at)
        .await?;
    metrics::counter!(
        "maitred_guest_sign_in_links_total",
        "outcome" => if known { "written" } else { "unknown_email" }
    )
    .increment(1);
    if known {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", &token)
            .finish();
        let link = format!("{}/me/sign-in?{query}", links.public_url);
        let id = Uuid::new_v4().to_string();
        links.send_later(notify::sign_in_link(&email, &link, LINK_MINUTES, &id));
    }
    Ok(())
}

/// A diner signed in to the website.
#[derive(Debug, Clone)]
pub struct SignedInGuest {
    /// Lower-case.
    pub email: String,
    secret: String,
}

impl SignedInGuest {
    /// The token this session's forms carry.
    pub fn csrf(&self) -> String {
        crate::web::csrf_token("maitred guest csrf", &self.secret)
    }

    /// Is `sent` this session's CSRF token?
    pub fn csrf_matches(&self, sent: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.csrf().as_bytes().ct_eq(sent.as_bytes()))
    }
}

/// The diner whose live session cookie came in `headers`, if any.
///
/// # Errors
/// On a database error.
pub async fn signed_in_guest(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SignedInGuest>, booking::Error> {
    let Some(secret) = crate::web::cookie(headers, GUEST_COOKIE).filter(|s| s.len() <= 100) else {
        return Ok(None);
    };
    Ok(state
        .store
        .guest_session_email(&digest(&secret))
        .await?
        .map(|email| SignedInGuest { email, secret }))
}

/// Uses a sign-in link: a new session's cookie value, or `None` for a link that is unknown,
/// used or expired.
///
/// # Errors
/// On a database error.
pub async fn use_link(state: &AppState, token: &str) -> Result<Option<String>, booking::Error> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let secret = new_secret();
    let expires_at = Utc::now() + chrono::Duration::days(SESSION_DAYS);
    let email = state
        .store
        .use_guest_sign_in(&digest(token), &digest(&secret), expires_at)
        .await?;
    metrics::counter!(
        "maitred_guest_sign_ins_total",
        "outcome" => if email.is_some() { "signed_in" } else { "link_refused" }
    )
    .increment(1);
    Ok(email.map(|_| secret))
}

/// Ends the session on the server.
///
/// # Errors
/// On a database error.
pub async fn sign_out(state: &AppState, guest: &SignedInGuest) -> Result<(), booking::Error> {
    state.store.end_guest_session(&digest(&guest.secret)).await
}

/// Sets (or, with `None`, clears) the session cookie: HttpOnly; SameSite=Lax, so a link to a
/// booking in one of our emails opens it signed in, while no other site can post with it.
pub fn set_cookie(state: &AppState, response: &mut Response, secret: Option<&str>) {
    let secure = if state.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let max_age = if secret.is_some() {
        SESSION_DAYS * 24 * 60 * 60
    } else {
        0
    };
    let cookie = format!(
        "{GUEST_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        secret.unwrap_or("")
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(
            parse_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@example",
            "@example.com",
            "a da@example.com",
            "a\0@b.c",
        ] {
            assert_eq!(parse_email(bad).unwrap_err().field, "email", "{bad:?}");
        }
        assert!(parse_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
