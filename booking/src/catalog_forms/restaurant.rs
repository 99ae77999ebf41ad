//! The restaurant form and the draft it parses into.

use serde::Deserialize;
use uuid::Uuid;

use super::fields::free_text;
use super::{
    field_or, in_range, required, Coordinates, FormMode, Name, OpeningHours, OpeningHoursForm,
    SlotMinutes, TimeZoneName,
};
use crate::{Invalid, Restaurant};

/// The body of `POST /v1/restaurants` and `PUT /v1/restaurants/{id}`. When creating, the
/// fields marked optional take the chain's defaults; a replacement must give every field.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestaurantForm {
    /// 1 to 200 characters.
    #[schema(example = "Chez Ada", min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// At most 500 characters (default empty).
    #[schema(max_length = 500)]
    pub address: Option<String>,
    /// The city diners search by: at most 100 characters (default empty).
    #[schema(example = "Paris", max_length = 100)]
    pub city: Option<String>,
    /// Degrees, -90 to 90.
    #[schema(example = 48.8566, minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    /// Degrees, -180 to 180.
    #[schema(example = 2.3522, minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    /// An IANA time zone.
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    /// The weekly opening intervals, in local time (at most 50); overlapping intervals are
    /// refused.
    #[schema(max_items = 50)]
    pub opening_hours: Option<Vec<OpeningHoursForm>>,
    /// 5 to 240, dividing 1440 (default 15). Cannot change while future reservations exist.
    #[schema(minimum = 5, maximum = 240)]
    pub slot_minutes: Option<i64>,
    /// 15 to 720 (default 90).
    #[schema(minimum = 15, maximum = 720)]
    pub default_duration_minutes: Option<i64>,
    /// 0 to 100 (default 10).
    #[schema(minimum = 0, maximum = 100)]
    pub overbooking_pct: Option<i64>,
    /// 1 to 730 (default 90).
    #[schema(minimum = 1, maximum = 730)]
    pub booking_horizon_days: Option<i64>,
    /// A canceled paid reservation is refunded when canceled more than this many hours before
    /// it starts: 0 to 720 (default 24).
    #[schema(minimum = 0, maximum = 720)]
    pub refund_window_hours: Option<i64>,
    /// Whether diners pay in full when booking (default true).
    pub prepayment_required: Option<bool>,
    /// Charged per guest for a no-show, where no prepayment is taken (minor units; default 0,
    /// at most 1000000).
    pub no_show_fee_cents: Option<i64>,
    /// Whether a cancellation inside the refund window carries the no-show fee (default
    /// false).
    pub late_cancellation_fee: Option<bool>,
}

/// A restaurant as staff want it, every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RestaurantDraft {
    pub name: Name,
    pub address: String,
    pub city: String,
    pub coordinates: Coordinates,
    pub time_zone: TimeZoneName,
    pub opening_hours: OpeningHours,
    pub slot_minutes: SlotMinutes,
    pub default_duration_minutes: i32,
    pub overbooking_pct: i32,
    pub booking_horizon_days: i32,
    pub refund_window_hours: i32,
    pub prepayment_required: bool,
    pub no_show_fee_cents: i64,
    pub late_cancellation_fee: bool,
}

impl RestaurantForm {
    /// # Errors
    /// The first field that is missing (when replacing) or breaks a rule.
    pub fn parse(&self, mode: FormMode) -> Result<RestaurantDraft, Invalid> {
        let defaults = Restaurant::with_defaults(Uuid::nil(), "", "UTC", (0.0, 0.0), Vec::new());
        let name = Name::parse("name", required("name", self.name.as_deref())?, 200)?;
        let address = free_text(
            "address",
            field_or(mode, "address", self.address.as_deref(), "")?,
            500,
        )?;
        let city = free_text(
            "city",
            field_or(mode, "city", self.city.as_deref(), "")?,
            100,
        )?;
        let coordinates = Coordinates::parse(
            required("latitude", self.latitude)?,
            required("longitude", self.longitude)?,
        )?;
        let time_zone = TimeZoneName::parse(required("timeZone", self.time_zone.as_deref())?)?;
        let opening_hours =
            OpeningHours::parse(required("openingHours", self.opening_hours.as_deref())?)?;
        let slot_minutes = SlotMinutes::parse(field_or(
            mode,
            "slotMinutes",
            self.slot_minutes,
            defaults.slot_minutes.into(),
        )?)?;
        let default_duration_minutes = in_range(
            "defaultDurationMinutes",
            field_or(
                mode,
                "defaultDurationMinutes",
                self.default_duration_minutes,
                defaults.default_duration_minutes.into(),
            )?,
            15,
            720,
        )?;
        let overbooking_pct = in_range(
            "overbookingPct",
            field_or(
                mode,
                "overbookingPct",
                self.overbooking_pct,
                defaults.overbooking_pct.into(),
            )?,
            0,
            100,
        )?;
        let booking_horizon_days = in_range(
            "bookingHorizonDays",
            field_or(
                mode,
                "bookingHorizonDays",
                self.booking_horizon_days,
                defaults.booking_horizon_days.into(),
            )?,
            1,
            730,
        )?;
        let refund_window_hours = in_range(
            "refundWindowHours",
            field_or(
                mode,
                "refundWindowHours",
                self.refund_window_hours,
                defaults.refund_window_hours.into(),
            )?,
            0,
            720,
        )?;
        let prepayment_required = field_or(
            mode,
            "prepaymentRequired",
            self.prepayment_required,
            defaults.prepayment_required,
        )?;
        let no_show_fee_cents = in_range(
            "noShowFeeCents",
            field_or(
                mode,
                "noShowFeeCents",
                self.no_show_fee_cents,
                defaults.no_show_fee_cents,
            )?,
            0,
            1_000_000,
        )?;
        let late_cancellation_fee = field_or(
            mode,
            "lateCancellationFee",
            self.late_cancellation_fee,
            defaults.late_cancellation_fee,
        )?;
        Ok(RestaurantDraft {
            name,
            address,
            city,
            coordinates,
            time_zone,
            opening_hours,
            slot_minutes,
            default_duration_minutes,
            overbooking_pct,
            booking_horizon_days,
            refund_window_hours,
            prepayment_required,
            no_show_fee_cents: no_show_fee_cents.into(),
            late_cancellation_fee,
        })
    }
}

impl RestaurantDraft {
    /// The restaurant this draft describes, with `id` and `version`.
    pub fn to_restaurant(&self, id: Uuid, version: i32) -> Restaurant {
        Restaurant {
            id,
            name: self.name.as_str().to_owned(),
            address: self.address.clone(),
            city: self.city.clone(),
            latitude: self.coordinates.latitude(),
            longitude: self.coordinates.longitude(),
            time_zone: self.time_zone.as_str().to_owned(),
            slot_minutes: self.slot_minutes.get(),
            default_duration_minutes: self.default_duration_minutes,
            overbooking_pct: self.overbooking_pct,
            booking_horizon_days: self.booking_horizon_days,
            refund_window_hours: self.refund_window_hours,
            prepayment_required: self.prepayment_required,
            no_show_fee_cents: self.no_show_fee_cents,
            late_cancellation_fee: self.late_cancellation_fee,
            version,
            opening_hours: self.opening_hours.intervals().to_vec(),
            // Set on their own resource, not by the restaurant's form.
            booking_rules: crate::booking_rules::BookingRules::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog_forms::{field_of, TableForm};
    use serde_json::json;

    fn restaurant_form(value: serde_json::Value) -> RestaurantForm {
        serde_json::from_value(value).unwrap()
    }

    fn valid_restaurant() -> serde_json::Value {
        json!({
            "name": "  Chez Ada ",
            "latitude": 48.85,
            "longitude": 2.35,
            "timeZone": "Europe/Paris",
            "openingHours": [
                {"weekday": 1, "opensAt": "12:00", "closesAt": "14:30"},
                {"weekday": 1, "opensAt": "19:00", "closesAt": "01:00"},
            ]
        })
    }

    #[test]
    fn a_new_restaurant_takes_the_chains_defaults() {
        let draft = restaurant_form(valid_restaurant())
            .parse(FormMode::Create)
            .unwrap();
        assert_eq!(draft.name.as_str(), "Chez Ada");
        assert_eq!(draft.address, "");
        assert_eq!(draft.city, "");
        assert_eq!(draft.slot_minutes.get(), 15);
        assert_eq!(draft.default_duration_minutes, 90);
        assert_eq!(draft.overbooking_pct, 10);
        assert_eq!(draft.booking_horizon_days, 90);
        assert_eq!(draft.refund_window_hours, 24);
        assert!(draft.prepayment_required);
        let restaurant = draft.to_restaurant(Uuid::nil(), 1);
        assert_eq!(restaurant.time_zone, "Europe/Paris");
        assert_eq!(restaurant.opening_hours.len(), 2);
    }

    #[test]
    fn a_replacement_must_give_every_field() {
        assert_eq!(
            field_of(restaurant_form(valid_restaurant()).parse(FormMode::Replace)),
            "address"
        );
        let mut full = valid_restaurant();
        for (key, value) in [
            ("address", json!("1 rue de Rivoli")),
            ("city", json!(" Paris ")),
            ("slotMinutes", json!(30)),
            ("defaultDurationMinutes", json!(120)),
            ("overbookingPct", json!(0)),
            ("bookingHorizonDays", json!(30)),
            ("refundWindowHours", json!(0)),
            ("prepaymentRequired", json!(false)),
            ("noShowFeeCents", json!(2500)),
            ("lateCancellationFee", json!(true)),
        ] {
            full[key] = value;
        }
        let draft = restaurant_form(full).parse(FormMode::Replace).unwrap();
        assert_eq!(draft.slot_minutes.get(), 30);
        assert!(!draft.prepayment_required);
        assert_eq!(draft.no_show_fee_cents, 2500);
        assert!(draft.late_cancellation_fee);
        assert_eq!(draft.city, "Paris");
    }

    #[test]
    fn each_bad_restaurant_field_is_named() {
        for (key, value, field) in [
            ("name", json!("   "), "name"),
            ("name", json!("x".repeat(201)), "name"),
            ("name", json!("tab\there"), "name"),
            ("timeZone", json!("Mars/Olympus_Mons"), "timeZone"),
            ("timeZone", json!(""), "timeZone"),
            ("latitude", json!(91.0), "latitude"),
            ("longitude", json!(-180.5), "longitude"),
            ("slotMinutes", json!(7), "slotMinutes"),
            ("slotMinutes", json!(480), "slotMinutes"),
            ("slotMinutes", json!(0), "slotMinutes"),
            (
                "defaultDurationMinutes",
                json!(10),
                "defaultDurationMinutes",
            ),
            ("overbookingPct", json!(101), "overbookingPct"),
            ("overbookingPct", json!(-1), "overbookingPct"),
            ("bookingHorizonDays", json!(0), "bookingHorizonDays"),
            ("refundWindowHours", json!(i64::MAX), "refundWindowHours"),
            ("address", json!("a".repeat(501)), "address"),
            ("city", json!("c".repeat(101)), "city"),
            ("city", json!("new\nline"), "city"),
            (
                "openingHours",
                json!([{"weekday": 8, "opensAt": "12:00", "closesAt": "14:00"}]),
                "openingHours",
            ),
            ("openingHours", json!(null), "openingHours"),
        ] {
            let mut body = valid_restaurant();
            body[key] = value;
            assert_eq!(
                field_of(restaurant_form(body).parse(FormMode::Create)),
                field,
                "{key}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut body = valid_restaurant();
        body["colour"] = json!("red");
        assert!(serde_json::from_value::<RestaurantForm>(body).is_err());
        assert!(serde_json::from_value::<TableForm>(json!({"label": "A", "seats": 2})).is_err());
    }
}
