//! Writing the catalog: restaurants, table types, tables and rates. The demo data and the tests
//! use these; the staff API will too. Inserting an id that exists is a no-op, so loading the
//! same data twice is harmless.

use chrono::NaiveDate;
use uuid::Uuid;

use super::Store;
use crate::{Restaurant, TableType};

impl Store {
    /// Inserts a restaurant with its opening hours. Returns whether it was new.
    ///
    /// # Errors
    /// On a database error, including a CHECK that refuses a value.
    pub async fn insert_restaurant(&self, restaurant: &Restaurant) -> sqlx::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO restaurant (id, name, address, latitude, longitude, time_zone,
                 slot_minutes, default_duration_minutes, overbooking_pct, booking_horizon_days,
                 refund_window_hours, prepayment_required)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(restaurant.id)
        .bind(&restaurant.name)
        .bind(&restaurant.address)
        .bind(restaurant.latitude)
        .bind(restaurant.longitude)
        .bind(&restaurant.time_zone)
        .bind(restaurant.slot_minutes)
        .bind(restaurant.default_duration_minutes)
        .bind(restaurant.overbooking_pct)
        .bind(restaurant.booking_horizon_days)
        .bind(restaurant.refund_window_hours)
        .bind(restaurant.prepayment_required)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            for interval in &restaurant.opening_hours {
                sqlx::query(
                    "INSERT INTO opening_hours (restaurant_id, weekday, opens_at, closes_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(restaurant.id)
                .bind(interval.weekday)
                .bind(interval.opens_at)
                .bind(interval.closes_at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Inserts a table type and `tables` active tables of it, labelled `{prefix}1`,
    /// `{prefix}2`, …
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_table_type(
        &self,
        table_type: &TableType,
        tables: u32,
        label_prefix: &str,
    ) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO table_type (id, restaurant_id, name, seats_min, seats_max,
                 base_price_cents, currency)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(table_type.id)
        .bind(table_type.restaurant_id)
        .bind(&table_type.name)
        .bind(table_type.seats_min)
        .bind(table_type.seats_max)
        .bind(table_type.base_price_cents)
        .bind(&table_type.currency)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            sqlx::query(
                "INSERT INTO dining_table (id, table_type_id, label)
                 SELECT gen_random_uuid(), $1, $2 || n FROM generate_series(1, $3) AS n",
            )
            .bind(table_type.id)
            .bind(label_prefix)
            .bind(i64::from(tables))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

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
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO rate (table_type_id, service_date, price_cents)
             SELECT $1, d::date, $4 FROM generate_series($2::date, $3::date, '1 day') AS d
             ON CONFLICT (table_type_id, service_date) DO UPDATE SET price_cents = EXCLUDED.price_cents",
        )
        .bind(table_type_id)
        .bind(from)
        .bind(to)
        .bind(price_cents)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
