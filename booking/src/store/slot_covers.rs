//! The pacing ledger (`slot_covers`): the covers starting in each slot of a restaurant and the
//! most that may. The decision counts each booking's party in its first slot beside its
//! tables, in the same transaction; a release gives them back. The table's CHECK refuses a
//! count past the limit even if this code were wrong.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sqlx::PgConnection;
use uuid::Uuid;

use super::transition::Locked;
use crate::{Error, Restaurant, Result};

/// A restaurant's slot: where a party starts.
pub(crate) type StartSlot = (Uuid, NaiveDateTime);

/// One slot's covers as locked: started so far, and the limit (`None`: not paced).
#[derive(Debug, Clone, Copy)]
struct Covers {
    started: i32,
    limit: Option<i32>,
}

/// The ledger rows of every slot a run starts parties in, locked, and what the run adds.
#[derive(Debug, Default)]
pub(crate) struct SlotCovers {
    rows: HashMap<StartSlot, Covers>,
    added: HashMap<StartSlot, i32>,
}

impl SlotCovers {
    /// Makes the missing rows and locks them all, refreshing each limit from the restaurant's
    /// current rules. A limit lowered below what already starts there becomes exactly that,
    /// so the CHECK holds and nothing more starts.
    pub(crate) async fn lock(
        conn: &mut PgConnection,
        starts: &[(&Restaurant, NaiveDateTime)],
    ) -> Result<Self> {
        let mut wanted: HashMap<StartSlot, Option<i32>> = HashMap::new();
        for (restaurant, start) in starts {
            let limit = restaurant.booking_rules.covers_limit(start.time());
            wanted.insert((restaurant.id, *start), limit);
        }
        if wanted.is_empty() {
            return Ok(Self::default());
        }
        let mut keys: Vec<(StartSlot, Option<i32>)> = wanted.into_iter().collect();
        keys.sort_unstable_by_key(|(key, _)| *key); // one lock order for every locker
        let restaurants: Vec<Uuid> = keys.iter().map(|((r, _), _)| *r).collect();
        let slots: Vec<NaiveDateTime> = keys.iter().map(|((_, s), _)| *s).collect();
        let limits: Vec<Option<i32>> = keys.iter().map(|(_, l)| *l).collect();
        let rows = sqlx::query!(
            "INSERT INTO slot_covers AS c (restaurant_id, slot_start, covers_limit)
             SELECT w.r, w.s, w.l FROM unnest($1::uuid[], $2::timestamp[], $3::int4[]) AS w(r, s, l)
             ON CONFLICT (restaurant_id, slot_start) DO UPDATE
             SET covers_limit = CASE WHEN excluded.covers_limit IS NULL THEN NULL
                                     ELSE greatest(excluded.covers_limit, c.covers_started) END
             RETURNING c.restaurant_id, c.slot_start, c.covers_started, c.covers_limit",
            &restaurants,
            &slots,
            &limits as _,
        )
        .fetch_all(conn)
        .await?;
        Ok(Self {
            rows: rows
                .into_iter()
                .map(|row| {
                    let covers = Covers {
                        started: row.covers_started,
                        limit: row.covers_limit,
                    };
                    ((row.restaurant_id, row.slot_start), covers)
                })
                .collect(),
            added: HashMap::new(),
        })
    }

    /// Whether `party` more covers may start in the slot.
    pub(crate) fn fits(&self, slot: StartSlot, party: i32) -> bool {
        self.rows.get(&slot).is_some_and(|covers| {
            covers
                .limit
                .is_none_or(|limit| i64::from(covers.started) + i64::from(party) <= limit.into())
        })
    }

    /// Counts `party` covers in the slot, once [`SlotCovers::fits`] said they fit.
    pub(crate) fn add(&mut self, slot: StartSlot, party: i32) {
        if let Some(covers) = self.rows.get_mut(&slot) {
            covers.started += party;
            *self.added.entry(slot).or_default() += party;
        }
    }

    /// Gives back `party` covers a change of the booking counted here until now.
    pub(crate) fn give_back(&mut self, slot: StartSlot, party: i32) {
        if let Some(covers) = self.rows.get_mut(&slot) {
            covers.started -= party;
            *self.added.entry(slot).or_default() -= party;
        }
    }

    /// Writes what the run added (or gave back). Conditional on the limit, and it must match every row.
    pub(crate) async fn write(&self, conn: &mut PgConnection) -> Result<()> {
        if self.added.is_empty() {
            return Ok(());
        }
        let restaurants: Vec<Uuid> = self.added.keys().map(|(r, _)| *r).collect();
        let slots: Vec<NaiveDateTime> = self.added.keys().map(|(_, s)| *s).collect();
        let covers: Vec<i32> = self.added.values().copied().collect();
        let updated = sqlx::query!(
            "UPDATE slot_covers c SET covers_started = c.covers_started + w.n
             FROM unnest($1::uuid[], $2::timestamp[], $3::int4[]) AS w(r, s, n)
             WHERE c.restaurant_id = w.r AND c.slot_start = w.s
               AND (c.covers_limit IS NULL OR c.covers_started + w.n <= c.covers_limit)",
            &restaurants,
            &slots,
            &covers,
        )
        .execute(conn)
        .await?
        .rows_affected();
        if updated != self.added.len() as u64 {
            return Err(Error::invariant(format!(
                "the pacing ledger changed under the decision's row locks: {updated} of {} \
                 slots could take their covers",
                self.added.len()
            )));
        }
        Ok(())
    }
}

/// Gives back the covers a reservation counts, with its tables. Idempotent, like the tables'
/// release: the slot is forgotten as it is released.
pub(crate) async fn release(conn: &mut PgConnection, locked: &mut Locked) -> Result<()> {
    let Some(slot) = locked.paced_slot.take() else {
        return Ok(());
    };
    sqlx::query!(
        "WITH released AS (
             UPDATE reservation SET paced_slot = NULL WHERE id = $1 AND paced_slot IS NOT NULL
             RETURNING id
         )
         UPDATE slot_covers SET covers_started = covers_started - $4
         WHERE restaurant_id = $2 AND slot_start = $3 AND EXISTS (SELECT 1 FROM released)",
        locked.id,
        locked.restaurant_id,
        slot,
        locked.party_size,
    )
    .execute(conn)
    .await?;
    Ok(())
}
