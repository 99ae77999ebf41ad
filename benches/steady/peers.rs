//! The peers (deciding in the request; inventory rows made on first need, as maitred does).

use super::*;
use crate::seeding::{LIMIT_EXPR, OVERBOOKING_PCT, TABLES_PER_TYPE};

/// How a peer keeps a slot from being oversold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    /// `SELECT … FOR UPDATE`, then an update.
    ForUpdate,
    /// One `UPDATE … WHERE total_reserved + 1 <= limit`.
    Conditional,
    /// Read the row's version, then update only that version; a bounded number of retries.
    Optimistic,
}

/// Retries before the optimistic peer answers 503.
const OPTIMISTIC_ATTEMPTS: usize = 10;

impl Peer {
    /// The peer a contender's name stands for (`None`: not a peer).
    pub(crate) fn named(name: &str) -> Option<Self> {
        match name {
            "for_update" => Some(Self::ForUpdate),
            "conditional" => Some(Self::Conditional),
            "optimistic" => Some(Self::Optimistic),
            _ => None,
        }
    }
}

/// The optimistic peer's version column: bench-only schema, not a migration.
pub(crate) async fn add_version_column(admin: &PgPool) {
    sqlx::query("ALTER TABLE inventory ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0")
        .execute(admin)
        .await
        .unwrap();
}

#[derive(Clone)]
pub(crate) struct PeerState {
    pub(crate) peer: Peer,
    pub(crate) pool: PgPool,
}

/// What one attempt to take a table of a row found.
enum Take {
    Taken,
    Full,
    /// The optimistic peer's version moved under it: try again.
    Conflict,
}

/// Tries to take one table of the row in the transaction `tx`.
async fn take_one(
    peer: Peer,
    tx: &mut sqlx::PgConnection,
    table_type: Uuid,
    slot: chrono::NaiveDateTime,
) -> sqlx::Result<Take> {
    let fits = |fits: bool| if fits { Take::Taken } else { Take::Full };
    match peer {
        Peer::ForUpdate => {
            let (reserved, limit): (i32, i32) = sqlx::query_as(&format!(
                "SELECT total_reserved, {LIMIT_EXPR} FROM inventory
                 WHERE table_type_id = $1 AND slot_start = $2 FOR UPDATE"
            ))
            .bind(table_type)
            .bind(slot)
            .fetch_one(&mut *tx)
            .await?;
            if reserved >= limit {
                return Ok(Take::Full);
            }
            sqlx::query(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2",
            )
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
            Ok(Take::Taken)
        }
        Peer::Conditional => {
            let updated = sqlx::query(&format!(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2
                   AND total_reserved + 1 <= {LIMIT_EXPR}"
            ))
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(fits(updated == 1))
        }
        Peer::Optimistic => {
            // Read without a lock, then update only the version read.
            let (reserved, limit, version): (i32, i32, i64) = sqlx::query_as(&format!(
                "SELECT total_reserved, {LIMIT_EXPR}, version FROM inventory
                 WHERE table_type_id = $1 AND slot_start = $2"
            ))
            .bind(table_type)
            .bind(slot)
            .fetch_one(&mut *tx)
            .await?;
            if reserved >= limit {
                return Ok(Take::Full);
            }
            let updated = sqlx::query(
                "UPDATE inventory SET total_reserved = total_reserved + 1, version = version + 1
                 WHERE table_type_id = $1 AND slot_start = $2 AND version = $3",
            )
            .bind(table_type)
            .bind(slot)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(if updated == 1 {
                Take::Taken
            } else {
                Take::Conflict
            })
        }
    }
}

async fn peer_decide(state: &PeerState, body: &Value) -> sqlx::Result<bool> {
    let id: Uuid = body["reservationId"]
        .as_str()
        .unwrap_or("")
        .parse()
        .unwrap();
    let restaurant: Uuid = body["restaurantId"].as_str().unwrap_or("").parse().unwrap();
    let table_type: Uuid = body["tableTypeId"].as_str().unwrap_or("").parse().unwrap();
    let date: NaiveDate = body["date"].as_str().unwrap_or("").parse().unwrap();
    let time = NaiveTime::parse_from_str(body["time"].as_str().unwrap_or(""), "%H:%M").unwrap();
    let email = body["guest"]["email"].as_str().unwrap_or("");
    let slot = date.and_time(time);
    let mut conn = state.pool.acquire().await?;
    sqlx::query(
        "INSERT INTO inventory (table_type_id, slot_start, total_inventory, overbooking_pct)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(table_type)
    .bind(slot)
    .bind(TABLES_PER_TYPE)
    .bind(OVERBOOKING_PCT)
    .execute(&mut *conn)
    .await?;
    let mut attempts = 0;
    let mut tx = loop {
        let mut tx = conn.begin().await?;
        match take_one(state.peer, &mut tx, table_type, slot).await? {
            Take::Taken => break tx,
            Take::Full => {
                tx.rollback().await?;
                return Ok(false);
            }
            Take::Conflict => {
                tx.rollback().await?;
                attempts += 1;
                if attempts == OPTIMISTIC_ATTEMPTS {
                    return Err(sqlx::Error::Protocol(
                        "optimistic: retries exhausted".into(),
                    ));
                }
            }
        }
    };
    sqlx::query(
        "WITH g AS (
             INSERT INTO guest (id, name, email) VALUES ($1, 'Bench Diner', $2) RETURNING id
         )
         INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name,
             guest_email, table_count, party_size, service_date, start_time, duration_minutes,
             status, reason, price_cents, currency, reserved_slots)
         SELECT $3, $4, $5, g.id, 'Bench Diner', $2, 1, 2, $6, $7, 90, 'confirmed',
                'no_prepayment', 2500, 'EUR', ARRAY[$8::timestamp]
         FROM g",
    )
    .bind(Uuid::new_v4())
    .bind(email)
    .bind(id)
    .bind(restaurant)
    .bind(table_type)
    .bind(date)
    .bind(time)
    .bind(slot)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn peer_book(
    State(state): State<PeerState>,
    body: String,
) -> (StatusCode, String) {
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad json".into());
    };
    match peer_decide(&state, &body).await {
        Ok(true) => (StatusCode::OK, r#"{"status":"confirmed"}"#.into()),
        Ok(false) => (StatusCode::OK, r#"{"status":"rejected"}"#.into()),
        // The optimistic peer gave up: the client hears "try again later".
        Err(sqlx::Error::Protocol(message)) if message.starts_with("optimistic") => {
            (StatusCode::SERVICE_UNAVAILABLE, message)
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}
