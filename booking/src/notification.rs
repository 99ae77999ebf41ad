//! Emails to diners, as the domain sees them: which message a change of state causes, which
//! are timed (reminders before the start, a warning before a hold expires), and what a message
//! needs to say. Sending them is the `notify` crate's job; queueing them with the change that
//! causes them is the store's (`store::notifications`).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use crate::Status;

/// A kind of message. One of each per reservation at most: the kind is half of the message's
/// idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// The booking is confirmed: the reservation's page and a calendar entry.
    Confirmed,
    /// The request was not booked, and why.
    Rejected,
    /// The hold is about to expire unpaid.
    HoldExpiring,
    /// The visit starts in `lead`.
    Reminder {
        lead: Duration,
    },
    Canceled,
    Refunded,
    /// Freed capacity offered to a waitlisted diner as a hold. The waitlist queues it (it is
    /// not caused by a transition of its own); the sender and the messages already know it.
    WaitlistOffer,
    /// The restaurant's no-show (or late cancellation) fee was charged to the card on file.
    FeeCharged,
    /// The booking was changed, for the `count`th time.
    Modified {
        count: u32,
    },
}

impl NotificationKind {
    /// The message a transition to `to` sends at once, if any.
    pub fn on_transition(to: Status) -> Option<Self> {
        match to {
            Status::Confirmed => Some(Self::Confirmed),
            Status::Rejected => Some(Self::Rejected),
            Status::Canceled => Some(Self::Canceled),
            Status::Refunded => Some(Self::Refunded),
            _ => None,
        }
    }

    /// The key stored in `notification.kind`: `confirmed`, `reminder_24h`, `reminder_90m`…
    pub fn key(self) -> String {
        match self {
            Self::Confirmed => "confirmed".into(),
            Self::Rejected => "rejected".into(),
            Self::HoldExpiring => "hold_expiring".into(),
            Self::Reminder { lead } => format!("reminder_{}", lead_label(lead)),
            Self::Canceled => "canceled".into(),
            Self::Refunded => "refunded".into(),
            Self::WaitlistOffer => "waitlist_offer".into(),
            Self::FeeCharged => "fee_charged".into(),
            Self::Modified { count } => format!("modified_{count}"),
        }
    }

    /// The inverse of [`NotificationKind::key`]; `None` for a key this version does not know.
    pub fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "confirmed" => Self::Confirmed,
            "rejected" => Self::Rejected,
            "hold_expiring" => Self::HoldExpiring,
            "canceled" => Self::Canceled,
            "refunded" => Self::Refunded,
            "waitlist_offer" => Self::WaitlistOffer,
            "fee_charged" => Self::FeeCharged,
            other => match other.strip_prefix("modified_") {
                Some(count) => Self::Modified {
                    count: count.parse().ok()?,
                },
                None => Self::Reminder {
                    lead: parse_lead_label(other.strip_prefix("reminder_")?)?,
                },
            },
        })
    }

    /// The reservation's status the message still needs when it is sent: a reminder is for a
    /// booking that is still confirmed, a hold's warning for a hold still unpaid.
    pub fn required_status(self) -> Option<Status> {
        match self {
            Self::Reminder { .. } => Some(Status::Confirmed),
            Self::HoldExpiring | Self::WaitlistOffer => Some(Status::Held),
            _ => None,
        }
    }
}

/// A lead time as a key: whole hours as `24h`, whole minutes as `90m`, else seconds.
fn lead_label(lead: Duration) -> String {
    let seconds = lead.as_secs();
    match seconds {
        s if s > 0 && s.is_multiple_of(3600) => format!("{}h", s / 3600),
        s if s > 0 && s.is_multiple_of(60) => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn parse_lead_label(label: &str) -> Option<Duration> {
    let (number, unit) = label.split_at(label.len().checked_sub(1)?);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "h" => number.checked_mul(3600)?,
        "m" => number.checked_mul(60)?,
        "s" => number,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

/// When the timed messages go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationPlan {
    /// Reminders before the start of a confirmed booking, for example 24 h and 2 h. A reminder
    /// whose moment has passed when the booking is confirmed is recorded as skipped.
    pub reminders: Vec<Duration>,
    /// How long before a hold expires its diner is warned; zero: never.
    pub hold_warning: Duration,
}

impl Default for NotificationPlan {
    fn default() -> Self {
        Self {
            reminders: vec![
                Duration::from_secs(24 * 3600),
                Duration::from_secs(2 * 3600),
            ],
            hold_warning: Duration::from_secs(3 * 60),
        }
    }
}

impl NotificationPlan {
    /// Reads a list of lead times as people write them: `24h,2h`, `1day, 90m`; empty: none.
    /// Whole seconds only, each once.
    ///
    /// # Errors
    /// The first item that is not a duration of at least a second, in words.
    pub fn parse_reminders(list: &str) -> std::result::Result<Vec<Duration>, String> {
        let mut leads: Vec<Duration> = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let lead = humantime::parse_duration(item)
                .map_err(|e| format!("{item:?} is not a duration such as 24h or 90m: {e}"))?;
            if lead.as_secs() == 0 || lead.subsec_nanos() != 0 {
                return Err(format!(
                    "{item:?} must be a whole number of seconds, at least 1s"
                ));
            }
            if !leads.contains(&lead) {
                leads.push(lead);
            }
        }
        Ok(leads)
    }
}

/// What a message says: the reservation, its restaurant and its table type, as they are when
/// the message is sent.
#[derive(Debug, Clone)]
pub struct NotificationFacts {
    pub notification_id: i64,
    pub kind: NotificationKind,
    pub reservation_id: Uuid,
    pub status: Status,
    pub guest_name: String,
    pub guest_email: String,
    pub party_size: i32,
    pub table_count: i32,
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub duration_minutes: i32,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    /// The no-show or late cancellation fee captured, if one was.
    pub fee_cents: Option<i64>,
    /// Why it was rejected (`no_availability`, `payment_declined`…).
    pub reason: Option<String>,
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// Before the booking's latest change, for the email that announces it: when it was,
    /// for how many, and its price.
    pub previous: Option<PreviousDetails>,
    pub restaurant_name: String,
    pub restaurant_address: String,
    pub restaurant_city: String,
    /// IANA zone: the date and time above are wall-clock times there.
    pub time_zone: String,
    pub table_type_name: String,
}

/// A changed booking's details before the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousDetails {
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub party_size: i32,
    pub price_cents: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_keys() {
        let kinds = [
            NotificationKind::Confirmed,
            NotificationKind::Rejected,
            NotificationKind::HoldExpiring,
            NotificationKind::Reminder {
                lead: Duration::from_secs(86_400),
            },
            NotificationKind::Reminder {
                lead: Duration::from_secs(5_400),
            },
            NotificationKind::Reminder {
                lead: Duration::from_secs(7),
            },
            NotificationKind::Canceled,
            NotificationKind::Refunded,
            NotificationKind::WaitlistOffer,
        ];
        for kind in kinds {
            assert_eq!(NotificationKind::parse(&kind.key()), Some(kind), "{kind:?}");
        }
        assert_eq!(
            NotificationKind::Reminder {
                lead: Duration::from_secs(86_400)
            }
            .key(),
            "reminder_24h"
        );
        assert_eq!(
            NotificationKind::Reminder {
                lead: Duration::from_secs(5_400)
            }
            .key(),
            "reminder_90m"
        );
        assert_eq!(NotificationKind::parse("reminder_"), None);
        assert_eq!(NotificationKind::parse("reminder_2d"), None);
        assert_eq!(NotificationKind::parse("paid"), None);
    }

    #[test]
    fn reminders_are_read_as_people_write_them() {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(
            NotificationPlan::parse_reminders("24h, 2h").unwrap(),
            [hours(24), hours(2)]
        );
        assert_eq!(
            NotificationPlan::parse_reminders("1day,24h,90m").unwrap(),
            [hours(24), Duration::from_secs(5400)]
        );
        assert!(NotificationPlan::parse_reminders("").unwrap().is_empty());
        assert!(NotificationPlan::parse_reminders("2").is_err());
        assert!(NotificationPlan::parse_reminders("500ms").is_err());
    }

    #[test]
    fn only_some_transitions_send_at_once() {
        assert_eq!(
            NotificationKind::on_transition(Status::Confirmed),
            Some(NotificationKind::Confirmed)
        );
        assert_eq!(NotificationKind::on_transition(Status::Held), None);
        assert_eq!(NotificationKind::on_transition(Status::Completed), None);
        assert_eq!(
            NotificationKind::Reminder {
                lead: Duration::from_secs(60)
            }
            .required_status(),
            Some(Status::Confirmed)
        );
    }
}
