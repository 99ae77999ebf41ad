//! What a dead letter is about: its restaurant, reservation and payment, from its body, and
//! from the database for a payment job.

use std::collections::HashMap;

use booking::messages::{Envelope, NotificationJob, PaymentJob, WebhookJob};
use booking::Store;
use rabbitmq::dead_letters::DeadLetter;
use serde_json::Value;
use tokio::sync::Mutex;
use uuid::Uuid;

/// What a message is about, from its body (and the database, for payment jobs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub restaurant_id: Option<Uuid>,
    pub reservation_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    /// The command or job: `decide`, `charge`, `webhook`, `notification`, …; `None` for a body that is not a
    /// maitred message.
    pub command: Option<&'static str>,
}

impl Subject {
    /// Reads a body, without the database.
    pub fn of(body: &[u8]) -> Self {
        if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
            return Self {
                restaurant_id: Some(envelope.restaurant_id),
                reservation_id: envelope.command.reservation_id(),
                payment_id: match envelope.command {
                    booking::messages::Command::Settle { payment_id, .. } => Some(payment_id),
                    _ => None,
                },
                command: Some(envelope.command.kind()),
            };
        }
        if let Ok(job) = serde_json::from_slice::<WebhookJob>(body) {
            let event: Option<Value> = serde_json::from_str(&job.payload).ok();
            let restaurant_id = event
                .as_ref()
                .and_then(|event| event["data"]["restaurantId"].as_str())
                .and_then(|id| id.parse().ok());
            return Self {
                restaurant_id,
                reservation_id: Some(job.reservation_id),
                payment_id: None,
                command: Some("webhook"),
            };
        }
        if let Ok(job) = serde_json::from_slice::<NotificationJob>(body) {
            return Self {
                restaurant_id: None,
                reservation_id: Some(job.reservation_id),
                payment_id: None,
                command: Some("notification"),
            };
        }
        if let Ok(job) = serde_json::from_slice::<PaymentJob>(body) {
            return Self {
                restaurant_id: None,
                reservation_id: None,
                payment_id: Some(job.payment_id()),
                command: Some(job.kind()),
            };
        }
        Self::default()
    }
}

/// Finds what messages are about, looking payment jobs up in the database when it has one
/// (each payment once).
pub struct Resolver {
    store: Option<Store>,
    payments: Mutex<HashMap<Uuid, Option<(Uuid, Uuid)>>>,
}

impl Resolver {
    pub fn new(store: Option<Store>) -> Self {
        Self {
            store,
            payments: Mutex::new(HashMap::new()),
        }
    }

    pub async fn subject(&self, letter: &DeadLetter) -> Subject {
        let mut subject = Subject::of(&letter.body);
        if subject.restaurant_id.is_none() {
            if let (Some(payment_id), Some(store)) = (subject.payment_id, &self.store) {
                let mut known = self.payments.lock().await;
                let found = match known.get(&payment_id) {
                    Some(found) => *found,
                    None => {
                        let found = match store.payment(payment_id).await {
                            Ok(payment) => payment.map(|p| (p.restaurant_id, p.reservation_id)),
                            Err(error) => {
                                tracing::warn!(%error, %payment_id, "could not look the payment up");
                                None
                            }
                        };
                        known.insert(payment_id, found);
                        found
                    }
                };
                if let Some((restaurant_id, reservation_id)) = found {
                    subject.restaurant_id = Some(restaurant_id);
                    subject.reservation_id = Some(reservation_id);
                }
            }
        }
        subject
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::decide;
    use booking::messages::WebhookTarget;

    #[test]
    fn subjects_come_from_envelopes_webhook_payloads_and_payment_jobs() {
        let restaurant = Uuid::new_v4();
        let subject = Subject::of(&decide(restaurant));
        assert_eq!(subject.restaurant_id, Some(restaurant));
        assert_eq!(subject.reservation_id, Some(Uuid::nil()));
        assert_eq!(subject.command, Some("decide"));

        let reservation = Uuid::new_v4();
        let job = WebhookJob {
            webhook_id: "evt_1".into(),
            reservation_id: reservation,
            attempt: 3,
            target: WebhookTarget::Callback {
                url: "https://example.com/hook".into(),
            },
            payload: serde_json::json!({
                "type": "reservation.held",
                "data": {"reservationId": reservation, "restaurantId": restaurant},
            })
            .to_string(),
        };
        let subject = Subject::of(&booking::messages::to_json(&job));
        assert_eq!(subject.restaurant_id, Some(restaurant));
        assert_eq!(subject.reservation_id, Some(reservation));
        assert_eq!(subject.command, Some("webhook"));

        let payment = Uuid::new_v4();
        let subject = Subject::of(&booking::messages::to_json(&PaymentJob::Charge {
            payment_id: payment,
        }));
        assert_eq!(subject.payment_id, Some(payment));
        assert_eq!(subject.restaurant_id, None, "needs the database");
        assert_eq!(Subject::of(b"{ not json"), Subject::default());
    }
}
