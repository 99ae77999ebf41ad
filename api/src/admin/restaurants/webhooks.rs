//! A restaurant's webhook endpoints: the list, registering one (its signing secret shown on
//! the answer to the registration only), removing one. The same checks and store functions as
//! `/v1/restaurants/{id}/webhook-endpoints` (`api/src/routes/webhook_endpoints.rs`), the URL
//! policy included.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use booking::store::WebhookEndpoint;
use booking::Restaurant;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::{mine, overview_href, respond};
use crate::admin::{layout, SignedIn};
use crate::web::{format, PageError};
use crate::AppState;

/// The longest description the JSON API takes.
const MAX_DESCRIPTION: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/restaurants/{id}/webhooks", get(list).post(register))
        .route(
            "/admin/restaurants/{id}/webhooks/{endpoint_id}/remove",
            post(remove),
        )
}

fn href(restaurant_id: Uuid) -> String {
    format!("/admin/restaurants/{restaurant_id}/webhooks")
}

/// What the page shows besides the list.
#[derive(Default)]
struct Shown<'a> {
    /// The endpoint just registered, with its secret: this once.
    registered: Option<(&'a WebhookEndpoint, &'a str)>,
    notice: Option<&'a str>,
    url: &'a str,
    description: &'a str,
    url_error: Option<String>,
    description_error: Option<String>,
}

fn page(
    status: StatusCode,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    endpoints: &[WebhookEndpoint],
    shown: &Shown<'_>,
) -> Response {
    let action = href(restaurant.id);
    let body = layout::page(
        &format!("Webhook endpoints of {}", restaurant.name),
        signed_in,
        html! {
            p { a href=(overview_href(restaurant.id)) { "← " (restaurant.name) } }
            h1 { "Webhook endpoints" }
            p { "Each endpoint hears about every change of status of "
                (restaurant.name) "'s reservations, signed with its own secret." }
            @if let Some(notice) = shown.notice { p.notice.ok role="status" { (notice) } }
            @if let Some((endpoint, secret)) = shown.registered {
                div.notice.ok role="status" #registered {
                    p { strong { "Registered " (endpoint.url) "." } }
                    p { "Its signing secret is shown this once: copy it now into the receiving "
                        "program, which verifies every delivery with it." }
                    p { code.panel-secret #secret { (secret) } }
                }
            }
            h2 { "Registered endpoints" }
            @if endpoints.is_empty() {
                p.muted #no-endpoints { "None yet." }
            } @else {
                ul.plain #endpoints {
                    @for endpoint in endpoints {
                        li.card {
                            p { code { (endpoint.url) } }
                            @if !endpoint.description.is_empty() { p { (endpoint.description) } }
                            p.muted { "Registered " (format::local_instant(endpoint.created_at, &restaurant.time_zone)) }
                            form.inline method="post" data-once
                                action=(format!("{action}/{}/remove", endpoint.id)) {
                                input type="hidden" name="csrf" value=(signed_in.csrf());
                                button.danger type="submit" {
                                    "Remove" span.visually-hidden { " " (endpoint.url) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Register an endpoint" }
            @if shown.url_error.is_some() || shown.description_error.is_some() {
                p.notice.error role="alert" { "Not registered: please correct what is marked below." }
            }
            form.stack.card method="post" action=(action) data-once novalidate {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                @let url_described = if shown.url_error.is_some() { "url-hint url-error" } else { "url-hint" };
                label for="url" { "URL" }
                span.hint #url-hint { "Where deliveries are posted, such as https://example.com/maitred." }
                input #url type="url" name="url" value=(shown.url) autocomplete="url" required
                    aria-invalid=[shown.url_error.as_ref().map(|_| "true")]
                    aria-describedby=(url_described);
                @if let Some(error) = &shown.url_error { span.field-error #url-error { (error) } }
                label for="description" { "Description (optional)" }
                input #description type="text" name="description" value=(shown.description)
                    aria-invalid=[shown.description_error.as_ref().map(|_| "true")]
                    aria-describedby=[shown.description_error.as_ref().map(|_| "description-error")];
                @if let Some(error) = &shown.description_error {
                    span.field-error #description-error { (error) }
                }
                div.actions { button type="submit" data-busy-label="Registering…" { "Register" } }
            }
        },
    );
    respond(status, body)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Done {
    done: Option<String>,
}

/// `GET /admin/restaurants/{id}/webhooks`: the endpoints, without their secrets.
async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<Done>,
) -> Result<Response, PageError> {
    let restaurant = mine(&state, &signed_in, &id).await?;
    let endpoints = state.store.webhook_endpoints(restaurant.id).await?;
    let notice = match query.done.as_deref() {
        Some("removed") => Some("The endpoint was removed: it hears nothing more."),
        _ => None,
    };
    Ok(page(
        StatusCode::OK,
        &signed_in,
        &restaurant,
        &endpoints,
        &Shown {
            notice,
            ..Shown::default()
        },
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EndpointForm {
    csrf: String,
    url: String,
    description: String,
}

/// `POST /admin/restaurants/{id}/webhooks`: registers an endpoint, and answers its secret on
/// this page only (never kept by a cache: every panel page is `no-store`).
async fn register(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<EndpointForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let restaurant = mine(&state, &signed_in, &id).await?;
    let checked = state.url_policy.check_url(form.url.trim());
    let too_long = form.description.chars().count() > MAX_DESCRIPTION;
    let url = match checked {
        Ok(url) if !too_long => url,
        checked => {
            let endpoints = state.store.webhook_endpoints(restaurant.id).await?;
            let url_error = checked.as_ref().err().map(|rejected| {
                let mut chars = rejected.to_string().chars().collect::<Vec<_>>();
                if let Some(first) = chars.first_mut() {
                    *first = first.to_ascii_uppercase();
                }
                let message: String = chars.into_iter().collect();
                if message.ends_with('.') {
                    message
                } else {
                    format!("{message}.")
                }
            });
            return Ok(page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &signed_in,
                &restaurant,
                &endpoints,
                &Shown {
                    url: &form.url,
                    description: &form.description,
                    url_error,
                    description_error: too_long
                        .then(|| format!("Must be at most {MAX_DESCRIPTION} characters.")),
                    ..Shown::default()
                },
            ));
        }
    };
    let secret = webhooks::Secret::generate().to_whsec();
    let endpoint = state
        .store
        .add_webhook_endpoint(
            restaurant.id,
            url.as_str(),
            &secret,
            form.description.trim(),
        )
        .await?;
    tracing::info!(restaurant_id = %restaurant.id, endpoint_id = %endpoint.id,
        staff = %signed_in.actor(), "webhook endpoint registered in the admin panel");
    let endpoints = state.store.webhook_endpoints(restaurant.id).await?;
    Ok(page(
        StatusCode::CREATED,
        &signed_in,
        &restaurant,
        &endpoints,
        &Shown {
            registered: Some((&endpoint, &secret)),
            ..Shown::default()
        },
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RemoveForm {
    csrf: String,
}

/// `POST /admin/restaurants/{id}/webhooks/{endpoint_id}/remove`.
async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, endpoint_id)): Path<(String, String)>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let restaurant = mine(&state, &signed_in, &id).await?;
    let gone = || PageError::not_found("This restaurant has no such webhook endpoint.");
    let endpoint_id: Uuid = endpoint_id.parse().map_err(|_| gone())?;
    if !state
        .store
        .remove_webhook_endpoint(restaurant.id, endpoint_id)
        .await?
    {
        return Err(gone());
    }
    tracing::info!(restaurant_id = %restaurant.id, %endpoint_id,
        staff = %signed_in.actor(), "webhook endpoint removed in the admin panel");
    Ok(Redirect::to(&format!("{}?done=removed", href(restaurant.id))).into_response())
}
