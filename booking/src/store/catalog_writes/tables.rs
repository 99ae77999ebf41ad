//! Staff writes to the physical tables of a table type: the type's inventory.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::refusal::{check_version, no_table, no_table_type, CatalogRefusal};
use super::table_types::table_type_is_live;
use super::{sync_inventory_later, Written};
use crate::catalog_forms::TableDraft;
use crate::store::Store;
use crate::Result;

/// A physical table of a table type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiningTable {
    pub id: Uuid,
    pub table_type_id: Uuid,
    pub label: String,
    /// The floor or room; may be empty.
    pub area: String,
    /// In service: active tables are the type's inventory.
    pub active: bool,
    /// Bumped by every update; the `ETag` of the table.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// A page of a table type's tables in id order, after `after`.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type.
    #[tracing::instrument(skip(self))]
    pub async fn dining_tables(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Written<Vec<DiningTable>> {
        let mut conn = self.pool.acquire().await?;
        if !table_type_is_live(&mut conn, restaurant_id, table_type_id, false).await? {
            return Ok(Err(no_table_type(restaurant_id, table_type_id)));
        }
        let tables = sqlx::query_as!(
            DiningTable,
            "SELECT id, table_type_id, label, area, active, version, created_at, updated_at
             FROM dining_table
             WHERE table_type_id = $1 AND ($2::uuid IS NULL OR id > $2)
             ORDER BY id LIMIT $3",
            table_type_id,
            after,
            limit,
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(Ok(tables))
    }

    /// One table, only if its table type and restaurant are the ones named and live.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
    ) -> Result<Option<DiningTable>> {
        let mut conn = self.pool.acquire().await?;
        if !table_type_is_live(&mut conn, restaurant_id, table_type_id, false).await? {
            return Ok(None);
        }
        load_dining_table(&mut conn, table_type_id, id).await
    }

    /// Adds a table to a table type. An active one queues an inventory sync.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing table type or a label in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn create_dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
        draft: &TableDraft,
    ) -> Written<DiningTable> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            if !table_type_is_live(&mut tx, restaurant_id, table_type_id, true).await? {
                return Ok(Err(no_table_type(restaurant_id, table_type_id)));
            }
            if let Err(taken) = check_label(&mut tx, table_type_id, None, draft).await? {
                return Ok(Err(taken));
            }
            let table = sqlx::query_as!(
                DiningTable,
                "INSERT INTO dining_table (id, table_type_id, label, area, active)
                 VALUES ($1, $2, $3, $4, $5)
                 RETURNING id, table_type_id, label, area, active, version, created_at,
                           updated_at",
                id,
                table_type_id,
                draft.label.as_str(),
                draft.area,
                draft.active,
            )
            .fetch_one(&mut *tx)
            .await?;
            if table.active {
                sync_inventory_later(&mut tx, restaurant_id).await?;
            }
            Ok(Ok(table))
        }
        .await;
        self.finish(tx, result).await
    }

    /// Replaces a table's label, area and active flag. Putting it in or out of service queues
    /// an inventory sync.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing or stale table or a label in use.
    #[tracing::instrument(skip(self, draft))]
    pub async fn replace_dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
        draft: &TableDraft,
    ) -> Written<DiningTable> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some((current, was_active)) =
                lock_dining_table(&mut tx, restaurant_id, table_type_id, id).await?
            else {
                return Ok(Err(no_table(restaurant_id, table_type_id, id)));
            };
            if let Err(stale) = check_version("the table", current, expected) {
                return Ok(Err(stale));
            }
            if let Err(taken) = check_label(&mut tx, table_type_id, Some(id), draft).await? {
                return Ok(Err(taken));
            }
            let Some(table) = sqlx::query_as!(
                DiningTable,
                "UPDATE dining_table SET label = $3, area = $4, active = $5,
                     version = version + 1, updated_at = now()
                 WHERE id = $1 AND version = $2
                 RETURNING id, table_type_id, label, area, active, version, created_at,
                           updated_at",
                id,
                current,
                draft.label.as_str(),
                draft.area,
                draft.active,
            )
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Ok(Err(CatalogRefusal::Stale {
                    what: "the table",
                    current,
                }));
            };
            if was_active != table.active {
                sync_inventory_later(&mut tx, restaurant_id).await?;
            }
            Ok(Ok(table))
        }
        .await;
        self.finish(tx, result).await
    }

    /// Removes a table for good (nothing refers to a physical table). Removing an active one
    /// queues an inventory sync.
    ///
    /// # Errors
    /// On a database error; a refusal for a missing or stale table.
    #[tracing::instrument(skip(self))]
    pub async fn delete_dining_table(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
        id: Uuid,
        expected: Option<&[i32]>,
    ) -> Written<()> {
        let mut tx = self.pool.begin().await?;
        let result = async {
            let Some((current, was_active)) =
                lock_dining_table(&mut tx, restaurant_id, table_type_id, id).await?
            else {
                return Ok(Err(no_table(restaurant_id, table_type_id, id)));
            };
            if let Err(stale) = check_version("the table", current, expected) {
                return Ok(Err(stale));
            }
            sqlx::query!(
                "DELETE FROM dining_table WHERE id = $1 AND version = $2",
                id,
                current,
            )
            .execute(&mut *tx)
            .await?;
            if was_active {
                sync_inventory_later(&mut tx, restaurant_id).await?;
            }
            Ok(Ok(()))
        }
        .await;
        self.finish(tx, result).await
    }
}

/// Locks a table of a live table type for an update; its version and active flag.
async fn lock_dining_table(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    table_type_id: Uuid,
    id: Uuid,
) -> Result<Option<(i32, bool)>> {
    if !table_type_is_live(conn, restaurant_id, table_type_id, true).await? {
        return Ok(None);
    }
    let locked = sqlx::query!(
        "SELECT version, active FROM dining_table WHERE id = $1 AND table_type_id = $2
         FOR NO KEY UPDATE",
        id,
        table_type_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(locked.map(|table| (table.version, table.active)))
}

async fn load_dining_table(
    conn: &mut PgConnection,
    table_type_id: Uuid,
    id: Uuid,
) -> Result<Option<DiningTable>> {
    Ok(sqlx::query_as!(
        DiningTable,
        "SELECT id, table_type_id, label, area, active, version, created_at, updated_at
         FROM dining_table WHERE id = $1 AND table_type_id = $2",
        id,
        table_type_id,
    )
    .fetch_optional(conn)
    .await?)
}

async fn check_label(
    conn: &mut PgConnection,
    table_type_id: Uuid,
    except: Option<Uuid>,
    draft: &TableDraft,
) -> Result<Result<(), CatalogRefusal>> {
    let taken = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM dining_table
               WHERE table_type_id = $1 AND label = $2 AND ($3::uuid IS NULL OR id <> $3))
           AS "taken!""#,
        table_type_id,
        draft.label.as_str(),
        except,
    )
    .fetch_one(conn)
    .await?;
    Ok(if taken {
        Err(CatalogRefusal::Conflict(format!(
            "table type {table_type_id} already has a table labelled {:?}",
            draft.label.as_str()
        )))
    } else {
        Ok(())
    })
}
