//! The commands that travel through a restaurant's partition, as JSON.
//!
//! A command carries ids, not the request itself: the reservation row in PostgreSQL is the
//! source of truth, and the worker reads it in the same transaction as it decides.

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
}

impl Command {
    /// A short name for logs, metrics and the AMQP `type` property.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Decide { .. } => "decide",
        }
    }

    /// The reservation the command is about.
    pub fn reservation_id(&self) -> Uuid {
        match self {
            Command::Decide { reservation_id } => *reservation_id,
        }
    }
}

impl Envelope {
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing a struct of ids cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// # Errors
    /// When the bytes are not a well-formed envelope (a poison message).
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_a_stable_wire_format() {
        let restaurant_id = Uuid::nil();
        let reservation_id = Uuid::max();
        let envelope = Envelope {
            restaurant_id,
            command: Command::Decide { reservation_id },
        };
        let json = String::from_utf8(envelope.to_json()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"restaurantId":"{restaurant_id}","command":{{"type":"decide","reservationId":"{reservation_id}"}}}}"#
            )
        );
        assert_eq!(Envelope::from_json(json.as_bytes()).unwrap(), envelope);
    }

    #[test]
    fn rejects_garbage_and_unknown_commands() {
        assert!(Envelope::from_json(b"not json").is_err());
        assert!(Envelope::from_json(br#"{"restaurantId":"x","command":{}}"#).is_err());
        let unknown = format!(
            r#"{{"restaurantId":"{}","command":{{"type":"explode"}}}}"#,
            Uuid::nil()
        );
        assert!(Envelope::from_json(unknown.as_bytes()).is_err());
    }
}
