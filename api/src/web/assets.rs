//! The stylesheet and the script, embedded in the binary (no CDN, no build step) and served
//! with an ETag. Pages link them with the content's hash in the query, so a browser may keep
//! them for a year and still sees a new version at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// A strong ETag from the content (quoted hex).
    etag: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        (
            "site.css",
            "text/css; charset=utf-8",
            include_str!("assets/site.css"),
        ),
        (
            "site.js",
            "text/javascript; charset=utf-8",
            include_str!("assets/site.js"),
        ),
    ]
    .into_iter()
    .map(|(name, content_type, body)| Asset {
        name,
        content_type,
        body,
        etag: format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body.as_bytes())),
    })
    .collect()
});

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}

/// The address pages link an asset by: versioned by its content.
pub fn url(name: &str) -> String {
    match find(name) {
        Some(asset) => format!("/assets/{name}?v={}", asset.etag.trim_matches('"')),
        None => format!("/assets/{name}"),
    }
}

/// `GET /assets/{name}`: `304` when the browser's copy is current.
pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = find(&name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = HeaderValue::from_str(&asset.etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    let current = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == asset.etag)
        });
    if current {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        asset.body,
    )
        .into_response()
}
