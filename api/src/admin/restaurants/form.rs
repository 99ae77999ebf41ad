//! The restaurant form of the panel: every field as the person typed it, turned into the JSON
//! API's [`RestaurantForm`] and parsed by the same [`RestaurantForm::parse`], so the panel has
//! no rule of its own; what it refuses is said next to the field it is about.
//!
//! Opening hours are one line per weekday: intervals `HH:MM-HH:MM` separated by commas, a
//! closing time not after the opening time running past midnight (`18:00-02:00`), as in the
//! JSON API.

use std::collections::BTreeMap;

use booking::catalog_forms::{FormMode, OpeningHoursForm, RestaurantDraft, RestaurantForm};
use booking::{Invalid, OpeningInterval, Restaurant};
use maud::{html, Markup};
use serde::Deserialize;

use crate::web::format;

/// The posted form, every field as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Posted {
    pub csrf: String,
    /// The version the edit form was read at (empty when creating).
    pub version: String,
    pub name: String,
    pub address: String,
    pub city: String,
    pub latitude: String,
    pub longitude: String,
    pub time_zone: String,
    pub hours1: String,
    pub hours2: String,
    pub hours3: String,
    pub hours4: String,
    pub hours5: String,
    pub hours6: String,
    pub hours7: String,
    pub slot_minutes: String,
    pub default_duration_minutes: String,
    pub overbooking_pct: String,
    pub booking_horizon_days: String,
    pub refund_window_hours: String,
    /// A checkbox: present when ticked.
    pub prepayment_required: Option<String>,
    pub no_show_fee_cents: String,
    /// A checkbox: present when ticked.
    pub late_cancellation_fee: Option<String>,
}

/// What was refused: (the form's field, or `form` for the whole form; a sentence).
pub type Refusals = Vec<(String, String)>;

impl Posted {
    /// A new restaurant's form: the chain's defaults, as `POST /v1/restaurants` applies them.
    pub fn defaults() -> Self {
        let defaults = Restaurant::with_defaults(uuid::Uuid::nil(), "", "", (0.0, 0.0), vec![]);
        Self {
            latitude: String::new(),
            longitude: String::new(),
            ..Self::of(&defaults)
        }
    }

    /// The form of a restaurant as stored, at its version.
    pub fn of(restaurant: &Restaurant) -> Self {
        let mut posted = Self {
            version: restaurant.version.to_string(),
            name: restaurant.name.clone(),
            address: restaurant.address.clone(),
            city: restaurant.city.clone(),
            latitude: restaurant.latitude.to_string(),
            longitude: restaurant.longitude.to_string(),
            time_zone: restaurant.time_zone.clone(),
            slot_minutes: restaurant.slot_minutes.to_string(),
            default_duration_minutes: restaurant.default_duration_minutes.to_string(),
            overbooking_pct: restaurant.overbooking_pct.to_string(),
            booking_horizon_days: restaurant.booking_horizon_days.to_string(),
            refund_window_hours: restaurant.refund_window_hours.to_string(),
            prepayment_required: restaurant.prepayment_required.then(|| "on".to_owned()),
            no_show_fee_cents: restaurant.no_show_fee_cents.to_string(),
            late_cancellation_fee: restaurant.late_cancellation_fee.then(|| "on".to_owned()),
            ..Self::default()
        };
        for (day, line) in hours_by_day(&restaurant.opening_hours) {
            *posted.hours_mut(day) = line.join(", ");
        }
        posted
    }

    fn hours(&self, day: i16) -> &str {
        match day {
            1 => &self.hours1,
            2 => &self.hours2,
            3 => &self.hours3,
            4 => &self.hours4,
            5 => &self.hours5,
            6 => &self.hours6,
            _ => &self.hours7,
        }
    }

    fn hours_mut(&mut self, day: i16) -> &mut String {
        match day {
            1 => &mut self.hours1,
            2 => &mut self.hours2,
            3 => &mut self.hours3,
            4 => &mut self.hours4,
            5 => &mut self.hours5,
            6 => &mut self.hours6,
            _ => &mut self.hours7,
        }
    }

    /// The draft this form describes, parsed as the JSON API parses its body; or what is wrong,
    /// by field.
    pub fn parse(&self, mode: FormMode) -> Result<RestaurantDraft, Refusals> {
        let mut refusals = Refusals::new();
        let mut number = |field: &'static str, raw: &str| -> Option<i64> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            raw.parse().map_or_else(
                |_| {
                    refusals.push((field.to_owned(), "Must be a whole number.".to_owned()));
                    None
                },
                Some,
            )
        };
        let slot_minutes = number("slotMinutes", &self.slot_minutes);
        let default_duration_minutes =
            number("defaultDurationMinutes", &self.default_duration_minutes);
        let overbooking_pct = number("overbookingPct", &self.overbooking_pct);
        let booking_horizon_days = number("bookingHorizonDays", &self.booking_horizon_days);
        let refund_window_hours = number("refundWindowHours", &self.refund_window_hours);
        let no_show_fee_cents = number("noShowFeeCents", &self.no_show_fee_cents);
        let mut degrees = |field: &'static str, raw: &str| -> Option<f64> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            match raw.parse::<f64>() {
                Ok(value) if value.is_finite() => Some(value),
                _ => {
                    refusals.push((
                        field.to_owned(),
                        "Must be a number of degrees, such as 48.8566.".to_owned(),
                    ));
                    None
                }
            }
        };
        let latitude = degrees("latitude", &self.latitude);
        let longitude = degrees("longitude", &self.longitude);
        let mut opening_hours = Vec::new();
        // The weekday of each interval sent, to say where a refusal of one belongs.
        let mut day_of = Vec::new();
        for day in 1..=7 {
            match split_day(self.hours(day)) {
                Ok(intervals) => {
                    for (opens_at, closes_at) in intervals {
                        opening_hours.push(OpeningHoursForm {
                            weekday: i64::from(day),
                            opens_at,
                            closes_at,
                        });
                        day_of.push(day);
                    }
                }
                Err(message) => refusals.push((format!("hours{day}"), message)),
            }
        }
        if !refusals.is_empty() {
            return Err(refusals);
        }
        let form = RestaurantForm {
            name: Some(self.name.clone()),
            address: Some(self.address.clone()),
            city: Some(self.city.clone()),
            latitude,
            longitude,
            time_zone: Some(self.time_zone.trim().to_owned()).filter(|zone| !zone.is_empty()),
            opening_hours: Some(opening_hours),
            slot_minutes,
            default_duration_minutes,
            overbooking_pct,
            booking_horizon_days,
            refund_window_hours,
            prepayment_required: Some(self.prepayment_required.is_some()),
            no_show_fee_cents: Some(no_show_fee_cents.unwrap_or(0)),
            late_cancellation_fee: Some(self.late_cancellation_fee.is_some()),
        };
        form.parse(mode)
            .map_err(|invalid| vec![placed(&invalid, &day_of)])
    }
}

/// A weekday's line as intervals: `12:00-14:30, 18:00-02:00`; empty means closed.
fn split_day(line: &str) -> Result<Vec<(String, String)>, String> {
    line.split([',', ';'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (opens, closes) = part
                .split_once(['-', '–', '—'])
                .or_else(|| part.split_once(" to "))
                .ok_or_else(|| {
                    format!("Write each interval as opening-closing, such as 18:00-02:00; got {part:?}.")
                })?;
            Ok((clock(opens), clock(closes)))
        })
        .collect()
}

/// `9:00` as `09:00`, so a person need not type the leading zero.
fn clock(raw: &str) -> String {
    let raw = raw.trim();
    match raw.split_once(':') {
        Some((hours, minutes)) if hours.len() == 1 => format!("0{hours}:{minutes}"),
        _ => raw.to_owned(),
    }
}

/// Where a refusal of the JSON form's parsing belongs on this form, as a sentence.
fn placed(invalid: &Invalid, day_of: &[i16]) -> (String, String) {
    if invalid.field == "openingHours" {
        // `[3].opensAt must be HH:MM…`: the interval's weekday line.
        if let Some((index, rest)) = invalid
            .message
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("]."))
        {
            if let Some(day) = index.parse::<usize>().ok().and_then(|i| day_of.get(i)) {
                let rest = rest
                    .replacen("opensAt", "the opening time", 1)
                    .replacen("closesAt", "the closing time", 1)
                    .replacen("weekday", "the weekday", 1);
                return (format!("hours{day}"), sentence(&rest));
            }
        }
    }
    let field = match invalid.field {
        "body" => "form",
        field => field,
    };
    (field.to_owned(), sentence(&invalid.message))
}

/// A refusal's phrase as a sentence: `must be between 0 and 100` → `Must be between 0 and 100.`
pub fn sentence(message: &str) -> String {
    let message = if message.starts_with("is required") {
        "is required"
    } else {
        message
    };
    let mut chars = message.chars();
    let mut sentence: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

/// Each weekday's intervals, as `18:00–02:00`.
pub fn hours_by_day(hours: &[OpeningInterval]) -> BTreeMap<i16, Vec<String>> {
    let mut by_day: BTreeMap<i16, Vec<String>> = BTreeMap::new();
    for interval in hours {
        by_day.entry(interval.weekday).or_default().push(format!(
            "{}–{}",
            format::time(interval.opens_at),
            format::time(interval.closes_at)
        ));
    }
    by_day
}

/// The form's fields, filled with `posted`, each refusal next to its field.
pub fn fields(posted: &Posted, refusals: &Refusals) -> Markup {
    let error = |field: &str| {
        refusals
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
    };
    html! {
        @for (field, message) in refusals {
            @if field == "form" { p.notice.error role="alert" { (message) } }
        }
        fieldset {
            legend { "The restaurant" }
            (text_field("name", "Name", &posted.name, None, error("name"), Kind::Text))
            (text_field("address", "Address", &posted.address, None, error("address"), Kind::Text))
            (text_field("city", "City", &posted.city, Some("Diners find the restaurant by it."),
                error("city"), Kind::Text))
            div.panel-pair {
                div { (text_field("latitude", "Latitude", &posted.latitude,
                    Some("Degrees, -90 to 90, such as 48.8566."), error("latitude"), Kind::Decimal)) }
                div { (text_field("longitude", "Longitude", &posted.longitude,
                    Some("Degrees, -180 to 180, such as 2.3522."), error("longitude"), Kind::Decimal)) }
            }
            (text_field("timeZone", "Time zone", &posted.time_zone,
                Some("Its IANA name, such as Europe/Paris. Opening hours are in this time zone."),
                error("timeZone"), Kind::TimeZone))
            datalist #time-zones {
                @for zone in chrono_tz::TZ_VARIANTS { option value=(zone.name()) {} }
            }
        }
        @let hours_described = if error("openingHours").is_some() {
            "hours-hint openingHours-error"
        } else {
            "hours-hint"
        };
        fieldset aria-describedby=(hours_described) {
            legend { "Opening hours" }
            p.hint #hours-hint {
                "One line a day, in the restaurant's local time: intervals such as 12:00-14:30, "
                "separated by commas. A closing time earlier than the opening time is past "
                "midnight (18:00-02:00 closes at 2 in the morning); leave a day empty when closed."
            }
            @if let Some(message) = error("openingHours") {
                span.field-error #openingHours-error { (message) }
            }
            div.panel-pair {
                @for day in 1..=7i16 {
                    @let field = format!("hours{day}");
                    div { (text_field(&field, format::weekday(day), posted.hours(day), None,
                        error(&field), Kind::Text)) }
                }
            }
        }
        fieldset {
            legend { "Bookings" }
            div.panel-pair {
                div { (text_field("slotMinutes", "Slot length (minutes)", &posted.slot_minutes,
                    Some("5 to 240, dividing the day. Cannot change while reservations are upcoming."),
                    error("slotMinutes"), Kind::Whole)) }
                div { (text_field("defaultDurationMinutes", "Default stay (minutes)",
                    &posted.default_duration_minutes, Some("15 to 720."),
                    error("defaultDurationMinutes"), Kind::Whole)) }
                div { (text_field("overbookingPct", "Overbooking (%)", &posted.overbooking_pct,
                    Some("0 to 100: how many more tables than there are may be booked."),
                    error("overbookingPct"), Kind::Whole)) }
                div { (text_field("bookingHorizonDays", "Booking horizon (days)",
                    &posted.booking_horizon_days, Some("How far ahead diners may book: 1 to 730."),
                    error("bookingHorizonDays"), Kind::Whole)) }
                div { (text_field("refundWindowHours", "Refund window (hours)",
                    &posted.refund_window_hours,
                    Some("A paid booking canceled more than this many hours ahead is refunded: 0 to 720."),
                    error("refundWindowHours"), Kind::Whole)) }
            }
            label.choice for="prepaymentRequired" {
                input #prepaymentRequired type="checkbox" name="prepaymentRequired"
                    checked[posted.prepayment_required.is_some()]
                    aria-describedby=[error("prepaymentRequired").map(|_| "prepaymentRequired-error")];
                "Diners pay in full when booking"
            }
            @if let Some(message) = error("prepaymentRequired") {
                span.field-error #prepaymentRequired-error { (message) }
            }
            (text_field("noShowFeeCents", "No-show fee per guest (cents)", &posted.no_show_fee_cents,
                Some("Where diners do not pay when booking: charged to the card they give if they do not come. 0 for none."),
                error("noShowFeeCents"), Kind::Whole))
            label.choice for="lateCancellationFee" {
                input #lateCancellationFee type="checkbox" name="lateCancellationFee"
                    checked[posted.late_cancellation_fee.is_some()];
                "A cancellation inside the refund window is charged the fee too"
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Whole,
    Decimal,
    TimeZone,
}

fn text_field(
    name: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    error: Option<&str>,
    kind: Kind,
) -> Markup {
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described: Vec<&str> = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let inputmode = match kind {
        Kind::Whole => Some("numeric"),
        Kind::Decimal => Some("decimal"),
        Kind::Text | Kind::TimeZone => None,
    };
    html! {
        label for=(name) { (label) }
        @if let Some(hint) = hint { span.hint id=(hint_id) { (hint) } }
        input id=(name) name=(name) type="text" value=(value) inputmode=[inputmode]
            list=[(kind == Kind::TimeZone).then_some("time-zones")]
            autocomplete="off"
            aria-invalid=[error.map(|_| "true")]
            aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
        @if let Some(error) = error { span.field-error id=(error_id) { (error) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> Posted {
        Posted {
            name: "Chez Ada".into(),
            latitude: "48.85".into(),
            longitude: "2.35".into(),
            time_zone: "Europe/Paris".into(),
            hours5: "12:00-14:30, 18:00–02:00".into(),
            ..Posted::defaults()
        }
    }

    #[test]
    fn the_form_parses_as_the_json_api_does_with_hours_past_midnight() {
        let draft = filled().parse(FormMode::Create).unwrap();
        let hours = draft.opening_hours.intervals();
        assert_eq!(hours.len(), 2);
        assert!(hours[1].crosses_midnight());
        assert_eq!(draft.slot_minutes.get(), 15);
        assert!(draft.prepayment_required);
        // And back: the edit form shows what it stores.
        let restaurant = draft.to_restaurant(uuid::Uuid::nil(), 3);
        let again = Posted::of(&restaurant);
        assert_eq!(again.hours5, "12:00–14:30, 18:00–02:00");
        assert_eq!(again.version, "3");
        assert_eq!(again.parse(FormMode::Replace).unwrap(), draft);
    }

    #[test]
    fn refusals_name_the_field_they_are_about() {
        let field_of = |posted: Posted| posted.parse(FormMode::Create).unwrap_err()[0].0.clone();
        assert_eq!(
            field_of(Posted {
                hours2: "25:00-02:00".into(),
                ..filled()
            }),
            "hours2"
        );
        assert_eq!(
            field_of(Posted {
                hours3: "noon".into(),
                ..filled()
            }),
            "hours3"
        );
        assert_eq!(
            field_of(Posted {
                hours6: "01:00-03:00".into(),
                ..filled()
            }),
            "openingHours"
        );
        assert_eq!(
            field_of(Posted {
                overbooking_pct: "101".into(),
                ..filled()
            }),
            "overbookingPct"
        );
        assert_eq!(
            field_of(Posted {
                latitude: "north".into(),
                ..filled()
            }),
            "latitude"
        );
        assert_eq!(
            field_of(Posted {
                time_zone: "Mars/Olympus".into(),
                ..filled()
            }),
            "timeZone"
        );
        let refused = Posted {
            overbooking_pct: "101".into(),
            ..filled()
        }
        .parse(FormMode::Create)
        .unwrap_err();
        assert!(refused[0].1.starts_with("Must be between 0 and 100"));
    }
}
