//! Errors as RFC 9457 `application/problem+json`. A 5xx is logged with its cause and never shows
//! the client a database or broker message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking::Invalid;
use serde::Serialize;

/// The problem type of a booking turned away because its slot is sold out.
pub const SOLD_OUT_TYPE: &str = "urn:maitred:problem:sold-out";

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is well-formed but breaks a rule about one field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The request cannot be read: malformed JSON, a missing or mistyped field, a bad path or
    /// query parameter. The status is the extractor's (400, 415 or 422).
    #[error("{1}")]
    Unreadable(StatusCode, String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this (wrong role or restaurant).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    /// The slot asked for has no tables left: a final answer, and nothing was recorded.
    #[error("{0}")]
    SoldOut(String),
    /// `If-Match` names a version that is no longer current: someone else changed it.
    #[error("{0}")]
    PreconditionFailed(String),
    /// An update without `If-Match` could overwrite someone else's change unseen.
    #[error("{0}")]
    PreconditionRequired(String),
    /// Nothing was done; the same request may be retried later.
    #[error("{0}")]
    Unavailable(String),
    /// The client is over an abuse limit (`field`: the request field it counts by, if any);
    /// nothing was done, and it may try again after `retry_after`.
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        field: Option<&'static str>,
        retry_after: std::time::Duration,
    },
    /// The store failed: a 503 when the database is unreachable, a 500 otherwise (a broken
    /// invariant included).
    #[error("database error")]
    Database(#[from] booking::Error),
    #[error("a handler panicked")]
    Panicked,
}

/// An RFC 9457 problem: every error the API answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `about:blank` (the status says what kind of problem it is), or for the one `409` a
    /// client must tell apart, [`SOLD_OUT_TYPE`].
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    /// What is wrong, for a person to read.
    pub detail: String,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unreadable(status, _) => *status,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::SoldOut(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Database(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Database(_) | ApiError::Panicked => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Invalid(invalid) => format!("{}: {}", invalid.field, invalid.message),
            ApiError::Database(e) if e.is_unavailable() => {
                "the database is unavailable; nothing was done, retry later".into()
            }
            ApiError::Database(_) | ApiError::Panicked => {
                "an internal error occurred; it has been logged".into()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let problem = Problem {
            kind: match &self {
                ApiError::SoldOut(_) => SOLD_OUT_TYPE,
                _ => "about:blank",
            },
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            field: match &self {
                ApiError::Invalid(invalid) => Some(invalid.field),
                ApiError::TooManyRequests { field, .. } => *field,
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            // Whole seconds, rounded up: retrying a little early would only be refused again.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

impl ApiError {
    /// The API's answer when a request about a reservation is refused.
    pub fn refused(reservation_id: uuid::Uuid, refusal: booking::Refusal) -> Self {
        match refusal {
            booking::Refusal::Missing => {
                ApiError::NotFound(format!("no reservation has the id {reservation_id}"))
            }
            booking::Refusal::IllegalTransition { current, action } => ApiError::Conflict(format!(
                "reservation {reservation_id} is {current}; a {current} reservation cannot be {action}"
            )),
            booking::Refusal::Conflict(why) => ApiError::Conflict(why),
            booking::Refusal::Invalid(invalid) => invalid.into(),
        }
    }
}

/// An unknown address: a page for a browser that asked for one, problem+json otherwise (and
/// always under `/v1/`).
pub async fn not_found(request: axum::extract::Request) -> Response {
    let wants_page = !request.uri().path().starts_with("/v1/")
        && request
            .headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        crate::web::PageError::not_found("There is no page at this address.").into_response()
    } else {
        ApiError::NotFound("no such route".into()).into_response()
    }
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("this route does not support this method".into())
}

pub fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Panicked.into_response()
}
