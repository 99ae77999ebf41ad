//! The staff's catalog forms, parsed rather than validated: a form as the client sent it goes
//! in, and either a draft whose every field is known to be good comes out, or an [`Invalid`]
//! naming the first field at fault (as the client spelled it, in camelCase).
//!
//! A `POST` creates with the domain's defaults for the fields it leaves out; a `PUT` replaces
//! the whole resource, so it must give every field ([`FormMode`]), and a forgotten field is
//! refused rather than silently reset. Nothing here panics on input, whatever its size or
//! content.

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use crate::{Invalid, OpeningInterval, Restaurant};

/// The highest price a table may have on a day, in minor units: far above any real price, and
/// low enough that prices times tables times surcharges never overflow.
pub const MAX_PRICE_CENTS: i64 = 10_000_000_000;
/// The longest date range one rates request may cover (two years, one of them a leap year).
pub const MAX_RATE_DAYS: i64 = 731;
/// The most tables a new table type may be created with in one request.
pub const MAX_TABLES_AT_CREATION: i64 = 500;
/// The most opening intervals a restaurant may have (six a day, and some to spare).
pub const MAX_OPENING_INTERVALS: usize = 50;

const MINUTES_PER_DAY: i64 = 1440;
const MINUTES_PER_WEEK: i64 = 7 * MINUTES_PER_DAY;
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Whether a form creates a resource (`POST`: defaults apply) or replaces one (`PUT`: every
/// field must be given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormMode {
    Create,
    Replace,
}

/// A field's value, or its default when creating; a replacement must give it.
fn field_or<T>(
    mode: FormMode,
    field: &'static str,
    value: Option<T>,
    default: T,
) -> Result<T, Invalid> {
    match (value, mode) {
        (Some(value), _) => Ok(value),
        (None, FormMode::Create) => Ok(default),
        (None, FormMode::Replace) => Err(Invalid::new(
            field,
            "is required: a PUT replaces the whole resource, so it must give every field",
        )),
    }
}

fn required<T>(field: &'static str, value: Option<T>) -> Result<T, Invalid> {
    value.ok_or_else(|| Invalid::new(field, "is required"))
}

/// At most 40 characters of what the client sent, for an error message.
fn shown(raw: &str) -> String {
    let mut shown: String = raw.chars().take(40).collect();
    if raw.chars().nth(40).is_some() {
        shown.push('…');
    }
    format!("{shown:?}")
}

fn in_range(field: &'static str, value: i64, min: i64, max: i64) -> Result<i32, Invalid> {
    if (min..=max).contains(&value) {
        i32::try_from(value).map_err(|_| Invalid::new(field, "is out of range"))
    } else {
        Err(Invalid::new(
            field,
            format!("must be between {min} and {max}, got {value}"),
        ))
    }
}

/// A name or label: trimmed, 1 to `max` characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// # Errors
    /// An empty, overlong or control-character name, naming `field`.
    pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > max_chars {
            return Err(Invalid::new(
                field,
                format!("must be 1 to {max_chars} characters (after trimming spaces)"),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Invalid::new(field, "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text that may be empty (an address, an area): trimmed, at most `max` characters, no
/// control characters.
fn free_text(field: &'static str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > max_chars {
        return Err(Invalid::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// An IANA time zone, such as `Europe/Paris`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneName(Tz);

impl TimeZoneName {
    /// # Errors
    /// A name the IANA database does not know, naming `timeZone`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.parse::<Tz>().map(Self).map_err(|_| {
            Invalid::new(
                "timeZone",
                format!(
                    "must be an IANA time zone such as \"Europe/Paris\", got {}",
                    shown(raw)
                ),
            )
        })
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

/// A place on Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    latitude: f64,
    longitude: f64,
}

impl Coordinates {
    /// # Errors
    /// A latitude outside -90..=90 or a longitude outside -180..=180, naming it.
    pub fn parse(latitude: f64, longitude: f64) -> Result<Self, Invalid> {
        if !(latitude.is_finite() && (-90.0..=90.0).contains(&latitude)) {
            return Err(Invalid::new(
                "latitude",
                format!("must be between -90 and 90 degrees, got {latitude}"),
            ));
        }
        if !(longitude.is_finite() && (-180.0..=180.0).contains(&longitude)) {
            return Err(Invalid::new(
                "longitude",
                format!("must be between -180 and 180 degrees, got {longitude}"),
            ));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    pub fn longitude(&self) -> f64 {
        self.longitude
    }
}

/// The length of a booking slot: 5 to 240 minutes, dividing the day evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotMinutes(i32);

impl SlotMinutes {
    /// # Errors
    /// A length outside 5..=240 or one that does not divide 1440, naming `slotMinutes`.
    pub fn parse(value: i64) -> Result<Self, Invalid> {
        let minutes = in_range("slotMinutes", value, 5, 240)?;
        if MINUTES_PER_DAY % value != 0 {
            return Err(Invalid::new(
                "slotMinutes",
                format!("must divide the day (1440 minutes) evenly, got {value}"),
            ));
        }
        Ok(Self(minutes))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// A price in minor units (cents): 0 to [`MAX_PRICE_CENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceCents(i64);

impl PriceCents {
    /// # Errors
    /// A negative or absurd price, naming `field`.
    pub fn parse(field: &'static str, value: i64) -> Result<Self, Invalid> {
        if value < 0 {
            return Err(Invalid::new(
                field,
                format!("must not be negative, got {value}"),
            ));
        }
        if value > MAX_PRICE_CENTS {
            return Err(Invalid::new(
                field,
                format!("must be at most {MAX_PRICE_CENTS}, got {value}"),
            ));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// An ISO 4217 currency that money can be paid in (not a fund, metal or test code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Accepts the code in any case (`eur` is `EUR`).
    ///
    /// # Errors
    /// Anything but an ISO 4217 code of a currency, naming `currency`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        match iso_currency::Currency::from_code(&code) {
            Some(currency) if !currency.is_special() && !currency.is_fund() => Ok(Self(currency)),
            Some(_) => Err(Invalid::new(
                "currency",
                format!("{code} is an ISO 4217 fund or special code, not a currency for prices"),
            )),
            None => Err(Invalid::new(
                "currency",
                format!(
                    "must be an ISO 4217 currency code such as \"EUR\", got {}",
                    shown(raw)
                ),
            )),
        }
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }
}

/// A date as `YYYY-MM-DD`, naming `field` when it is not one.
///
/// # Errors
/// When `raw` is not a date.
pub fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, Invalid> {
    if raw.len() != 10 {
        return Err(Invalid::new(
            field,
            format!("must be a date as YYYY-MM-DD, got {}", shown(raw)),
        ));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        Invalid::new(
            field,
            format!("must be a date as YYYY-MM-DD, got {}", shown(raw)),
        )
    })
}

/// Dates `from..=to`, at most [`MAX_RATE_DAYS`] of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DateRange {
    /// # Errors
    /// A missing or malformed `from` or `to`, a `to` before `from`, or too long a range.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, Invalid> {
        let from = parse_date("from", required("from", from)?)?;
        let to = parse_date("to", required("to", to)?)?;
        if to < from {
            return Err(Invalid::new(
                "to",
                format!("must not be before from ({from})"),
            ));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_RATE_DAYS {
            return Err(Invalid::new(
                "to",
                format!("the range covers {days} days; at most {MAX_RATE_DAYS} are allowed"),
            ));
        }
        Ok(Self { from, to })
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// The number of dates in the range.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// `HH:MM`; `24:00` is accepted for a closing time and means midnight.
fn parse_clock(raw: &str, closing: bool) -> Option<NaiveTime> {
    if closing && raw == "24:00" {
        return Some(NaiveTime::MIN);
    }
    if raw.len() != 5 {
        return None;
    }
    NaiveTime::parse_from_str(raw, "%H:%M").ok()
}

/// One opening interval as the client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpeningHoursForm {
    /// ISO 8601 weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i64,
    /// `HH:MM`, local time.
    #[schema(example = "18:00")]
    pub opens_at: String,
    /// `HH:MM`, local time. Not after `opensAt` means it closes after midnight (`18:00` to
    /// `02:00`); equal to it means open around the clock.
    #[schema(example = "23:00")]
    pub closes_at: String,
}

/// A restaurant's week: intervals that never overlap, even across midnight, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours(Vec<OpeningInterval>);

impl OpeningHours {
    /// # Errors
    /// A bad weekday or time, too many intervals, or two that overlap, naming `openingHours`.
    pub fn parse(forms: &[OpeningHoursForm]) -> Result<Self, Invalid> {
        const FIELD: &str = "openingHours";
        if forms.len() > MAX_OPENING_INTERVALS {
            return Err(Invalid::new(
                FIELD,
                format!("must have at most {MAX_OPENING_INTERVALS} intervals"),
            ));
        }
        let mut intervals = Vec::with_capacity(forms.len());
        for (index, form) in forms.iter().enumerate() {
            let weekday = i16::try_from(form.weekday)
                .ok()
                .filter(|day| (1..=7).contains(day))
                .ok_or_else(|| {
                    Invalid::new(
                        FIELD,
                        format!(
                            "[{index}].weekday must be 1 (Monday) to 7 (Sunday), got {}",
                            form.weekday
                        ),
                    )
                })?;
            let opens_at = parse_clock(&form.opens_at, false).ok_or_else(|| {
                Invalid::new(
                    FIELD,
                    format!(
                        "[{index}].opensAt must be HH:MM, got {}",
                        shown(&form.opens_at)
                    ),
                )
            })?;
            let closes_at = parse_clock(&form.closes_at, true).ok_or_else(|| {
                Invalid::new(
                    FIELD,
                    format!(
                        "[{index}].closesAt must be HH:MM, got {}",
                        shown(&form.closes_at)
                    ),
                )
            })?;
            intervals.push(OpeningInterval {
                weekday,
                opens_at,
                closes_at,
            });
        }
        intervals.sort_by_key(|interval| (interval.weekday, interval.opens_at));
        for (i, a) in intervals.iter().enumerate() {
            for b in &intervals[i + 1..] {
                if overlap(a, b) {
                    return Err(Invalid::new(
                        FIELD,
                        format!("{} and {} overlap", describe(a), describe(b)),
                    ));
                }
            }
        }
        Ok(Self(intervals))
    }

    pub fn intervals(&self) -> &[OpeningInterval] {
        &self.0
    }

    pub fn into_intervals(self) -> Vec<OpeningInterval> {
        self.0
    }
}

fn minute_of_day(time: NaiveTime) -> i64 {
    time.signed_duration_since(NaiveTime::MIN).num_minutes()
}

/// Where an interval starts in the week, in minutes from Monday 00:00, and how long it lasts.
fn arc(interval: &OpeningInterval) -> (i64, i64) {
    let opens = minute_of_day(interval.opens_at);
    let closes = minute_of_day(interval.closes_at);
    let length = if closes > opens {
        closes - opens
    } else {
        closes - opens + MINUTES_PER_DAY
    };
    (
        (i64::from(interval.weekday) - 1) * MINUTES_PER_DAY + opens,
        length,
    )
}

/// Whether two intervals share a minute of the week. The week wraps around: Sunday's late
/// service runs into Monday morning.
fn overlap(a: &OpeningInterval, b: &OpeningInterval) -> bool {
    let (a_start, a_length) = arc(a);
    let (b_start, b_length) = arc(b);
    (b_start - a_start).rem_euclid(MINUTES_PER_WEEK) < a_length
        || (a_start - b_start).rem_euclid(MINUTES_PER_WEEK) < b_length
}

fn describe(interval: &OpeningInterval) -> String {
    let day = usize::try_from(interval.weekday - 1)
        .ok()
        .and_then(|index| WEEKDAYS.get(index))
        .copied()
        .unwrap_or("?");
    format!(
        "{day} {}-{}",
        interval.opens_at.format("%H:%M"),
        interval.closes_at.format("%H:%M")
    )
}

/// The body of `POST /v1/restaurants` and `PUT /v1/restaurants/{id}`. When creating, the
/// fields marked optional take the chain's defaults; a replacement must give every field.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestaurantForm {
    /// 1 to 200 characters.
    #[schema(example = "Chez Ada")]
    pub name: Option<String>,
    /// At most 500 characters (default empty).
    pub address: Option<String>,
    /// Degrees, -90 to 90.
    #[schema(example = 48.8566)]
    pub latitude: Option<f64>,
    /// Degrees, -180 to 180.
    #[schema(example = 2.3522)]
    pub longitude: Option<f64>,
    /// An IANA time zone.
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    /// The weekly opening intervals, in local time; overlapping intervals are refused.
    pub opening_hours: Option<Vec<OpeningHoursForm>>,
    /// 5 to 240, dividing 1440 (default 15). Cannot change while future reservations exist.
    pub slot_minutes: Option<i64>,
    /// 15 to 720 (default 90).
    pub default_duration_minutes: Option<i64>,
    /// 0 to 100 (default 10).
    pub overbooking_pct: Option<i64>,
    /// 1 to 730 (default 90).
    pub booking_horizon_days: Option<i64>,
    /// A canceled paid reservation is refunded when canceled more than this many hours before
    /// it starts: 0 to 720 (default 24).
    pub refund_window_hours: Option<i64>,
    /// Whether diners pay in full when booking (default true).
    pub prepayment_required: Option<bool>,
}

/// A restaurant as staff want it, every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RestaurantDraft {
    pub name: Name,
    pub address: String,
    pub coordinates: Coordinates,
    pub time_zone: TimeZoneName,
    pub opening_hours: OpeningHours,
    pub slot_minutes: SlotMinutes,
    pub default_duration_minutes: i32,
    pub overbooking_pct: i32,
    pub booking_horizon_days: i32,
    pub refund_window_hours: i32,
    pub prepayment_required: bool,
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
        Ok(RestaurantDraft {
            name,
            address,
            coordinates,
            time_zone,
            opening_hours,
            slot_minutes,
            default_duration_minutes,
            overbooking_pct,
            booking_horizon_days,
            refund_window_hours,
            prepayment_required,
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
            latitude: self.coordinates.latitude(),
            longitude: self.coordinates.longitude(),
            time_zone: self.time_zone.as_str().to_owned(),
            slot_minutes: self.slot_minutes.get(),
            default_duration_minutes: self.default_duration_minutes,
            overbooking_pct: self.overbooking_pct,
            booking_horizon_days: self.booking_horizon_days,
            refund_window_hours: self.refund_window_hours,
            prepayment_required: self.prepayment_required,
            version,
            opening_hours: self.opening_hours.intervals().to_vec(),
        }
    }
}

/// The body of `POST …/table-types` and `PUT …/table-types/{typeId}`. `tables` and
/// `labelPrefix` are for creating only: afterwards, tables are managed one by one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableTypeForm {
    /// 1 to 100 characters, unique among the restaurant's table types.
    #[schema(example = "Window 4")]
    pub name: Option<String>,
    /// At least 1.
    #[schema(example = 2)]
    pub seats_min: Option<i64>,
    /// At least `seatsMin`, at most 50.
    #[schema(example = 4)]
    pub seats_max: Option<i64>,
    /// The price of one table, in minor units, when no rate is set for the date.
    #[schema(example = 2500)]
    pub base_price_cents: Option<i64>,
    /// ISO 4217.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// Creating only: how many active tables to create with the type (0 to 500, default 0).
    pub tables: Option<i64>,
    /// Creating only: the tables are labelled `{labelPrefix}1`, `{labelPrefix}2`, …
    /// (default `T`).
    pub label_prefix: Option<String>,
}

/// A table type as staff want it, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableTypeDraft {
    pub name: Name,
    pub seats_min: i32,
    pub seats_max: i32,
    pub base_price: PriceCents,
    pub currency: Currency,
}

/// The tables to create with a new table type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialTables {
    pub count: u32,
    pub label_prefix: String,
}

impl TableTypeForm {
    /// The draft, and the tables to create with it (none when replacing).
    ///
    /// # Errors
    /// The first field that is missing or breaks a rule; `tables` or `labelPrefix` in a
    /// replacement.
    pub fn parse(&self, mode: FormMode) -> Result<(TableTypeDraft, InitialTables), Invalid> {
        let name = Name::parse("name", required("name", self.name.as_deref())?, 100)?;
        let seats_min = in_range("seatsMin", required("seatsMin", self.seats_min)?, 1, 50)?;
        let seats_max = required("seatsMax", self.seats_max)?;
        if seats_max < i64::from(seats_min) {
            return Err(Invalid::new(
                "seatsMax",
                format!("must be at least seatsMin ({seats_min}), got {seats_max}"),
            ));
        }
        let seats_max = in_range("seatsMax", seats_max, 1, 50)?;
        let base_price = PriceCents::parse(
            "basePriceCents",
            required("basePriceCents", self.base_price_cents)?,
        )?;
        let currency = Currency::parse(required("currency", self.currency.as_deref())?)?;
        let tables = match mode {
            FormMode::Create => {
                let count = in_range(
                    "tables",
                    self.tables.unwrap_or(0),
                    0,
                    MAX_TABLES_AT_CREATION,
                )?;
                let label_prefix = free_text(
                    "labelPrefix",
                    self.label_prefix.as_deref().unwrap_or("T"),
                    40,
                )?;
                InitialTables {
                    count: count.unsigned_abs(),
                    label_prefix,
                }
            }
            FormMode::Replace => {
                for (field, given) in [
                    ("tables", self.tables.is_some()),
                    ("labelPrefix", self.label_prefix.is_some()),
                ] {
                    if given {
                        return Err(Invalid::new(
                            field,
                            "is only accepted when creating a table type; add, change or \
                             remove its tables under …/table-types/{typeId}/tables",
                        ));
                    }
                }
                InitialTables {
                    count: 0,
                    label_prefix: String::new(),
                }
            }
        };
        Ok((
            TableTypeDraft {
                name,
                seats_min,
                seats_max,
                base_price,
                currency,
            },
            tables,
        ))
    }
}

/// The body of `POST …/tables` and `PUT …/tables/{tableId}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableForm {
    /// 1 to 50 characters, unique within the table type.
    #[schema(example = "W3")]
    pub label: Option<String>,
    /// The floor or room, at most 100 characters (default empty).
    #[schema(example = "terrace")]
    pub area: Option<String>,
    /// Whether the table is in service (default true). Taking a table out of service lowers
    /// the type's future inventory, never below what is already booked.
    pub active: Option<bool>,
}

/// A physical table as staff want it, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDraft {
    pub label: Name,
    pub area: String,
    pub active: bool,
}

impl TableForm {
    /// # Errors
    /// The first field that is missing (when replacing) or breaks a rule.
    pub fn parse(&self, mode: FormMode) -> Result<TableDraft, Invalid> {
        Ok(TableDraft {
            label: Name::parse("label", required("label", self.label.as_deref())?, 50)?,
            area: free_text(
                "area",
                field_or(mode, "area", self.area.as_deref(), "")?,
                100,
            )?,
            active: field_or(mode, "active", self.active, true)?,
        })
    }
}

/// The body of `PUT …/rates`: one price for every date of a range.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RatesForm {
    /// The first date, `YYYY-MM-DD`.
    #[schema(example = "2026-12-01")]
    pub from: Option<String>,
    /// The last date, included; at most 731 days after `from`.
    #[schema(example = "2026-12-31")]
    pub to: Option<String>,
    /// The price of one table on each of those dates, in the type's currency's minor units.
    #[schema(example = 3000)]
    pub price_cents: Option<i64>,
}

/// Rates as staff want them set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatesDraft {
    pub dates: DateRange,
    pub price: PriceCents,
}

impl RatesForm {
    /// # Errors
    /// The first field that is missing or breaks a rule.
    pub fn parse(&self) -> Result<RatesDraft, Invalid> {
        Ok(RatesDraft {
            dates: DateRange::parse(self.from.as_deref(), self.to.as_deref())?,
            price: PriceCents::parse("priceCents", required("priceCents", self.price_cents)?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn field_of(result: Result<impl std::fmt::Debug, Invalid>) -> &'static str {
        result.unwrap_err().field
    }

    fn hours(intervals: &[(i64, &str, &str)]) -> Result<OpeningHours, Invalid> {
        let forms: Vec<OpeningHoursForm> = intervals
            .iter()
            .map(|(weekday, opens, closes)| OpeningHoursForm {
                weekday: *weekday,
                opens_at: (*opens).into(),
                closes_at: (*closes).into(),
            })
            .collect();
        OpeningHours::parse(&forms)
    }

    #[test]
    fn a_new_restaurant_takes_the_chains_defaults() {
        let draft = restaurant_form(valid_restaurant())
            .parse(FormMode::Create)
            .unwrap();
        assert_eq!(draft.name.as_str(), "Chez Ada");
        assert_eq!(draft.address, "");
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
            ("slotMinutes", json!(30)),
            ("defaultDurationMinutes", json!(120)),
            ("overbookingPct", json!(0)),
            ("bookingHorizonDays", json!(30)),
            ("refundWindowHours", json!(0)),
            ("prepaymentRequired", json!(false)),
        ] {
            full[key] = value;
        }
        let draft = restaurant_form(full).parse(FormMode::Replace).unwrap();
        assert_eq!(draft.slot_minutes.get(), 30);
        assert!(!draft.prepayment_required);
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

    #[test]
    fn opening_hours_cross_midnight_and_never_overlap() {
        let week = hours(&[
            (5, "18:00", "02:00"),
            (6, "02:00", "04:00"),
            (1, "00:00", "00:00"),
        ])
        .unwrap();
        // Sorted by weekday and opening time; 00:00-00:00 is a whole day.
        assert_eq!(week.intervals()[0].weekday, 1);
        assert!(week.intervals()[0].crosses_midnight());
        assert_eq!(
            hours(&[(1, "09:00", "24:00")]).unwrap().intervals()[0].closes_at,
            NaiveTime::MIN
        );

        for overlapping in [
            vec![(1, "12:00", "15:00"), (1, "14:00", "16:00")],
            vec![(1, "12:00", "15:00"), (1, "12:00", "13:00")],
            // Friday's late service runs into Saturday's brunch.
            vec![(5, "18:00", "02:00"), (6, "01:00", "11:00")],
            // Sunday's late service runs into Monday.
            vec![(7, "20:00", "03:00"), (1, "02:30", "04:00")],
            // Open around the clock on Monday, and again Monday night.
            vec![(1, "06:00", "06:00"), (1, "22:00", "23:00")],
        ] {
            let error = hours(&overlapping).unwrap_err();
            assert_eq!(error.field, "openingHours");
            assert!(error.message.contains("overlap"), "{}", error.message);
        }
        // Touching is not overlapping.
        assert!(hours(&[(1, "12:00", "15:00"), (1, "15:00", "18:00")]).is_ok());
        assert!(hours(&[(7, "00:00", "00:00"), (1, "00:00", "00:00")]).is_ok());

        for bad in [
            vec![(0, "12:00", "14:00")],
            vec![(1, "12h00", "14:00")],
            vec![(1, "25:00", "14:00")],
            vec![(1, "12:00", "9:00")],
            vec![(1, "24:00", "09:00")],
        ] {
            assert_eq!(hours(&bad).unwrap_err().field, "openingHours");
        }
        let too_many: Vec<(i64, &str, &str)> = (0..51).map(|_| (1, "12:00", "13:00")).collect();
        assert!(hours(&too_many).is_err());
    }

    #[test]
    fn currencies_are_iso_4217_codes_of_money() {
        assert_eq!(Currency::parse("EUR").unwrap().code(), "EUR");
        assert_eq!(Currency::parse(" jpy ").unwrap().code(), "JPY");
        for bad in ["", "EU", "EURO", "ABC", "XTS", "XAU", "€", "ÉUR"] {
            assert_eq!(Currency::parse(bad).unwrap_err().field, "currency", "{bad}");
        }
    }

    #[test]
    fn table_types_check_seats_prices_and_creation_only_fields() {
        let form = |value| serde_json::from_value::<TableTypeForm>(value).unwrap();
        let base = json!({"name": "Booth 6", "seatsMin": 4, "seatsMax": 6,
                          "basePriceCents": 4000, "currency": "usd"});
        let (draft, tables) = form(base.clone()).parse(FormMode::Create).unwrap();
        assert_eq!(draft.currency.code(), "USD");
        assert_eq!(
            tables,
            InitialTables {
                count: 0,
                label_prefix: "T".into()
            }
        );
        let (_, tables) = form(json!({"name": "Booth 6", "seatsMin": 4, "seatsMax": 6,
            "basePriceCents": 4000, "currency": "USD", "tables": 3, "labelPrefix": "B"}))
        .parse(FormMode::Create)
        .unwrap();
        assert_eq!(tables.count, 3);
        assert!(form(base.clone()).parse(FormMode::Replace).is_ok());

        for (key, value, field) in [
            ("seatsMin", json!(0), "seatsMin"),
            ("seatsMax", json!(3), "seatsMax"),
            ("seatsMax", json!(51), "seatsMax"),
            ("basePriceCents", json!(-1), "basePriceCents"),
            (
                "basePriceCents",
                json!(MAX_PRICE_CENTS + 1),
                "basePriceCents",
            ),
            ("currency", json!("XXX"), "currency"),
            ("name", json!(""), "name"),
            ("tables", json!(501), "tables"),
            ("labelPrefix", json!("x".repeat(41)), "labelPrefix"),
        ] {
            let mut body = base.clone();
            body[key] = value;
            assert_eq!(field_of(form(body).parse(FormMode::Create)), field, "{key}");
        }
        let mut with_tables = base;
        with_tables["tables"] = json!(2);
        assert_eq!(
            field_of(form(with_tables).parse(FormMode::Replace)),
            "tables"
        );
    }

    #[test]
    fn tables_default_to_active_when_created_only() {
        let form: TableForm = serde_json::from_value(json!({"label": " W1 "})).unwrap();
        let draft = form.parse(FormMode::Create).unwrap();
        assert_eq!(draft.label.as_str(), "W1");
        assert!(draft.active);
        assert_eq!(field_of(form.parse(FormMode::Replace)), "area");
        let long: TableForm = serde_json::from_value(json!({"label": "x".repeat(51)})).unwrap();
        assert_eq!(field_of(long.parse(FormMode::Create)), "label");
    }

    #[test]
    fn rates_cover_a_bounded_range_at_a_non_negative_price() {
        let form = |value| serde_json::from_value::<RatesForm>(value).unwrap();
        let rates = form(json!({"from": "2026-12-01", "to": "2026-12-31", "priceCents": 0}))
            .parse()
            .unwrap();
        assert_eq!(rates.dates.days(), 31);
        // 2026, 2027 and New Year's Day 2028: 731 dates, the most one request may set.
        let longest = form(json!({"from": "2026-01-01", "to": "2028-01-01", "priceCents": 1}));
        assert_eq!(longest.parse().unwrap().dates.days(), MAX_RATE_DAYS);
        for (body, field) in [
            (
                json!({"from": "2026-12-01", "to": "2026-12-31", "priceCents": -5}),
                "priceCents",
            ),
            (
                json!({"from": "2026-12-01", "to": "2026-11-30", "priceCents": 5}),
                "to",
            ),
            (
                json!({"from": "2026-01-01", "to": "2028-01-02", "priceCents": 5}),
                "to",
            ),
            (
                json!({"from": "2026-13-01", "to": "2026-12-31", "priceCents": 5}),
                "from",
            ),
            (
                json!({"from": "+002026-12-01", "to": "2026-12-31", "priceCents": 5}),
                "from",
            ),
            (json!({"to": "2026-12-31", "priceCents": 5}), "from"),
            (
                json!({"from": "2026-12-01", "to": "2026-12-31"}),
                "priceCents",
            ),
        ] {
            assert_eq!(field_of(form(body.clone()).parse()), field, "{body}");
        }
    }

    #[test]
    fn hostile_input_is_refused_without_panicking() {
        let huge = "é".repeat(100_000);
        assert_eq!(Name::parse("name", &huge, 200).unwrap_err().field, "name");
        let error = TimeZoneName::parse(&huge).unwrap_err();
        assert!(error.message.len() < 200, "the echo is truncated");
        assert!(Coordinates::parse(f64::NAN, 0.0).is_err());
        assert!(Coordinates::parse(0.0, f64::INFINITY).is_err());
        assert!(parse_date("from", "ééééééééé").is_err());
        assert!(SlotMinutes::parse(i64::MIN).is_err());
        assert!(PriceCents::parse("priceCents", i64::MIN).is_err());
    }
}
