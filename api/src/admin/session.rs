//! Signing in and out of the admin panel, and the signed-in member of staff every panel page
//! starts from ([`SignedIn`]).
//!
//! A session is a random secret in an HttpOnly, SameSite=Strict cookie (Secure outside
//! development), looked up by its SHA-256 in `staff_session`: sign-out ends it on the server,
//! so an old copy of the cookie opens nothing. Signing in always starts a new session (and ends
//! the one the browser carried). Forms that change anything carry a CSRF token derived from the
//! session's secret. Failed sign-ins are counted per account and per client address; either
//! count over its limit locks sign-in for a while, with the same answer whether or not the
//! email has an account.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{FromRequest, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine;
use booking::staff::StaffAccount;
use chrono::Utc;
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{layout, password};
use crate::auth::StaffPrincipal;
use crate::web::{cookie, csrf_token, no_store, PageError};
use crate::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "maitred_staff";
/// How long a session lasts: a shift, and then some.
const SESSION_HOURS: i64 = 12;
/// How long a password link `maitred staff add` prints stays usable.
pub const PASSWORD_LINK_HOURS: i64 = 72;
/// Failed sign-ins that lock an account, and a client address.
const ACCOUNT_FAILURES: u32 = 5;
const ADDRESS_FAILURES: u32 = 20;
/// How long a lock lasts after the last failure.
const LOCKED_FOR: Duration = Duration::from_secs(15 * 60);

/// The failed sign-ins of the last [`LOCKED_FOR`], per account and per client address.
pub struct SignInGuard {
    by_account: moka::sync::Cache<String, u32>,
    by_address: moka::sync::Cache<IpAddr, u32>,
}

impl Default for SignInGuard {
    fn default() -> Self {
        Self {
            by_account: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(LOCKED_FOR)
                .build(),
            by_address: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(LOCKED_FOR)
                .build(),
        }
    }
}

impl SignInGuard {
    fn locked(&self, email: &str, address: IpAddr) -> bool {
        self.by_account.get(email).unwrap_or(0) >= ACCOUNT_FAILURES
            || self.by_address.get(&address).unwrap_or(0) >= ADDRESS_FAILURES
    }

    fn failed(&self, email: &str, address: IpAddr) {
        // Counted atomically: a burst of parallel guesses must not undercount.
        self.by_account
            .entry(email.to_owned())
            .and_upsert_with(|old| old.map_or(1, |old| old.into_value() + 1));
        self.by_address
            .entry(address)
            .and_upsert_with(|old| old.map_or(1, |old| old.into_value() + 1));
        metrics::counter!("maitred_staff_sign_ins_total", "outcome" => "failed").increment(1);
    }

    fn succeeded(&self, email: &str) {
        self.by_account.invalidate(email);
        metrics::counter!("maitred_staff_sign_ins_total", "outcome" => "succeeded").increment(1);
    }
}

/// The member of staff whose session cookie came with the request. A request without a live
/// session is sent to the sign-in page (a `GET`) or refused (anything else).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: StaffAccount,
    secret: String,
}

impl SignedIn {
    /// The same rights the JSON API gives a staff token for these restaurants.
    pub fn principal(&self) -> StaffPrincipal {
        StaffPrincipal::of(&self.account)
    }

    /// The token this session's forms carry.
    pub fn csrf(&self) -> String {
        csrf_token("maitred admin csrf", &self.secret)
    }

    /// `403` unless `sent` is this session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if bool::from(self.csrf().as_bytes().ct_eq(sent.as_bytes())) {
            Ok(())
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Please try again",
                "This form is out of date or did not come from this panel. Reload the page \
                 and try again.",
            ))
        }
    }

    /// `403` unless this account runs the restaurant.
    pub fn require(&self, restaurant_id: Uuid) -> Result<(), PageError> {
        self.principal()
            .require(restaurant_id)
            .map_err(|_| forbidden("You do not manage this restaurant."))
    }

    /// `403` unless this is a chain-wide admin.
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.account.is_admin() {
            Ok(())
        } else {
            Err(forbidden(
                "Only the chain's administrators can open this page.",
            ))
        }
    }

    /// The audit log's name for what this member of staff does.
    pub fn actor(&self) -> String {
        self.principal().actor()
    }
}

fn forbidden(message: &str) -> PageError {
    PageError::new(StatusCode::FORBIDDEN, "Not yours to open", message)
}

/// What is stored of a secret (a session's, a link's): its SHA-256.
pub(crate) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new random secret: 32 bytes, base64url.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random numbers");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The staff account a session cookie in `headers` belongs to, if the session is live.
pub async fn session_account(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(StaffAccount, String)>, booking::Error> {
    let Some(secret) = cookie(headers, SESSION_COOKIE).filter(|secret| secret.len() <= 100) else {
        return Ok(None);
    };
    Ok(state
        .store
        .session_account(&digest(&secret))
        .await?
        .map(|account| (account, secret)))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match session_account(state, &parts.headers).await {
            Ok(Some((account, secret))) => Ok(SignedIn { account, secret }),
            Ok(None) if parts.method == Method::GET => {
                let next = parts.uri.path_and_query().map_or("/admin", |p| p.as_str());
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                Err(Redirect::to(&format!("/admin/login?{query}")).into_response())
            }
            Ok(None) => Err(PageError::new(
                StatusCode::UNAUTHORIZED,
                "Please sign in",
                "Your session has ended. Sign in again, then repeat what you were doing.",
            )
            .into_response()),
            Err(error) => Err(PageError::from(error).into_response()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Next {
    next: Option<String>,
    done: Option<String>,
}

/// Only a path of this panel: a sign-in link must not send anyone elsewhere.
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|next| next.starts_with("/admin") && !next.starts_with("//"))
        .filter(|next| !next.contains(['\\', '\r', '\n']))
        .unwrap_or("/admin")
}

/// `GET /admin/login`.
pub async fn login_form(Query(query): Query<Next>) -> Response {
    let notice = query
        .done
        .as_deref()
        .filter(|done| *done == "password")
        .map(|_| "Your password is set. Sign in with it.");
    login_page(
        StatusCode::OK,
        "",
        safe_next(query.next.as_deref()),
        notice,
        None,
    )
}

fn login_page(
    status: StatusCode,
    email: &str,
    next: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let body = layout::signed_out(
        "Sign in",
        html! {
            h1 { "Sign in to the admin panel" }
            @if let Some(notice) = notice { p.notice.ok role="status" { (notice) } }
            @if let Some(error) = error { p.notice.error #sign-in-error role="alert" { (error) } }
            form.stack.card method="post" action="/admin/login" {
                input type="hidden" name="next" value=(next);
                label for="email" { "Email" }
                input #email type="email" name="email" value=(email) autocomplete="username" required
                    aria-describedby=[error.map(|_| "sign-in-error")];
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                div.actions { button type="submit" { "Sign in" } }
            }
        },
    );
    let mut response = (status, body).into_response();
    no_store(&mut response);
    response
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    next: String,
}

/// `POST /admin/login`.
pub async fn login(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    let (parts, body) = request.into_parts();
    let address = state.rate_limits.client_address(&parts);
    let old_secret = cookie(&parts.headers, SESSION_COOKIE);
    let request = axum::extract::Request::from_parts(parts, body);
    let Ok(Form(form)) = Form::<SignInForm>::from_request(request, &state).await else {
        return Err(PageError::bad_request(
            "The sign-in form could not be read.",
        ));
    };
    let email = form.email.trim().to_lowercase();
    let next = safe_next(Some(&form.next)).to_owned();
    if state.sign_in.locked(&email, address) {
        return Ok(login_page(
            StatusCode::TOO_MANY_REQUESTS,
            &email,
            &next,
            None,
            Some("Too many failed sign-ins. Sign-in is locked for 15 minutes; try again later."),
        ));
    }
    let found = if email.is_empty() || form.password.chars().count() > password::MAX_LENGTH {
        None
    } else {
        state.store.staff_for_sign_in(&email).await?
    };
    // Every failure costs one hash verification, so timing does not tell them apart.
    let account = match found {
        Some(found) if !found.account.disabled && found.password_hash.is_some() => {
            let phc = found.password_hash.as_deref().unwrap_or_default();
            password::verify(&form.password, phc).then_some(found.account)
        }
        _ => {
            password::verify_nothing(&form.password);
            None
        }
    };
    let Some(account) = account else {
        state.sign_in.failed(&email, address);
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            &email,
            &next,
            None,
            Some("Wrong email or password."),
        ));
    };
    state.sign_in.succeeded(&email);
    // A new session at every sign-in: a session secret planted before it is worth nothing.
    if let Some(old) = old_secret {
        state.store.end_staff_session(&digest(&old)).await?;
    }
    let secret = new_secret();
    let expires_at = Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    state
        .store
        .insert_staff_session(account.id, &digest(&secret), expires_at)
        .await?;
    tracing::info!(staff = %account.email, "staff signed in");
    let mut response = Redirect::to(&next).into_response();
    set_session_cookie(&state, &mut response, &secret, SESSION_HOURS * 3600);
    no_store(&mut response);
    Ok(response)
}

fn set_session_cookie(state: &AppState, response: &mut Response, secret: &str, max_age: i64) {
    let secure = if state.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}

/// `POST /admin/logout`: ends the session on the server, then forgets the cookie.
pub async fn logout(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    state
        .store
        .end_staff_session(&digest(&signed_in.secret))
        .await?;
    tracing::info!(staff = %signed_in.account.email, "staff signed out");
    let mut response = Redirect::to("/admin/login").into_response();
    set_session_cookie(&state, &mut response, "", 0);
    no_store(&mut response);
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct LinkQuery {
    link: Option<String>,
}

/// `GET /admin/set-password?link=`: the form a new member of staff's link opens.
pub async fn set_password_form(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, PageError> {
    let link = query.link.unwrap_or_default();
    let account = linked_account(&state, &link).await?;
    Ok(set_password_page(StatusCode::OK, &account, &link, None))
}

fn expired_link() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "This link has expired",
        "This link was used already or has expired. Ask an administrator for a new one.",
    )
}

async fn linked_account(state: &AppState, link: &str) -> Result<StaffAccount, PageError> {
    if link.is_empty() || link.len() > 100 {
        return Err(expired_link());
    }
    state
        .store
        .password_link_account(&digest(link))
        .await?
        .ok_or_else(expired_link)
}

fn set_password_page(
    status: StatusCode,
    account: &StaffAccount,
    link: &str,
    error: Option<&str>,
) -> Response {
    let body = layout::signed_out(
        "Set your password",
        html! {
            h1 { "Set your password" }
            p { "For " strong { (account.email) } "." }
            @if let Some(error) = error { p.notice.error #password-error role="alert" { (error) } }
            form.stack.card method="post" action="/admin/set-password" novalidate {
                input type="hidden" name="link" value=(link);
                input type="hidden" name="email" value=(account.email) autocomplete="username";
                label for="password" { "New password" }
                span.hint #password-hint { "At least 12 characters." }
                input #password type="password" name="password" autocomplete="new-password" required
                    minlength="12" aria-describedby="password-hint";
                label for="again" { "The same password again" }
                input #again type="password" name="again" autocomplete="new-password" required;
                div.actions { button type="submit" { "Set password" } }
            }
        },
    );
    let mut response = (status, body).into_response();
    no_store(&mut response);
    response
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetPasswordForm {
    link: String,
    password: String,
    again: String,
}

/// `POST /admin/set-password`: sets the password, uses up the link, and ends every session
/// the account had.
pub async fn set_password(
    State(state): State<AppState>,
    Form(form): Form<SetPasswordForm>,
) -> Result<Response, PageError> {
    let account = linked_account(&state, &form.link).await?;
    if let Err(problem) = password::check_new(&form.password, &form.again) {
        return Ok(set_password_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &account,
            &form.link,
            Some(problem),
        ));
    }
    let hashed = password::hash(&form.password);
    if !state
        .store
        .use_password_link(&digest(&form.link), &hashed)
        .await?
    {
        return Err(expired_link());
    }
    tracing::info!(staff = %account.email, "staff password set");
    Ok(Redirect::to("/admin/login?done=password").into_response())
}

/// Creates a one-time link to set `staff_id`'s password; returns its path and query.
///
/// # Errors
/// On a database error.
pub async fn password_link(
    store: &booking::Store,
    staff_id: Uuid,
) -> Result<String, booking::Error> {
    let secret = new_secret();
    let expires_at = Utc::now() + chrono::Duration::hours(PASSWORD_LINK_HOURS);
    store
        .insert_password_link(staff_id, &digest(&secret), expires_at)
        .await?;
    Ok(format!("/admin/set-password?link={secret}"))
}
