//! The OpenAPI document. It is generated from the handlers' `#[utoipa::path]` annotations as the
//! routes are registered (utoipa-axum), so a route cannot be served without being described.
//! Served at `/openapi.json`, with a Swagger UI page at `/docs` whose assets this process serves
//! itself (no CDN: the page works on a machine without internet).
//!
//! The statuses the server's layers answer on any route (408, 413, 415, 503, and 429 where rate
//! limits apply) are added to every operation by [`complete`], after the handlers' own.

use std::sync::Arc;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, Response, Type};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::Problem;
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
    // Named here because the problem responses refer to it by name (`IntoResponses` does not
    // register the schemas it refers to).
    components(schemas(Problem)),
    tags(
        (name = "reservations", description = "Booking, polling, payment and cancellation"),
        (name = "catalog", description = "Restaurants, table types and availability"),
        (name = "waitlist", description = "Waiting for a sold-out slot, and the offers of freed tables"),
        (name = "guests", description = "Diners' sign-in links to their history on the website"),
        (name = "staff", description = "Managing restaurants, table types, tables, rates and webhooks; seating and walk-ins"),
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

/// Where the API reading page is served.
pub const DOCS_PATH: &str = "/docs";

/// The API's routes, plus `/openapi.json` describing exactly them and `/docs` to read it.
pub fn with_docs(routes: OpenApiRouter<AppState>) -> Router<AppState> {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes)
        .split_for_parts();
    complete(&mut document);
    // Serialized once: the document is fixed for the life of the process.
    let json: Arc<str> = document.to_json().unwrap_or_default().into();
    // swagger-ui-dist's routes carry the page and its assets, compiled into the binary.
    let viewer = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: DOCS_PATH,
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
        title: Some("maitred API"),
    });
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
        // The viewer is a stateless router of its own; it sees the whole path, so it is
        // mounted on the paths it answers rather than nested.
        .route_service(DOCS_PATH, viewer.clone())
        .route_service(&format!("{DOCS_PATH}/{{*asset}}"), viewer)
}

/// The document of `routes` alone, for tests and tooling (`document(api::routes::router(&limits))`).
/// The routes come in, as with [`with_docs`]: they use [`problems`], so this module does not
/// reach for them.
pub fn document(routes: OpenApiRouter<AppState>) -> Document {
    let (_, mut document) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(routes)
        .split_for_parts();
    complete(&mut document);
    document
}

/// Adds to every operation the answers of the server's layers (`crate::server`), which no
/// handler sees: 408 past the request deadline, 503 past the cap on requests in flight, and on
/// routes that read a JSON body 413 past the body limit and 415 without a JSON content type.
/// Rate-limited operations (booking, sign-in links, and every route that needs a staff token)
/// also answer 429.
/// Each is described once under `components/responses` and referred to. Parameters lose the
/// `null` utoipa gives an `Option` (see [`tidy_parameters`]).
fn complete(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    for (name, _, description, retry_after) in LAYER_RESPONSES {
        let mut response = Response::new(*description);
        response.content.insert(
            "application/problem+json".into(),
            Content::new(Some(Ref::from_schema_name("Problem"))).into(),
        );
        if *retry_after {
            let mut retry_after = Header::new(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .build(),
            ));
            retry_after.description = Some("Seconds to wait before retrying".into());
            response
                .headers
                .insert("Retry-After".into(), retry_after.into());
        }
        components.responses.insert((*name).into(), response.into());
    }
    for (path, item) in &mut document.paths.paths {
        let operations = [
            (&mut item.get, "get"),
            (&mut item.put, "put"),
            (&mut item.post, "post"),
            (&mut item.delete, "delete"),
            (&mut item.patch, "patch"),
        ];
        for (operation, method) in operations {
            if let Some(operation) = operation {
                tidy_parameters(operation);
                add_layer_responses(path, method, operation);
            }
        }
    }
}

/// The layers' answers: component name, status, description, and whether it has Retry-After.
const LAYER_RESPONSES: &[(&str, &str, &str, bool)] = &[
    (
        "RequestTimeout",
        "408",
        "The request did not complete within the server's deadline; a booking retried with the \
         same reservationId answers its outcome",
        false,
    ),
    (
        "PayloadTooLarge",
        "413",
        "The body is larger than the server accepts",
        false,
    ),
    (
        "UnsupportedMediaType",
        "415",
        "The body must be JSON, sent with Content-Type: application/json",
        false,
    ),
    (
        "TooManyRequests",
        "429",
        "Rate limited: nothing was done; retry after Retry-After",
        true,
    ),
    (
        "Unavailable",
        "503",
        "Nothing was done (the server is overloaded, or a service it needs is unavailable); \
         retry after Retry-After",
        true,
    ),
];

/// A path, query or header parameter is text: it can be absent, never JSON `null`. utoipa
/// describes an `Option` parameter as `["string", "null"]`, which would invite `If-Match: null`.
/// And `If-Match` gets its grammar, stated once for every route that reads it.
fn tidy_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema {
            if let SchemaType::Array(types) = &schema.schema_type {
                let types: Vec<Type> = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .cloned()
                    .collect();
                schema.schema_type = match types.as_slice() {
                    [single] => SchemaType::Type(single.clone()),
                    _ => SchemaType::Array(types),
                };
            }
            if parameter.name.eq_ignore_ascii_case("If-Match") {
                schema.pattern = Some(crate::etag::IF_MATCH_PATTERN.into());
            }
        }
    }
}

fn add_layer_responses(path: &str, method: &str, operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    // Rate limits apply to booking and to the routes that need a staff token.
    let rate_limited = (method == "post" && path == "/v1/reservations")
        || path == "/v1/guest-sessions"
        || path.starts_with("/v1/dead-letters")
        || operation
            .tags
            .as_ref()
            .is_some_and(|tags| tags.iter().any(|tag| tag == "staff"));
    for (name, status, _, _) in LAYER_RESPONSES {
        let applies = match *status {
            "413" | "415" => has_body,
            "429" => rate_limited,
            _ => true,
        };
        if applies {
            // The shared 503 replaces a handler's own: it says the same, with Retry-After.
            operation.responses.responses.insert(
                (*status).into(),
                RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
            );
        }
    }
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
