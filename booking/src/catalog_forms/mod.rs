//! The staff's catalog forms, parsed rather than validated: a form as the client sent it goes
//! in, and either a draft whose every field is known to be good comes out, or an [`Invalid`]
//! naming the first field at fault (as the client spelled it, in camelCase).
//!
//! A `POST` creates with the domain's defaults for the fields it leaves out; a `PUT` replaces
//! the whole resource, so it must give every field ([`FormMode`]), and a forgotten field is
//! refused rather than silently reset. Nothing here panics on input, whatever its size or
//! content.
//!
//! Layout: `fields` holds the checked values forms are made of (names, prices, dates…);
//! `opening_hours` a restaurant's week; `restaurant`, `tables` (table types and tables) and
//! `rates` the forms themselves, each with the draft it parses into. The helpers every form
//! uses are here.

mod fields;
mod opening_hours;
mod rates;
mod restaurant;
mod tables;

use crate::Invalid;

pub use fields::{
    parse_date, Coordinates, Currency, DateRange, Name, PriceCents, SlotMinutes, TimeZoneName,
};
pub use opening_hours::{OpeningHours, OpeningHoursForm};
pub use rates::{RatesDraft, RatesForm};
pub use restaurant::{RestaurantDraft, RestaurantForm};
pub use tables::{InitialTables, TableDraft, TableForm, TableTypeDraft, TableTypeForm};

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

/// The field an error names (unit tests).
#[cfg(test)]
fn field_of(result: Result<impl std::fmt::Debug, Invalid>) -> &'static str {
    result.unwrap_err().field
}
