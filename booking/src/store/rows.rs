//! Rows as the query macros read them, for the read models whose shape is not the table's: a
//! restaurant's opening hours come from a table of their own, a reservation's guest is nested.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use crate::reservation::Guest;
use crate::{OpeningInterval, Reservation, Restaurant, Status};

/// A restaurant's booking rules, as their JSON column reads.
pub(crate) type RulesJson = sqlx::types::Json<crate::booking_rules::BookingRules>;

/// A `restaurant` row, without its opening hours.
pub(crate) struct RestaurantRow {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub time_zone: String,
    pub slot_minutes: i32,
    pub default_duration_minutes: i32,
    pub overbooking_pct: i32,
    pub booking_horizon_days: i32,
    pub refund_window_hours: i32,
    pub prepayment_required: bool,
    pub no_show_fee_cents: i64,
    pub late_cancellation_fee: bool,
    pub version: i32,
    pub booking_rules: RulesJson,
}

impl RestaurantRow {
    pub fn with_hours(self, opening_hours: Vec<OpeningInterval>) -> Restaurant {
        Restaurant {
            id: self.id,
            name: self.name,
            address: self.address,
            city: self.city,
            latitude: self.latitude,
            longitude: self.longitude,
            time_zone: self.time_zone,
            slot_minutes: self.slot_minutes,
            default_duration_minutes: self.default_duration_minutes,
            overbooking_pct: self.overbooking_pct,
            booking_horizon_days: self.booking_horizon_days,
            refund_window_hours: self.refund_window_hours,
            prepayment_required: self.prepayment_required,
            no_show_fee_cents: self.no_show_fee_cents,
            late_cancellation_fee: self.late_cancellation_fee,
            version: self.version,
            booking_rules: self.booking_rules.0,
            opening_hours,
        }
    }
}

/// A `reservation` row, with the columns clients see.
pub(crate) struct ReservationRow {
    pub id: Uuid,
    pub restaurant_id: Uuid,
    pub table_type_id: Uuid,
    pub table_count: i32,
    pub party_size: i32,
    pub service_date: NaiveDate,
    pub start_time: NaiveTime,
    pub duration_minutes: i32,
    pub guest_name: String,
    pub guest_email: String,
    pub guest_phone: Option<String>,
    pub status: Status,
    pub reason: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub callback_url: Option<String>,
    pub payment_token: Option<String>,
    pub special_requests: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ReservationRow> for Reservation {
    fn from(row: ReservationRow) -> Self {
        Reservation {
            id: row.id,
            restaurant_id: row.restaurant_id,
            table_type_id: row.table_type_id,
            table_count: row.table_count,
            party_size: row.party_size,
            date: row.service_date,
            time: row.start_time,
            duration_minutes: row.duration_minutes,
            guest: Guest {
                name: row.guest_name,
                email: row.guest_email,
                phone: row.guest_phone,
            },
            status: row.status,
            reason: row.reason,
            price_cents: row.price_cents,
            currency: row.currency,
            hold_expires_at: row.hold_expires_at,
            callback_url: row.callback_url,
            payment_token: row.payment_token,
            special_requests: row.special_requests,
            // The column's CHECK admits only known tags.
            tags: row
                .tags
                .iter()
                .filter_map(|tag| crate::special_requests::Tag::parse(tag))
                .collect(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
