//! axum's extractors, with their rejections turned into problem+json that says what is wrong.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

use crate::ApiError;

/// `axum::Json`, rejecting with a problem that names the field serde choked on.
///
/// A number with a zero fraction (`3.0`) is taken where an integer is expected: JSON has one
/// number type, and JSON Schema's `integer` (which the OpenAPI document promises) includes it.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(mut value) = axum::Json::<Value>::from_request(request, state).await?;
        integral_floats_to_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(Json)
            .map_err(|error| {
                // The same words as axum's own rejection: the JSON path, then what was expected.
                ApiError::Unreadable(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("Failed to deserialize the JSON body into the target type: {error}"),
                )
            })
    }
}

/// Rewrites every `n.0` in `value` as the integer `n`, where it fits one.
fn integral_floats_to_integers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64()) {
                // Exactly representable integers only: past 2^53 a float is not one number.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if float.fract() == 0.0 && float.abs() <= EXACT {
                    // In range by the check above, so the cast is exact.
                    #[allow(clippy::cast_possible_truncation)]
                    let integer = float as i64;
                    *number = Number::from(integer);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// `axum::extract::Path`, rejecting with a problem (400 for a malformed id).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query`, rejecting with a 400 problem that names the parameter.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let detail = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "the body must be JSON, sent with Content-Type: application/json".into()
            }
            // The body text names the JSON path and what was expected there.
            other => other.body_text(),
        };
        ApiError::Unreadable(rejection.status(), detail)
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::Unreadable(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::Unreadable(rejection.status(), rejection.body_text())
    }
}
