//! Payments: charges and refunds, recorded as rows of their own. A payment row is made in the
//! same transaction as the decision that needs it, together with the job that asks the payment
//! workers to call the gateway. Its id is the gateway's idempotency key.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::transition::Locked;
use super::{outbound, Store};
use crate::messages::{Command, PaymentJob};
use crate::{Error, Result};

/// Charge or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PaymentKind {
    Charge,
    Refund,
    /// A no-show (or late cancellation) fee, charged to the card kept on file.
    Fee,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Asked of the gateway; no outcome yet.
    Requested,
    /// A charge the gateway captured.
    Captured,
    /// A charge the gateway declined.
    Declined,
    /// A refund the gateway made.
    Refunded,
    /// A refund the gateway refused: ops must look.
    Failed,
}

/// One payment row.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    #[serde(rename = "paymentId")]
    pub id: Uuid,
    pub reservation_id: Uuid,
    pub restaurant_id: Uuid,
    pub kind: PaymentKind,
    pub amount_cents: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub gateway: String,
    #[serde(skip)]
    pub token: Option<String>,
    pub gateway_reference: Option<String>,
    pub failure: Option<String>,
    /// The change of the booking whose price difference this is, if it is one.
    pub change_id: Option<Uuid>,
    /// The charge a refund gives back, when it is not the booking's own.
    pub refund_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the gateway said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    Captured { reference: String },
    Declined { reason: String },
    Refunded { reference: String },
    RefundFailed { reason: String },
}

/// Records a charge of the reservation's price and queues its job. `None` when the
/// reservation already has a charge: one reservation is never charged twice.
pub(crate) async fn request_charge(
    conn: &mut PgConnection,
    locked: &Locked,
    token: &str,
    gateway: &str,
) -> Result<Option<Uuid>> {
    // The decision fixed both before any charge: a default here would charge a wrong amount.
    let (Some(price_cents), Some(currency)) = (locked.price_cents, locked.currency.as_deref())
    else {
        return Err(Error::invariant(format!(
            "reservation {} is to be charged but has no price or no currency",
            locked.id
        )));
    };
    let payment_id = sqlx::query_scalar!(
        "INSERT INTO payment (id, reservation_id, kind, amount_cents, currency, status, gateway,
                              token)
         VALUES ($1, $2, 'charge', $3, $4, 'requested', $5, $6)
         ON CONFLICT (reservation_id, kind) WHERE change_id IS NULL DO NOTHING RETURNING id",
        Uuid::new_v4(),
        locked.id,
        price_cents,
        currency,
        gateway,
        token,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(payment_id) = payment_id {
        outbound::enqueue_payment(conn, PaymentJob::Charge { payment_id }, locked.id).await?;
    }
    Ok(payment_id)
}

/// Records a no-show or late cancellation fee of `amount_cents` on the card the booking kept
/// on file, and queues its job. `None` when the reservation already has a fee: it is never
/// charged twice.
pub(crate) async fn request_fee(
    conn: &mut PgConnection,
    locked: &Locked,
    amount_cents: i64,
    token: &str,
    gateway: &str,
) -> Result<Option<Uuid>> {
    let Some(currency) = locked.currency.as_deref() else {
        return Err(Error::invariant(format!(
            "reservation {} is to be charged a fee but has no currency",
            locked.id
        )));
    };
    let payment_id = sqlx::query_scalar!(
        "INSERT INTO payment (id, reservation_id, kind, amount_cents, currency, status, gateway,
                              token)
         VALUES ($1, $2, 'fee', $3, $4, 'requested', $5, $6)
         ON CONFLICT (reservation_id, kind) WHERE change_id IS NULL DO NOTHING RETURNING id",
        Uuid::new_v4(),
        locked.id,
        amount_cents,
        currency,
        gateway,
        token,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(payment_id) = payment_id {
        metrics::counter!("maitred_fees_requested_total").increment(1);
        outbound::enqueue_payment(conn, PaymentJob::Charge { payment_id }, locked.id).await?;
    }
    Ok(payment_id)
}

/// Records the refund of everything the reservation paid and queues the jobs: what is left
/// on each of its captured charges (its own, and each change's difference) once the refunds
/// already made or under way against it are taken off, each against its charge. `None` when
/// there is no captured charge, or the booking's refund exists already.
pub(crate) async fn request_refund(
    conn: &mut PgConnection,
    reservation_id: Uuid,
) -> Result<Option<Uuid>> {
    let payment_id = sqlx::query_scalar!(
        "INSERT INTO payment (id, reservation_id, kind, amount_cents, currency, status, gateway,
                              refund_of)
         SELECT $1, c.reservation_id, 'refund', greatest(c.amount_cents - coalesce((
                    SELECT sum(r.amount_cents) FROM payment r
                    WHERE r.refund_of = c.id AND r.status IN ('requested', 'refunded')), 0), 0)::int8,
                c.currency, 'requested', c.gateway, c.id
         FROM payment c
         WHERE c.reservation_id = $2 AND c.kind = 'charge' AND c.status = 'captured'
           AND c.change_id IS NULL
         ON CONFLICT (reservation_id, kind) WHERE change_id IS NULL DO NOTHING RETURNING id",
        Uuid::new_v4(),
        reservation_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(payment_id) = payment_id else {
        return Ok(None);
    };
    outbound::enqueue_payment(conn, PaymentJob::Refund { payment_id }, reservation_id).await?;
    let change_refunds = sqlx::query_scalar!(
        "WITH left_on AS (
             SELECT c.*, c.amount_cents - coalesce((
                        SELECT sum(r.amount_cents) FROM payment r
                        WHERE r.refund_of = c.id AND r.status IN ('requested', 'refunded')), 0)
                    AS remaining
             FROM payment c
             WHERE c.reservation_id = $1 AND c.kind = 'charge' AND c.status = 'captured'
               AND c.change_id IS NOT NULL
         )
         INSERT INTO payment (id, reservation_id, kind, amount_cents, currency, status, gateway,
                              change_id, refund_of)
         SELECT gen_random_uuid(), reservation_id, 'refund', remaining::int8, currency,
                'requested', gateway, change_id, id
         FROM left_on WHERE remaining > 0
         ON CONFLICT (change_id, refund_of) WHERE change_id IS NOT NULL AND kind = 'refund'
             DO NOTHING
         RETURNING id",
        reservation_id,
    )
    .fetch_all(&mut *conn)
    .await?;
    for refund_id in change_refunds {
        outbound::enqueue_payment(
            conn,
            PaymentJob::Refund {
                payment_id: refund_id,
            },
            reservation_id,
        )
        .await?;
    }
    Ok(Some(payment_id))
}

/// Records the charge of a change's price difference to `token` and queues its job. `None`
/// when the change has a charge already: a change is never charged twice.
pub(crate) async fn request_change_charge(
    conn: &mut PgConnection,
    locked: &Locked,
    change_id: Uuid,
    amount_cents: i64,
    token: &str,
    gateway: &str,
) -> Result<Option<Uuid>> {
    let Some(currency) = locked.currency.as_deref() else {
        return Err(Error::invariant(format!(
            "reservation {} is to be charged a difference but has no currency",
            locked.id
        )));
    };
    let payment_id = sqlx::query_scalar!(
        "INSERT INTO payment (id, reservation_id, kind, amount_cents, currency, status, gateway,
                              token, change_id)
         VALUES ($1, $2, 'charge', $3, $4, 'requested', $5, $6, $7)
         ON CONFLICT (change_id) WHERE change_id IS NOT NULL AND kind = 'charge' DO NOTHING
         RETURNING id",
        Uuid::new_v4(),
        locked.id,
        amount_cents,
        currency,
        gateway,
        token,
        change_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(payment_id) = payment_id {
        outbound::enqueue_payment(conn, PaymentJob::Charge { payment_id }, locked.id).await?;
    }
    Ok(payment_id)
}

/// Records the refund of a change's price difference (`amount_cents`) and queues its jobs,
/// spread over the reservation's captured charges, the latest change's first and the
/// booking's own last, each for at most what is still unrefunded on it: no refund ever
/// exceeds the charge it gives back. Returns how much it could refund (less than asked only
/// if the charges do not hold it, which the caller's prices rule out).
pub(crate) async fn request_change_refund(
    conn: &mut PgConnection,
    reservation_id: Uuid,
    change_id: Uuid,
    amount_cents: i64,
) -> Result<i64> {
    let charges = sqlx::query!(
        r#"SELECT c.id, c.amount_cents - coalesce((
                      SELECT sum(r.amount_cents) FROM payment r
                      WHERE r.refund_of = c.id AND r.status IN ('requested', 'refunded')), 0)::int8
                  AS "remaining!"
           FROM payment c
           WHERE c.reservation_id = $1 AND c.kind = 'charge' AND c.status = 'captured'
           ORDER BY c.change_id IS NULL, c.created_at DESC"#,
        reservation_id,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut left = amount_cents;
    for charge in charges {
        if left <= 0 {
            break;
        }
        let part = left.min(charge.remaining);
        if part <= 0 {
            continue;
        }
        let payment_id = sqlx::query_scalar!(
            "INSERT INTO payment (id, reservation_id, kind, amount_cents, currency, status,
                                  gateway, change_id, refund_of)
             SELECT $1, reservation_id, 'refund', $2, currency, 'requested', gateway, $3, id
             FROM payment WHERE id = $4
             ON CONFLICT (change_id, refund_of) WHERE change_id IS NOT NULL AND kind = 'refund'
             DO NOTHING
             RETURNING id",
            Uuid::new_v4(),
            part,
            change_id,
            charge.id,
        )
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(payment_id) = payment_id {
            outbound::enqueue_payment(conn, PaymentJob::Refund { payment_id }, reservation_id)
                .await?;
        }
        left -= part;
    }
    Ok(amount_cents - left)
}

/// The payment of a kind that a reservation has, if any, on a given connection.
pub(crate) async fn load_payment(
    conn: &mut PgConnection,
    reservation_id: Uuid,
    kind: PaymentKind,
) -> Result<Option<Payment>> {
    Ok(sqlx::query_as!(
        Payment,
        r#"SELECT p.id, p.reservation_id, r.restaurant_id, p.kind AS "kind: PaymentKind",
                  p.amount_cents, p.currency, p.status AS "status: PaymentStatus", p.gateway,
                  p.token, p.gateway_reference, p.failure, p.change_id, p.refund_of,
                  p.created_at, p.updated_at
           FROM payment p JOIN reservation r ON r.id = p.reservation_id
           WHERE p.reservation_id = $1 AND p.kind = $2 AND p.change_id IS NULL"#,
        reservation_id,
        kind as _,
    )
    .fetch_optional(conn)
    .await?)
}

pub(crate) async fn load_payment_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Payment>> {
    Ok(sqlx::query_as!(
        Payment,
        r#"SELECT p.id, p.reservation_id, r.restaurant_id, p.kind AS "kind: PaymentKind",
                  p.amount_cents, p.currency, p.status AS "status: PaymentStatus", p.gateway,
                  p.token, p.gateway_reference, p.failure, p.change_id, p.refund_of,
                  p.created_at, p.updated_at
           FROM payment p JOIN reservation r ON r.id = p.reservation_id
           WHERE p.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await?)
}

impl Store {
    /// One payment.
    ///
    /// # Errors
    /// On a database error.
    pub async fn payment(&self, id: Uuid) -> Result<Option<Payment>> {
        load_payment_by_id(&mut *self.pool.acquire().await?, id).await
    }

    /// Every payment of a reservation, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn payments_of(&self, reservation_id: Uuid) -> Result<Vec<Payment>> {
        Ok(sqlx::query_as!(
            Payment,
            r#"SELECT p.id, p.reservation_id, r.restaurant_id, p.kind AS "kind: PaymentKind",
                      p.amount_cents, p.currency, p.status AS "status: PaymentStatus", p.gateway,
                      p.token, p.gateway_reference, p.failure, p.change_id, p.refund_of,
                  p.created_at, p.updated_at
               FROM payment p JOIN reservation r ON r.id = p.reservation_id
               WHERE p.reservation_id = $1 ORDER BY p.created_at"#,
            reservation_id,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The charge a refund gives back.
    ///
    /// # Errors
    /// On a database error.
    pub async fn charge_of(&self, reservation_id: Uuid) -> Result<Option<Payment>> {
        load_payment(
            &mut *self.pool.acquire().await?,
            reservation_id,
            PaymentKind::Charge,
        )
        .await
    }

    /// Records the gateway's answer for a requested payment and queues the command that lets
    /// the restaurant's partition act on it. Returns `false` when the payment already had an
    /// outcome (a redelivered job): nothing changes then.
    ///
    /// # Errors
    /// On a database error; then nothing changed.
    #[tracing::instrument(skip(self))]
    pub async fn record_payment_outcome(
        &self,
        payment_id: Uuid,
        outcome: &PaymentOutcome,
    ) -> Result<bool> {
        let (status, reference, failure) = match outcome {
            PaymentOutcome::Captured { reference } => ("captured", Some(reference), None),
            PaymentOutcome::Declined { reason } => ("declined", None, Some(reason)),
            PaymentOutcome::Refunded { reference } => ("refunded", Some(reference), None),
            PaymentOutcome::RefundFailed { reason } => ("failed", None, Some(reason)),
        };
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query!(
            "UPDATE payment p SET status = $2, gateway_reference = $3, failure = $4,
                 updated_at = now()
             FROM reservation r
             WHERE p.id = $1 AND p.status = 'requested' AND r.id = p.reservation_id
             RETURNING p.reservation_id, r.restaurant_id",
            payment_id,
            status,
            reference,
            failure,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(updated) = updated else {
            return Ok(false);
        };
        let (reservation_id, restaurant_id) = (updated.reservation_id, updated.restaurant_id);
        outbound::enqueue_command(
            &mut tx,
            restaurant_id,
            Command::Settle {
                reservation_id,
                payment_id,
            },
            std::time::Duration::ZERO,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
