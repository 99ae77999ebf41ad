//! The one way a reservation changes state: inside a transaction, checked against the state
//! diagram, with its audit event and its webhooks written in the same commit.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::outbound;
use super::RESERVATION_COLUMNS;
use crate::messages::{WebhookJob, WebhookTarget};
use crate::{Reservation, Status};

/// A reservation row locked `FOR UPDATE` for the rest of the transaction.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Locked {
    pub id: Uuid,
    pub status: Status,
    pub restaurant_id: Uuid,
    pub table_type_id: Uuid,
    pub table_count: i32,
    pub service_date: NaiveDate,
    pub start_time: NaiveTime,
    pub duration_minutes: i32,
    pub reserved_slots: Option<Vec<NaiveDateTime>>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub callback_url: Option<String>,
    pub payment_token: Option<String>,
    /// Whether the hold's time is up, by the database's clock (one clock for every worker).
    pub hold_over: bool,
    /// When intake accepted the request.
    pub created_at: DateTime<Utc>,
}

/// Locks a reservation. The row lock makes two deciders (a failover overlap, or the API's
/// payment request racing the worker) take turns.
pub(crate) async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Locked>> {
    sqlx::query_as(
        "SELECT id, status, restaurant_id, table_type_id, table_count, service_date, start_time,
                duration_minutes, reserved_slots, price_cents, currency, callback_url,
                payment_token, coalesce(hold_expires_at <= now(), false) AS hold_over,
                created_at
         FROM reservation WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Moves a locked reservation to `to`, appends the audit event, and queues the webhooks.
/// An illegal transition is an error and writes nothing.
pub(crate) async fn transition(
    conn: &mut PgConnection,
    locked: &mut Locked,
    to: Status,
    reason: Option<&str>,
    actor: &str,
) -> sqlx::Result<()> {
    if !locked.status.can_become(to) {
        return Err(sqlx::Error::Protocol(format!(
            "illegal transition {} → {} for reservation {}",
            locked.status.as_str(),
            to.as_str(),
            locked.id
        )));
    }
    sqlx::query(
        // `reason` on the reservation says why it was rejected; the event keeps every reason.
        "UPDATE reservation
         SET status = $2, reason = CASE WHEN $2 = 'rejected' THEN $3 ELSE reason END,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(locked.id)
    .bind(to.as_str())
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    let from = locked.status;
    locked.status = to;
    if matches!(from, Status::Pending | Status::Held)
        && matches!(
            to,
            Status::Held | Status::Confirmed | Status::Rejected | Status::Expired
        )
    {
        // From acceptance to the answer the diner waits for: the decision (held, confirmed,
        // rejected), then the payment's outcome (confirmed, rejected) or the hold's expiry.
        let waited = (Utc::now() - locked.created_at)
            .to_std()
            .unwrap_or_default();
        metrics::histogram!("maitred_decision_latency_seconds", "status" => to.as_str())
            .record(waited.as_secs_f64());
    }
    let (event_id, at) = append_event(conn, locked.id, Some(from), to, reason, actor).await?;
    queue_webhooks(conn, locked, event_id, at).await
}

/// Appends a fact about a reservation that is not a change of state (a late payment being
/// refunded, a refund that failed), so the audit log tells the whole story.
pub(crate) async fn note(
    conn: &mut PgConnection,
    locked: &Locked,
    reason: &str,
    actor: &str,
) -> sqlx::Result<()> {
    let status = locked.status;
    append_event(conn, locked.id, Some(status), status, Some(reason), actor).await?;
    Ok(())
}

pub(crate) async fn append_event(
    conn: &mut PgConnection,
    reservation_id: Uuid,
    from: Option<Status>,
    to: Status,
    reason: Option<&str>,
    actor: &str,
) -> sqlx::Result<(i64, DateTime<Utc>)> {
    sqlx::query_as(
        "INSERT INTO reservation_event (reservation_id, from_status, to_status, reason, actor)
         VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at",
    )
    .bind(reservation_id)
    .bind(from.map(Status::as_str))
    .bind(to.as_str())
    .bind(reason)
    .bind(actor)
    .fetch_one(conn)
    .await
}

/// The body of every webhook, in the Standard Webhooks shape.
#[derive(Serialize)]
struct WebhookEvent<'a> {
    #[serde(rename = "type")]
    event_type: String,
    timestamp: DateTime<Utc>,
    data: &'a Reservation,
}

/// One delivery per destination: the reservation's callback URL and every endpoint registered
/// for its restaurant. All carry the same `webhook-id`, derived from the audit event.
async fn queue_webhooks(
    conn: &mut PgConnection,
    locked: &Locked,
    event_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let endpoints: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM webhook_endpoint WHERE restaurant_id = $1")
            .bind(locked.restaurant_id)
            .fetch_all(&mut *conn)
            .await?;
    let targets: Vec<WebhookTarget> = locked
        .callback_url
        .iter()
        .map(|url| WebhookTarget::Callback { url: url.clone() })
        .chain(
            endpoints
                .into_iter()
                .map(|endpoint_id| WebhookTarget::Endpoint { endpoint_id }),
        )
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let reservation: Reservation = sqlx::query_as(&format!(
        "SELECT {RESERVATION_COLUMNS} FROM reservation WHERE id = $1"
    ))
    .bind(locked.id)
    .fetch_one(&mut *conn)
    .await?;
    let event = WebhookEvent {
        event_type: format!("reservation.{}", locked.status.as_str()),
        timestamp: at,
        data: &reservation,
    };
    let payload = serde_json::to_string(&event)
        .map_err(|e| sqlx::Error::Protocol(format!("webhook payload: {e}")))?;
    for target in targets {
        let job = WebhookJob {
            webhook_id: format!("evt_{event_id}"),
            reservation_id: locked.id,
            attempt: 1,
            target,
            payload: payload.clone(),
        };
        outbound::enqueue_webhook(conn, &job).await?;
    }
    Ok(())
}

/// Gives back every slot the reservation holds. Idempotent: the slots are forgotten as they
/// are released, so a second release finds nothing.
pub(crate) async fn release_inventory(
    conn: &mut PgConnection,
    locked: &mut Locked,
) -> sqlx::Result<()> {
    let Some(slots) = locked.reserved_slots.take() else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE inventory SET total_reserved = total_reserved - $3
         WHERE table_type_id = $1 AND slot_start = ANY($2)",
    )
    .bind(locked.table_type_id)
    .bind(&slots)
    .bind(locked.table_count)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE reservation SET reserved_slots = NULL WHERE id = $1")
        .bind(locked.id)
        .execute(conn)
        .await?;
    Ok(())
}
