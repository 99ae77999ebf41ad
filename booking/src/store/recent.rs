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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{load_restaurant, load_table_type, Store};
use crate::{Restaurant, Result, TableType};

/// How long a read counts. Staff changes reach other processes' intake within this.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// Entries kept at most, per kind; past it the expired ones go, and if that is not enough,
/// all of them.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Default)]
pub(crate) struct RecentCatalog {
    restaurants: Mutex<Entries<Uuid, Restaurant>>,
    table_types: Mutex<Entries<(Uuid, Uuid), TableType>>,
}

type Entries<K, V> = HashMap<K, (Instant, Arc<V>)>;

impl RecentCatalog {
    /// Forgets everything: after a catalog write in this process.
    pub(crate) fn forget_all(&self) {
        lock(&self.restaurants).clear();
        lock(&self.table_types).clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a map half-written in a way that matters:
    // every entry is whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn fresh<K: std::hash::Hash + Eq, V>(entries: &Mutex<Entries<K, V>>, key: &K) -> Option<Arc<V>> {
    let entries = lock(entries);
    let (read_at, value) = entries.get(key)?;
    (read_at.elapsed() < FRESH_FOR).then(|| value.clone())
}

fn keep<K: std::hash::Hash + Eq, V>(entries: &Mutex<Entries<K, V>>, key: K, value: Arc<V>) {
    let mut entries = lock(entries);
    if entries.len() >= MAX_ENTRIES {
        entries.retain(|_, (read_at, _)| read_at.elapsed() < FRESH_FOR);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
    }
    entries.insert(key, (Instant::now(), value));
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

        // Read longer ago than FRESH_FOR: no longer counts.
        lock(&catalog.table_types).get_mut(&key).unwrap().0 =
            Instant::now().checked_sub(FRESH_FOR).unwrap();
        assert!(fresh(&catalog.table_types, &key).is_none());

        keep(&catalog.table_types, key, a_table_type(key));
        assert!(fresh(&catalog.table_types, &key).is_some());
        catalog.forget_all();
        assert!(fresh(&catalog.table_types, &key).is_none());
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
