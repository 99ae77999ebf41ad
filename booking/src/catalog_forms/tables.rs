//! The table type and table forms, and the drafts they parse into.

use serde::Deserialize;

use super::fields::free_text;
use super::{
    field_or, in_range, required, Currency, FormMode, Name, PriceCents, MAX_TABLES_AT_CREATION,
};
use crate::Invalid;

/// The body of `POST …/table-types` and `PUT …/table-types/{typeId}`. `tables` and
/// `labelPrefix` are for creating only: afterwards, tables are managed one by one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableTypeForm {
    /// 1 to 100 characters, unique among the restaurant's table types.
    #[schema(example = "Window 4", min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// 1 to 50.
    #[schema(example = 2, minimum = 1, maximum = 50)]
    pub seats_min: Option<i64>,
    /// At least `seatsMin`, at most 50.
    #[schema(example = 4, minimum = 1, maximum = 50)]
    pub seats_max: Option<i64>,
    /// The price of one table, in minor units, when no rate is set for the date.
    #[schema(example = 2500, minimum = 0, maximum = 10_000_000_000_i64)]
    pub base_price_cents: Option<i64>,
    /// ISO 4217.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// Creating only: how many active tables to create with the type (0 to 500, default 0).
    #[schema(minimum = 0, maximum = 500)]
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
    #[schema(example = "W3", min_length = 1, max_length = 50)]
    pub label: Option<String>,
    /// The floor or room, at most 100 characters (default empty).
    #[schema(example = "terrace", max_length = 100)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog_forms::{field_of, MAX_PRICE_CENTS};
    use serde_json::json;

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
}
