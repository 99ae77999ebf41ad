//! Seating: the physical tables a party sits at.
//!
//! A diner books a table type; the host assigns tables when the party arrives
//! (`confirmed → seated`), and the party's leaving (`seated → completed`) frees them. A seating
//! holds a table for a range of the restaurant's wall-clock time, and the `seating_table_taken`
//! exclusion constraint refuses two overlapping ranges on one table: two hosts seating two
//! parties at one table at once cannot both succeed, whatever the code checks first.
//!
//! Seating takes no inventory (the booking took it when it was decided), so it is made here,
//! under the reservation's row lock, not on the serial lane.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::transition::{self, Locked};
use super::Store;
use crate::{Invalid, Refusal, Reservation, Restaurant, Result, Status};

/// How long before its start a booking's party may be seated.
pub const EARLIEST_SEATING: Duration = Duration::hours(1);

/// The exclusion constraint that refuses two parties at one table at once.
const TABLE_TAKEN: &str = "seating_table_taken";

/// A table a party sits at, and for when (the restaurant's wall-clock time).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Seating {
    pub reservation_id: Uuid,
    pub table_id: Uuid,
    pub label: String,
    pub area: String,
    #[schema(value_type = String, example = "2026-12-24T19:30:00")]
    pub from: NaiveDateTime,
    #[schema(value_type = String, example = "2026-12-24T21:00:00")]
    pub until: NaiveDateTime,
}

/// A table of the booking's type that is free for the whole booking.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FreeTable {
    pub table_id: Uuid,
    pub label: String,
    pub area: String,
    /// When its last party of the day left, if one did: the table free longest comes first.
    #[schema(value_type = Option<String>)]
    pub free_since: Option<NaiveDateTime>,
}

/// The tables a confirmed booking could be seated at now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TableOptions {
    /// The range a seating made now would hold.
    #[schema(value_type = String)]
    pub from: NaiveDateTime,
    #[schema(value_type = String)]
    pub until: NaiveDateTime,
    /// Free tables of the booking's type, the suggested first: the booking's `tableCount` at
    /// the head of this list are the suggestion.
    pub free: Vec<FreeTable>,
    /// When fewer tables are free than the booking needs (an overbooked slot): when enough
    /// will be, as the parties seated now are booked to leave.
    #[schema(value_type = Option<String>)]
    pub next_free_at: Option<NaiveDateTime>,
}

/// What a table is doing at one moment, for the floor view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableState {
    Free,
    /// A party sits at it.
    Seated,
    /// Kept for a confirmed booking of its type that starts within the hour and is not seated.
    Held,
    /// Taken out of service by staff.
    OutOfService,
}

/// One table on the floor view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FloorTable {
    pub table_id: Uuid,
    pub label: String,
    pub area: String,
    pub table_type_id: Uuid,
    pub table_type: String,
    pub seats: i32,
    pub state: TableState,
    /// The booking it is seated or held for.
    pub reservation_id: Option<Uuid>,
    pub guest_name: Option<String>,
    pub party_size: Option<i32>,
    /// Seated: when the party is booked to leave. Held: when the booking starts.
    #[schema(value_type = Option<String>)]
    pub until: Option<NaiveDateTime>,
}

/// A table as seating reads it.
struct TableRow {
    id: Uuid,
    label: String,
    table_type_id: Uuid,
    active: bool,
}

impl Store {
    /// Seats a confirmed booking at `table_ids` (as many as its `tableCount`, all of its type
    /// and in service), for the rest of its booked time: from now to its booked end.
    ///
    /// # Errors
    /// A [`Refusal`]: no such booking, not confirmed, the wrong tables (`Invalid`, naming
    /// `tableIds`), too early or over, or a table taken (`Conflict`). The outer error on a
    /// database error.
    #[tracing::instrument(skip(self))]
    pub async fn seat(
        &self,
        reservation_id: Uuid,
        table_ids: &[Uuid],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(Reservation, Vec<Seating>), Refusal>> {
        let mut tx = self.pool.begin().await?;
        let Some(mut locked) = transition::lock(&mut tx, reservation_id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        if !locked.status.can_become(Status::Seated) {
            return Ok(Err(Refusal::IllegalTransition {
                current: locked.status.as_str(),
                action: "seated",
            }));
        }
        let Some(restaurant) =
            super::load_restaurant_including_deleted(&mut tx, locked.restaurant_id).await?
        else {
            return Ok(Err(Refusal::Missing));
        };
        let tables = match chosen_tables(&mut tx, &locked, table_ids).await? {
            Ok(tables) => tables,
            Err(invalid) => return Ok(Err(Refusal::Invalid(invalid))),
        };
        let start = locked.service_date.and_time(locked.start_time);
        let (from, until) =
            match seating_range(start, locked.duration_minutes, restaurant.local_now(now)) {
                Ok(range) => range,
                Err(why) => return Ok(Err(Refusal::Conflict(why))),
            };
        // Said in words when it is already so; the constraint below decides a race.
        if let Some(taken) = first_taken(&mut tx, table_ids, from, until).await? {
            return Ok(Err(Refusal::Conflict(taken)));
        }
        let inserted = sqlx::query!(
            "INSERT INTO seating (reservation_id, table_id, during)
             SELECT $1, t, tsrange($3, $4) FROM unnest($2::uuid[]) AS t",
            locked.id,
            table_ids,
            from,
            until,
        )
        .execute(&mut *tx)
        .await;
        if let Err(sqlx::Error::Database(e)) = &inserted {
            if e.constraint() == Some(TABLE_TAKEN) {
                metrics::counter!("maitred_seating_conflicts_total").increment(1);
                return Ok(Err(Refusal::Conflict(
                    "another party was just seated at one of these tables; choose another".into(),
                )));
            }
        }
        inserted?;
        let labels: Vec<&str> = tables.iter().map(|t| t.label.as_str()).collect();
        let reason = format!("table {}", labels.join(", "));
        transition::transition(&mut tx, &mut locked, Status::Seated, Some(&reason), actor).await?;
        tx.commit().await?;
        let reservation = self.reservation(reservation_id).await?;
        let seated = self.seatings_of(&[reservation_id]).await?;
        Ok(reservation.map(|r| (r, seated)).ok_or(Refusal::Missing))
    }

    /// The table type of `table_ids`, for a walk-in: they must all be tables of one live table
    /// type of the restaurant, in service, and not taken by a party at `local_now`.
    ///
    /// # Errors
    /// `Invalid` (naming `tableIds`) or `Conflict` (taken) as a [`Refusal`].
    pub async fn walk_in_table_type(
        &self,
        restaurant: &Restaurant,
        table_ids: &[Uuid],
        local_now: NaiveDateTime,
    ) -> Result<Result<Uuid, Refusal>> {
        let invalid =
            |message: String| Ok(Err(Refusal::Invalid(Invalid::new("tableIds", message))));
        let tables = sqlx::query!(
            "SELECT t.id, t.label, t.active, t.table_type_id
             FROM dining_table t JOIN table_type tt ON tt.id = t.table_type_id
             WHERE t.id = ANY($1) AND tt.restaurant_id = $2 AND tt.deleted_at IS NULL",
            table_ids,
            restaurant.id,
        )
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = tables.first() else {
            return invalid("choose at least one table of this restaurant".into());
        };
        if let Some(missing) = table_ids
            .iter()
            .find(|id| !tables.iter().any(|t| t.id == **id))
        {
            return invalid(format!(
                "this restaurant has no table with the id {missing}"
            ));
        }
        if let Some(other) = tables
            .iter()
            .find(|t| t.table_type_id != first.table_type_id)
        {
            return invalid(format!(
                "tables {} and {} are of different table types; a party sits at tables of one type",
                first.label, other.label
            ));
        }
        if let Some(off) = tables.iter().find(|t| !t.active) {
            return invalid(format!("table {} is out of service", off.label));
        }
        let mut conn = self.pool.acquire().await?;
        let soon = local_now + Duration::minutes(1);
        if let Some(taken) = first_taken(&mut conn, table_ids, local_now, soon).await? {
            return Ok(Err(Refusal::Conflict(taken)));
        }
        Ok(Ok(first.table_type_id))
    }

    /// The tables of `reservation_ids`' seatings, by reservation and label.
    ///
    /// # Errors
    /// On a database error.
    pub async fn seatings_of(&self, reservation_ids: &[Uuid]) -> Result<Vec<Seating>> {
        Ok(sqlx::query_as!(
            Seating,
            r#"SELECT s.reservation_id, s.table_id, t.label, t.area,
                      lower(s.during) AS "from!", upper(s.during) AS "until!"
               FROM seating s JOIN dining_table t ON t.id = s.table_id
               WHERE s.reservation_id = ANY($1)
               ORDER BY s.reservation_id, t.label"#,
            reservation_ids,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The tables a confirmed booking could be seated at now, the suggested first (the
    /// smallest that fits, then the one free longest), or when enough will be free.
    /// `None` when there is no such reservation.
    ///
    /// # Errors
    /// A [`Refusal`] when the booking cannot be seated now (not confirmed, too early, over).
    pub async fn table_options(
        &self,
        reservation_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Result<TableOptions, Refusal>> {
        let Some(booking) = self.reservation(reservation_id).await? else {
            return Ok(Err(Refusal::Missing));
        };
        if !booking.status.can_become(Status::Seated) {
            return Ok(Err(Refusal::IllegalTransition {
                current: booking.status.as_str(),
                action: "seated",
            }));
        }
        let mut conn = self.pool.acquire().await?;
        let Some(restaurant) =
            super::load_restaurant_including_deleted(&mut conn, booking.restaurant_id).await?
        else {
            return Ok(Err(Refusal::Missing));
        };
        let start = booking.date.and_time(booking.time);
        let (from, until) =
            match seating_range(start, booking.duration_minutes, restaurant.local_now(now)) {
                Ok(range) => range,
                Err(why) => return Ok(Err(Refusal::Conflict(why))),
            };
        let day_start = from.date().and_hms_opt(0, 0, 0).unwrap_or(from);
        let free = sqlx::query_as!(
            FreeTable,
            r#"SELECT t.id AS table_id, t.label, t.area,
                      (SELECT max(upper(s.during)) FROM seating s
                       WHERE s.table_id = t.id AND upper(s.during) <= $2
                         AND upper(s.during) >= $4) AS free_since
               FROM dining_table t
               WHERE t.table_type_id = $1 AND t.active
                 AND NOT EXISTS (SELECT 1 FROM seating s
                                 WHERE s.table_id = t.id AND s.during && tsrange($2, $3))
               ORDER BY free_since NULLS FIRST, t.label"#,
            booking.table_type_id,
            from,
            until,
            day_start,
        )
        .fetch_all(&mut *conn)
        .await?;
        let short = usize::try_from(booking.table_count)
            .unwrap_or(0)
            .saturating_sub(free.len());
        let next_free_at = if short == 0 {
            None
        } else {
            // The busy tables free up as their parties are booked to leave: enough are free
            // once `short` of them have.
            let leaving = sqlx::query_scalar!(
                r#"SELECT upper(s.during) AS "until!"
                   FROM seating s JOIN dining_table t ON t.id = s.table_id
                   WHERE t.table_type_id = $1 AND t.active AND s.during && tsrange($2, $3)
                   ORDER BY 1"#,
                booking.table_type_id,
                from,
                until,
            )
            .fetch_all(&mut *conn)
            .await?;
            leaving.get(short - 1).copied()
        };
        Ok(Ok(TableOptions {
            from,
            until,
            free,
            next_free_at,
        }))
    }

    /// Every table of the restaurant at local time `at`: free, seated (with whom, until
    /// when), held for a confirmed booking that starts within the hour and has no table yet,
    /// or out of service. By area, then label.
    ///
    /// # Errors
    /// On a database error.
    pub async fn floor(
        &self,
        restaurant: &Restaurant,
        at: NaiveDateTime,
    ) -> Result<Vec<FloorTable>> {
        let tables = sqlx::query!(
            r#"SELECT t.id, t.label, t.area, t.active, t.table_type_id, tt.name AS type_name,
                      tt.seats_max,
                      s.reservation_id AS "reservation_id?", upper(s.during) AS until,
                      r.guest_name AS "guest_name?", r.party_size AS "party_size?"
               FROM dining_table t
               JOIN table_type tt ON tt.id = t.table_type_id
               LEFT JOIN seating s ON s.table_id = t.id AND s.during @> $2::timestamp
               LEFT JOIN reservation r ON r.id = s.reservation_id
               WHERE tt.restaurant_id = $1 AND tt.deleted_at IS NULL
               ORDER BY t.area, t.label"#,
            restaurant.id,
            at,
        )
        .fetch_all(&self.pool)
        .await?;
        // Confirmed bookings without tables that start within the hour (or started and are
        // late): each keeps as many free tables of its type as it booked, earliest first.
        let coming = sqlx::query!(
            "SELECT id, table_type_id, table_count, guest_name, party_size,
                    service_date + start_time AS \"starts!\"
             FROM reservation
             WHERE restaurant_id = $1 AND status = 'confirmed'
               AND service_date + start_time < $2::timestamp + interval '1 hour'
               AND service_date + start_time + make_interval(mins => duration_minutes) > $2
             ORDER BY service_date + start_time, created_at",
            restaurant.id,
            at,
        )
        .fetch_all(&self.pool)
        .await?;
        let mut floor: Vec<FloorTable> = tables
            .into_iter()
            .map(|t| {
                let state = match (t.active, t.reservation_id) {
                    (_, Some(_)) => TableState::Seated,
                    (false, None) => TableState::OutOfService,
                    (true, None) => TableState::Free,
                };
                FloorTable {
                    table_id: t.id,
                    label: t.label,
                    area: t.area,
                    table_type_id: t.table_type_id,
                    table_type: t.type_name,
                    seats: t.seats_max,
                    state,
                    reservation_id: t.reservation_id,
                    guest_name: t.guest_name,
                    party_size: t.party_size,
                    until: t.until,
                }
            })
            .collect();
        let mut free_of_type: HashMap<Uuid, Vec<usize>> = HashMap::new();
        for (i, table) in floor.iter().enumerate() {
            if table.state == TableState::Free {
                free_of_type.entry(table.table_type_id).or_default().push(i);
            }
        }
        for booking in coming {
            let Some(free) = free_of_type.get_mut(&booking.table_type_id) else {
                continue;
            };
            let wanted = usize::try_from(booking.table_count).unwrap_or(0);
            for i in free.drain(..wanted.min(free.len())) {
                let table = &mut floor[i];
                table.state = TableState::Held;
                table.reservation_id = Some(booking.id);
                table.guest_name = Some(booking.guest_name.clone());
                table.party_size = Some(booking.party_size);
                table.until = Some(booking.starts);
            }
        }
        Ok(floor)
    }
}

/// Ends a party's seatings at `local_now` (the restaurant's clock) when they leave before
/// their booked end, so the tables are free for the next party.
pub(crate) async fn end_seatings(
    conn: &mut PgConnection,
    reservation_id: Uuid,
    local_now: NaiveDateTime,
) -> Result<()> {
    sqlx::query!(
        "UPDATE seating SET during = tsrange(lower(during), $2)
         WHERE reservation_id = $1 AND upper(during) > $2 AND lower(during) < $2",
        reservation_id,
        local_now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The chosen tables, once they are known to be as many as the booking's, distinct, of its
/// type and in service. Locked `FOR SHARE`, so a table taken out of service waits.
async fn chosen_tables(
    conn: &mut PgConnection,
    locked: &Locked,
    table_ids: &[Uuid],
) -> Result<Result<Vec<TableRow>, Invalid>> {
    let mut distinct = table_ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != table_ids.len() {
        return Ok(Err(Invalid::new("tableIds", "a table is listed twice")));
    }
    if i64::try_from(table_ids.len()).ok() != Some(i64::from(locked.table_count)) {
        return Ok(Err(Invalid::new(
            "tableIds",
            format!(
                "this booking is for {} table{}; choose {0}, not {}",
                locked.table_count,
                if locked.table_count == 1 { "" } else { "s" },
                table_ids.len()
            ),
        )));
    }
    let tables = sqlx::query_as!(
        TableRow,
        "SELECT id, label, table_type_id, active FROM dining_table
         WHERE id = ANY($1) ORDER BY id FOR SHARE",
        table_ids,
    )
    .fetch_all(&mut *conn)
    .await?;
    for id in table_ids {
        let Some(table) = tables.iter().find(|t| t.id == *id) else {
            return Ok(Err(Invalid::new(
                "tableIds",
                format!("no table has the id {id}"),
            )));
        };
        if table.table_type_id != locked.table_type_id {
            return Ok(Err(Invalid::new(
                "tableIds",
                format!(
                    "table {} is not of the booked table type; choose one of its type",
                    table.label
                ),
            )));
        }
        if !table.active {
            return Ok(Err(Invalid::new(
                "tableIds",
                format!("table {} is out of service", table.label),
            )));
        }
    }
    Ok(Ok(tables))
}

/// The range a seating made at `local_now` holds: from now to the booking's end. Refused an hour or more before the start, and once
/// the booking is over.
fn seating_range(
    start: NaiveDateTime,
    duration_minutes: i32,
    local_now: NaiveDateTime,
) -> Result<(NaiveDateTime, NaiveDateTime), String> {
    let end = start + Duration::minutes(i64::from(duration_minutes));
    let now = local_now;
    if now >= end {
        return Err(format!(
            "this booking ended at {}; it can no longer be seated",
            end.format("%H:%M")
        ));
    }
    if now < start - EARLIEST_SEATING {
        return Err(format!(
            "this booking starts at {} on {}; its party can be seated from {}",
            start.format("%H:%M"),
            start.format("%Y-%m-%d"),
            (start - EARLIEST_SEATING).format("%H:%M")
        ));
    }
    // From now: a late party needs the table from when it sits, an early one too.
    Ok((now, end))
}

/// A sentence naming the first of `table_ids` another party sits at during the range.
async fn first_taken(
    conn: &mut PgConnection,
    table_ids: &[Uuid],
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Option<String>> {
    let taken = sqlx::query!(
        r#"SELECT t.label, upper(s.during) AS "until!"
           FROM seating s JOIN dining_table t ON t.id = s.table_id
           WHERE s.table_id = ANY($1) AND s.during && tsrange($2, $3)
           ORDER BY t.label LIMIT 1"#,
        table_ids,
        from,
        until,
    )
    .fetch_optional(conn)
    .await?;
    Ok(taken.map(|t| {
        format!(
            "table {} is taken by another party until {}; choose another",
            t.label,
            t.until.format("%H:%M")
        )
    }))
}
