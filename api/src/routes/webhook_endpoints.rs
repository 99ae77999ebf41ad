//! `/v1/restaurants/{id}/webhook-endpoints`: staff register the endpoints that hear about
//! every reservation of a restaurant. The signing secret is shown once, at registration.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use booking::{Invalid, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Staff;
use crate::extract::{Json, Path};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/restaurants/{id}/webhook-endpoints",
            get(list).post(register),
        )
        .route(
            "/v1/restaurants/{id}/webhook-endpoints/{endpoint_id}",
            delete(remove),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EndpointForm {
    url: String,
    #[serde(default)]
    description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registered {
    #[serde(flatten)]
    endpoint: WebhookEndpoint,
    /// `whsec_...`: verify deliveries with it. It is not shown again.
    secret: String,
}

async fn register(
    _: Staff,
    State(state): State<AppState>,
    Path(restaurant_id): Path<Uuid>,
    Json(form): Json<EndpointForm>,
) -> Result<(StatusCode, axum::Json<Registered>), ApiError> {
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

async fn list(
    _: Staff,
    State(state): State<AppState>,
    Path(restaurant_id): Path<Uuid>,
) -> Result<axum::Json<Vec<WebhookEndpoint>>, ApiError> {
    Ok(axum::Json(
        state.store.webhook_endpoints(restaurant_id).await?,
    ))
}

async fn remove(
    _: Staff,
    State(state): State<AppState>,
    Path((restaurant_id, endpoint_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
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
