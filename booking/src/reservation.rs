//! The reservation, its states, and the transitions between them.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{BookingRequest, GuestDetails};

/// The life of a reservation. See the state diagram in DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Status {
    Pending,
    Held,
    Confirmed,
    Rejected,
    Expired,
    Canceled,
    Refunded,
    /// At their tables (see `store::seating`).
    Seated,
    Completed,
    NoShow,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Held => "held",
            Status::Confirmed => "confirmed",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Canceled => "canceled",
            Status::Refunded => "refunded",
            Status::Seated => "seated",
            Status::Completed => "completed",
            Status::NoShow => "no_show",
        }
    }

    /// Whether the state machine allows `self → next`. Anything else is an error, never a
    /// silent write.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Pending, Held | Confirmed | Rejected)
                | (Held, Confirmed | Expired | Canceled | Rejected)
                | (Confirmed, Seated | Completed | NoShow | Canceled)
                | (Seated, Completed)
                | (Canceled, Refunded)
        )
    }

    /// Whether the reservation is still waiting for the worker's decision.
    pub fn is_pending(self) -> bool {
        self == Status::Pending
    }
}

/// Why the worker rejected a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum RejectReason {
    /// Some slot of the stay has no table left under the overbooking limit.
    NoAvailability,
    /// The restaurant is not open for the stay (its hours or slot length changed after intake).
    Closed,
    /// The table type no longer exists at the restaurant.
    TableTypeUnavailable,
    /// The gateway declined the charge.
    PaymentDeclined,
    /// The slot already starts as many covers as the restaurant's pacing allows.
    PacingLimit,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NoAvailability => "no_availability",
            RejectReason::Closed => "closed",
            RejectReason::TableTypeUnavailable => "table_type_unavailable",
            RejectReason::PaymentDeclined => "payment_declined",
            RejectReason::PacingLimit => "pacing_limit",
        }
    }
}

/// A reservation as clients see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    #[serde(rename = "reservationId")]
    pub id: Uuid,
    pub restaurant_id: Uuid,
    pub table_type_id: Uuid,
    pub table_count: i32,
    pub party_size: i32,
    pub date: NaiveDate,
    #[serde(serialize_with = "crate::wire_time::serialize_hh_mm")]
    #[schema(value_type = String, example = "19:30")]
    pub time: NaiveTime,
    pub duration_minutes: i32,
    pub guest: Guest,
    pub status: Status,
    /// Why it was rejected, when it was.
    pub reason: Option<String>,
    /// The price of the booking in minor units, fixed when the worker decided it.
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub callback_url: Option<String>,
    #[serde(skip)]
    pub payment_token: Option<String>,
    /// What the diner told the restaurant.
    pub special_requests: Option<String>,
    pub tags: Vec<crate::special_requests::Tag>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The guest's details as given with the reservation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Guest {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

impl Reservation {
    /// Whether `request` is the request this reservation was made from, so a retry with the
    /// same `reservationId` is the same booking and not a different one (409).
    pub fn was_requested_by(&self, request: &BookingRequest) -> bool {
        let recorded = BookingRequest {
            reservation_id: self.id,
            restaurant_id: self.restaurant_id,
            table_type_id: self.table_type_id,
            table_count: self.table_count,
            party_size: self.party_size,
            date: self.date,
            time: self.time,
            duration_minutes: self.duration_minutes,
            guest: GuestDetails {
                name: self.guest.name.clone(),
                email: self.guest.email.clone(),
                phone: self.guest.phone.clone(),
            },
            payment_token: self.payment_token.clone(),
            callback_url: self.callback_url.clone(),
            // Not part of what was asked: a retry may carry the key or not, and which it
            // did decides only whether it is handed the token again.
            retry_key_sha256: request.retry_key_sha256.clone(),
            // Recorded, but not shown to clients; a walk-in's id comes from staff alone.
            walk_in: request.walk_in,
            special_requests: self.special_requests.clone(),
            tags: self.tags.clone(),
        };
        &recorded == request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_state_diagram() {
        use Status::*;
        assert!(Pending.can_become(Held));
        assert!(Pending.can_become(Rejected));
        assert!(Pending.can_become(Confirmed));
        assert!(Held.can_become(Expired));
        assert!(Confirmed.can_become(Canceled));
        assert!(Canceled.can_become(Refunded));
        assert!(!Pending.can_become(Pending));
        assert!(!Rejected.can_become(Held));
        assert!(!Expired.can_become(Confirmed));
        assert!(!Refunded.can_become(Canceled));
        assert!(!Completed.can_become(NoShow));
        assert!(Confirmed.can_become(Seated));
        assert!(Seated.can_become(Completed));
        assert!(!Seated.can_become(Canceled));
        assert!(!Seated.can_become(NoShow));
        assert!(!Held.can_become(Seated));
    }

    #[test]
    fn wire_names_are_snake_case() {
        assert_eq!(serde_json::to_value(Status::NoShow).unwrap(), "no_show");
        assert_eq!(Status::NoShow.as_str(), "no_show");
        assert_eq!(
            serde_json::to_value(RejectReason::NoAvailability).unwrap(),
            RejectReason::NoAvailability.as_str()
        );
    }
}
