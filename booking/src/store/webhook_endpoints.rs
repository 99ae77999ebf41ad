//! Webhook endpoints that staff register for a restaurant: every status change of its
//! reservations is delivered to each of them, signed with the endpoint's own secret.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::Store;
use crate::Result;

/// A registered endpoint. The secret is shown once, when the endpoint is made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    #[serde(rename = "endpointId")]
    pub id: Uuid,
    pub restaurant_id: Uuid,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Registers an endpoint. The caller has checked the URL and made the secret.
    ///
    /// # Errors
    /// On a database error, including a restaurant that does not exist (a foreign key).
    pub async fn add_webhook_endpoint(
        &self,
        restaurant_id: Uuid,
        url: &str,
        secret: &str,
        description: &str,
    ) -> Result<WebhookEndpoint> {
        Ok(sqlx::query_as!(
            WebhookEndpoint,
            "INSERT INTO webhook_endpoint (id, restaurant_id, url, secret, description)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id, restaurant_id, url, secret, description, created_at",
            Uuid::new_v4(),
            restaurant_id,
            url,
            secret,
            description,
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// The endpoints of a restaurant, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn webhook_endpoints(&self, restaurant_id: Uuid) -> Result<Vec<WebhookEndpoint>> {
        Ok(sqlx::query_as!(
            WebhookEndpoint,
            "SELECT id, restaurant_id, url, secret, description, created_at
             FROM webhook_endpoint WHERE restaurant_id = $1 ORDER BY created_at, id",
            restaurant_id,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// One endpoint, for a delivery.
    ///
    /// # Errors
    /// On a database error.
    pub async fn webhook_endpoint(&self, id: Uuid) -> Result<Option<WebhookEndpoint>> {
        Ok(sqlx::query_as!(
            WebhookEndpoint,
            "SELECT id, restaurant_id, url, secret, description, created_at
             FROM webhook_endpoint WHERE id = $1",
            id,
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Removes an endpoint of a restaurant. Deliveries already queued for it are dropped when
    /// they find it gone. Returns whether it existed.
    ///
    /// # Errors
    /// On a database error.
    pub async fn remove_webhook_endpoint(&self, restaurant_id: Uuid, id: Uuid) -> Result<bool> {
        let deleted = sqlx::query!(
            "DELETE FROM webhook_endpoint WHERE id = $1 AND restaurant_id = $2",
            id,
            restaurant_id,
        )
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(deleted == 1)
    }
}
