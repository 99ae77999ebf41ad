//! The peers (deciding in the request; inventory rows made on first need, as maitred does).

use super::*;

#[derive(Clone)]
pub(crate) struct PeerState {
    pub(crate) for_update: bool,
    pub(crate) pool: PgPool,
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
    let mut tx = conn.begin().await?;
    let fits = if state.for_update {
        let (reserved, limit): (i32, i32) = sqlx::query_as(&format!(
            "SELECT total_reserved, {LIMIT_EXPR} FROM inventory
             WHERE table_type_id = $1 AND slot_start = $2 FOR UPDATE"
        ))
        .bind(table_type)
        .bind(slot)
        .fetch_one(&mut *tx)
        .await?;
        if reserved < limit {
            sqlx::query(
                "UPDATE inventory SET total_reserved = total_reserved + 1
                 WHERE table_type_id = $1 AND slot_start = $2",
            )
            .bind(table_type)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
        }
        reserved < limit
    } else {
        sqlx::query(&format!(
            "UPDATE inventory SET total_reserved = total_reserved + 1
             WHERE table_type_id = $1 AND slot_start = $2 AND total_reserved + 1 <= {LIMIT_EXPR}"
        ))
        .bind(table_type)
        .bind(slot)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1
    };
    if !fits {
        tx.rollback().await?;
        return Ok(false);
    }
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
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}
