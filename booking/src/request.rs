//! A diner's booking request: parsed field by field, then checked against the restaurant's cheap
//! facts. What passes here is recorded as `pending`; inventory is only decided by the worker.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use crate::{schedule, Restaurant, TableType};

/// The most tables one reservation may take; a larger group is an event, not a booking.
pub const MAX_TABLES_PER_BOOKING: i64 = 10;
pub const MAX_PARTY_SIZE: i64 = 100;
pub const MIN_DURATION_MINUTES: i64 = 15;
pub const MAX_DURATION_MINUTES: i64 = 720;

/// A request that breaks a rule, naming the field (as the client spelled it) and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The body of `POST /v1/reservations`, as the client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingForm {
    pub reservation_id: Uuid,
    pub restaurant_id: Uuid,
    pub table_type_id: Uuid,
    /// 1 to 10 (default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 10, default = 1)]
    pub table_count: i64,
    /// 1 to 100, and within the table type's seats (times `tableCount`).
    #[schema(minimum = 1, maximum = 100)]
    pub party_size: i64,
    /// `YYYY-MM-DD`, in the restaurant's time zone: from today to the booking horizon.
    #[schema(example = "2026-12-24", format = Date)]
    pub date: String,
    /// `HH:MM`, in the restaurant's time zone, on the slot grid and within opening hours.
    #[schema(example = "19:30", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub time: String,
    /// 15 to 720 (default: the restaurant's).
    #[schema(minimum = 15, maximum = 720)]
    pub duration_minutes: Option<i64>,
    pub guest: GuestForm,
    /// A card token, at most 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub payment_token: Option<String>,
    /// Where the outcome is posted: an absolute http:// or https:// URL.
    #[schema(max_length = 2000, pattern = r"^https?://[^/?#\s][^\s]*$")]
    pub callback_url: Option<String>,
    /// A secret of the client's (16 to 200 characters): a retry of this request that carries
    /// it is handed the `accessToken` again; one without it is not, since anyone who has seen
    /// the reservation's details (a webhook receiver) could send those.
    #[schema(min_length = 16, max_length = 200)]
    pub retry_key: Option<String>,
    /// What the diner tells the restaurant: at most 500 characters, line breaks but no other
    /// control characters.
    #[schema(max_length = 500)]
    pub special_requests: Option<String>,
    /// Each at most once.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub tags: Vec<crate::special_requests::Tag>,
}

/// The body of `PATCH /v1/reservations/{id}`: what changes. A field left out keeps its
/// value; at least one must differ.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeForm {
    /// `YYYY-MM-DD`, in the restaurant's time zone.
    #[schema(example = "2026-12-24", format = Date)]
    pub date: Option<String>,
    /// `HH:MM`, on the slot grid and within opening hours.
    #[schema(example = "20:30", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub time: Option<String>,
    /// 1 to 100, within the table type's seats (times `tableCount`).
    #[schema(minimum = 1, maximum = 100)]
    pub party_size: Option<i64>,
    /// Another table type of the same restaurant.
    pub table_type_id: Option<Uuid>,
    /// 1 to 10.
    #[schema(minimum = 1, maximum = 10)]
    pub table_count: Option<i64>,
    /// The card that pays a higher price (default: the one the booking was paid with).
    #[schema(min_length = 1, max_length = 200)]
    pub payment_token: Option<String>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct GuestForm {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// At most 40 characters.
    #[schema(max_length = 40)]
    pub phone: Option<String>,
}

/// A request that passed every check intake can make. Two requests are the same request (an
/// idempotent retry) exactly when they are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub reservation_id: Uuid,
    pub restaurant_id: Uuid,
    pub table_type_id: Uuid,
    pub table_count: i32,
    pub party_size: i32,
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub duration_minutes: i32,
    pub guest: GuestDetails,
    pub payment_token: Option<String>,
    pub callback_url: Option<String>,
    /// The SHA-256 of the client's `retryKey`, recorded with the reservation in the same
    /// statement: a retry racing the first request can already be matched against it.
    pub retry_key_sha256: Option<Vec<u8>>,
    /// A party staff seat without a booking: confirmed without a hold, told nothing by email.
    pub walk_in: bool,
    /// Trimmed; `None` when empty.
    pub special_requests: Option<String>,
    /// Each once, in a stable order.
    pub tags: Vec<crate::special_requests::Tag>,
}

/// What is kept of a retry key: its SHA-256, so the database never holds the secret.
pub fn retry_key_digest(key: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes()).to_vec()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestDetails {
    pub name: String,
    /// Lower-cased, so one guest is one email however it is typed.
    pub email: String,
    pub phone: Option<String>,
}

impl BookingForm {
    /// The checks that need no database: ranges, formats and lengths.
    ///
    /// # Errors
    /// The first field that breaks a rule.
    pub fn check_shape(&self) -> Result<(), Invalid> {
        in_range("tableCount", self.table_count, 1, MAX_TABLES_PER_BOOKING)?;
        in_range("partySize", self.party_size, 1, MAX_PARTY_SIZE)?;
        if let Some(duration) = self.duration_minutes {
            in_range(
                "durationMinutes",
                duration,
                MIN_DURATION_MINUTES,
                MAX_DURATION_MINUTES,
            )?;
        }
        parse_date(&self.date)?;
        parse_time(&self.time)?;
        GuestDetails::parse(&self.guest)?;
        if let Some(token) = &self.payment_token {
            if token.trim().is_empty() || token.len() > 200 {
                return Err(Invalid::new(
                    "paymentToken",
                    "must be a non-empty token of at most 200 characters",
                ));
            }
            printable("paymentToken", token)?;
        }
        if let Some(url) = &self.callback_url {
            check_callback_url(url)?;
        }
        if let Some(key) = &self.retry_key {
            let length = key.chars().count();
            if !(16..=200).contains(&length) || key.chars().any(char::is_control) {
                return Err(Invalid::new(
                    "retryKey",
                    "must be 16 to 200 characters, with no control characters",
                ));
            }
        }
        Ok(())
    }
}

impl BookingRequest {
    /// Checks the form against its restaurant and table type (which the caller has looked up
    /// by the form's ids) at time `now`.
    ///
    /// # Errors
    /// The first field that breaks a rule: party size, slot grid, past date, horizon, hours.
    pub fn parse(
        form: &BookingForm,
        restaurant: &Restaurant,
        table_type: &TableType,
        now: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        form.check_shape()?;
        let date = parse_date(&form.date)?;
        let time = parse_time(&form.time)?;
        // A price is per table for the restaurant's sitting; a longer stay would hold more
        // slots for the same price, so only the restaurant's own duration for the party (its
        // turn time) is accepted. check_shape bounded the party size far inside i32.
        let duration_minutes = i64::from(restaurant.sitting_minutes(form.party_size as i32));
        if form
            .duration_minutes
            .is_some_and(|asked| asked != duration_minutes)
        {
            return Err(Invalid::new(
                "durationMinutes",
                format!(
                    "this restaurant books a party of this size for {duration_minutes} \
                     minutes; leave durationMinutes out or send {duration_minutes}"
                ),
            ));
        }
        let request = BookingRequest {
            reservation_id: form.reservation_id,
            restaurant_id: restaurant.id,
            table_type_id: table_type.id,
            // check_shape bounded these far inside i32.
            table_count: form.table_count as i32,
            party_size: form.party_size as i32,
            date,
            time,
            duration_minutes: duration_minutes as i32,
            guest: GuestDetails::parse(&form.guest)?,
            payment_token: form.payment_token.clone(),
            callback_url: form.callback_url.clone(),
            retry_key_sha256: form.retry_key.as_deref().map(retry_key_digest),
            walk_in: false,
            special_requests: crate::special_requests::free_text(
                "specialRequests",
                form.special_requests.as_deref(),
            )?,
            tags: crate::special_requests::normalize_tags(&form.tags),
        };
        request.check_party(table_type)?;
        request.check_timing(restaurant, now)?;
        request.check_card_on_file(restaurant, table_type)?;
        Ok(request)
    }

    /// The booking `reservation` would become with `form`, checked against its restaurant and
    /// (new or same) table type like a new request at `now`.
    ///
    /// # Errors
    /// The first field that breaks a rule.
    pub fn changed(
        reservation: &crate::Reservation,
        form: &ChangeForm,
        restaurant: &Restaurant,
        table_type: &TableType,
        now: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        let booking = BookingForm {
            reservation_id: reservation.id,
            restaurant_id: restaurant.id,
            table_type_id: table_type.id,
            table_count: form
                .table_count
                .unwrap_or_else(|| reservation.table_count.into()),
            party_size: form
                .party_size
                .unwrap_or_else(|| reservation.party_size.into()),
            date: form
                .date
                .clone()
                .unwrap_or_else(|| reservation.date.to_string()),
            time: form
                .time
                .clone()
                .unwrap_or_else(|| reservation.time.format("%H:%M").to_string()),
            duration_minutes: None,
            guest: GuestForm {
                name: reservation.guest.name.clone(),
                email: reservation.guest.email.clone(),
                phone: reservation.guest.phone.clone(),
            },
            payment_token: form
                .payment_token
                .clone()
                .or_else(|| reservation.payment_token.clone()),
            callback_url: None,
            retry_key: None,
            special_requests: None,
            tags: Vec::new(),
        };
        Self::parse(&booking, restaurant, table_type, now)
    }

    /// A walk-in: a party of `party_size` at `table_count` tables of `table_type`, from the
    /// slot the restaurant's clock is in at `now`, for the restaurant's sitting, or less when
    /// it closes sooner (whole slots).
    ///
    /// # Errors
    /// The party does not fit the tables, or the restaurant is not open now.
    pub fn walk_in(
        reservation_id: Uuid,
        restaurant: &Restaurant,
        table_type: &TableType,
        table_count: i32,
        party_size: i32,
        guest: GuestDetails,
        now: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        let local = restaurant.local_now(now);
        let slot = i64::from(restaurant.slot_minutes.max(1));
        let minute = local
            .time()
            .signed_duration_since(NaiveTime::MIN)
            .num_minutes();
        let start =
            local.date().and_time(NaiveTime::MIN) + Duration::minutes(minute - minute % slot);
        let sitting = i64::from(restaurant.sitting_minutes(party_size));
        let Some(duration) = (1..=sitting / slot)
            .rev()
            .map(|slots| slots * slot)
            .find(|minutes| {
                schedule::is_open(
                    &restaurant.opening_hours,
                    start,
                    start + Duration::minutes(*minutes),
                )
            })
        else {
            return Err(Invalid::new(
                "tableIds",
                format!("the restaurant is not open now ({})", local.format("%H:%M")),
            ));
        };
        let request = BookingRequest {
            reservation_id,
            restaurant_id: restaurant.id,
            table_type_id: table_type.id,
            table_count,
            party_size,
            date: start.date(),
            time: start.time(),
            duration_minutes: duration as i32,
            guest,
            payment_token: None,
            callback_url: None,
            retry_key_sha256: None,
            walk_in: true,
            special_requests: None,
            tags: Vec::new(),
        };
        request.check_party(table_type)?;
        Ok(request)
    }

    /// Local wall-clock start of the stay.
    pub fn local_start(&self) -> NaiveDateTime {
        self.date.and_time(self.time)
    }

    fn check_party(&self, table_type: &TableType) -> Result<(), Invalid> {
        let seats = table_type.seats_max * self.table_count;
        if self.party_size < table_type.seats_min || self.party_size > seats {
            return Err(Invalid::new(
                "partySize",
                format!(
                    "a party of {} does not fit {} × \"{}\" ({}-{} seats per table)",
                    self.party_size,
                    self.table_count,
                    table_type.name,
                    table_type.seats_min,
                    table_type.seats_max
                ),
            ));
        }
        // Tables beyond those the party needs would hold inventory nobody sits at.
        if table_type.seats_max > 0
            && (self.table_count - 1) * table_type.seats_max >= self.party_size
        {
            let needed = (self.party_size + table_type.seats_max - 1) / table_type.seats_max;
            return Err(Invalid::new(
                "tableCount",
                format!(
                    "a party of {} needs {needed} × \"{}\" ({} seats per table), not {}",
                    self.party_size, table_type.name, table_type.seats_max, self.table_count
                ),
            ));
        }
        Ok(())
    }

    /// A restaurant that takes no prepayment but charges a no-show fee keeps the diner's card
    /// on file: the booking needs one.
    fn check_card_on_file(
        &self,
        restaurant: &Restaurant,
        table_type: &TableType,
    ) -> Result<(), Invalid> {
        if restaurant.prepayment_required
            || restaurant.no_show_fee_cents <= 0
            || self.payment_token.is_some()
        {
            return Ok(());
        }
        Err(Invalid::new(
            "paymentToken",
            format!(
                "this restaurant charges a no-show fee of {}.{:02} {} per guest: give a card \
                 (paymentToken) to hold the booking; it is charged only if you do not come",
                restaurant.no_show_fee_cents / 100,
                restaurant.no_show_fee_cents % 100,
                table_type.currency
            ),
        ))
    }

    fn check_timing(&self, restaurant: &Restaurant, now: DateTime<Utc>) -> Result<(), Invalid> {
        let slot = restaurant.slot_minutes;
        let minute_of_day = self
            .time
            .signed_duration_since(NaiveTime::MIN)
            .num_minutes();
        if slot <= 0 || minute_of_day % i64::from(slot) != 0 {
            return Err(Invalid::new(
                "time",
                format!("must start on a {slot}-minute slot boundary"),
            ));
        }
        let tz: Tz = restaurant.time_zone.parse().map_err(|_| {
            Invalid::new(
                "restaurantId",
                "the restaurant's time zone is not configured correctly",
            )
        })?;
        let start = self.local_start();
        let Some(start_instant) = tz.from_local_datetime(&start).earliest() else {
            return Err(Invalid::new(
                "time",
                format!("{start} does not exist in {tz} (a daylight-saving change)"),
            ));
        };
        if start_instant <= now {
            return Err(Invalid::new("date", "the date and time are in the past"));
        }
        let today = now.with_timezone(&tz).date_naive();
        let horizon = restaurant.booking_horizon_days;
        if self.date > today + Duration::days(i64::from(horizon)) {
            return Err(Invalid::new(
                "date",
                format!("is beyond the booking horizon of {horizon} days"),
            ));
        }
        let end = start + Duration::minutes(i64::from(self.duration_minutes));
        if !schedule::is_open(&restaurant.opening_hours, start, end) {
            return Err(Invalid::new(
                "time",
                format!(
                    "the restaurant is not open for the whole of {} to {}",
                    start.format("%Y-%m-%d %H:%M"),
                    end.format("%Y-%m-%d %H:%M")
                ),
            ));
        }
        Ok(())
    }
}

impl GuestDetails {
    /// # Errors
    /// An empty or overlong name, an implausible email, or an overlong phone.
    pub fn parse(form: &GuestForm) -> Result<Self, Invalid> {
        let name = form.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Invalid::new("guest.name", "must be 1 to 200 characters"));
        }
        printable("guest.name", name)?;
        printable("guest.email", &form.email)?;
        if let Some(phone) = &form.phone {
            printable("guest.phone", phone)?;
        }
        let email = form.email.trim().to_lowercase();
        if !is_plausible_email(&email) {
            return Err(Invalid::new(
                "guest.email",
                "must be an email address like name@example.com",
            ));
        }
        let phone = match form.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) if p.len() <= 40 => Some(p.to_owned()),
            Some(_) => return Err(Invalid::new("guest.phone", "must be at most 40 characters")),
        };
        Ok(Self {
            name: name.to_owned(),
            email,
            phone,
        })
    }
}

/// Enough to catch typos and garbage; only a delivered email proves an address.
fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// PostgreSQL refuses a NUL in text, and a whole intake batch with it: control characters are
/// refused here, naming the field, as the catalog forms do.
fn printable(field: &'static str, value: &str) -> Result<(), Invalid> {
    if value.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(())
}

fn check_callback_url(url: &str) -> Result<(), Invalid> {
    printable("callbackUrl", url)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next());
    match host {
        Some(h) if !h.is_empty() && url.len() <= 2000 && !url.contains(char::is_whitespace) => {
            Ok(())
        }
        _ => Err(Invalid::new(
            "callbackUrl",
            "must be an absolute http:// or https:// URL",
        )),
    }
}

fn in_range(field: &'static str, value: i64, min: i64, max: i64) -> Result<(), Invalid> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!("must be between {min} and {max}, got {value}"),
        ))
    }
}

/// # Errors
/// When `date` is not `YYYY-MM-DD`.
pub fn parse_date(date: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        Invalid::new(
            "date",
            format!("must be a date as YYYY-MM-DD, got {date:?}"),
        )
    })
}

/// # Errors
/// When `time` is not `HH:MM`.
pub fn parse_time(time: &str) -> Result<NaiveTime, Invalid> {
    if time.len() != 5 {
        return Err(Invalid::new("time", format!("must be HH:MM, got {time:?}")));
    }
    NaiveTime::parse_from_str(time, "%H:%M")
        .map_err(|_| Invalid::new("time", format!("must be HH:MM, got {time:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpeningInterval;

    fn restaurant() -> Restaurant {
        let dinner = (1..=7)
            .map(|weekday| OpeningInterval {
                weekday,
                opens_at: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
                closes_at: NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
            })
            .collect();
        Restaurant::with_defaults(
            Uuid::new_v4(),
            "Chez Test",
            "Europe/Paris",
            (48.85, 2.35),
            dinner,
        )
    }

    fn table_type(restaurant: &Restaurant) -> TableType {
        TableType {
            id: Uuid::new_v4(),
            restaurant_id: restaurant.id,
            name: "2-top".into(),
            seats_min: 1,
            seats_max: 2,
            base_price_cents: 2000,
            currency: "EUR".into(),
            tables: 10,
            version: 1,
        }
    }

    fn form(date: &str, time: &str) -> BookingForm {
        BookingForm {
            reservation_id: Uuid::new_v4(),
            restaurant_id: Uuid::new_v4(),
            table_type_id: Uuid::new_v4(),
            table_count: 1,
            party_size: 2,
            date: date.into(),
            time: time.into(),
            duration_minutes: None,
            guest: GuestForm {
                name: " Ada ".into(),
                email: "Ada@Example.COM".into(),
                phone: None,
            },
            payment_token: None,
            callback_url: None,
            retry_key: None,
            special_requests: None,
            tags: Vec::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn field_of(form: &BookingForm) -> &'static str {
        let r = restaurant();
        BookingRequest::parse(form, &r, &table_type(&r), now())
            .unwrap_err()
            .field
    }

    #[test]
    fn a_good_request_parses_with_defaults_and_normalised_guest() {
        let r = restaurant();
        let t = table_type(&r);
        let req = BookingRequest::parse(&form("2026-12-02", "19:30"), &r, &t, now()).unwrap();
        assert_eq!(req.duration_minutes, 90);
        assert_eq!(req.guest.name, "Ada");
        assert_eq!(req.guest.email, "ada@example.com");
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let mut f = form("2026-12-02", "19:30");
        f.party_size = 0;
        assert_eq!(field_of(&f), "partySize");
        f.party_size = 5; // two seats per table
        assert_eq!(field_of(&f), "partySize");
        f = form("2026-12-02", "19:30");
        f.table_count = 1000;
        assert_eq!(field_of(&f), "tableCount");
        assert_eq!(field_of(&form("2026-11-30", "19:30")), "date"); // past
        assert_eq!(field_of(&form("2027-06-01", "19:30")), "date"); // beyond 90 days
        assert_eq!(field_of(&form("2026-12-02", "16:00")), "time"); // closed
        assert_eq!(field_of(&form("2026-12-02", "22:00")), "time"); // ends after closing
        assert_eq!(field_of(&form("2026-12-02", "19:10")), "time"); // off the slot grid
        assert_eq!(field_of(&form("2026-12-02", "7pm")), "time");
        assert_eq!(field_of(&form("02/12/2026", "19:30")), "date");
        let mut f = form("2026-12-02", "19:30");
        f.guest.email = "not-an-email".into();
        assert_eq!(field_of(&f), "guest.email");
        f = form("2026-12-02", "19:30");
        f.callback_url = Some("ftp://example.com/x".into());
        assert_eq!(field_of(&f), "callbackUrl");
    }

    #[test]
    fn more_tables_than_the_party_needs_are_refused() {
        let mut f = form("2026-12-02", "19:30");
        f.table_count = 2; // a party of 2 at 2-tops needs one
        assert_eq!(field_of(&f), "tableCount");
        f.party_size = 3; // needs two
        let r = restaurant();
        let t = table_type(&r);
        assert_eq!(
            BookingRequest::parse(&f, &r, &t, now())
                .unwrap()
                .table_count,
            2
        );
        f.table_count = 3;
        assert_eq!(field_of(&f), "tableCount");
    }

    #[test]
    fn only_the_restaurants_duration_is_accepted() {
        let r = restaurant();
        let t = table_type(&r);
        let mut f = form("2026-12-02", "19:30");
        f.duration_minutes = Some(90);
        assert_eq!(
            BookingRequest::parse(&f, &r, &t, now())
                .unwrap()
                .duration_minutes,
            90
        );
        f.duration_minutes = Some(180);
        assert_eq!(field_of(&f), "durationMinutes");
        f.duration_minutes = Some(15);
        assert_eq!(field_of(&f), "durationMinutes");
    }

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        let base = form("2026-12-02", "19:30");
        type Break = fn(&mut BookingForm);
        let cases: [(&str, Break); 6] = [
            ("guest.name", |f| f.guest.name = "Ada\u{0}".into()),
            ("guest.email", |f| {
                f.guest.email = "ada\u{0}@example.com".into()
            }),
            ("guest.phone", |f| f.guest.phone = Some("+33\u{0}1".into())),
            ("paymentToken", |f| {
                f.payment_token = Some("tok_\u{0}visa".into())
            }),
            ("callbackUrl", |f| {
                f.callback_url = Some("https://example.com/\u{0}".into())
            }),
            ("guest.name", |f| f.guest.name = "Ada\u{1b}[31m".into()),
        ];
        for (field, break_it) in cases {
            let mut f = base.clone();
            break_it(&mut f);
            assert_eq!(f.check_shape().unwrap_err().field, field);
            assert_eq!(field_of(&f), field);
        }
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_is_refused() {
        let mut r = restaurant();
        r.opening_hours = (1..=7)
            .map(|weekday| OpeningInterval {
                weekday,
                opens_at: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
                closes_at: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            })
            .collect();
        let t = table_type(&r);
        let now = Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap();
        // Paris skips 02:00-03:00 on 2027-03-28.
        let err = BookingRequest::parse(&form("2027-03-28", "02:30"), &r, &t, now).unwrap_err();
        assert_eq!(err.field, "time");
        assert!(err.message.contains("daylight"), "{err}");
    }
}
