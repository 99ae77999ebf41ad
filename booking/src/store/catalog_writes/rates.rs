//! Rates: the price of a table type on given dates.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::refusal::no_table_type;
use super::table_types::table_type_is_live;
use super::Written;
use crate::catalog_forms::{DateRange, RatesDraft};
use crate::store::Store;
use crate::Result;

/// The price of a table type on one date; dates without a rate take the base price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    #[schema(value_type = String, format = Date, example = "2026-12-24")]
    pub date: NaiveDate,
    pub price_cents: i64,
}

impl Store {
    /// Sets the price of a table type for every date in `from..=to`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn set_rates(
        &self,
        table_type_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        price_cents: i64,
    ) -> Result<()> {
        upsert_rates(
            &mut *self.pool.acquire().await?,
            table_type_id,
            from,
            to,
            price_cents,
        )
        .await?;
        Ok(())
    }

    /// Sets one price for every date of a range. Returns the number of dates set.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn set_table_type_rates(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        rates: &RatesDraft,
    ) -> Written<u64> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            if !table_type_is_live(&mut tx, restaurant_id, table_type_id, true).await? {
                return Ok(Err(no_table_type(restaurant_id, table_type_id)));
            }
            let days = upsert_rates(
                &mut tx,
                table_type_id,
                rates.dates.from(),
                rates.dates.to(),
                rates.price.get(),
            )
            .await?;
            Ok(Ok(days))
        }
        .await;
        self.finish(tx, result).await
    }

    /// The rates set on the dates of a range, in date order.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn table_type_rates(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        dates: &DateRange,
    ) -> Written<Vec<Rate>> {
        let mut conn = self.pool.acquire().await?;
        if !table_type_is_live(&mut conn, restaurant_id, table_type_id, false).await? {
            return Ok(Err(no_table_type(restaurant_id, table_type_id)));
        }
        let rates = sqlx::query_as!(
            Rate,
            "SELECT service_date AS date, price_cents FROM rate
             WHERE table_type_id = $1 AND service_date BETWEEN $2 AND $3
             ORDER BY service_date",
            table_type_id,
            dates.from(),
            dates.to(),
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(Ok(rates))
    }

    /// Returns the dates of a range to the base price. Returns how many rates were removed.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn clear_table_type_rates(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        dates: &DateRange,
    ) -> Written<u64> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            if !table_type_is_live(&mut tx, restaurant_id, table_type_id, true).await? {
                return Ok(Err(no_table_type(restaurant_id, table_type_id)));
            }
            let removed = sqlx::query!(
                "DELETE FROM rate WHERE table_type_id = $1 AND service_date BETWEEN $2 AND $3",
                table_type_id,
                dates.from(),
                dates.to(),
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(Ok(removed))
        }
        .await;
        self.finish(tx, result).await
    }
}

async fn upsert_rates(
    conn: &mut PgConnection,
    table_type_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    price_cents: i64,
) -> Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO rate (table_type_id, service_date, price_cents)
         SELECT $1, d::date, $4 FROM generate_series($2::date, $3::date, '1 day') AS d
         ON CONFLICT (table_type_id, service_date) DO UPDATE SET price_cents = EXCLUDED.price_cents",
        table_type_id,
        from,
        to,
        price_cents,
    )
    .execute(conn)
    .await?
    .rows_affected())
}
