//! The OpenAPI document. It is generated from the handlers' `#[utoipa::path]` annotations as the
//! routes are registered (utoipa-axum), so a route cannot be served without being described.
//! Served at `/openapi.json`, with a RapiDoc page at `/docs`.

use std::sync::Arc;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_rapidoc::RapiDoc;

use crate::AppState;

/// The name handlers use in `security(...)`.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "maitred",
        description = "Restaurant reservations, decided serially per restaurant. Booking answers \
                       202 pending; the outcome arrives by polling or signed webhook. Errors are \
                       application/problem+json (RFC 9457).",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "reservations", description = "Booking, polling, payment and cancellation"),
        (name = "catalog", description = "Restaurants, table types and availability"),
        (name = "staff", description = "Managing restaurants, table types, tables, rates and webhooks"),
        (name = "operations", description = "Health and the API description"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        scheme.description = Some(
            "A staff or guest JWT (`maitred token staff|guest`), the accessToken returned with a \
             booking, or the bootstrap MAITRED_ADMIN_TOKEN."
                .into(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The API's routes, plus `/openapi.json` describing exactly them and `/docs` to read it.
pub fn with_docs(routes: OpenApiRouter<AppState>) -> Router<AppState> {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes)
        .split_for_parts();
    // Serialized once: the document is fixed for the life of the process.
    let json: Arc<str> = document.to_json().unwrap_or_default().into();
    router
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .merge(RapiDoc::new("/openapi.json").path("/docs"))
}

/// The document of `routes` alone, for tests and tooling (`document(api::routes::router(&limits))`).
/// The routes come in, as with [`with_docs`]: they use [`problems`], so this module does not
/// reach for them.
pub fn document(routes: OpenApiRouter<AppState>) -> Document {
    let (_, document) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(routes)
        .split_for_parts();
    document
}

/// The problem responses handlers list in `responses(...)`, described once.
pub mod problems {
    use utoipa::IntoResponses;

    use crate::error::Problem;

    macro_rules! problem_response {
        ($name:ident, $status:literal, $description:literal) => {
            #[derive(IntoResponses)]
            #[response(status = $status, description = $description, content_type = "application/problem+json")]
            #[allow(dead_code)]
            pub struct $name(Problem);
        };
    }

    problem_response!(
        BadRequest,
        400,
        "The request cannot be read (malformed JSON, path or query)"
    );
    problem_response!(
        Unauthorized,
        401,
        "No bearer token, or one that is not valid"
    );
    problem_response!(
        Forbidden,
        403,
        "The token's role or restaurants do not allow this"
    );
    problem_response!(NotFound, 404, "No such resource");
    problem_response!(Conflict, 409, "The resource's state does not allow this");
    problem_response!(
        PreconditionFailed,
        412,
        "If-Match names a version that is no longer current"
    );
    problem_response!(Invalid, 422, "A field breaks a rule; `field` names it");
    problem_response!(
        PreconditionRequired,
        428,
        "An update needs If-Match with the ETag last read"
    );
    problem_response!(
        Unavailable,
        503,
        "Nothing was done; retry later (see Retry-After)"
    );
}
