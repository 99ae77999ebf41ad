//! The catalog as intake checks a request against it: restaurants and table types as read at
//! most [`FRESH_FOR`] ago, so a crowd at one restaurant does not read the same rows three times
//! per request.
//!
//! Why a slightly old catalog is safe here: intake's check only decides whether a request is
//! worth queueing. The decision re-reads the restaurant and the type under row locks and
//! refuses a booking the catalog no longer allows (deleted, closed, off the slot grid). What
//! intake alone checks (the party against the type's seats, the booking horizon) follows a staff
//! change at once in the process that made it, since every catalog write here forgets what is
//! kept, and within [`FRESH_FOR`] in the others. Only found rows are kept: a restaurant created
//! a moment ago is never "not found" because of this.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use uuid::Uuid;

use super::{load_restaurant, load_table_type, Store};
use crate::{Restaurant, Result, TableType};

/// How long a read counts. Staff changes reach other processes' intake within this.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// Entries kept at most, per kind; past it the least used go.
const MAX_ENTRIES: u64 = 50_000;

pub(crate) struct RecentCatalog {
    restaurants: Cache<Uuid, Arc<Restaurant>>,
    table_types: Cache<(Uuid, Uuid), Arc<TableType>>,
}

impl Default for RecentCatalog {
    fn default() -> Self {
        Self::new(FRESH_FOR)
    }
}

impl fmt::Debug for RecentCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecentCatalog")
            .field("restaurants", &self.restaurants.entry_count())
            .field("table_types", &self.table_types.entry_count())
            .finish()
    }
}

impl RecentCatalog {
    /// Reads count for `fresh_for`.
    fn new(fresh_for: Duration) -> Self {
        Self {
            restaurants: Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(fresh_for)
                .build(),
            table_types: Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(fresh_for)
                .build(),
        }
    }

    /// Forgets everything: after a catalog write in this process.
    pub(crate) fn forget_all(&self) {
        self.restaurants.invalidate_all();
        self.table_types.invalidate_all();
    }
}

/// What was read recently enough under `key`, if anything.
fn fresh<K: Hash + Eq + Send + Sync + 'static, V: Send + Sync + 'static>(
    entries: &Cache<K, Arc<V>>,
    key: &K,
) -> Option<Arc<V>> {
    entries.get(key)
}

/// Keeps what was just read under `key`.
fn keep<K: Hash + Eq + Send + Sync + 'static, V: Send + Sync + 'static>(
    entries: &Cache<K, Arc<V>>,
    key: K,
    value: Arc<V>,
) {
    entries.insert(key, value);
}

impl Store {
    /// A live restaurant with its opening hours, as read at most [`FRESH_FOR`] ago.
    ///
    /// # Errors
    /// On a database error.
    pub async fn recent_restaurant(&self, id: Uuid) -> Result<Option<Arc<Restaurant>>> {
        if let Some(restaurant) = fresh(&self.recent.restaurants, &id) {
            return Ok(Some(restaurant));
        }
        let Some(restaurant) = load_restaurant(&mut *self.pool.acquire().await?, id).await? else {
            return Ok(None);
        };
        let restaurant = Arc::new(restaurant);
        keep(&self.recent.restaurants, id, restaurant.clone());
        Ok(Some(restaurant))
    }

    /// A live table type of a restaurant, as read at most [`FRESH_FOR`] ago.
    ///
    /// # Errors
    /// On a database error.
    pub async fn recent_table_type(
        &self,
        restaurant_id: Uuid,
        table_type_id: Uuid,
    ) -> Result<Option<Arc<TableType>>> {
        let key = (restaurant_id, table_type_id);
        if let Some(table_type) = fresh(&self.recent.table_types, &key) {
            return Ok(Some(table_type));
        }
        let mut conn = self.pool.acquire().await?;
        let Some(table_type) = load_table_type(&mut conn, restaurant_id, table_type_id).await?
        else {
            return Ok(None);
        };
        let table_type = Arc::new(table_type);
        keep(&self.recent.table_types, key, table_type.clone());
        Ok(Some(table_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_counts_until_it_is_too_old_or_forgotten() {
        let catalog = RecentCatalog::default();
        let key = (Uuid::new_v4(), Uuid::new_v4());
        assert!(fresh(&catalog.table_types, &key).is_none());
        keep(&catalog.table_types, key, a_table_type(key));
        assert_eq!(
            fresh(&catalog.table_types, &key).map(|t| t.seats_max),
            Some(6)
        );
        catalog.forget_all();
        assert!(fresh(&catalog.table_types, &key).is_none());

        // Read longer ago than it counts for: no longer counts.
        let brief = RecentCatalog::new(Duration::from_millis(1));
        keep(&brief.table_types, key, a_table_type(key));
        std::thread::sleep(Duration::from_millis(20));
        assert!(fresh(&brief.table_types, &key).is_none());
    }

    fn a_table_type(key: (Uuid, Uuid)) -> Arc<TableType> {
        Arc::new(TableType {
            id: key.1,
            restaurant_id: key.0,
            name: "Booth".into(),
            seats_min: 2,
            seats_max: 6,
            base_price_cents: 3000,
            currency: "EUR".into(),
            tables: 1,
            version: 2,
        })
    }
}
