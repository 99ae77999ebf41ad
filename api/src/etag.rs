//! Optimistic concurrency over HTTP: `ETag` on the answers about a catalog resource, `If-Match`
//! on the writes to it.
//!
//! The ETag of a restaurant, table type or table is its row version as a quoted strong tag
//! (`"3"`). A `PUT` must send `If-Match` with the ETag it last read: without it the answer is
//! `428`, with a stale one `412` naming the current ETag, and nothing is written. A `DELETE`
//! honours `If-Match` when given. `If-Match: *` matches any current version.

use axum::extract::FromRequestParts;
use axum::http::header::{ETAG, IF_MATCH, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking::store::CatalogRefusal;
use serde::Serialize;

use crate::ApiError;

/// What `If-Match` may be, for the OpenAPI document: `*` or a comma-separated list of entity
/// tags, weak or strong, as [`IfMatch::parse`] reads them (a tag holds no `"` and, since the
/// list is split at commas, no `,`).
pub const IF_MATCH_PATTERN: &str =
    r#"^[ \t]*(\*|(W/)?"[ !#-+\--~]*")([ \t]*,[ \t]*(\*|(W/)?"[ !#-+\--~]*"))*[ \t]*$"#;

/// The ETag of a row version: `"3"`.
pub fn format(version: i32) -> String {
    format!("\"{version}\"")
}

/// The `ETag` header value of a row version.
pub fn header(version: i32) -> HeaderValue {
    // Digits and quotes only: always a valid header value.
    HeaderValue::from_str(&format(version)).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// A JSON answer with the resource's `ETag`, and its `Location` when it was just created.
pub fn tagged<T: Serialize>(
    status: StatusCode,
    version: i32,
    location: Option<&str>,
    body: T,
) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(ETAG, header(version));
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(LOCATION, location);
    }
    response
}

/// The `If-Match` header of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match` header.
    Absent,
    /// `If-Match: *`: any current version.
    Any,
    /// The versions named by strong ETags of ours. Weak tags and tags that are not ours never
    /// match (RFC 9110 compares strongly), so this may be empty: then nothing matches.
    Versions(Vec<i32>),
}

impl IfMatch {
    /// Parses the values of every `If-Match` header of a request.
    ///
    /// # Errors
    /// A message for a value that is not `*` or a list of quoted entity tags.
    pub fn parse(headers: &HeaderMap) -> Result<Self, String> {
        let mut values = headers.get_all(IF_MATCH).iter().peekable();
        if values.peek().is_none() {
            return Ok(IfMatch::Absent);
        }
        let mut versions = Vec::new();
        for value in values {
            let value = value
                .to_str()
                .map_err(|_| "If-Match must be ASCII".to_owned())?;
            for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return Ok(IfMatch::Any);
                }
                let (weak, quoted) = match tag.strip_prefix("W/") {
                    Some(rest) => (true, rest),
                    None => (false, tag),
                };
                let opaque = quoted
                    .strip_prefix('"')
                    .and_then(|rest| rest.strip_suffix('"'))
                    .filter(|opaque| !opaque.contains('"'))
                    .ok_or_else(|| {
                        format!(
                            "If-Match must be * or a list of quoted ETags such as \"3\", got {value:?}"
                        )
                    })?;
                if let (false, Ok(version)) = (weak, opaque.parse::<i32>()) {
                    versions.push(version);
                }
            }
        }
        Ok(IfMatch::Versions(versions))
    }

    /// The versions an update may apply to (`None`: any); an update needs `If-Match`.
    ///
    /// # Errors
    /// `428` without `If-Match`.
    pub fn required(&self, what: &str) -> Result<Option<&[i32]>, ApiError> {
        match self {
            IfMatch::Absent => Err(ApiError::PreconditionRequired(format!(
                "updating {what} needs If-Match with the ETag you last read (GET it first), so \
                 that a change someone made meanwhile is not overwritten unseen"
            ))),
            other => Ok(other.optional()),
        }
    }

    /// The versions a write may apply to; `None` (any) without `If-Match`.
    pub fn optional(&self) -> Option<&[i32]> {
        match self {
            IfMatch::Absent | IfMatch::Any => None,
            IfMatch::Versions(versions) => Some(versions),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        IfMatch::parse(&parts.headers).map_err(ApiError::BadRequest)
    }
}

/// How a refused catalog write answers: `404`, `409`, `412` naming the current ETag, `422`.
impl From<CatalogRefusal> for ApiError {
    fn from(refusal: CatalogRefusal) -> Self {
        match refusal {
            CatalogRefusal::NotFound(message) => ApiError::NotFound(message),
            CatalogRefusal::Stale { what, current } => ApiError::PreconditionFailed(format!(
                "{what} has changed since you read it: its ETag is now {}; GET it again and \
                 reapply your change",
                format(current)
            )),
            CatalogRefusal::StillBooked { what, count } => ApiError::Conflict(format!(
                "{what} has {count} upcoming held or confirmed reservation{}; cancel {} first, \
                 or repeat the DELETE with ?force=true to cancel {} with a full refund",
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" },
                if count == 1 { "it" } else { "them all" },
            )),
            CatalogRefusal::Conflict(message) => ApiError::Conflict(message),
            CatalogRefusal::Invalid(invalid) => ApiError::Invalid(invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_match(values: &[&str]) -> Result<IfMatch, String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(IF_MATCH, HeaderValue::from_str(value).unwrap());
        }
        IfMatch::parse(&headers)
    }

    #[test]
    fn if_match_is_parsed_as_rfc_9110_says() {
        assert_eq!(if_match(&[]).unwrap(), IfMatch::Absent);
        assert_eq!(if_match(&["*"]).unwrap(), IfMatch::Any);
        assert_eq!(if_match(&["\"3\""]).unwrap(), IfMatch::Versions(vec![3]));
        assert_eq!(
            if_match(&["\"3\", \"5\"", "\"7\""]).unwrap(),
            IfMatch::Versions(vec![3, 5, 7])
        );
        // Weak and foreign tags never match.
        assert_eq!(
            if_match(&["W/\"3\", \"abc\""]).unwrap(),
            IfMatch::Versions(vec![])
        );
        for bad in ["3", "\"3", "W/3", "\"a\"b\""] {
            assert!(if_match(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn updates_need_if_match_and_deletes_do_not() {
        assert!(IfMatch::Absent.required("the table").is_err());
        assert_eq!(IfMatch::Any.required("the table").unwrap(), None);
        assert_eq!(IfMatch::Absent.optional(), None);
        assert_eq!(
            IfMatch::Versions(vec![2]).required("x").unwrap(),
            Some(&[2][..])
        );
        assert_eq!(format(12), "\"12\"");
    }
}
