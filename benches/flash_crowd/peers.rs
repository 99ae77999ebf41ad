//! The peers: an HTTP endpoint each, deciding in the request.

use super::*;
use crate::scene::Scene;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    Naive,
    ForUpdate,
    Conditional,
    Optimistic,
}

#[derive(Clone)]
pub(crate) struct PeerState {
    pub(crate) kind: Peer,
    pub(crate) pool: PgPool,
    pub(crate) scene: Arc<Scene>,
}

/// The reservation row of an accepted booking, with its guest, in one statement.
const INSERT_RESERVATION: &str = "WITH g AS (
        INSERT INTO guest (id, name, email) VALUES ($1, 'Bench Diner', $2) RETURNING id
    )
    INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name, guest_email,
        table_count, party_size, service_date, start_time, duration_minutes, status, reason,
        price_cents, currency, reserved_slots)
    SELECT $3, $4, $5, g.id, 'Bench Diner', $2, 1, 2, $6, $7, 90, 'confirmed', 'no_prepayment',
           2500, 'EUR', ARRAY[$8::timestamp]
    FROM g";

async fn insert_reservation(
    conn: &mut sqlx::PgConnection,
    scene: &Scene,
    id: Uuid,
    table_type: Uuid,
    email: &str,
) -> sqlx::Result<()> {
    sqlx::query(INSERT_RESERVATION)
        .bind(Uuid::new_v4())
        .bind(email)
        .bind(id)
        .bind(scene.restaurant_id)
        .bind(table_type)
        .bind(scene.date)
        .bind(scene.time)
        .bind(scene.slot())
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) const LIMIT_EXPR: &str = "total_inventory * (100 + overbooking_pct) / 100";

/// Decides one booking in the request. Returns whether it was accepted.
async fn peer_decide(
    state: &PeerState,
    id: Uuid,
    table_type: Uuid,
    email: &str,
) -> sqlx::Result<bool> {
    let scene = &state.scene;
    let slot = scene.slot();
    let mut conn = state.pool.acquire().await?;
    match state.kind {
        Peer::Naive => {
            // Check, then write what was read plus one: lost updates oversell.
            let (reserved, limit): (i32, i32) = sqlx::query_as(&format!(
                "SELECT total_reserved, {LIMIT_EXPR} FROM inventory
                 WHERE table_type_id = $1 AND slot_start = $2"
            ))
            .bind(table_type)
            .bind(slot)
            .fetch_one(&mut *conn)
            .await?;
            if reserved >= limit {
                return Ok(false);
            }
            let mut tx = conn.begin().await?;
            insert_reservation(&mut tx, scene, id, table_type, email).await?;
            sqlx::query(
                "UPDATE inventory SET total_reserved = $3 WHERE table_type_id = $1 AND slot_start = $2",
            )
            .bind(table_type)
            .bind(slot)
            .bind(reserved + 1)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }
        Peer::ForUpdate => {
            let mut tx = conn.begin().await?;
            let (reserved, limit): (i32, i32) = sqlx::query_as(&format!(
                "SELECT total_reserved, {LIMIT_EXPR} FROM inventory
                 WHERE table_type_id = $1 AND slot_start = $2 FOR UPDATE"
            ))
            .bind(table_type)
            .bind(slot)
            .fetch_one(&mut *tx)
            .await?;
            if reserved + 1 > limit {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2",
            )
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
            insert_reservation(&mut tx, scene, id, table_type, email).await?;
            tx.commit().await?;
            Ok(true)
        }
        Peer::Conditional => {
            let mut tx = conn.begin().await?;
            let updated = sqlx::query(&format!(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2 AND total_reserved + 1 <= {LIMIT_EXPR}"
            ))
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            insert_reservation(&mut tx, scene, id, table_type, email).await?;
            tx.commit().await?;
            Ok(true)
        }
        Peer::Optimistic => {
            for _ in 0..OPTIMISTIC_ATTEMPTS {
                let (reserved, limit, version): (i32, i32, i64) = sqlx::query_as(&format!(
                    "SELECT total_reserved, {LIMIT_EXPR}, version FROM inventory
                     WHERE table_type_id = $1 AND slot_start = $2"
                ))
                .bind(table_type)
                .bind(slot)
                .fetch_one(&mut *conn)
                .await?;
                if reserved + 1 > limit {
                    return Ok(false);
                }
                let mut tx = conn.begin().await?;
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
                if updated == 1 {
                    insert_reservation(&mut tx, scene, id, table_type, email).await?;
                    tx.commit().await?;
                    return Ok(true);
                }
                tx.rollback().await?;
            }
            // Gave up after bounded retries: the client hears "try again later".
            Err(sqlx::Error::Protocol(
                "optimistic: retries exhausted".into(),
            ))
        }
    }
}

pub(crate) async fn peer_book(
    State(state): State<PeerState>,
    body: String,
) -> (StatusCode, String) {
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad json".into());
    };
    let id: Uuid = body["reservationId"]
        .as_str()
        .unwrap_or("")
        .parse()
        .unwrap();
    let table_type: Uuid = body["tableTypeId"].as_str().unwrap_or("").parse().unwrap();
    let email = body["guest"]["email"].as_str().unwrap_or("").to_string();
    match peer_decide(&state, id, table_type, &email).await {
        Ok(true) => (StatusCode::OK, r#"{"status":"confirmed"}"#.into()),
        Ok(false) => (StatusCode::OK, r#"{"status":"rejected"}"#.into()),
        Err(sqlx::Error::Protocol(message)) if message.starts_with("optimistic") => {
            (StatusCode::SERVICE_UNAVAILABLE, message)
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}
