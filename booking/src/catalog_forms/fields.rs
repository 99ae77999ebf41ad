//! The checked values forms are made of: names and free text, time zones, coordinates, slot
//! lengths, prices, currencies, dates and date ranges.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::{in_range, required, shown, MAX_PRICE_CENTS, MAX_RATE_DAYS, MINUTES_PER_DAY};
use crate::Invalid;

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
pub(super) fn free_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, Invalid> {
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

    /// `days` dates from `from` (at least one, at most the longest range allowed).
    pub fn starting(from: NaiveDate, days: u16) -> Self {
        let days = i64::from(days).clamp(1, MAX_RATE_DAYS);
        Self {
            from,
            to: from + chrono::Duration::days(days - 1),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_iso_4217_codes_of_money() {
        assert_eq!(Currency::parse("EUR").unwrap().code(), "EUR");
        assert_eq!(Currency::parse(" jpy ").unwrap().code(), "JPY");
        for bad in ["", "EU", "EURO", "ABC", "XTS", "XAU", "€", "ÉUR"] {
            assert_eq!(Currency::parse(bad).unwrap_err().field, "currency", "{bad}");
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
