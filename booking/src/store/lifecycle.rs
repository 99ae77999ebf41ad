//! The life of a reservation after its decision.
//!
//! The worker, on the restaurant's serial lane, settles payments, expires holds and cancels:
//! everything that gives inventory back. The API only records requests (a payment, a
//! cancellation) and queues them, and makes the staff transitions that touch no inventory.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::decision::WORKER_ACTOR;
use super::payments::{self, PaymentKind, PaymentStatus};
use super::transition::{self, Locked};
use super::{notifications, outbound, Store};
use crate::messages::Command;
use crate::{RejectReason, Reservation, Result, Status};

/// Who the audit log names for payment outcomes.
const PAYMENTS_ACTOR: &str = "payments";

/// What a lifecycle command did on the serial lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The reservation moved to this state.
    Moved(Status),
    /// Nothing changed state, but money moves: a refund was requested.
    Refunding,
    /// The command found nothing to do (a redelivery, or it came too late or too early).
    Unchanged(Status),
    /// No reservation or payment has this id.
    Missing,
    /// A change of the booking was decided, or its payment settled.
    Change(super::modification::ChangeOutcome),
}

/// Why the API refuses a request about an existing reservation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no reservation has this id")]
    Missing,
    #[error("a {current} reservation cannot be {action}")]
    IllegalTransition {
        current: &'static str,
        action: &'static str,
    },
    #[error("{0}")]
    Conflict(String),
    /// A field of the request breaks a rule (422).
    #[error("{0}")]
    Invalid(crate::Invalid),
}

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationEvent {
    #[serde(rename = "eventId")]
    pub id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub actor: String,
    #[serde(rename = "at")]
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Acts on a payment's outcome, on the restaurant's serial lane: a captured charge
    /// confirms a held reservation (or is refunded if the hold is gone), a declined one rejects
    /// it and gives its tables back, and a completed refund marks a canceled one `refunded`.
    ///
    /// # Errors
    /// On a database error, or a [`crate::Error::Invariant`]; then nothing changed.
    #[tracing::instrument(skip(self))]
    pub async fn settle(&self, reservation_id: Uuid, payment_id: Uuid) -> Result<Settled> {
        let mut tx = self.pool.begin().await?;
        let Some(mut locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Settled::Missing);
        };
        let payment = payments::load_payment_by_id(&mut tx, payment_id).await?;
        let Some(payment) = payment.filter(|p| p.reservation_id == reservation_id) else {
            return Ok(Settled::Missing);
        };
        let status = locked.status;
        if payment.change_id.is_some() {
            let outcome = self.settle_change(&mut tx, &mut locked, &payment).await?;
            tx.commit().await?;
            return Ok(Settled::Change(outcome));
        }
        let settled = match (payment.kind, payment.status, status) {
            (PaymentKind::Charge, PaymentStatus::Captured, Status::Held) => {
                let moved =
                    move_to(&mut tx, &mut locked, Status::Confirmed, "payment_captured").await?;
                notifications::schedule(&mut tx, &self.notification_plan, &[&locked]).await?;
                moved
            }
            // Paid after the hold expired or was canceled: the money goes back, never kept.
            (
                PaymentKind::Charge,
                PaymentStatus::Captured,
                Status::Expired | Status::Canceled | Status::Rejected,
            ) => {
                if payments::request_refund(&mut tx, locked.id)
                    .await?
                    .is_some()
                {
                    transition::note(&mut tx, &locked, "late_payment_refunding", PAYMENTS_ACTOR)
                        .await?;
                    Settled::Refunding
                } else {
                    Settled::Unchanged(status)
                }
            }
            (PaymentKind::Charge, PaymentStatus::Declined, Status::Held) => {
                transition::release_inventory(&mut tx, &mut locked).await?;
                move_to(
                    &mut tx,
                    &mut locked,
                    Status::Rejected,
                    RejectReason::PaymentDeclined.as_str(),
                )
                .await?
            }
            (PaymentKind::Refund, PaymentStatus::Refunded, Status::Canceled) => {
                move_to(&mut tx, &mut locked, Status::Refunded, "refund_completed").await?
            }
            (PaymentKind::Refund, PaymentStatus::Refunded, Status::Expired) => {
                transition::note(&mut tx, &locked, "late_payment_refunded", PAYMENTS_ACTOR).await?;
                Settled::Unchanged(status)
            }
            (PaymentKind::Fee, PaymentStatus::Captured, _) => {
                transition::note(&mut tx, &locked, "fee_charged", PAYMENTS_ACTOR).await?;
                super::notifications::queue(
                    &mut tx,
                    &[(locked.id, crate::NotificationKind::FeeCharged)],
                )
                .await?;
                Settled::Unchanged(status)
            }
            (PaymentKind::Fee, PaymentStatus::Declined, _) => {
                tracing::warn!(%payment_id, "the card on file declined the fee");
                transition::note(&mut tx, &locked, "fee_declined", PAYMENTS_ACTOR).await?;
                Settled::Unchanged(status)
            }
            (PaymentKind::Refund, PaymentStatus::Failed, _) => {
                tracing::error!(%payment_id, "the gateway refused a refund; ops must settle it");
                transition::note(&mut tx, &locked, "refund_failed", PAYMENTS_ACTOR).await?;
                Settled::Unchanged(status)
            }
            _ => Settled::Unchanged(status),
        };
        tx.commit().await?;
        Ok(settled)
    }

    /// Expires a hold whose time is up, giving its tables back. A hold that was paid, or
    /// whose time is not up yet (an early timer), is left alone.
    ///
    /// # Errors
    /// On a database error, or a [`crate::Error::Invariant`]; then nothing changed.
    #[tracing::instrument(skip(self))]
    pub async fn expire_hold(&self, reservation_id: Uuid) -> Result<Settled> {
        let mut tx = self.pool.begin().await?;
        let Some(mut locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Settled::Missing);
        };
        if locked.status != Status::Held || !locked.hold_over {
            return Ok(Settled::Unchanged(locked.status));
        }
        transition::release_inventory(&mut tx, &mut locked).await?;
        transition::transition(
            &mut tx,
            &mut locked,
            Status::Expired,
            Some("hold_not_paid"),
            WORKER_ACTOR,
        )
        .await?;
        tx.commit().await?;
        Ok(Settled::Moved(Status::Expired))
    }

    /// Cancels a held or confirmed reservation and gives its tables back. A paid one is
    /// refunded in full when the restaurant cancels (`full_refund`), or when the guest cancels
    /// more than the restaurant's refund window before its start. Canceling twice has the
    /// effect of canceling once.
    ///
    /// # Errors
    /// On a database error, or a [`crate::Error::Invariant`]; then nothing changed.
    #[tracing::instrument(skip(self))]
    pub async fn cancel(
        &self,
        reservation_id: Uuid,
        actor: &str,
        full_refund: bool,
        now: DateTime<Utc>,
        gateway: &str,
    ) -> Result<Settled> {
        let mut tx = self.pool.begin().await?;
        let Some(mut locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Settled::Missing);
        };
        if !matches!(locked.status, Status::Held | Status::Confirmed) {
            return Ok(Settled::Unchanged(locked.status));
        }
        let paid = locked.status == Status::Confirmed;
        let in_time = self.before_refund_deadline(&mut tx, &locked, now).await?;
        let refundable = paid && (full_refund || in_time);
        let late = paid && !full_refund && !in_time;
        transition::release_inventory(&mut tx, &mut locked).await?;
        transition::transition(
            &mut tx,
            &mut locked,
            Status::Canceled,
            Some(match (full_refund, refundable) {
                (true, _) => "canceled_by_restaurant",
                (false, true) => "canceled_within_refund_window",
                (false, false) => "canceled",
            }),
            actor,
        )
        .await?;
        if refundable {
            payments::request_refund(&mut tx, locked.id).await?;
        }
        if late {
            let restaurant =
                super::load_restaurant_including_deleted(&mut tx, locked.restaurant_id).await?;
            if let Some(restaurant) = restaurant.filter(|r| r.late_cancellation_fee) {
                charge_fee(&mut tx, &locked, &restaurant, gateway).await?;
            }
        }
        tx.commit().await?;
        Ok(Settled::Moved(Status::Canceled))
    }

    /// Whether `now` is more than the restaurant's refund window before the start.
    async fn before_refund_deadline(
        &self,
        conn: &mut sqlx::PgConnection,
        locked: &Locked,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let Some(restaurant) =
            super::load_restaurant_including_deleted(conn, locked.restaurant_id).await?
        else {
            return Ok(false);
        };
        let deadline = crate::schedule::refund_deadline(
            &restaurant.time_zone,
            restaurant.refund_window_hours,
            locked.service_date.and_time(locked.start_time),
        );
        Ok(deadline.is_some_and(|deadline| now < deadline))
    }

    /// Asks the restaurant's partition to cancel a reservation (see [`Store::cancel`] for
    /// `full_refund`). `Ok` with the reservation as it is now when the cancellation is queued
    /// or was done already.
    ///
    /// # Errors
    /// A [`Refusal`] for a reservation that is missing or cannot be canceled in its state;
    /// the outer error on a database error.
    #[tracing::instrument(skip(self))]
    pub async fn request_cancel(
        &self,
        reservation_id: Uuid,
        actor: &str,
        full_refund: bool,
    ) -> Result<Result<Reservation, Refusal>> {
        let mut tx = self.pool.begin().await?;
        let Some(locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        match locked.status {
            Status::Held | Status::Confirmed => {
                outbound::enqueue_command(
                    &mut tx,
                    locked.restaurant_id,
                    Command::Cancel {
                        reservation_id,
                        actor: actor.to_owned(),
                        full_refund,
                        requested_at: Some(Utc::now()),
                    },
                    std::time::Duration::ZERO,
                )
                .await?;
            }
            Status::Canceled | Status::Refunded => {}
            // A pending request is waiting in the restaurant's queue; its decision comes first.
            current => {
                return Ok(Err(Refusal::IllegalTransition {
                    current: current.as_str(),
                    action: "canceled",
                }))
            }
        }
        tx.commit().await?;
        Ok(self
            .reservation(reservation_id)
            .await?
            .ok_or(Refusal::Missing))
    }

    /// Records a payment for a held reservation and queues the charge. Sending the same token
    /// again is the same payment; a different one, once a charge exists, is a conflict.
    ///
    /// # Errors
    /// A [`Refusal`] for a reservation that is missing, not held, or already being paid with
    /// another token; the outer error on a database error, or a [`crate::Error::Invariant`]
    /// for a held reservation without a price or a currency.
    #[tracing::instrument(skip(self, token))]
    pub async fn request_payment(
        &self,
        reservation_id: Uuid,
        token: &str,
        gateway: &str,
    ) -> Result<Result<Reservation, Refusal>> {
        let mut tx = self.pool.begin().await?;
        let Some(locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        let existing = payments::load_payment(&mut tx, reservation_id, PaymentKind::Charge).await?;
        match existing {
            Some(charge) if charge.token.as_deref() == Some(token) => {}
            Some(_) => {
                return Ok(Err(Refusal::Conflict(
                    "this reservation is already being paid with another payment token".into(),
                )))
            }
            None if locked.status != Status::Held => {
                return Ok(Err(Refusal::IllegalTransition {
                    current: locked.status.as_str(),
                    action: "paid",
                }))
            }
            None if locked.hold_over => {
                return Ok(Err(Refusal::Conflict(
                    "the hold has expired; book again".into(),
                )))
            }
            None => {
                payments::request_charge(&mut tx, &locked, token, gateway).await?;
            }
        }
        tx.commit().await?;
        Ok(self
            .reservation(reservation_id)
            .await?
            .ok_or(Refusal::Missing))
    }

    /// Staff's `confirmed | seated → completed` and `confirmed → no_show`. These give no
    /// inventory back (the time is spent either way), so they are made here directly; the row lock orders them against a
    /// cancellation on the serial lane. A no-show can only be marked once the booking started.
    ///
    /// # Errors
    /// A [`Refusal`] for an illegal transition; the outer error on a database error.
    #[tracing::instrument(skip(self))]
    pub async fn mark_attendance(
        &self,
        reservation_id: Uuid,
        to: Status,
        actor: &str,
        now: DateTime<Utc>,
        gateway: &str,
    ) -> Result<Result<Reservation, Refusal>> {
        let mut tx = self.pool.begin().await?;
        let Some(mut locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        let action = match to {
            Status::Completed => "completed",
            _ => "marked as a no-show",
        };
        if !matches!(to, Status::Completed | Status::NoShow) || !locked.status.can_become(to) {
            return Ok(Err(Refusal::IllegalTransition {
                current: locked.status.as_str(),
                action,
            }));
        }
        let restaurant =
            super::load_restaurant_including_deleted(&mut tx, locked.restaurant_id).await?;
        if locked.status == Status::Seated {
            // Leaving before the booked end frees the tables for the next party.
            if let Some(restaurant) = &restaurant {
                super::seating::end_seatings(&mut tx, locked.id, restaurant.local_now(now)).await?;
            }
        }
        if to == Status::NoShow {
            let start = restaurant.as_ref().and_then(|r| {
                crate::schedule::start_instant(
                    &r.time_zone,
                    locked.service_date.and_time(locked.start_time),
                )
            });
            if start.is_some_and(|start| now < start) {
                return Ok(Err(Refusal::Conflict(
                    "a no-show can only be marked once the booking has started".into(),
                )));
            }
        }
        transition::transition(&mut tx, &mut locked, to, None, actor).await?;
        if to == Status::NoShow {
            if let Some(restaurant) = &restaurant {
                charge_fee(&mut tx, &locked, restaurant, gateway).await?;
            }
        }
        tx.commit().await?;
        Ok(self
            .reservation(reservation_id)
            .await?
            .ok_or(Refusal::Missing))
    }

    /// The audit log of a reservation, oldest first. `None` when there is no such reservation.
    ///
    /// # Errors
    /// On a database error.
    pub async fn events(&self, reservation_id: Uuid) -> Result<Option<Vec<ReservationEvent>>> {
        let events = sqlx::query_as!(
            ReservationEvent,
            "SELECT id, from_status, to_status, reason, actor, created_at
             FROM reservation_event WHERE reservation_id = $1 ORDER BY id",
            reservation_id,
        )
        .fetch_all(&self.pool)
        .await?;
        if events.is_empty() && self.reservation(reservation_id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(events))
    }

    /// Held reservations whose hold ran out more than `grace` ago and were not nudged in the
    /// last `renudge_after`: the periodic sweep's safety net for a lost expiry timer. Each
    /// returned id is stamped as nudged, so one sweep does not flood a long queue.
    ///
    /// # Errors
    /// On a database error.
    pub async fn overdue_holds(
        &self,
        grace: std::time::Duration,
        renudge_after: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<(Uuid, Uuid)>> {
        let nudged = sqlx::query!(
            "UPDATE reservation SET expiry_nudged_at = now()
             WHERE id IN (
                 SELECT id FROM reservation
                 WHERE status = 'held' AND hold_expires_at < now() - make_interval(secs => $1)
                   AND (expiry_nudged_at IS NULL
                        OR expiry_nudged_at < now() - make_interval(secs => $2))
                 ORDER BY hold_expires_at LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             RETURNING id, restaurant_id",
            grace.as_secs_f64(),
            renudge_after.as_secs_f64(),
            limit,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(nudged
            .into_iter()
            .map(|hold| (hold.id, hold.restaurant_id))
            .collect())
    }
}

/// Charges the restaurant's fee per guest to the card a booking kept on file, at a restaurant
/// that takes no prepayment (with prepayment, the diner paid in full already). Once: a second
/// request finds the fee recorded.
async fn charge_fee(
    conn: &mut sqlx::PgConnection,
    locked: &Locked,
    restaurant: &crate::Restaurant,
    gateway: &str,
) -> Result<()> {
    let Some(token) = locked.payment_token.as_deref() else {
        return Ok(());
    };
    if restaurant.prepayment_required || restaurant.no_show_fee_cents <= 0 || locked.walk_in {
        return Ok(());
    }
    let amount = restaurant.no_show_fee_cents * i64::from(locked.party_size);
    payments::request_fee(conn, locked, amount, token, gateway).await?;
    Ok(())
}

/// A transition made by a payment outcome.
async fn move_to(
    conn: &mut sqlx::PgConnection,
    locked: &mut Locked,
    to: Status,
    reason: &str,
) -> Result<Settled> {
    transition::transition(conn, locked, to, Some(reason), PAYMENTS_ACTOR).await?;
    Ok(Settled::Moved(to))
}
