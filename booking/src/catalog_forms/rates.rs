//! The rates form, one price for every date of a range, and the draft it parses into.

use serde::Deserialize;

use super::{required, DateRange, PriceCents};
use crate::Invalid;

/// The body of `PUT …/rates`: one price for every date of a range.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RatesForm {
    /// The first date, `YYYY-MM-DD`.
    #[schema(example = "2026-12-01", format = Date)]
    pub from: Option<String>,
    /// The last date, included; at most 731 days after `from`.
    #[schema(example = "2026-12-31", format = Date)]
    pub to: Option<String>,
    /// The price of one table on each of those dates, in the type's currency's minor units.
    #[schema(example = 3000, minimum = 0, maximum = 10_000_000_000_i64)]
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
    use crate::catalog_forms::{field_of, MAX_RATE_DAYS};
    use serde_json::json;

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
}
