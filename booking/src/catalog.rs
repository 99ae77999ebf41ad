//! Restaurants, their opening hours and their table types, as read models.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use uuid::Uuid;

use crate::booking_rules::BookingRules;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Restaurant {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    /// The city diners search by (`GET /v1/search?city=`), matched without regard to case;
    /// may be empty.
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    /// IANA name, for example `Europe/Paris`.
    pub time_zone: String,
    pub slot_minutes: i32,
    pub default_duration_minutes: i32,
    pub overbooking_pct: i32,
    pub booking_horizon_days: i32,
    pub refund_window_hours: i32,
    pub prepayment_required: bool,
    /// Charged per guest when a party does not come, at a restaurant that takes no prepayment
    /// (minor units of the booked table type's currency; 0 for none).
    pub no_show_fee_cents: i64,
    /// Whether a cancellation inside the refund window carries the no-show fee too.
    pub late_cancellation_fee: bool,
    /// Bumped by every update; the `ETag` of the restaurant.
    pub version: i32,
    pub opening_hours: Vec<OpeningInterval>,
    /// Pacing, turn times and the policy for changing a booking.
    pub booking_rules: BookingRules,
}

impl Restaurant {
    /// A restaurant with the chain's defaults: 15-minute slots, 90-minute stays, 10%
    /// overbooking, a 90-day horizon, a 24-hour refund window, and prepayment.
    pub fn with_defaults(
        id: Uuid,
        name: impl Into<String>,
        time_zone: impl Into<String>,
        (latitude, longitude): (f64, f64),
        opening_hours: Vec<OpeningInterval>,
    ) -> Self {
        Self {
            id,
            name: name.into(),
            address: String::new(),
            city: String::new(),
            latitude,
            longitude,
            time_zone: time_zone.into(),
            slot_minutes: 15,
            default_duration_minutes: 90,
            overbooking_pct: 10,
            booking_horizon_days: 90,
            refund_window_hours: 24,
            prepayment_required: true,
            no_show_fee_cents: 0,
            late_cancellation_fee: false,
            version: 1,
            opening_hours,
            booking_rules: BookingRules::default(),
        }
    }
}

impl Restaurant {
    /// How long a party of `party_size` sits: its turn time, or the default duration.
    pub fn sitting_minutes(&self, party_size: i32) -> i32 {
        self.booking_rules
            .sitting_minutes(party_size, self.default_duration_minutes)
    }

    /// Today's date where the restaurant is (UTC's for a zone it does not know).
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.local_now(now).date()
    }

    /// The wall-clock time where the restaurant is (UTC's for a zone it does not know): the
    /// clock that slots, opening hours and seatings are written in.
    pub fn local_now(&self, now: DateTime<Utc>) -> chrono::NaiveDateTime {
        self.time_zone
            .parse::<Tz>()
            .map(|tz| now.with_timezone(&tz).naive_local())
            .unwrap_or_else(|_| now.naive_utc())
    }

    /// Whether a diner may ask about `date`: from today to the booking horizon.
    ///
    /// # Errors
    /// The date is past, or beyond the horizon (named as the field `date`).
    pub fn check_bookable_date(
        &self,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(), crate::Invalid> {
        let today = self.today(now);
        if date < today {
            return Err(crate::Invalid::new("date", "is in the past"));
        }
        let horizon = self.booking_horizon_days;
        if (date - today).num_days() > i64::from(horizon) {
            return Err(crate::Invalid::new(
                "date",
                format!("is beyond the booking horizon of {horizon} days"),
            ));
        }
        Ok(())
    }
}

/// One opening interval of a weekday, in local time. `closes_at <= opens_at` means it closes
/// after midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpeningInterval {
    /// ISO 8601 weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i16,
    #[serde(serialize_with = "crate::wire_time::serialize_hh_mm")]
    #[schema(value_type = String, example = "18:00")]
    pub opens_at: NaiveTime,
    #[serde(serialize_with = "crate::wire_time::serialize_hh_mm")]
    #[schema(value_type = String, example = "23:00")]
    pub closes_at: NaiveTime,
}

impl OpeningInterval {
    pub fn crosses_midnight(&self) -> bool {
        self.closes_at <= self.opens_at
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TableType {
    pub id: Uuid,
    pub restaurant_id: Uuid,
    pub name: String,
    pub seats_min: i32,
    pub seats_max: i32,
    pub base_price_cents: i64,
    pub currency: String,
    /// Active tables of this type: the type's inventory per slot.
    pub tables: i64,
    /// Bumped by every update; the `ETag` of the table type.
    pub version: i32,
}
