//! Reads for the admin panel's day's book and a reservation's detail: a restaurant's
//! reservations of one local date, its slots' inventory rows of that date, and the webhook
//! deliveries of a reservation still waiting in the outbox.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::{ReservationRow, Store};
use crate::availability::InventoryRow;
use crate::{Reservation, Result, Status};

/// A webhook delivery written by a transition and not yet handed to the broker.
#[derive(Debug, Clone)]
pub struct WaitingWebhook {
    /// The `webhook-id` it is signed with (`evt_` and the audit event's id).
    pub webhook_id: String,
    /// Where it goes: `callback` (the reservation's callback URL) or `endpoint`.
    pub target: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Every reservation of the restaurant on `date` (its local date), by start time, then in
    /// the order they were made.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn reservations_on(
        &self,
        restaurant_id: Uuid,
        date: NaiveDate,
    ) -> Result<Vec<Reservation>> {
        let rows = sqlx::query_as!(
            ReservationRow,
            r#"SELECT id, restaurant_id, table_type_id, table_count, party_size, service_date,
                      start_time, duration_minutes, guest_name, guest_email, guest_phone,
                      status AS "status: Status", reason, price_cents, currency,
                      hold_expires_at, callback_url, payment_token, special_requests, tags,
                      created_at, updated_at
               FROM reservation WHERE restaurant_id = $1 AND service_date = $2
               ORDER BY start_time, created_at, id"#,
            restaurant_id,
            date,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Reservation::from).collect())
    }

    /// The inventory rows of the restaurant's slots that start on `date` (local), by start
    /// time. A slot without a row has had no booking yet: nothing reserved, the type's tables.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn slots_on(
        &self,
        restaurant_id: Uuid,
        date: NaiveDate,
    ) -> Result<Vec<InventoryRow>> {
        let from = date.and_time(NaiveTime::MIN);
        let Some(until) = from.checked_add_signed(Duration::days(1)) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_as!(
            InventoryRow,
            "SELECT i.table_type_id, i.slot_start, i.total_inventory, i.total_reserved,
                    i.overbooking_pct
             FROM inventory i JOIN table_type t ON t.id = i.table_type_id
             WHERE t.restaurant_id = $1 AND i.slot_start >= $2 AND i.slot_start < $3
             ORDER BY i.slot_start, t.name",
            restaurant_id,
            from,
            until,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The reservation's webhook deliveries still in the outbox, oldest first. Once the broker
    /// has them they leave the outbox; from then on the worker delivers and retries them.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn waiting_webhooks(&self, reservation_id: Uuid) -> Result<Vec<WaitingWebhook>> {
        Ok(sqlx::query_as!(
            WaitingWebhook,
            r#"SELECT coalesce(body->>'webhookId', '') AS "webhook_id!",
                      coalesce(body->'target'->>'kind', '') AS "target!", created_at
               FROM outbound_message
               WHERE destination = 'webhooks' AND body->>'reservationId' = $1::uuid::text
               ORDER BY created_at"#,
            reservation_id,
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
