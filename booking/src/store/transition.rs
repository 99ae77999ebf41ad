//! The one way a reservation changes state: inside a transaction, checked against the state
//! diagram, with its audit event, its webhooks and its emails written in the same commit.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{notifications, outbound, ReservationRow};
use crate::messages::{WebhookJob, WebhookTarget};
use crate::{Error, Reservation, Result, Status};

/// A reservation row locked `FOR UPDATE` for the rest of the transaction.
#[derive(Debug)]
pub(crate) struct Locked {
    pub id: Uuid,
    pub status: Status,
    pub restaurant_id: Uuid,
    pub table_type_id: Uuid,
    pub table_count: i32,
    pub party_size: i32,
    pub service_date: NaiveDate,
    pub start_time: NaiveTime,
    pub duration_minutes: i32,
    pub reserved_slots: Option<Vec<NaiveDateTime>>,
    /// The slot whose pacing ledger counts the party, while it holds its tables.
    pub paced_slot: Option<NaiveDateTime>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub callback_url: Option<String>,
    pub payment_token: Option<String>,
    /// Whether the hold's time is up, by the database's clock (one clock for every worker).
    pub hold_over: bool,
    /// When intake accepted the request.
    pub created_at: DateTime<Utc>,
    /// A party staff seated without a booking.
    pub walk_in: bool,
}

impl Locked {
    /// Local wall-clock start of the stay: its first slot.
    pub fn local_start(&self) -> NaiveDateTime {
        self.service_date.and_time(self.start_time)
    }
}

/// Locks a reservation. The row lock makes two deciders (a failover overlap, or the API's
/// payment request racing the worker) take turns.
pub(crate) async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Locked>> {
    Ok(lock_all(conn, &[id]).await?.pop())
}

/// Locks several reservations, in id order so two lockers never wait on each other in a
/// circle. Ids that match nothing are left out.
pub(crate) async fn lock_all(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Locked>> {
    Ok(sqlx::query_as!(
        Locked,
        r#"SELECT id, status AS "status: Status", restaurant_id, table_type_id, table_count,
                  party_size, service_date, start_time, duration_minutes, reserved_slots, paced_slot,
                  price_cents,
                  currency, callback_url, payment_token,
                  coalesce(hold_expires_at <= now(), false) AS "hold_over!", created_at, walk_in
           FROM reservation WHERE id = ANY($1) ORDER BY id FOR UPDATE"#,
        ids,
    )
    .fetch_all(conn)
    .await?)
}

/// One reservation's change of state, for [`transition_all`].
pub(crate) struct Move<'a> {
    pub locked: &'a mut Locked,
    pub to: Status,
    pub reason: Option<&'a str>,
}

/// Moves a locked reservation to `to`, appends the audit event, and queues the webhooks.
/// An illegal transition is an error and writes nothing.
pub(crate) async fn transition(
    conn: &mut PgConnection,
    locked: &mut Locked,
    to: Status,
    reason: Option<&str>,
    actor: &str,
) -> Result<()> {
    transition_all(conn, &mut [Move { locked, to, reason }], actor).await
}

/// Moves several locked reservations (each at most once), with their audit events, webhooks
/// and emails, in a fixed number of statements however many there are. An illegal transition
/// is an error and writes nothing.
pub(crate) async fn transition_all(
    conn: &mut PgConnection,
    moves: &mut [Move<'_>],
    actor: &str,
) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    check_moves(moves)?;
    let ids: Vec<Uuid> = moves.iter().map(|m| m.locked.id).collect();
    let to: Vec<&str> = moves.iter().map(|m| m.to.as_str()).collect();
    let reasons: Vec<Option<&str>> = moves.iter().map(|m| m.reason).collect();
    // `reason` on the reservation says why it was rejected; the event keeps every reason.
    sqlx::query!(
        "UPDATE reservation r
         SET status = v.status,
             reason = CASE WHEN v.status = 'rejected' THEN v.reason ELSE r.reason END,
             updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, status, reason)
         WHERE r.id = v.id",
        &ids,
        &to as _,
        &reasons as _,
    )
    .execute(&mut *conn)
    .await?;
    record_moves(conn, moves, actor).await
}

/// An illegal transition among `moves` is an error, before anything is written.
pub(crate) fn check_moves(moves: &[Move<'_>]) -> Result<()> {
    match moves.iter().find(|m| !m.locked.status.can_become(m.to)) {
        Some(illegal) => Err(Error::invariant(format!(
            "illegal transition {} → {} for reservation {}",
            illegal.locked.status.as_str(),
            illegal.to.as_str(),
            illegal.locked.id
        ))),
        None => Ok(()),
    }
}

/// The rest of a transition once the reservations' rows carry their new status (written by
/// [`transition_all`], or by a decision together with its grants): the audit events, the
/// webhooks and the emails. Each move's `locked.status` is still the status it leaves.
pub(crate) async fn record_moves(
    conn: &mut PgConnection,
    moves: &mut [Move<'_>],
    actor: &str,
) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = moves.iter().map(|m| m.locked.id).collect();
    let from: Vec<Status> = moves.iter().map(|m| m.locked.status).collect();
    let from_names: Vec<&str> = from.iter().map(|status| status.as_str()).collect();
    let to: Vec<&str> = moves.iter().map(|m| m.to.as_str()).collect();
    let reasons: Vec<Option<&str>> = moves.iter().map(|m| m.reason).collect();
    let events = sqlx::query!(
        "INSERT INTO reservation_event (reservation_id, from_status, to_status, reason, actor)
         SELECT v.id, v.from_status, v.to_status, v.reason, $5
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
              WITH ORDINALITY AS v(id, from_status, to_status, reason, n)
         ORDER BY v.n
         RETURNING reservation_id, id, created_at",
        &ids,
        &from_names as _,
        &to as _,
        &reasons as _,
        actor,
    )
    .fetch_all(&mut *conn)
    .await?;
    let now = Utc::now();
    for m in moves.iter_mut() {
        record_latency(m.locked, m.to, now);
        m.locked.status = m.to;
    }
    let events: HashMap<Uuid, (i64, DateTime<Utc>)> = events
        .into_iter()
        .map(|event| (event.reservation_id, (event.id, event.created_at)))
        .collect();
    queue_webhooks(conn, moves, &events, None).await?;
    notifications::on_transitions(conn, moves, &from).await
}

/// From acceptance to the answer the diner waits for: the decision (held, confirmed,
/// rejected), then the payment's outcome (confirmed, rejected) or the hold's expiry.
fn record_latency(locked: &Locked, to: Status, now: DateTime<Utc>) {
    if matches!(locked.status, Status::Pending | Status::Held)
        && matches!(
            to,
            Status::Held | Status::Confirmed | Status::Rejected | Status::Expired
        )
    {
        let waited = (now - locked.created_at).to_std().unwrap_or_default();
        metrics::histogram!("maitred_decision_latency_seconds", "status" => to.as_str())
            .record(waited.as_secs_f64());
    }
}

/// Appends a fact about a reservation that is not a change of state (a late payment being
/// refunded, a refund that failed), so the audit log tells the whole story.
pub(crate) async fn note(
    conn: &mut PgConnection,
    locked: &Locked,
    reason: &str,
    actor: &str,
) -> Result<()> {
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
) -> Result<(i64, DateTime<Utc>)> {
    let event = sqlx::query!(
        "INSERT INTO reservation_event (reservation_id, from_status, to_status, reason, actor)
         VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at",
        reservation_id,
        from.map(Status::as_str),
        to.as_str(),
        reason,
        actor,
    )
    .fetch_one(conn)
    .await?;
    Ok((event.id, event.created_at))
}

/// The body of every webhook, in the Standard Webhooks shape.
#[derive(Serialize)]
struct WebhookEvent<'a> {
    #[serde(rename = "type")]
    event_type: String,
    timestamp: DateTime<Utc>,
    data: &'a Reservation,
    /// `reservation.modified`: what the booking was before (date, time, party, table, price).
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<&'a serde_json::Value>,
}

/// Queues `reservation.modified` for a booking just changed, with its details before the
/// change, to the same destinations as its other events.
pub(crate) async fn queue_modified_webhooks(
    conn: &mut PgConnection,
    locked: &mut Locked,
    event: (i64, DateTime<Utc>),
    previous: &serde_json::Value,
) -> Result<()> {
    let events = HashMap::from([(locked.id, event)]);
    let to = locked.status;
    let moves = [Move {
        locked,
        to,
        reason: None,
    }];
    queue_webhooks(conn, &moves, &events, Some(previous)).await
}

/// One delivery per destination and move: the reservation's callback URL and every endpoint
/// registered for its restaurant. All of one move carry the same `webhook-id`, derived from
/// its audit event.
async fn queue_webhooks(
    conn: &mut PgConnection,
    moves: &[Move<'_>],
    events: &HashMap<Uuid, (i64, DateTime<Utc>)>,
    previous: Option<&serde_json::Value>,
) -> Result<()> {
    let restaurants: Vec<Uuid> = moves.iter().map(|m| m.locked.restaurant_id).collect();
    let endpoints: Vec<(Uuid, Uuid)> = sqlx::query!(
        "SELECT restaurant_id, id FROM webhook_endpoint WHERE restaurant_id = ANY($1)",
        &restaurants,
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|endpoint| (endpoint.restaurant_id, endpoint.id))
    .collect();
    let targets_of = |locked: &Locked| -> Vec<WebhookTarget> {
        locked
            .callback_url
            .iter()
            .map(|url| WebhookTarget::Callback { url: url.clone() })
            .chain(
                endpoints
                    .iter()
                    .filter(|(restaurant_id, _)| *restaurant_id == locked.restaurant_id)
                    .map(|(_, endpoint_id)| WebhookTarget::Endpoint {
                        endpoint_id: *endpoint_id,
                    }),
            )
            .collect()
    };
    let notified: Vec<Uuid> = moves
        .iter()
        .filter(|m| !targets_of(m.locked).is_empty())
        .map(|m| m.locked.id)
        .collect();
    if notified.is_empty() {
        return Ok(());
    }
    let reservations: Vec<Reservation> = sqlx::query_as!(
        ReservationRow,
        r#"SELECT id, restaurant_id, table_type_id, table_count, party_size, service_date,
                  start_time, duration_minutes, guest_name, guest_email, guest_phone,
                  status AS "status: Status", reason, price_cents, currency,
                  hold_expires_at, callback_url, payment_token, special_requests, tags,
                      created_at, updated_at
           FROM reservation WHERE id = ANY($1)"#,
        &notified,
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(Reservation::from)
    .collect();
    let mut jobs = Vec::new();
    for reservation in &reservations {
        let Some(locked) = moves
            .iter()
            .map(|m| &*m.locked)
            .find(|l| l.id == reservation.id)
        else {
            continue;
        };
        let Some(&(event_id, at)) = events.get(&locked.id) else {
            continue;
        };
        let event_type = match previous {
            Some(_) => "reservation.modified".to_owned(),
            None => format!("reservation.{}", locked.status.as_str()),
        };
        let event = WebhookEvent {
            event_type,
            timestamp: at,
            data: reservation,
            previous,
        };
        let payload = serde_json::to_string(&event)
            .map_err(|e| Error::invariant(format!("webhook payload: {e}")))?;
        jobs.extend(targets_of(locked).into_iter().map(|target| WebhookJob {
            webhook_id: format!("evt_{event_id}"),
            reservation_id: locked.id,
            attempt: 1,
            target,
            payload: payload.clone(),
        }));
    }
    outbound::enqueue_webhooks(conn, &jobs).await
}

/// Gives back every slot the reservation holds, and its covers in the pacing ledger. Idempotent: the slots are forgotten as they
/// are released, so a second release finds nothing.
pub(crate) async fn release_inventory(conn: &mut PgConnection, locked: &mut Locked) -> Result<()> {
    release_tables(conn, locked).await?;
    // The covers after the tables: the order every decision locks them in.
    super::slot_covers::release(conn, locked).await
}

async fn release_tables(conn: &mut PgConnection, locked: &mut Locked) -> Result<()> {
    let Some(slots) = locked.reserved_slots.take() else {
        return Ok(());
    };
    sqlx::query!(
        "UPDATE inventory SET total_reserved = total_reserved - $3
         WHERE table_type_id = $1 AND slot_start = ANY($2)",
        locked.table_type_id,
        &slots,
        locked.table_count,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE reservation SET reserved_slots = NULL WHERE id = $1",
        locked.id
    )
    .execute(conn)
    .await?;
    Ok(())
}
