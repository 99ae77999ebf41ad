//! Durable intake: a request is recorded as `pending` together with its outbox row, in one
//! statement. The outbox row is removed only once the broker has confirmed the command, so a
//! crash between recording and publishing leaves a row for the sweeper, never a lost request.

use std::time::Duration;

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{Store, RESERVATION_COLUMNS};
use crate::{BookingRequest, Reservation};

/// What recording a request found.
#[derive(Debug)]
pub enum Recorded {
    /// The request is new and is now `pending`, with an outbox row.
    Created(Reservation),
    /// A reservation with this id already exists (a retry, or a reuse of the id).
    Existing(Reservation),
}

const CLAIM_SELECT: &str = "SELECT o.reservation_id, r.restaurant_id, o.pinned, r.request_id \
     FROM outbox o JOIN reservation r ON r.id = o.reservation_id";

/// A request can vanish between the insert and the read only when a concurrent attempt with the
/// same id was refused by the broker and withdrawn; a few tries settle that race.
const RECORD_ATTEMPTS: usize = 3;

impl Store {
    /// Records a request as `pending`, with its first audit event and its outbox row, or finds
    /// the reservation that already has its id. Concurrent calls with one id create one
    /// reservation: the primary key decides.
    ///
    /// # Errors
    /// On a database error; then nothing was recorded.
    #[tracing::instrument(skip_all, fields(reservation_id = %request.reservation_id))]
    pub async fn record_pending(
        &self,
        request: &BookingRequest,
        request_id: Option<&str>,
    ) -> sqlx::Result<Recorded> {
        for _ in 0..RECORD_ATTEMPTS {
            // The new row comes back from the insert itself: once it is committed, no further
            // read can fail and make intake answer as if nothing had been recorded.
            if let Some(created) = self.insert_pending(request, request_id).await? {
                return Ok(Recorded::Created(created));
            }
            if let Some(existing) = self.reservation(request.reservation_id).await? {
                return Ok(Recorded::Existing(existing));
            }
        }
        Err(sqlx::Error::RowNotFound)
    }

    /// Inserts the guest, the reservation, its first event and its outbox row. Returns the new
    /// reservation, or `None` when one with this id exists.
    async fn insert_pending(
        &self,
        request: &BookingRequest,
        request_id: Option<&str>,
    ) -> sqlx::Result<Option<Reservation>> {
        // One statement, so one round trip and atomic without an explicit transaction. The
        // no-op update on conflict makes RETURNING give the existing guest's id.
        sqlx::query_as(&format!(
            "WITH g AS (
                 INSERT INTO guest (id, name, email, phone) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
                 RETURNING id
             ), r AS (
                 INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name,
                     guest_email, guest_phone, table_count, party_size, service_date, start_time,
                     duration_minutes, status, callback_url, payment_token, request_id)
                 SELECT $5, $6, $7, g.id, $2, $3, $4, $8, $9, $10, $11, $12, 'pending', $13, $14,
                        $15
                 FROM g
                 ON CONFLICT (id) DO NOTHING
                 RETURNING *
             ), e AS (
                 INSERT INTO reservation_event (reservation_id, to_status, actor)
                 SELECT id, 'pending', 'guest' FROM r
             ), o AS (
                 INSERT INTO outbox (reservation_id) SELECT id FROM r
             )
             SELECT {RESERVATION_COLUMNS} FROM r"
        ))
        .bind(Uuid::new_v4())
        .bind(&request.guest.name)
        .bind(&request.guest.email)
        .bind(&request.guest.phone)
        .bind(request.reservation_id)
        .bind(request.restaurant_id)
        .bind(request.table_type_id)
        .bind(request.table_count)
        .bind(request.party_size)
        .bind(request.date)
        .bind(request.time)
        .bind(request.duration_minutes)
        .bind(&request.callback_url)
        .bind(&request.payment_token)
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// One reservation.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn reservation(&self, id: Uuid) -> sqlx::Result<Option<Reservation>> {
        sqlx::query_as(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservation WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Locks the outbox row of a reservation for publishing, waiting for another publisher of
    /// the same reservation to finish. `None` when there is nothing left to publish.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_outbox(&self, reservation_id: Uuid) -> sqlx::Result<Option<OutboxClaim>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query_as(&format!(
            "{CLAIM_SELECT} WHERE o.reservation_id = $1 FOR UPDATE OF o"
        ))
        .bind(reservation_id)
        .fetch_optional(&mut *tx)
        .await?;
        Ok(row.map(|row| OutboxClaim { tx, row }))
    }

    /// Locks the oldest outbox row older than `min_age` that nobody else is publishing: the
    /// sweeper's work after a crash or a broker outage.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_stale_outbox(&self, min_age: Duration) -> sqlx::Result<Option<OutboxClaim>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query_as(&format!(
            "{CLAIM_SELECT} WHERE o.created_at < now() - make_interval(secs => $1) \
             ORDER BY o.created_at LIMIT 1 FOR UPDATE OF o SKIP LOCKED"
        ))
        .bind(min_age.as_secs_f64())
        .fetch_optional(&mut *tx)
        .await?;
        Ok(row.map(|row| OutboxClaim { tx, row }))
    }
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    reservation_id: Uuid,
    restaurant_id: Uuid,
    pinned: bool,
    request_id: Option<String>,
}

/// A locked outbox row: the right, and the duty, to settle one publish. Dropping it without
/// settling releases the lock and leaves the row for the sweeper.
pub struct OutboxClaim {
    tx: Transaction<'static, Postgres>,
    row: ClaimRow,
}

impl OutboxClaim {
    pub fn reservation_id(&self) -> Uuid {
        self.row.reservation_id
    }

    pub fn restaurant_id(&self) -> Uuid {
        self.row.restaurant_id
    }

    /// The HTTP request id that accepted the reservation, to send as its correlation id.
    pub fn request_id(&self) -> Option<&str> {
        self.row.request_id.as_deref()
    }

    /// The broker confirmed the command: nothing is left to publish.
    ///
    /// # Errors
    /// On a database error; the row then stays and the sweeper publishes again, which the
    /// worker tolerates (it decides a reservation only while it is pending).
    pub async fn published(mut self) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM outbox WHERE reservation_id = $1")
            .bind(self.row.reservation_id)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await
    }

    /// The broker refused the command. Unless the row is pinned, the request is withdrawn (the reservation is deleted) so the client can be told that
    /// nothing will happen. Returns whether it was withdrawn.
    ///
    /// # Errors
    /// On a database error; the request then stays and will be decided.
    pub async fn withdraw(mut self) -> sqlx::Result<bool> {
        if self.row.pinned {
            self.tx.rollback().await?;
            return Ok(false);
        }
        let deleted = sqlx::query("DELETE FROM reservation WHERE id = $1 AND status = 'pending'")
            .bind(self.row.reservation_id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        self.tx.commit().await?;
        Ok(deleted == 1)
    }

    /// From now on the request must never be withdrawn: the publish may have reached the
    /// broker, or a client has already been told `202`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn pin(mut self) -> sqlx::Result<()> {
        sqlx::query("UPDATE outbox SET pinned = true WHERE reservation_id = $1")
            .bind(self.row.reservation_id)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await
    }
}
