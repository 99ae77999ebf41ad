//! The messages that travel through RabbitMQ, as JSON: commands on a restaurant's partition,
//! payment jobs, webhook deliveries and notification jobs.
//!
//! A message carries ids, not state: the rows in PostgreSQL are the source of truth, and each
//! consumer reads them in the same transaction as it acts. That is what makes a redelivered
//! message harmless.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One message on a partition queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// Decides the partition, and lets ops filter dead letters by restaurant.
    pub restaurant_id: Uuid,
    pub command: Command,
}

/// Everything that may change a reservation's inventory, decided serially per restaurant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Command {
    /// Decide a pending reservation: reserve its inventory or reject it.
    Decide { reservation_id: Uuid },
    /// A payment of the reservation has an outcome: confirm, reject, refund or record it.
    Settle {
        reservation_id: Uuid,
        payment_id: Uuid,
    },
    /// The hold's time is up: expire it unless it was paid.
    ExpireHold { reservation_id: Uuid },
    /// Cancel the reservation, refunding it when the policy allows, or in full when the
    /// restaurant cancels.
    Cancel {
        reservation_id: Uuid,
        actor: String,
        #[serde(default)]
        full_refund: bool,
        /// When the cancellation was accepted: the refund window is judged at this moment, so
        /// a backlog in the queue never costs a diner their refund. (Absent from commands
        /// queued before it existed; those are judged when decided.)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requested_at: Option<DateTime<Utc>>,
    },
    /// Change a confirmed booking as its `reservation_change` row says: the new slots
    /// taken and the old ones given back in one decision, or nothing changes.
    Modify {
        reservation_id: Uuid,
        change_id: Uuid,
    },
    /// Staff changed the restaurant's tables or overbooking: bring its future inventory in
    /// line, without ever cutting below what is already booked.
    SyncInventory,
}

impl Command {
    /// A short name for logs, metrics and the AMQP `type` property.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Decide { .. } => "decide",
            Command::Settle { .. } => "settle",
            Command::ExpireHold { .. } => "expire_hold",
            Command::Cancel { .. } => "cancel",
            Command::Modify { .. } => "modify",
            Command::SyncInventory => "sync_inventory",
        }
    }

    /// The reservation the command is about, if it is about one.
    pub fn reservation_id(&self) -> Option<Uuid> {
        match self {
            Command::Decide { reservation_id }
            | Command::Settle { reservation_id, .. }
            | Command::ExpireHold { reservation_id }
            | Command::Cancel { reservation_id, .. }
            | Command::Modify { reservation_id, .. } => Some(*reservation_id),
            Command::SyncInventory => None,
        }
    }
}

/// A job for the payment workers, which call the gateway outside the serial lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum PaymentJob {
    Charge { payment_id: Uuid },
    Refund { payment_id: Uuid },
}

impl PaymentJob {
    pub fn kind(&self) -> &'static str {
        match self {
            PaymentJob::Charge { .. } => "charge",
            PaymentJob::Refund { .. } => "refund",
        }
    }

    pub fn payment_id(&self) -> Uuid {
        match self {
            PaymentJob::Charge { payment_id } | PaymentJob::Refund { payment_id } => *payment_id,
        }
    }
}

/// One webhook delivery to one destination. Retries carry the same `webhook_id` and payload,
/// so a receiver can dedupe on the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookJob {
    /// The `webhook-id` header: one per event, the same on every attempt and endpoint.
    pub webhook_id: String,
    pub reservation_id: Uuid,
    /// 1 on the first attempt.
    pub attempt: u32,
    pub target: WebhookTarget,
    /// The exact bytes to sign and send, so every attempt sends the same body.
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum WebhookTarget {
    /// The `callbackUrl` of the reservation, signed with the reservation's own secret (derived
    /// from the server's callback secret).
    Callback { url: String },
    /// An endpoint registered for the restaurant, signed with its own secret. Looked up at
    /// delivery time, so a deleted endpoint stops receiving.
    Endpoint { endpoint_id: Uuid },
}

/// One email to send: the `notification` row it is, which says what and to whom. Retries carry
/// the same id; the row's status makes a second delivery of a sent message send nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationJob {
    pub notification_id: i64,
    pub reservation_id: Uuid,
    /// The row's kind (`confirmed`, `reminder_24h`…), for logs, metrics and dead-letter views.
    pub kind: String,
    /// 1 on the first attempt.
    pub attempt: u32,
}

/// What the workers tell intake about a restaurant's inventory, on the inventory exchange, so
/// intake can turn a sold-out slot away at once instead of queueing a request that can only be
/// rejected. A hint, never the decision: intake trusts a notice only for a few seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum InventoryNotice {
    /// The tables left in slots a run of decisions looked at (only slots with few left).
    Left {
        restaurant_id: Uuid,
        slots: Vec<SlotLeft>,
    },
    /// Tables may have come back (a cancellation, an expiry, a declined payment, a staff
    /// change): forget what was said about this restaurant.
    Reset { restaurant_id: Uuid },
    /// A run of decisions committed: clients waiting for these reservations (`Prefer: wait`)
    /// may be answered.
    Decided {
        restaurant_id: Uuid,
        reservation_ids: Vec<Uuid>,
    },
}

/// The tables left in one slot of a table type, after a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotLeft {
    pub restaurant_id: Uuid,
    pub table_type_id: Uuid,
    /// Local wall-clock start of the slot.
    pub slot_start: chrono::NaiveDateTime,
    /// Negative when the slot is over its limit (tables taken out of service).
    pub left: i64,
}

/// Serializes a message for the wire. Serializing these types cannot fail (ids, strings and
/// numbers only), so an error would be a bug; it yields an empty body that consumers
/// dead-letter rather than a panic.
pub fn to_json<T: Serialize>(message: &T) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_with_a_stable_wire_format() {
        let restaurant_id = Uuid::nil();
        let reservation_id = Uuid::max();
        let envelope = Envelope {
            restaurant_id,
            command: Command::Decide { reservation_id },
        };
        let json = String::from_utf8(to_json(&envelope)).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"restaurantId":"{restaurant_id}","command":{{"type":"decide","reservationId":"{reservation_id}"}}}}"#
            )
        );
        assert_eq!(serde_json::from_str::<Envelope>(&json).unwrap(), envelope);
        let settle = Command::Settle {
            reservation_id,
            payment_id: restaurant_id,
        };
        assert_eq!(
            serde_json::to_value(&settle).unwrap()["paymentId"],
            restaurant_id.to_string()
        );
    }

    #[test]
    fn rejects_garbage_and_unknown_commands() {
        assert!(serde_json::from_slice::<Envelope>(b"not json").is_err());
        assert!(serde_json::from_str::<Envelope>(r#"{"restaurantId":"x","command":{}}"#).is_err());
        let unknown = format!(
            r#"{{"restaurantId":"{}","command":{{"type":"explode"}}}}"#,
            Uuid::nil()
        );
        assert!(serde_json::from_str::<Envelope>(&unknown).is_err());
    }

    #[test]
    fn webhook_jobs_name_their_target() {
        let job = WebhookJob {
            webhook_id: "evt_1".into(),
            reservation_id: Uuid::nil(),
            attempt: 1,
            target: WebhookTarget::Callback {
                url: "https://example.com/hook".into(),
            },
            payload: "{}".into(),
        };
        let value = serde_json::to_value(&job).unwrap();
        assert_eq!(value["target"]["kind"], "callback");
        assert_eq!(serde_json::from_value::<WebhookJob>(value).unwrap(), job);
    }
}
