//! The outbox of follow-up messages. A transition writes the messages it needs (a hold-expiry
//! timer, a payment job, webhooks, emails, a command) in its own transaction; a relay publishes
//! them and deletes each row once the broker confirms it. A crash in between leaves the row for
//! the next relay pass, never a lost message.

use std::time::Duration;

use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::Store;
use crate::messages::{Command, Envelope, NotificationJob, PaymentJob, WebhookJob};
use crate::Result;

/// Where an outbound message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The restaurant's partition, after an optional delay (a timer).
    Partition {
        restaurant_id: Uuid,
        delay: Duration,
    },
    /// The payment workers' queue.
    Payments,
    /// The webhook dispatchers' queue.
    Webhooks,
    /// The email senders' queue.
    Notifications,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub id: Uuid,
    pub destination: Destination,
    /// The AMQP `type` property.
    pub kind: String,
    pub body: Vec<u8>,
    /// The request id of the reservation it is about: the AMQP `correlation_id`.
    pub correlation_id: Option<String>,
}

struct OutboundRow {
    id: Uuid,
    destination: String,
    restaurant_id: Option<Uuid>,
    delay_ms: i64,
    kind: String,
    body: serde_json::Value,
    correlation_id: Option<String>,
}

impl OutboundRow {
    /// `None` for a row that cannot be routed; the CHECK constraints make that impossible.
    fn into_message(self) -> Option<OutboundMessage> {
        let destination = match (self.destination.as_str(), self.restaurant_id) {
            ("partition", Some(restaurant_id)) => Destination::Partition {
                restaurant_id,
                delay: Duration::from_millis(u64::try_from(self.delay_ms).unwrap_or(0)),
            },
            ("payments", _) => Destination::Payments,
            ("webhooks", _) => Destination::Webhooks,
            ("notifications", _) => Destination::Notifications,
            _ => return None,
        };
        Some(OutboundMessage {
            id: self.id,
            destination,
            kind: self.kind,
            body: crate::messages::to_json(&self.body),
            correlation_id: self.correlation_id,
        })
    }
}

/// Writes one message about `reservation_id` into the outbox, inside the caller's transaction.
/// It carries the reservation's request id, so the logs follow the reservation.
async fn enqueue<T: Serialize>(
    conn: &mut PgConnection,
    destination: Destination,
    kind: &str,
    body: &T,
    reservation_id: Option<Uuid>,
) -> Result<()> {
    enqueue_all(conn, destination, kind, &[(body, reservation_id)]).await
}

/// Writes messages of one destination and kind into the outbox in one statement, each about
/// its reservation, inside the caller's transaction: a run of decisions queues its emails
/// with one round trip instead of one per booking.
async fn enqueue_all<T: Serialize>(
    conn: &mut PgConnection,
    destination: Destination,
    kind: &str,
    messages: &[(&T, Option<Uuid>)],
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let (name, restaurant_id, delay) = match destination {
        Destination::Partition {
            restaurant_id,
            delay,
        } => ("partition", Some(restaurant_id), delay),
        Destination::Payments => ("payments", None, Duration::ZERO),
        Destination::Webhooks => ("webhooks", None, Duration::ZERO),
        Destination::Notifications => ("notifications", None, Duration::ZERO),
    };
    let ids: Vec<Uuid> = messages.iter().map(|_| Uuid::new_v4()).collect();
    // Any Serialize body, written as jsonb without a detour through serde_json::Value.
    let bodies: Vec<sqlx::types::Json<&T>> = messages
        .iter()
        .map(|(body, _)| sqlx::types::Json(*body))
        .collect();
    let reservation_ids: Vec<Option<Uuid>> = messages.iter().map(|(_, id)| *id).collect();
    sqlx::query!(
        "INSERT INTO outbound_message (id, destination, restaurant_id, delay_ms, kind, body,
             correlation_id)
         SELECT m.id, $1, $2, $3, $4, m.body,
                (SELECT request_id FROM reservation WHERE id = m.reservation_id)
         FROM unnest($5::uuid[], $6::jsonb[], $7::uuid[]) AS m(id, body, reservation_id)",
        name,
        restaurant_id,
        i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
        kind,
        &ids,
        &bodies as _,
        &reservation_ids as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn enqueue_command(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    command: Command,
    delay: Duration,
) -> Result<()> {
    let destination = Destination::Partition {
        restaurant_id,
        delay,
    };
    let kind = command.kind();
    let reservation_id = command.reservation_id();
    let envelope = Envelope {
        restaurant_id,
        command,
    };
    enqueue(conn, destination, kind, &envelope, reservation_id).await
}

pub(crate) async fn enqueue_payment(
    conn: &mut PgConnection,
    job: PaymentJob,
    reservation_id: Uuid,
) -> Result<()> {
    enqueue(
        conn,
        Destination::Payments,
        job.kind(),
        &job,
        Some(reservation_id),
    )
    .await
}

pub(crate) async fn enqueue_webhooks(conn: &mut PgConnection, jobs: &[WebhookJob]) -> Result<()> {
    let messages: Vec<(&WebhookJob, Option<Uuid>)> = jobs
        .iter()
        .map(|job| (job, Some(job.reservation_id)))
        .collect();
    enqueue_all(conn, Destination::Webhooks, "webhook", &messages).await
}

pub(crate) async fn enqueue_notifications(
    conn: &mut PgConnection,
    jobs: &[NotificationJob],
) -> Result<()> {
    let messages: Vec<(&NotificationJob, Option<Uuid>)> = jobs
        .iter()
        .map(|job| (job, Some(job.reservation_id)))
        .collect();
    enqueue_all(conn, Destination::Notifications, "notification", &messages).await
}

/// How many messages one relay pass takes at most.
const CLAIM_BATCH: i64 = 200;

impl Store {
    /// Locks a batch of outbox messages that no other relay is publishing, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_outbound(&self) -> Result<OutboundClaim> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query_as!(
            OutboundRow,
            "SELECT id, destination, restaurant_id, delay_ms, kind, body, correlation_id
             FROM outbound_message
             ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            CLAIM_BATCH,
        )
        .fetch_all(&mut *tx)
        .await?;
        let messages = rows
            .into_iter()
            .filter_map(OutboundRow::into_message)
            .collect();
        Ok(OutboundClaim { tx, messages })
    }

    /// The number of messages waiting in the outbox: a gauge for ops.
    ///
    /// # Errors
    /// On a database error.
    pub async fn outbound_backlog(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM outbound_message"#)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

/// A locked batch of outbox messages. Dropping it unlocks them for the next pass.
pub struct OutboundClaim {
    tx: Transaction<'static, Postgres>,
    pub messages: Vec<OutboundMessage>,
}

impl OutboundClaim {
    /// Deletes the messages the broker confirmed and unlocks the rest.
    ///
    /// # Errors
    /// On a database error; the messages are then published again by a later pass, which
    /// every consumer tolerates.
    pub async fn finish(mut self, confirmed: &[Uuid]) -> Result<()> {
        if !confirmed.is_empty() {
            sqlx::query!("DELETE FROM outbound_message WHERE id = ANY($1)", confirmed)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(self.tx.commit().await?)
    }
}
