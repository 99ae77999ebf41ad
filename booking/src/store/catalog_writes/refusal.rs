//! Why a staff write is refused, and the database errors that stand for a refusal: the parsing
//! should catch every bad value, but the schema has the last word.

use sqlx::error::ErrorKind;
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
/// database: the parsing should have caught it, but the schema has the last word. Matched by
/// kind, then by the constraint names of migration `20261123000005_named_constraints`.
pub(super) fn refusal_of(error: &sqlx::Error) -> Option<CatalogRefusal> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    let constraint = db.constraint().unwrap_or_default();
    match db.kind() {
        ErrorKind::UniqueViolation => Some(CatalogRefusal::Conflict(
            named(UNIQUE_CONFLICTS, constraint)
                .unwrap_or("this conflicts with an existing record")
                .into(),
        )),
        ErrorKind::CheckViolation => Some(CatalogRefusal::Invalid(Invalid::new(
            named(CHECKED_FIELDS, constraint).unwrap_or("body"),
            "is outside the range the catalog allows",
        ))),
        // What it refers to was removed meanwhile.
        ErrorKind::ForeignKeyViolation => Some(CatalogRefusal::NotFound(
            "a record this refers to no longer exists".into(),
        )),
        _ => {
            // No ErrorKind for data exceptions: string too long, numeric out of range,
            // untranslatable or invalid characters, by SQLSTATE.
            match db.code()?.as_ref() {
                "22001" | "22003" | "22P05" | "22021" => Some(CatalogRefusal::Invalid(
                    Invalid::new("body", "holds a value the database cannot store"),
                )),
                _ => None,
            }
        }
    }
}

/// What a unique constraint (or unique index) of the schema refuses, by its name.
const UNIQUE_CONFLICTS: &[(&str, &str)] = &[
    (
        "table_type_unique_live_name",
        "another table type of this restaurant already has this name",
    ),
    (
        "dining_table_unique_label",
        "another table of this table type already has this label",
    ),
    (
        "opening_hours_one_opening_at_a_time",
        "two opening intervals of one weekday open at once",
    ),
];

/// The request field each CHECK constraint of the schema guards, by its name.
const CHECKED_FIELDS: &[(&str, &str)] = &[
    ("restaurant_name_length", "name"),
    ("restaurant_city_length", "city"),
    ("restaurant_latitude_range", "latitude"),
    ("restaurant_longitude_range", "longitude"),
    ("restaurant_slot_minutes_divide_the_day", "slotMinutes"),
    (
        "restaurant_default_duration_range",
        "defaultDurationMinutes",
    ),
    ("restaurant_overbooking_pct_range", "overbookingPct"),
    ("restaurant_booking_horizon_range", "bookingHorizonDays"),
    ("restaurant_refund_window_range", "refundWindowHours"),
    ("opening_hours_iso_weekday", "openingHours"),
    ("table_type_name_length", "name"),
    ("table_type_seats_min_positive", "seatsMin"),
    ("table_type_seats_max_range", "seatsMax"),
    ("table_type_base_price_not_negative", "basePriceCents"),
    ("table_type_currency_iso_code", "currency"),
    ("dining_table_label_length", "label"),
    ("rate_price_not_negative", "priceCents"),
];

fn named(table: &[(&str, &'static str)], constraint: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(name, _)| *name == constraint)
        .map(|(_, what)| *what)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The names above are only as good as the migrations that give them.
    #[test]
    fn every_constraint_matched_here_is_named_by_a_migration() {
        // Named when renamed (the constraints of the first schema) or when added (later ones).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let migrations: String = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect();
        for (name, _) in UNIQUE_CONFLICTS.iter().chain(CHECKED_FIELDS) {
            assert!(
                migrations.contains(&format!(" TO {name};"))
                    || migrations.contains(&format!("CONSTRAINT {name} ")),
                "{name} is not named by a migration"
            );
        }
    }
}
