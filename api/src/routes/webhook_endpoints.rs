//! `/v1/restaurants/{id}/webhook-endpoints`: staff register the endpoints that hear about
//! every reservation of a restaurant. The signing secret is shown once, at registration.

use axum::extract::State;
use axum::http::StatusCode;
use booking::{Invalid, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Staff;
use crate::extract::{Json, Path};
use crate::openapi::problems::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(remove))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EndpointForm {
    url: String,
    #[serde(default)]
    description: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Registered {
    #[serde(flatten)]
    endpoint: WebhookEndpoint,
    /// `whsec_...`: verify deliveries with it. It is not shown again.
    secret: String,
}

/// Register an endpoint that hears about every reservation of the restaurant. The signing
/// secret is in this answer only.
#[utoipa::path(post, path = "/v1/restaurants/{id}/webhook-endpoints", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant")),
    request_body = EndpointForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered; keep the secret", body = Registered),
        BadRequest, Unauthorized, Forbidden, NotFound, problems::Invalid,
    ))]
async fn register(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(restaurant_id): Path<Uuid>,
    Json(form): Json<EndpointForm>,
) -> Result<(StatusCode, axum::Json<Registered>), ApiError> {
    staff.require(restaurant_id)?;
    let url = state
        .url_policy
        .check_url(form.url.trim())
        .map_err(|rejected| Invalid::new("url", rejected.to_string()))?;
    if form.description.chars().count() > 500 {
        return Err(Invalid::new("description", "must be at most 500 characters").into());
    }
    if state.store.restaurant(restaurant_id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "no restaurant has the id {restaurant_id}"
        )));
    }
    let secret = webhooks::Secret::generate().to_whsec();
    let endpoint = state
        .store
        .add_webhook_endpoint(
            restaurant_id,
            url.as_str(),
            &secret,
            form.description.trim(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Registered { endpoint, secret }),
    ))
}

/// The restaurant's webhook endpoints (without their secrets).
#[utoipa::path(get, path = "/v1/restaurants/{id}/webhook-endpoints", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints", body = Vec<WebhookEndpoint>),
        BadRequest, Unauthorized, Forbidden,
    ))]
async fn list(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(restaurant_id): Path<Uuid>,
) -> Result<axum::Json<Vec<WebhookEndpoint>>, ApiError> {
    staff.require(restaurant_id)?;
    Ok(axum::Json(
        state.store.webhook_endpoints(restaurant_id).await?,
    ))
}

/// Stop delivering to an endpoint.
#[utoipa::path(delete, path = "/v1/restaurants/{id}/webhook-endpoints/{endpoint_id}", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("endpoint_id" = Uuid, Path, description = "The endpoint"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn remove(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, endpoint_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    staff.require(restaurant_id)?;
    if state
        .store
        .remove_webhook_endpoint(restaurant_id, endpoint_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "restaurant {restaurant_id} has no webhook endpoint {endpoint_id}"
        )))
    }
}
