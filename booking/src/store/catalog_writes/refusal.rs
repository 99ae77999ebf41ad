//! Why a staff write is refused, and the database errors that stand for a refusal: the parsing
//! should catch every bad value, but the schema has the last word.

use uuid::Uuid;

use crate::Invalid;

/// Why a staff write to the catalog was refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogRefusal {
    /// The row (or the restaurant or table type it belongs to) does not exist or was deleted.
    #[error("{0}")]
    NotFound(String),
    /// The row's version is not among those the write was made for: someone else changed it.
    #[error("{what} has changed since it was read: its version is now {current}")]
    Stale { what: &'static str, current: i32 },
    /// Upcoming reservations would be left without their restaurant or table type; forcing
    /// the deletion cancels them.
    #[error("{what} has {count} upcoming held or confirmed reservations")]
    StillBooked { what: String, count: usize },
    /// The write contradicts another row or the state of the restaurant.
    #[error("{0}")]
    Conflict(String),
    /// A value the database refuses (a CHECK the parsing did not foresee).
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// The refusal a database error stands for, when it is about the data rather than the
/// database: the parsing should have caught it, but the schema has the last word.
pub(super) fn refusal_of(error: &sqlx::Error) -> Option<CatalogRefusal> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    let constraint = db.constraint().unwrap_or_default();
    match db.code()?.as_ref() {
        // unique_violation
        "23505" => Some(CatalogRefusal::Conflict(
            match constraint {
                "table_type_live_name" => {
                    "another table type of this restaurant already has this name"
                }
                "dining_table_table_type_id_label_key" => {
                    "another table of this table type already has this label"
                }
                "opening_hours_pkey" => "two opening intervals of one weekday open at once",
                _ => "this conflicts with an existing record",
            }
            .into(),
        )),
        // check_violation
        "23514" => Some(CatalogRefusal::Invalid(Invalid::new(
            field_of_check(constraint),
            "is outside the range the catalog allows",
        ))),
        // foreign_key_violation: what it refers to was removed meanwhile
        "23503" => Some(CatalogRefusal::NotFound(
            "a record this refers to no longer exists".into(),
        )),
        // string too long, numeric out of range, untranslatable or invalid characters
        "22001" | "22003" | "22P05" | "22021" => Some(CatalogRefusal::Invalid(Invalid::new(
            "body",
            "holds a value the database cannot store",
        ))),
        _ => None,
    }
}

/// The request field a CHECK constraint of the schema guards.
fn field_of_check(constraint: &str) -> &'static str {
    match constraint {
        "restaurant_name_check" | "table_type_name_check" => "name",
        "restaurant_latitude_check" => "latitude",
        "restaurant_longitude_check" => "longitude",
        "restaurant_slot_minutes_check" => "slotMinutes",
        "restaurant_default_duration_minutes_check" => "defaultDurationMinutes",
        "restaurant_overbooking_pct_check" => "overbookingPct",
        "restaurant_booking_horizon_days_check" => "bookingHorizonDays",
        "restaurant_refund_window_hours_check" => "refundWindowHours",
        "opening_hours_weekday_check" => "openingHours",
        "table_type_seats_min_check" => "seatsMin",
        "table_type_seats_max_check" => "seatsMax",
        "table_type_base_price_cents_check" => "basePriceCents",
        "table_type_currency_check" => "currency",
        "dining_table_label_check" => "label",
        "rate_price_cents_check" => "priceCents",
        _ => "body",
    }
}

pub(super) fn check_version(
    what: &'static str,
    current: i32,
    expected: Option<&[i32]>,
) -> Result<(), CatalogRefusal> {
    match expected {
        Some(versions) if !versions.contains(&current) => {
            Err(CatalogRefusal::Stale { what, current })
        }
        _ => Ok(()),
    }
}

pub(super) fn no_restaurant(id: Uuid) -> CatalogRefusal {
    CatalogRefusal::NotFound(format!("no restaurant has the id {id}"))
}

pub(super) fn no_table_type(restaurant_id: Uuid, id: Uuid) -> CatalogRefusal {
    CatalogRefusal::NotFound(format!(
        "restaurant {restaurant_id} has no table type with the id {id}"
    ))
}

pub(super) fn no_table(restaurant_id: Uuid, table_type_id: Uuid, id: Uuid) -> CatalogRefusal {
    CatalogRefusal::NotFound(format!(
        "table type {table_type_id} of restaurant {restaurant_id} has no table with the id {id}"
    ))
}
