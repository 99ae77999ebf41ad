//! The diners' website: server-rendered pages on the same domain and store functions as the
//! JSON routes. Every form posts and redirects, so the pages work without JavaScript; a little
//! script of our own ([`assets`]) updates a pending reservation's page by itself.
//!
//! - [`find`]: `/`, find a table near a place or in a city;
//! - [`restaurant`]: the restaurant page with its availability grid, and the table-type page;
//! - [`book`]: the booking form, posted to the same intake as `POST /v1/reservations`;
//! - [`reservation`]: the diner's reservation page (live status, pay, cancel), opened with the
//!   receipt token and then kept in an HttpOnly cookie scoped to that reservation;
//! - [`waitlist`]: joining the waitlist of a sold-out time, and the entry's own page;
//! - [`me`]: a diner's history after signing in with an emailed link.

mod assets;
mod book;
mod change;
mod find;
pub mod format;
pub mod layout;
mod me;
mod reservation;
mod restaurant;
mod waitlist;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::html;

pub use find::PopularCities;

use crate::{ApiError, AppState};

/// What the website needs to know of its deployment.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebSettings {
    /// Mark cookies `Secure` (HTTPS only): everywhere but on a developer's machine.
    pub secure_cookies: bool,
    /// Offer the simulated gateway's test cards on the payment forms.
    pub test_cards: bool,
}

/// The pages and their assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(find::page))
        .route("/assets/{name}", get(assets::serve))
        .route("/restaurants/{id}", get(restaurant::page))
        .route(
            "/restaurants/{id}/table-types/{type_id}",
            get(restaurant::table_type_page),
        )
        .route("/restaurants/{id}/book", get(book::form).post(book::submit))
        .route("/reservations/{id}", get(reservation::page))
        .route("/reservations/{id}/status", get(reservation::status_panel))
        .route(
            "/reservations/{id}/cancel",
            get(reservation::confirm_cancel).post(reservation::cancel),
        )
        .route(
            "/reservations/{id}/change",
            get(change::form).post(change::submit),
        )
        .route(
            "/reservations/{id}/pay",
            axum::routing::post(reservation::pay),
        )
        .route(
            "/restaurants/{id}/waitlist",
            get(waitlist::form).post(waitlist::join),
        )
        .route("/waitlist/{id}", get(waitlist::page))
        .route("/waitlist/{id}/status", get(waitlist::status_panel))
        .route("/waitlist/{id}/leave", axum::routing::post(waitlist::leave))
        .route("/me", get(me::page))
        .route("/me/sign-in-link", axum::routing::post(me::ask))
        .route("/me/sign-in", get(me::confirm).post(me::sign_in))
        .route("/me/sign-out", axum::routing::post(me::sign_out))
        .route("/me/reservations/{id}", get(me::open_reservation))
}

/// A page that could not be shown, in plain words and with the right status; never
/// problem+json, which is for programs.
#[derive(Debug, Clone)]
pub struct PageError {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Please check the address", message)
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(message) => Self::not_found(message),
            ApiError::Invalid(invalid) => Self::bad_request(invalid.message),
            ApiError::Unreadable(_, message) | ApiError::BadRequest(message) => {
                Self::bad_request(message)
            }
            ApiError::Unauthorized(message) | ApiError::Forbidden(message) => {
                Self::new(StatusCode::FORBIDDEN, "This page is private", message)
            }
            ApiError::TooManyRequests { detail, .. } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "Please slow down", detail)
            }
            ApiError::Unavailable(message) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Very busy right now",
                message,
            ),
            other => {
                tracing::error!(error = %other, "a page failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side; nothing was changed. Please try again \
                     in a moment.",
                )
            }
        }
    }
}

impl From<booking::Error> for PageError {
    fn from(error: booking::Error) -> Self {
        ApiError::from(error).into()
    }
}

impl From<booking::store::CatalogRefusal> for PageError {
    fn from(refusal: booking::store::CatalogRefusal) -> Self {
        ApiError::from(refusal).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = layout::page(
            self.title,
            html! {
                h1 { (self.title) }
                p.notice.error role="alert" { (self.message) }
                p { a href="/" { "Find a table" } }
            },
        );
        let mut response = (self.status, body).into_response();
        no_store(&mut response);
        // Kept for a frame of another look: the admin panel shows its errors in its own.
        response.extensions_mut().insert(self);
        response
    }
}

impl PageError {
    pub fn title(&self) -> &'static str {
        self.title
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The value of the cookie `name` the browser sent.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
}

/// The token a page's forms carry: derived from a secret in an HttpOnly cookie, which no other
/// site can read, for one `purpose` (so one page's token is no other's).
pub fn csrf_token(purpose: &str, secret: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(purpose.as_bytes())
        .chain_update(b"\0")
        .chain_update(secret.as_bytes())
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Pages about one diner's booking must not be kept by a shared cache or the back button.
pub fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Public pages may be reused for a few seconds: tables left and prices move with bookings.
fn briefly_cacheable(response: &mut Response) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=5"),
    );
}
