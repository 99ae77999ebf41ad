//! Emails to diners, queued like webhooks: a change of state writes the `notification` rows it
//! causes in its own transaction, an immediate one straight into the outbox, a timed one as
//! `scheduled` with its `due_at`. The worker's sweep moves due rows to the outbox
//! ([`Store::queue_due_notifications`]), so a schedule survives any restart, and the sender
//! claims a row before it sends ([`Store::claim_notification`]): a row already sent, or no
//! longer applying, sends nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::outbound;
use super::transition::{Locked, Move};
use super::webhook_deliveries::shorten;
use super::Store;
use crate::messages::NotificationJob;
use crate::{Error, NotificationFacts, NotificationKind, NotificationPlan, Result, Status};

/// Ends the timed messages that no longer apply (a reminder of a booking that was canceled, the
/// warning of a hold that was paid), and queues the messages the moves send at once. Part of
/// every transition; `from` is each move's status before it.
pub(crate) async fn on_transitions(
    conn: &mut PgConnection,
    moves: &[Move<'_>],
    from: &[Status],
) -> Result<()> {
    // Only a held or confirmed reservation has timed messages: a decision (from `pending`),
    // the most frequent transition, skips the statement.
    let (ids, statuses): (Vec<Uuid>, Vec<&str>) = moves
        .iter()
        .zip(from)
        .filter(|(_, from)| !from.is_pending())
        .map(|(m, _)| (m.locked.id, m.to.as_str()))
        .unzip();
    if !ids.is_empty() {
        cancel_timed(conn, &ids, &statuses).await?;
    }
    // A walk-in's guest gave staff no email to write to.
    let immediate: Vec<(Uuid, NotificationKind)> = moves
        .iter()
        .filter(|m| !m.locked.walk_in)
        .filter_map(|m| Some((m.locked.id, NotificationKind::on_transition(m.to)?)))
        .collect();
    queue(conn, &immediate).await
}

/// Cancels the scheduled messages of `ids` that need another status than the one each became.
async fn cancel_timed(conn: &mut PgConnection, ids: &[Uuid], statuses: &[&str]) -> Result<()> {
    sqlx::query!(
        "UPDATE notification n
         SET status = 'canceled', last_error = 'the reservation became ' || v.status,
             updated_at = now()
         FROM unnest($1::uuid[], $2::text[]) AS v(id, status)
         WHERE n.reservation_id = v.id AND n.status = 'scheduled'
           AND n.required_status IS DISTINCT FROM v.status",
        ids,
        statuses as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues messages to send at once, inside the caller's transaction: a row each (none if the
/// reservation already has one of that kind) and its job in the outbox. The transitions'
/// messages come through here, and so does the waitlist's offer
/// (`NotificationKind::WaitlistOffer`, queued with the hold it creates).
pub(crate) async fn queue(
    conn: &mut PgConnection,
    messages: &[(Uuid, NotificationKind)],
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let (ids, kinds): (Vec<Uuid>, Vec<String>) =
        messages.iter().map(|(id, kind)| (*id, kind.key())).unzip();
    let queued = sqlx::query!(
        "INSERT INTO notification (reservation_id, kind, status)
         SELECT v.id, v.kind, 'queued' FROM unnest($1::uuid[], $2::text[]) AS v(id, kind)
         ON CONFLICT (reservation_id, kind) DO NOTHING
         RETURNING id, reservation_id, kind",
        &ids,
        &kinds,
    )
    .fetch_all(&mut *conn)
    .await?;
    let jobs: Vec<NotificationJob> = queued
        .into_iter()
        .map(|row| NotificationJob {
            notification_id: row.id,
            reservation_id: row.reservation_id,
            kind: row.kind,
            attempt: 1,
        })
        .collect();
    outbound::enqueue_notifications(conn, &jobs).await
}

/// Schedules the timed messages of reservations that have just become `held` (the warning
/// before the hold expires) or `confirmed` (the reminders before the start). A message whose
/// moment has already passed is recorded as skipped, so the record says why none came.
pub(crate) async fn schedule(
    conn: &mut PgConnection,
    plan: &NotificationPlan,
    locked: &[&Locked],
) -> Result<()> {
    let ids: Vec<Uuid> = locked
        .iter()
        .filter(|l| matches!(l.status, Status::Held | Status::Confirmed) && !l.walk_in)
        .map(|l| l.id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query!(
        r#"SELECT r.id, r.status AS "status: Status", r.service_date, r.start_time,
                  r.hold_expires_at, t.time_zone
           FROM reservation r JOIN restaurant t ON t.id = r.restaurant_id
           WHERE r.id = ANY($1)"#,
        &ids,
    )
    .fetch_all(&mut *conn)
    .await?;
    let now = Utc::now();
    let mut timed = Timed::default();
    for row in rows {
        match row.status {
            Status::Held if !plan.hold_warning.is_zero() => {
                if let Some(expires) = row.hold_expires_at {
                    timed.push(
                        row.id,
                        NotificationKind::HoldExpiring,
                        expires,
                        plan.hold_warning,
                        now,
                    );
                }
            }
            Status::Confirmed => {
                let local = row.service_date.and_time(row.start_time);
                let Some(start) = crate::schedule::start_instant(&row.time_zone, local) else {
                    continue;
                };
                for &lead in &plan.reminders {
                    timed.push(
                        row.id,
                        NotificationKind::Reminder { lead },
                        start,
                        lead,
                        now,
                    );
                }
            }
            _ => {}
        }
    }
    timed.insert(conn).await
}

/// Timed messages to insert, column by column.
#[derive(Default)]
struct Timed {
    ids: Vec<Uuid>,
    kinds: Vec<String>,
    statuses: Vec<&'static str>,
    due: Vec<DateTime<Utc>>,
    required: Vec<Option<&'static str>>,
    notes: Vec<Option<&'static str>>,
}

impl Timed {
    /// A message `lead` before `moment`; skipped if that is already past.
    fn push(
        &mut self,
        id: Uuid,
        kind: NotificationKind,
        moment: DateTime<Utc>,
        lead: Duration,
        now: DateTime<Utc>,
    ) {
        // A lead too long to subtract is a message that would have been due before time began.
        let Some(due) = chrono::Duration::from_std(lead)
            .ok()
            .and_then(|lead| moment.checked_sub_signed(lead))
        else {
            return;
        };
        let late = due <= now;
        self.ids.push(id);
        self.kinds.push(kind.key());
        self.statuses
            .push(if late { "skipped" } else { "scheduled" });
        self.due.push(due);
        self.required
            .push(kind.required_status().map(Status::as_str));
        self.notes
            .push(late.then_some("its time had passed when it was scheduled"));
    }

    async fn insert(self, conn: &mut PgConnection) -> Result<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query!(
            "INSERT INTO notification (reservation_id, kind, status, due_at, required_status,
                 last_error)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[],
                                  $5::text[], $6::text[])
             ON CONFLICT (reservation_id, kind) DO NOTHING",
            &self.ids,
            &self.kinds,
            &self.statuses as _,
            &self.due,
            &self.required as _,
            &self.notes as _,
        )
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// What the sender should do with a notification job.
#[derive(Debug)]
pub enum NotificationClaim {
    /// Send it: the row is `sending` now, claimed by this attempt.
    Send(Box<NotificationFacts>),
    /// It was already sent, dead or canceled: nothing to do (a redelivery).
    Settled(String),
    /// It no longer applies, and is now recorded as skipped, with why.
    Skipped(String),
    /// Another attempt claimed it moments ago and may still be sending: try again later.
    InProgress,
    /// No such row (its reservation was deleted).
    Missing,
}

/// A notification as recorded, for tests and the panel.
#[derive(Debug, Clone)]
pub struct NotificationRecord {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Moves up to `limit` scheduled notifications due by `now` to the outbox, in one
    /// transaction; rows another sweeper holds are skipped. `now` is the caller's clock, so a
    /// test can drive the schedule. Returns how many were queued (wake the relay then).
    ///
    /// # Errors
    /// On a database error; nothing was queued.
    #[tracing::instrument(skip(self))]
    pub async fn queue_due_notifications(&self, now: DateTime<Utc>, limit: i64) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let due = sqlx::query!(
            "UPDATE notification SET status = 'queued', updated_at = now()
             WHERE id IN (SELECT id FROM notification
                          WHERE status = 'scheduled' AND due_at <= $1
                          ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING id, reservation_id, kind",
            now,
            limit,
        )
        .fetch_all(&mut *tx)
        .await?;
        let jobs: Vec<NotificationJob> = due
            .iter()
            .map(|row| NotificationJob {
                notification_id: row.id,
                reservation_id: row.reservation_id,
                kind: row.kind.clone(),
                attempt: 1,
            })
            .collect();
        outbound::enqueue_notifications(&mut tx, &jobs).await?;
        tx.commit().await?;
        Ok(due.len())
    }

    /// Claims a notification for one send attempt, after checking that it still applies: a
    /// reminder needs the booking still confirmed and not started, a hold's warning the hold
    /// still running. A row claimed less than `stale_after` ago is another attempt's; an older
    /// claim is taken over (that attempt died, maybe after sending: the one duplicate this
    /// allows).
    ///
    /// # Errors
    /// On a database error; a kind this version does not know is a broken invariant.
    #[tracing::instrument(skip(self))]
    pub async fn claim_notification(
        &self,
        id: i64,
        stale_after: Duration,
    ) -> Result<NotificationClaim> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query!(
            r#"SELECT n.kind, n.status, n.required_status,
                      coalesce(n.claimed_at > now() - make_interval(secs => $2), false)
                          AS "claimed_recently!",
                      r.id AS reservation_id, r.status AS "reservation_status: Status",
                      r.guest_name, r.guest_email, r.party_size, r.table_count, r.service_date,
                      r.start_time, r.duration_minutes, r.price_cents, r.currency, r.reason,
                      r.hold_expires_at, t.name AS restaurant_name, t.address, t.city,
                      t.time_zone, tt.name AS table_type_name,
                      (SELECT p.amount_cents FROM payment p
                       WHERE p.reservation_id = r.id AND p.kind = 'fee'
                         AND p.status = 'captured') AS fee_cents,
                      c.old_service_date AS "previous_date?", c.old_start_time AS "previous_time?",
                      c.old_party_size AS "previous_party_size?",
                      c.old_price_cents AS "previous_price_cents?"
               FROM notification n
               JOIN reservation r ON r.id = n.reservation_id
               JOIN restaurant t ON t.id = r.restaurant_id
               JOIN table_type tt ON tt.id = r.table_type_id
               LEFT JOIN LATERAL (
                   SELECT * FROM reservation_change
                   WHERE reservation_id = r.id AND status = 'applied'
                   ORDER BY decided_at DESC LIMIT 1
               ) c ON true
               WHERE n.id = $1
               FOR UPDATE OF n"#,
            id,
            stale_after.as_secs_f64(),
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(NotificationClaim::Missing);
        };
        match row.status.as_str() {
            "sent" | "canceled" | "skipped" => return Ok(NotificationClaim::Settled(row.status)),
            "sending" if row.claimed_recently => return Ok(NotificationClaim::InProgress),
            // queued, failed (a retry), dead (a replay from the dead-letter queue), scheduled
            // (queued by hand), or a stale claim.
            _ => {}
        }
        let kind = NotificationKind::parse(&row.kind)
            .ok_or_else(|| Error::invariant(format!("unknown notification kind {}", row.kind)))?;
        let now = Utc::now();
        let start = crate::schedule::start_instant(
            &row.time_zone,
            row.service_date.and_time(row.start_time),
        );
        let skip = if row
            .required_status
            .as_deref()
            .is_some_and(|needed| needed != row.reservation_status.as_str())
        {
            Some(format!(
                "the reservation is {} now",
                row.reservation_status.as_str()
            ))
        } else if kind == NotificationKind::HoldExpiring
            && row.hold_expires_at.is_none_or(|expires| expires <= now)
        {
            Some("the hold is over".to_owned())
        } else if matches!(kind, NotificationKind::Reminder { .. })
            && start.is_none_or(|start| start <= now)
        {
            Some("the booking has started".to_owned())
        } else {
            None
        };
        if let Some(why) = skip {
            sqlx::query!(
                "UPDATE notification SET status = 'skipped', last_error = $2, updated_at = now()
                 WHERE id = $1",
                id,
                why,
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(NotificationClaim::Skipped(why));
        }
        sqlx::query!(
            "UPDATE notification
             SET status = 'sending', attempts = attempts + 1, claimed_at = now(),
                 updated_at = now()
             WHERE id = $1",
            id,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NotificationClaim::Send(Box::new(NotificationFacts {
            notification_id: id,
            kind,
            reservation_id: row.reservation_id,
            status: row.reservation_status,
            guest_name: row.guest_name,
            guest_email: row.guest_email,
            party_size: row.party_size,
            table_count: row.table_count,
            date: row.service_date,
            time: row.start_time,
            duration_minutes: row.duration_minutes,
            price_cents: row.price_cents,
            currency: row.currency,
            fee_cents: row.fee_cents,
            previous: match (
                row.previous_date,
                row.previous_time,
                row.previous_party_size,
            ) {
                (Some(date), Some(time), Some(party_size)) => Some(crate::PreviousDetails {
                    date,
                    time,
                    party_size,
                    price_cents: row.previous_price_cents,
                }),
                _ => None,
            },
            reason: row.reason,
            hold_expires_at: row.hold_expires_at,
            restaurant_name: row.restaurant_name,
            restaurant_address: row.address,
            restaurant_city: row.city,
            time_zone: row.time_zone,
            table_type_name: row.table_type_name,
        })))
    }

    /// Records that the SMTP server accepted the message: no later delivery of its job sends it
    /// again.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_notification_sent(&self, id: i64) -> Result<()> {
        sqlx::query!(
            "UPDATE notification
             SET status = 'sent', sent_at = now(), last_error = NULL, updated_at = now()
             WHERE id = $1",
            id,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: `failed` when another is scheduled, `dead` when the job goes
    /// to the dead-letter queue.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_notification_failure(
        &self,
        id: i64,
        error: &str,
        dead: bool,
    ) -> Result<()> {
        sqlx::query!(
            "UPDATE notification SET status = $2, last_error = $3, updated_at = now()
             WHERE id = $1 AND status <> 'sent'",
            id,
            if dead { "dead" } else { "failed" },
            shorten(error),
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A reservation's notifications, in the order they were due.
    ///
    /// # Errors
    /// On a database error.
    pub async fn notifications_of(&self, reservation_id: Uuid) -> Result<Vec<NotificationRecord>> {
        Ok(sqlx::query_as!(
            NotificationRecord,
            "SELECT id, kind, status, due_at, attempts, last_error, sent_at
             FROM notification WHERE reservation_id = $1 ORDER BY due_at, id",
            reservation_id,
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
