//! Durable intake: a request is recorded as `pending` together with its outbox row, in one
//! statement. The outbox row is removed only once the broker has confirmed the command, so a
//! crash between recording and publishing leaves a row for the sweeper, never a lost request.

use std::time::Duration;

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{ReservationRow, Store};
use crate::{BookingRequest, Reservation, Result, Status};

/// What recording a request found.
#[derive(Debug)]
pub enum Recorded {
    /// The request is new and is now `pending`, with an outbox row.
    Created(Reservation),
    /// A reservation with this id already exists (a retry, or a reuse of the id).
    Existing(Reservation),
}

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
    ) -> Result<Recorded> {
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
        Err(sqlx::Error::RowNotFound.into())
    }

    /// Inserts the guest, the reservation, its first event and its outbox row. Returns the new
    /// reservation, or `None` when one with this id exists.
    async fn insert_pending(
        &self,
        request: &BookingRequest,
        request_id: Option<&str>,
    ) -> Result<Option<Reservation>> {
        Ok(self
            .record_pending_many(&[(request, request_id)])
            .await?
            .into_iter()
            .next())
    }

    /// Records many new requests as `pending` in one statement (one round trip, one commit),
    /// each with its guest, its first event and its outbox row: intake's group commit. Returns
    /// the reservations created; a request whose id exists already (or repeats one given
    /// earlier in `requests`) is left out, for the caller to settle alone.
    ///
    /// # Errors
    /// On a database error; then none was recorded.
    #[tracing::instrument(skip_all, fields(requests = requests.len()))]
    pub async fn record_pending_many(
        &self,
        requests: &[(&BookingRequest, Option<&str>)],
    ) -> Result<Vec<Reservation>> {
        let mut seen = std::collections::HashSet::new();
        let requests: Vec<&(&BookingRequest, Option<&str>)> = requests
            .iter()
            .filter(|(r, _)| seen.insert(r.reservation_id))
            .collect();
        let ids: Vec<Uuid> = requests.iter().map(|(r, _)| r.reservation_id).collect();
        let restaurants: Vec<Uuid> = requests.iter().map(|(r, _)| r.restaurant_id).collect();
        let types: Vec<Uuid> = requests.iter().map(|(r, _)| r.table_type_id).collect();
        let guest_ids: Vec<Uuid> = requests.iter().map(|_| Uuid::new_v4()).collect();
        let names: Vec<&str> = requests
            .iter()
            .map(|(r, _)| r.guest.name.as_str())
            .collect();
        let emails: Vec<&str> = requests
            .iter()
            .map(|(r, _)| r.guest.email.as_str())
            .collect();
        let phones: Vec<Option<&str>> = requests
            .iter()
            .map(|(r, _)| r.guest.phone.as_deref())
            .collect();
        let table_counts: Vec<i32> = requests.iter().map(|(r, _)| r.table_count).collect();
        let party_sizes: Vec<i32> = requests.iter().map(|(r, _)| r.party_size).collect();
        let dates: Vec<chrono::NaiveDate> = requests.iter().map(|(r, _)| r.date).collect();
        let times: Vec<chrono::NaiveTime> = requests.iter().map(|(r, _)| r.time).collect();
        let durations: Vec<i32> = requests.iter().map(|(r, _)| r.duration_minutes).collect();
        let callbacks: Vec<Option<&str>> = requests
            .iter()
            .map(|(r, _)| r.callback_url.as_deref())
            .collect();
        let tokens: Vec<Option<&str>> = requests
            .iter()
            .map(|(r, _)| r.payment_token.as_deref())
            .collect();
        let request_ids: Vec<Option<&str>> = requests.iter().map(|(_, id)| *id).collect();
        let retry_keys: Vec<Option<Vec<u8>>> = requests
            .iter()
            .map(|(r, _)| r.retry_key_sha256.clone())
            .collect();
        let walk_ins: Vec<bool> = requests.iter().map(|(r, _)| r.walk_in).collect();
        let special_requests: Vec<Option<&str>> = requests
            .iter()
            .map(|(r, _)| r.special_requests.as_deref())
            .collect();
        // One text per row (an array of arrays cannot be unnested row by row): tag names hold
        // no comma.
        let tags: Vec<String> = requests
            .iter()
            .map(|(r, _)| {
                let names: Vec<&str> = r.tags.iter().map(|tag| tag.as_str()).collect();
                names.join(",")
            })
            .collect();
        // One statement, so one round trip and atomic without an explicit transaction. The
        // no-op update on conflict makes RETURNING give an existing guest's id; one row per
        // email, since an upsert may not touch a row twice.
        let created = sqlx::query_as!(
            ReservationRow,
            r#"WITH input AS (
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[],
                     $6::text[], $7::text[], $8::int4[], $9::int4[], $10::date[], $11::time[],
                     $12::int4[], $13::text[], $14::text[], $15::text[], $16::bytea[], $17::bool[],
                     $18::text[], $19::text[])
                 AS i(id, restaurant_id, table_type_id, guest_id, name, email, phone, table_count,
                     party_size, service_date, start_time, duration_minutes, callback_url,
                     payment_token, request_id, retry_key_sha256, walk_in, special_requests, tags)
             ), g AS (
                 INSERT INTO guest (id, name, email, phone)
                 SELECT DISTINCT ON (email) guest_id, name, email, phone FROM input ORDER BY email
                 ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
                 RETURNING id, email
             ), r AS (
                 INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name,
                     guest_email, guest_phone, table_count, party_size, service_date, start_time,
                     duration_minutes, status, callback_url, payment_token, request_id,
                     retry_key_sha256, walk_in, special_requests, tags)
                 SELECT i.id, i.restaurant_id, i.table_type_id, g.id, i.name, i.email, i.phone,
                        i.table_count, i.party_size, i.service_date, i.start_time,
                        i.duration_minutes, 'pending', i.callback_url, i.payment_token,
                        i.request_id, i.retry_key_sha256, i.walk_in, i.special_requests,
                        string_to_array(i.tags, ',')
                 FROM input i JOIN g ON g.email = i.email
                 ON CONFLICT (id) DO NOTHING
                 RETURNING *
             ), e AS (
                 INSERT INTO reservation_event (reservation_id, to_status, actor)
                 SELECT id, 'pending', CASE WHEN walk_in THEN 'staff' ELSE 'guest' END FROM r
             ), o AS (
                 INSERT INTO outbox (reservation_id) SELECT id FROM r
             )
             SELECT id AS "id!", restaurant_id AS "restaurant_id!",
                    table_type_id AS "table_type_id!", table_count AS "table_count!",
                    party_size AS "party_size!", service_date AS "service_date!",
                    start_time AS "start_time!", duration_minutes AS "duration_minutes!",
                    guest_name AS "guest_name!", guest_email AS "guest_email!",
                    guest_phone AS "guest_phone?", status AS "status!: Status",
                    reason AS "reason?", price_cents AS "price_cents?", currency AS "currency?",
                    hold_expires_at AS "hold_expires_at?", callback_url AS "callback_url?",
                    payment_token AS "payment_token?",
                    special_requests AS "special_requests?", tags AS "tags!",
                    created_at AS "created_at!",
                    updated_at AS "updated_at!"
             FROM r"#,
            &ids,
            &restaurants,
            &types,
            &guest_ids,
            &names as _,
            &emails as _,
            &phones as _,
            &table_counts,
            &party_sizes,
            &dates,
            &times,
            &durations,
            &callbacks as _,
            &tokens as _,
            &request_ids as _,
            &retry_keys as _,
            &walk_ins,
            &special_requests as _,
            &tags,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(created.into_iter().map(Reservation::from).collect())
    }

    /// Which of these ids have a reservation.
    ///
    /// # Errors
    /// On a database error.
    pub async fn existing_reservations(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashSet<Uuid>> {
        let found = sqlx::query_scalar!("SELECT id FROM reservation WHERE id = ANY($1)", ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(found.into_iter().collect())
    }

    /// The broker confirmed these requests' commands: nothing is left to publish for them.
    ///
    /// # Errors
    /// On a database error; the rows then stay and the sweeper publishes them again, which
    /// the worker tolerates.
    pub async fn published_many(&self, reservation_ids: &[Uuid]) -> Result<()> {
        sqlx::query!(
            "DELETE FROM outbox WHERE reservation_id = ANY($1)",
            reservation_ids
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One reservation.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn reservation(&self, id: Uuid) -> Result<Option<Reservation>> {
        let row = sqlx::query_as!(
            ReservationRow,
            r#"SELECT id, restaurant_id, table_type_id, table_count, party_size, service_date,
                      start_time, duration_minutes, guest_name, guest_email, guest_phone,
                      status AS "status: Status", reason, price_cents, currency,
                      hold_expires_at, callback_url, payment_token, special_requests, tags,
                      created_at, updated_at
               FROM reservation WHERE id = $1"#,
            id,
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Reservation::from))
    }

    /// Locks the outbox row of a reservation for publishing, waiting for another publisher of
    /// the same reservation to finish. `None` when there is nothing left to publish.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_outbox(&self, reservation_id: Uuid) -> Result<Option<OutboxClaim>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query_as!(
            ClaimRow,
            "SELECT o.reservation_id, r.restaurant_id, o.pinned, r.request_id
             FROM outbox o JOIN reservation r ON r.id = o.reservation_id
             WHERE o.reservation_id = $1 FOR UPDATE OF o",
            reservation_id,
        )
        .fetch_optional(&mut *tx)
        .await?;
        Ok(row.map(|row| OutboxClaim { tx, row }))
    }

    /// Locks the oldest outbox row older than `min_age` that nobody else is publishing: the
    /// sweeper's work after a crash or a broker outage.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_stale_outbox(&self, min_age: Duration) -> Result<Option<OutboxClaim>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query_as!(
            ClaimRow,
            "SELECT o.reservation_id, r.restaurant_id, o.pinned, r.request_id
             FROM outbox o JOIN reservation r ON r.id = o.reservation_id
             WHERE o.created_at < now() - make_interval(secs => $1)
             ORDER BY o.created_at LIMIT 1 FOR UPDATE OF o SKIP LOCKED",
            min_age.as_secs_f64(),
        )
        .fetch_optional(&mut *tx)
        .await?;
        Ok(row.map(|row| OutboxClaim { tx, row }))
    }
}

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
    pub async fn published(mut self) -> Result<()> {
        sqlx::query!(
            "DELETE FROM outbox WHERE reservation_id = $1",
            self.row.reservation_id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(self.tx.commit().await?)
    }

    /// The broker refused the command. Unless the row is pinned, the request is withdrawn (the reservation is deleted) so the client can be told that
    /// nothing will happen. Returns whether it was withdrawn.
    ///
    /// # Errors
    /// On a database error; the request then stays and will be decided.
    pub async fn withdraw(mut self) -> Result<bool> {
        if self.row.pinned {
            self.tx.rollback().await?;
            return Ok(false);
        }
        let deleted = sqlx::query!(
            "DELETE FROM reservation WHERE id = $1 AND status = 'pending'",
            self.row.reservation_id
        )
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
    pub async fn pin(mut self) -> Result<()> {
        sqlx::query!(
            "UPDATE outbox SET pinned = true WHERE reservation_id = $1",
            self.row.reservation_id
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(self.tx.commit().await?)
    }
}
