//! Staff writes to table types, and the demo data's inserts.

use sqlx::PgConnection;
use uuid::Uuid;

use super::refusal::{check_version, no_restaurant, no_table_type, CatalogRefusal};
use super::{soft_delete, Deleted, Written};
use crate::catalog_forms::{InitialTables, TableTypeDraft};
use crate::store::Store;
use crate::{Result, TableType};

impl Store {
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
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_table_type_rows(&mut tx, table_type, tables, label_prefix).await?;
        tx.commit().await?;
        self.recent.forget_all();
        Ok(())
    }

    /// Creates a table type with its first tables.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing restaurant or a name in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn create_table_type(
        &self,
        restaurant_id: Uuid,
        id: Uuid,
        draft: &TableTypeDraft,
        tables: &InitialTables,
    ) -> Written<TableType> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let live = sqlx::query_scalar!(
                r#"SELECT 1 AS "live!" FROM restaurant
                   WHERE id = $1 AND deleted_at IS NULL FOR SHARE"#,
                restaurant_id,
            )
            .fetch_optional(&mut *tx)
            .await?;
            if live.is_none() {
                return Ok(Err(no_restaurant(restaurant_id)));
            }
            if let Err(taken) = check_type_name(&mut tx, restaurant_id, None, draft).await? {
                return Ok(Err(taken));
            }
            let table_type = TableType {
                id,
                restaurant_id,
                name: draft.name.as_str().to_owned(),
                seats_min: draft.seats_min,
                seats_max: draft.seats_max,
                base_price_cents: draft.base_price.get(),
                currency: draft.currency.code().to_owned(),
                tables: 0,
                version: 1,
            };
            if !insert_table_type_rows(&mut tx, &table_type, tables.count, &tables.label_prefix)
                .await?
            {
                return Ok(Err(CatalogRefusal::Conflict(format!(
                    "a table type with the id {id} exists already"
                ))));
            }
            reloaded_table_type(&mut tx, restaurant_id, id).await
        }
        .await;
        self.finish(tx, result).await
    }

    /// Replaces a table type's fields (not its tables).
    ///
    /// # Errors
    /// On a database error; a refusal for a missing or stale type or a name in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn replace_table_type(
        &self,
        restaurant_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
        draft: &TableTypeDraft,
    ) -> Written<TableType> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some(current) = lock_table_type(&mut tx, restaurant_id, id).await? else {
                return Ok(Err(no_table_type(restaurant_id, id)));
            };
            if let Err(stale) = check_version("the table type", current, expected) {
                return Ok(Err(stale));
            }
            if let Err(taken) = check_type_name(&mut tx, restaurant_id, Some(id), draft).await? {
                return Ok(Err(taken));
            }
            let updated = sqlx::query!(
                "UPDATE table_type SET name = $3, seats_min = $4, seats_max = $5,
                     base_price_cents = $6, currency = $7,
                     version = version + 1, updated_at = now()
                 WHERE id = $1 AND version = $2 AND deleted_at IS NULL",
                id,
                current,
                draft.name.as_str(),
                draft.seats_min,
                draft.seats_max,
                draft.base_price.get(),
                draft.currency.code(),
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Ok(Err(CatalogRefusal::Stale {
                    what: "the table type",
                    current,
                }));
            }
            reloaded_table_type(&mut tx, restaurant_id, id).await
        }
        .await;
        self.finish(tx, result).await
    }

    /// Deletes a table type (softly). Refused while upcoming reservations of it are held or
    /// confirmed, unless `force`, which queues their cancellation with a full refund.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing, stale or still booked type.
    #[tracing::instrument(skip(self))]
    pub async fn delete_table_type(
        &self,
        restaurant_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
        force: bool,
        actor: &str,
    ) -> Written<Deleted> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some(current) = lock_table_type(&mut tx, restaurant_id, id).await? else {
                return Ok(Err(no_table_type(restaurant_id, id)));
            };
            if let Err(stale) = check_version("the table type", current, expected) {
                return Ok(Err(stale));
            }
            soft_delete(&mut tx, restaurant_id, Some(id), force, actor).await
        }
        .await;
        self.finish(tx, result).await
    }
}

async fn insert_table_type_rows(
    conn: &mut PgConnection,
    table_type: &TableType,
    tables: u32,
    label_prefix: &str,
) -> Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO table_type (id, restaurant_id, name, seats_min, seats_max,
             base_price_cents, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO NOTHING",
        table_type.id,
        table_type.restaurant_id,
        &table_type.name,
        table_type.seats_min,
        table_type.seats_max,
        table_type.base_price_cents,
        &table_type.currency,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted && tables > 0 {
        sqlx::query!(
            "INSERT INTO dining_table (id, table_type_id, label)
             SELECT gen_random_uuid(), $1, $2 || n FROM generate_series(1, $3::int8) AS n",
            table_type.id,
            label_prefix,
            i64::from(tables),
        )
        .execute(conn)
        .await?;
    }
    Ok(inserted)
}

async fn reloaded_table_type(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    id: Uuid,
) -> Written<TableType> {
    Ok(crate::store::load_table_type(conn, restaurant_id, id)
        .await?
        .ok_or_else(|| no_table_type(restaurant_id, id)))
}

/// Locks a live table type of a live restaurant for an update; its version.
pub(super) async fn lock_table_type(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    id: Uuid,
) -> Result<Option<i32>> {
    Ok(sqlx::query_scalar!(
        "SELECT t.version FROM table_type t JOIN restaurant r ON r.id = t.restaurant_id
         WHERE t.id = $2 AND t.restaurant_id = $1
           AND t.deleted_at IS NULL AND r.deleted_at IS NULL
         FOR NO KEY UPDATE OF t",
        restaurant_id,
        id,
    )
    .fetch_optional(conn)
    .await?)
}

/// Whether a table type is live and belongs to a live restaurant. With `hold`, it stays so
/// until the transaction ends: a concurrent deletion waits.
pub(super) async fn table_type_is_live(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    id: Uuid,
    hold: bool,
) -> Result<bool> {
    let found = if hold {
        sqlx::query_scalar!(
            r#"SELECT 1 AS "live!" FROM table_type t JOIN restaurant r ON r.id = t.restaurant_id
               WHERE t.id = $2 AND t.restaurant_id = $1
                 AND t.deleted_at IS NULL AND r.deleted_at IS NULL
               FOR SHARE OF t"#,
            restaurant_id,
            id,
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_scalar!(
            r#"SELECT 1 AS "live!" FROM table_type t JOIN restaurant r ON r.id = t.restaurant_id
               WHERE t.id = $2 AND t.restaurant_id = $1
                 AND t.deleted_at IS NULL AND r.deleted_at IS NULL"#,
            restaurant_id,
            id,
        )
        .fetch_optional(conn)
        .await?
    };
    Ok(found.is_some())
}

/// Refuses a name another live table type of the restaurant has. The unique index has the
/// last word in a race; this says which name.
async fn check_type_name(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    except: Option<Uuid>,
    draft: &TableTypeDraft,
) -> Result<Result<(), CatalogRefusal>> {
    let taken = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM table_type
               WHERE restaurant_id = $1 AND name = $2 AND deleted_at IS NULL
                 AND ($3::uuid IS NULL OR id <> $3)) AS "taken!""#,
        restaurant_id,
        draft.name.as_str(),
        except,
    )
    .fetch_one(conn)
    .await?;
    Ok(if taken {
        Err(CatalogRefusal::Conflict(format!(
            "restaurant {restaurant_id} already has a table type named {:?}",
            draft.name.as_str()
        )))
    } else {
        Ok(())
    })
}
