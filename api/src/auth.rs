//! Staff authentication: a bearer token from the environment (`MAITRED_ADMIN_TOKEN`), so a
//! fresh install can be driven by scripts. Without a configured token every staff route
//! answers 401.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use crate::{ApiError, AppState};

/// The staff token. Its `Debug` never shows it.
#[derive(Clone)]
pub struct StaffToken(String);

impl StaffToken {
    /// `None` for an empty token: an empty secret would let anyone in.
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.trim().is_empty()).then_some(Self(token))
    }

    fn matches(&self, presented: &str) -> bool {
        // Constant time, so response timing says nothing about the token.
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for StaffToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffToken(..)")
    }
}

/// Proof that the request came from staff; the audit log names the actor.
#[derive(Debug, Clone, Copy)]
pub struct Staff;

impl Staff {
    pub const ACTOR: &'static str = "staff";
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        match (presented, &state.staff_token) {
            (Some(presented), Some(token)) if token.matches(presented) => Ok(Staff),
            (None, _) => Err(ApiError::Unauthorized(
                "this route needs a staff bearer token (Authorization: Bearer ...)".into(),
            )),
            _ => Err(ApiError::Unauthorized(
                "the bearer token is not a valid staff token".into(),
            )),
        }
    }
}
