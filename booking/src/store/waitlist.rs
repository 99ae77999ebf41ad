//! The waitlist's entries, and the offers of freed tables.
//!
//! Offers are made only on the restaurant's serial lane ([`Store::offer_waitlist`], after every
//! command that may give tables back), in join order. An offer is a reservation of its own,
//! recorded and decided by the same decision as any booking, so it can never take more than
//! the inventory has: it becomes `held` (the diner pays it within the hold, as any booking) or
//! `confirmed` where no prepayment is taken. An entry is offered at most once: an offer that
//! lapses (its hold expired, its payment declined) ends the entry, and the tables it gave back
//! go to the next in line.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::{notifications, Store};
use crate::availability::SlotAvailability;
use crate::reservation::Guest;
use crate::waitlist::{WaitlistEntry, WaitlistRequest, WaitlistStatus};
use crate::{
    BookingRequest, Decision, DecisionPolicy, GuestDetails, NotificationKind, Refusal, Result,
    Status,
};

/// The most waiting entries one pass looks at.
const PASS_LIMIT: i64 = 500;

/// What joining the waitlist did.
#[derive(Debug)]
pub enum Joined {
    Created(WaitlistEntry),
    /// The entry of this id exists: a retry when it was made from the same request.
    Existing(WaitlistEntry),
}

/// An entry as the store reads it.
struct EntryRow {
    id: Uuid,
    restaurant_id: Uuid,
    service_date: NaiveDate,
    window_from: NaiveTime,
    window_until: NaiveTime,
    party_size: i32,
    guest_name: String,
    guest_email: String,
    guest_phone: Option<String>,
    callback_url: Option<String>,
    status: WaitlistStatus,
    offer_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    place: Option<i64>,
}

impl From<EntryRow> for WaitlistEntry {
    fn from(row: EntryRow) -> Self {
        WaitlistEntry {
            id: row.id,
            restaurant_id: row.restaurant_id,
            date: row.service_date,
            from: row.window_from,
            until: row.window_until,
            party_size: row.party_size,
            guest: Guest {
                name: row.guest_name,
                email: row.guest_email,
                phone: row.guest_phone,
            },
            place: row.place.filter(|_| row.status == WaitlistStatus::Waiting),
            status: row.status,
            offer_id: row.offer_id,
            callback_url: row.callback_url,
            created_at: row.created_at,
        }
    }
}

impl Store {
    /// Puts a diner in line. A diner has one place per restaurant and date: joining again with
    /// another id is refused (`Conflict`).
    ///
    /// # Errors
    /// A [`Refusal::Conflict`] for a second place; the outer error on a database error.
    #[tracing::instrument(skip_all, fields(waitlist_id = %request.id))]
    pub async fn join_waitlist(
        &self,
        request: &WaitlistRequest,
    ) -> Result<Result<Joined, Refusal>> {
        let inserted = sqlx::query_scalar!(
            "INSERT INTO waitlist_entry (id, restaurant_id, service_date, window_from,
                 window_until, party_size, guest_name, guest_email, guest_phone, callback_url)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (id) DO NOTHING RETURNING id",
            request.id,
            request.restaurant_id,
            request.date,
            request.from,
            request.until,
            request.party_size,
            request.guest.name,
            request.guest.email,
            request.guest.phone,
            request.callback_url,
        )
        .fetch_optional(&self.pool)
        .await;
        let created = match inserted {
            Ok(created) => created.is_some(),
            Err(sqlx::Error::Database(e))
                if e.constraint() == Some("waitlist_one_place_per_guest") =>
            {
                return Ok(Err(Refusal::Conflict(format!(
                    "{} is already on this restaurant's waitlist for {}; leave that place \
                     first to change it",
                    request.guest.email, request.date
                ))))
            }
            Err(e) => return Err(e.into()),
        };
        if created {
            metrics::counter!("maitred_waitlist_joined_total").increment(1);
        }
        let entry = self.waitlist_entry(request.id).await?;
        Ok(match entry {
            Some(entry) if created => Ok(Joined::Created(entry)),
            Some(entry) => Ok(Joined::Existing(entry)),
            None => Err(Refusal::Missing),
        })
    }

    /// One entry, with its place in line while it waits.
    ///
    /// # Errors
    /// On a database error.
    pub async fn waitlist_entry(&self, id: Uuid) -> Result<Option<WaitlistEntry>> {
        let row = sqlx::query_as!(
            EntryRow,
            r#"SELECT w.id, w.restaurant_id, w.service_date, w.window_from, w.window_until,
                      w.party_size, w.guest_name, w.guest_email, w.guest_phone, w.callback_url,
                      w.status AS "status: WaitlistStatus", w.offer_id, w.created_at,
                      (SELECT count(*) + 1 FROM waitlist_entry o
                       WHERE o.restaurant_id = w.restaurant_id
                         AND o.service_date = w.service_date AND o.status = 'waiting'
                         AND (o.created_at, o.id) < (w.created_at, w.id)) AS place
               FROM waitlist_entry w WHERE w.id = $1"#,
            id,
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(WaitlistEntry::from))
    }

    /// The waitlist of a restaurant's date, in join order, every status.
    ///
    /// # Errors
    /// On a database error.
    pub async fn waitlist_on(
        &self,
        restaurant_id: Uuid,
        date: NaiveDate,
    ) -> Result<Vec<WaitlistEntry>> {
        let rows = sqlx::query_as!(
            EntryRow,
            r#"SELECT id, restaurant_id, service_date, window_from, window_until, party_size,
                      guest_name, guest_email, guest_phone, callback_url,
                      status AS "status: WaitlistStatus", offer_id, created_at,
                      CASE WHEN status = 'waiting' THEN
                          count(*) FILTER (WHERE status = 'waiting')
                              OVER (ORDER BY created_at, id) END AS place
               FROM waitlist_entry WHERE restaurant_id = $1 AND service_date = $2
               ORDER BY created_at, id"#,
            restaurant_id,
            date,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(WaitlistEntry::from).collect())
    }

    /// The diner leaves the line. Only a waiting entry can: an offered one is a reservation,
    /// canceled as any.
    ///
    /// # Errors
    /// A [`Refusal`] when it is not waiting; the outer error on a database error.
    pub async fn leave_waitlist(&self, id: Uuid) -> Result<Result<WaitlistEntry, Refusal>> {
        let left = sqlx::query_scalar!(
            "UPDATE waitlist_entry SET status = 'left', updated_at = now()
             WHERE id = $1 AND status = 'waiting' RETURNING id",
            id,
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(entry) = self.waitlist_entry(id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        if left.is_none() && entry.status != WaitlistStatus::Left {
            return Ok(Err(Refusal::Conflict(match entry.offer_id {
                Some(offer) if entry.status == WaitlistStatus::Offered => {
                    format!("a table was offered: reservation {offer}; cancel it to give it up")
                }
                _ => {
                    format!("this entry is {:?} and no longer waiting", entry.status).to_lowercase()
                }
            })));
        }
        Ok(Ok(entry))
    }

    /// Offers the restaurant's free tables to its waitlist, in join order: the first entry a
    /// free start time in its window fits gets a reservation of the smallest table type that
    /// seats it, at the earliest such time. Also settles earlier offers: paid or confirmed
    /// ones are `booked`, lapsed ones `lapsed`. Run on the restaurant's serial lane, after
    /// every command that may give tables back. Returns the reservations offered.
    ///
    /// # Errors
    /// On a database error, or a broken invariant of the decision.
    #[tracing::instrument(skip(self, policy))]
    pub async fn offer_waitlist(
        &self,
        restaurant_id: Uuid,
        policy: &DecisionPolicy,
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>> {
        let has_entries = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM waitlist_entry
                              WHERE restaurant_id = $1 AND status IN ('waiting', 'offered'))
               AS "exists!""#,
            restaurant_id,
        )
        .fetch_one(&self.pool)
        .await?;
        if !has_entries {
            return Ok(Vec::new());
        }
        self.settle_offers(restaurant_id, policy).await?;
        let Some(restaurant) = self.restaurant(restaurant_id).await? else {
            return Ok(Vec::new());
        };
        let today = restaurant.today(now);
        let waiting = sqlx::query!(
            "SELECT id, service_date, window_from, window_until, party_size, guest_name,
                    guest_email, guest_phone, callback_url
             FROM waitlist_entry
             WHERE restaurant_id = $1 AND status = 'waiting' AND service_date >= $2
             ORDER BY created_at, id LIMIT $3",
            restaurant_id,
            today,
            PASS_LIMIT,
        )
        .fetch_all(&self.pool)
        .await?;
        let mut offered = Vec::new();
        let mut free: HashMap<(NaiveDate, i32), Vec<SlotAvailability>> = HashMap::new();
        for entry in waiting {
            let key = (entry.service_date, entry.party_size);
            if let std::collections::hash_map::Entry::Vacant(vacant) = free.entry(key) {
                let slots = self
                    .availability(
                        &restaurant,
                        entry.service_date,
                        entry.party_size,
                        None,
                        &policy.pricing,
                        now,
                    )
                    .await?;
                vacant.insert(slots);
            }
            let Some((time, table_type_id)) =
                first_fit(&free[&key], entry.window_from, entry.window_until)
            else {
                continue;
            };
            let offer_id = Uuid::new_v4();
            // The entry says so first, so it is never offered twice; an offer whose
            // reservation was never recorded goes back to waiting (`settle_offers`).
            let claimed = sqlx::query!(
                "UPDATE waitlist_entry SET status = 'offered', offer_id = $2, updated_at = now()
                 WHERE id = $1 AND status = 'waiting'",
                entry.id,
                offer_id,
            )
            .execute(&self.pool)
            .await?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            let request = BookingRequest {
                reservation_id: offer_id,
                restaurant_id,
                table_type_id,
                table_count: 1,
                party_size: entry.party_size,
                date: entry.service_date,
                time,
                duration_minutes: restaurant.sitting_minutes(entry.party_size),
                guest: GuestDetails {
                    name: entry.guest_name,
                    email: entry.guest_email,
                    phone: entry.guest_phone,
                },
                payment_token: None,
                callback_url: entry.callback_url,
                retry_key_sha256: None,
                walk_in: false,
                special_requests: None,
                tags: Vec::new(),
            };
            self.record_pending(&request, None).await?;
            if self.decide_offer(entry.id, offer_id, policy).await? {
                metrics::counter!("maitred_waitlist_offers_total").increment(1);
                offered.push(offer_id);
            }
            // The tables left changed (or the decision saw otherwise): read them again.
            free.clear();
        }
        Ok(offered)
    }

    /// Decides an offer's reservation on the spot (the lane is this restaurant's) and tells
    /// the diner of a held one. Returns whether the offer stands; a refused one puts the entry
    /// back in line, in its place.
    async fn decide_offer(
        &self,
        entry_id: Uuid,
        offer_id: Uuid,
        policy: &DecisionPolicy,
    ) -> Result<bool> {
        let decision = self.decide(offer_id, policy).await?;
        // Decided here: the command its outbox row stands for has nothing left to do.
        self.published_many(&[offer_id]).await?;
        let status = match decision {
            Decision::Held { .. } => Status::Held,
            Decision::Confirmed { .. } => Status::Confirmed,
            Decision::AlreadyDecided(status) => status,
            Decision::Rejected(_) | Decision::Missing => Status::Rejected,
        };
        self.record_offer_outcome(entry_id, offer_id, status).await
    }

    /// Moves an offered entry after its reservation's state; queues the offer's email for a
    /// held one (once: the queue skips a kind already queued).
    async fn record_offer_outcome(
        &self,
        entry_id: Uuid,
        offer_id: Uuid,
        status: Status,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let stands = match status {
            Status::Held => {
                notifications::queue(&mut tx, &[(offer_id, NotificationKind::WaitlistOffer)])
                    .await?;
                true
            }
            Status::Pending => true,
            Status::Rejected => {
                sqlx::query!(
                    "UPDATE waitlist_entry SET status = 'waiting', offer_id = NULL,
                         updated_at = now()
                     WHERE id = $1 AND status = 'offered' AND offer_id = $2",
                    entry_id,
                    offer_id,
                )
                .execute(&mut *tx)
                .await?;
                false
            }
            _ => {
                sqlx::query!(
                    "UPDATE waitlist_entry SET status = 'booked', updated_at = now()
                     WHERE id = $1 AND status = 'offered'",
                    entry_id,
                )
                .execute(&mut *tx)
                .await?;
                true
            }
        };
        tx.commit().await?;
        Ok(stands)
    }

    /// Settles the restaurant's earlier offers: taken ones become `booked`, lapsed ones
    /// (expired, payment declined) `lapsed`, ones whose reservation was never recorded go back
    /// to waiting, and ones a crash left undecided are decided now.
    async fn settle_offers(&self, restaurant_id: Uuid, policy: &DecisionPolicy) -> Result<()> {
        let lapsed = sqlx::query_scalar!(
            "UPDATE waitlist_entry w
             SET status = CASE WHEN r.status = 'expired' OR r.reason = 'payment_declined'
                               THEN 'lapsed' ELSE 'booked' END,
                 updated_at = now()
             FROM reservation r
             WHERE w.restaurant_id = $1 AND w.status = 'offered' AND r.id = w.offer_id
               AND r.status NOT IN ('pending', 'held')
               AND (r.status <> 'rejected' OR r.reason = 'payment_declined')
             RETURNING w.status",
            restaurant_id,
        )
        .fetch_all(&self.pool)
        .await?;
        let lapses = lapsed.iter().filter(|s| *s == "lapsed").count();
        if lapses > 0 {
            metrics::counter!("maitred_waitlist_lapsed_total").increment(lapses as u64);
        }
        sqlx::query!(
            "UPDATE waitlist_entry w SET status = 'waiting', offer_id = NULL, updated_at = now()
             WHERE w.restaurant_id = $1 AND w.status = 'offered'
               AND NOT EXISTS (SELECT 1 FROM reservation r
                               WHERE r.id = w.offer_id
                                 AND (r.status <> 'rejected' OR r.reason = 'payment_declined'))",
            restaurant_id,
        )
        .execute(&self.pool)
        .await?;
        let undecided = sqlx::query!(
            "SELECT w.id, w.offer_id AS \"offer_id!\" FROM waitlist_entry w
             JOIN reservation r ON r.id = w.offer_id
             WHERE w.restaurant_id = $1 AND w.status = 'offered' AND r.status = 'pending'",
            restaurant_id,
        )
        .fetch_all(&self.pool)
        .await?;
        for offer in undecided {
            self.decide_offer(offer.id, offer.offer_id, policy).await?;
        }
        Ok(())
    }
}

/// The earliest start in `[from, until]` with a table left, at the smallest type that seats
/// the party then.
fn first_fit(
    slots: &[SlotAvailability],
    from: NaiveTime,
    until: NaiveTime,
) -> Option<(NaiveTime, Uuid)> {
    slots
        .iter()
        .filter(|slot| from <= slot.time && slot.time <= until)
        .find_map(|slot| {
            slot.table_types
                .iter()
                .filter(|t| t.tables_left > 0)
                .min_by_key(|t| (t.seats_max, t.price_cents))
                .map(|t| (slot.time, t.table_type_id))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::availability::TypeAvailability;

    fn slot(time: &str, types: &[(u128, i32, i32)]) -> SlotAvailability {
        SlotAvailability {
            time: NaiveTime::parse_from_str(time, "%H:%M").unwrap(),
            table_types: types
                .iter()
                .map(|&(id, seats_max, left)| TypeAvailability {
                    table_type_id: Uuid::from_u128(id),
                    name: format!("{seats_max}-top"),
                    seats_min: 1,
                    seats_max,
                    tables_left: left,
                    price_cents: 1000,
                    currency: "EUR".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_earliest_time_in_the_window_at_the_smallest_free_type() {
        let slots = [
            slot("18:00", &[(1, 2, 5)]),
            slot("19:00", &[(1, 2, 0), (2, 6, 1), (3, 4, 1)]),
            slot("19:30", &[(1, 2, 3)]),
        ];
        let at = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").unwrap();
        assert_eq!(
            first_fit(&slots, at("18:30"), at("21:00")),
            Some((at("19:00"), Uuid::from_u128(3)))
        );
        assert_eq!(
            first_fit(&slots, at("17:00"), at("18:00")),
            Some((at("18:00"), Uuid::from_u128(1)))
        );
        assert_eq!(first_fit(&slots, at("20:00"), at("22:00")), None);
    }
}
