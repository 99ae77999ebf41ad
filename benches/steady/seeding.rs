//! Seeding: 1,000 restaurants in a few statements, a month of past bookings, and the
//! Zipf-skewed requests against them.

use super::*;

pub(crate) const TYPES_PER_RESTAURANT: usize = 2;
pub(crate) const TABLES_PER_TYPE: i32 = 10;
pub(crate) const OVERBOOKING_PCT: i32 = 10;
/// Bookable tables per type and slot: the tables and the overbooking.
pub(crate) const LIMIT_PER_ROW: i64 =
    (TABLES_PER_TYPE as i64) * (100 + OVERBOOKING_PCT as i64) / 100;
pub(crate) const DATES: i64 = 30;
pub(crate) const SLOTS: [(u32, u32); 3] = [(18, 0), (19, 30), (21, 0)];
pub(crate) const LIMIT_EXPR: &str = "total_inventory * (100 + overbooking_pct) / 100";

#[derive(Debug, Clone)]
pub(crate) struct Chain {
    /// Restaurants by popularity rank, each with its table types.
    pub(crate) restaurants: Vec<(Uuid, Vec<Uuid>)>,
    pub(crate) first_date: NaiveDate,
}

pub(crate) async fn seed(pool: &PgPool, label: &str, n: usize) -> Chain {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO restaurant (id, name, latitude, longitude, time_zone, slot_minutes,
             default_duration_minutes, overbooking_pct, prepayment_required)
         SELECT gen_random_uuid(), $1 || ' ' || g, 48.85, 2.35, 'UTC', 90, 90, $3, false
         FROM generate_series(1, $2) g ORDER BY g RETURNING id",
    )
    .bind(label)
    .bind(n as i32)
    .bind(OVERBOOKING_PCT)
    .fetch_all(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO opening_hours (restaurant_id, weekday, opens_at, closes_at)
         SELECT r, w, '00:00', '00:00' FROM unnest($1::uuid[]) r, generate_series(1, 7) w",
    )
    .bind(&ids)
    .execute(pool)
    .await
    .unwrap();
    let types: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "INSERT INTO table_type (id, restaurant_id, name, seats_min, seats_max, base_price_cents,
             currency)
         SELECT gen_random_uuid(), r, 'Type ' || t, 1, 4, 2500, 'EUR'
         FROM unnest($1::uuid[]) r, generate_series(1, $2) t
         RETURNING id, restaurant_id",
    )
    .bind(&ids)
    .bind(TYPES_PER_RESTAURANT as i32)
    .fetch_all(pool)
    .await
    .unwrap();
    let type_ids: Vec<Uuid> = types.iter().map(|(t, _)| *t).collect();
    sqlx::query(
        "INSERT INTO dining_table (id, table_type_id, label)
         SELECT gen_random_uuid(), t, 'T' || n FROM unnest($1::uuid[]) t, generate_series(1, $2) n",
    )
    .bind(&type_ids)
    .bind(TABLES_PER_TYPE)
    .execute(pool)
    .await
    .unwrap();
    seed_history(pool, label, &type_ids).await;
    let mut by_restaurant: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (t, r) in types {
        by_restaurant.entry(r).or_default().push(t);
    }
    Chain {
        restaurants: ids
            .into_iter()
            .map(|r| (r, by_restaurant.remove(&r).unwrap_or_default()))
            .collect(),
        first_date: Utc::now().date_naive() + chrono::Duration::days(1),
    }
}

/// A month of past bookings (one confirmed reservation, by its own diner, in every slot of every
/// type, with its inventory row), then fresh planner statistics: a steady state is a database
/// that has been running, not one created a second ago. In an empty database the plans cached
/// in the first seconds are made for tiny tables and kept while they grow (the foreign-key
/// check on `guest` becomes a sequential scan per inserted row), which is not the production
/// regime, for any contender.
async fn seed_history(pool: &PgPool, label: &str, type_ids: &[Uuid]) {
    let slots: Vec<String> = SLOTS
        .iter()
        .map(|(h, m)| format!("{h:02}:{m:02}"))
        .collect();
    let today = Utc::now().date_naive();
    sqlx::query(
        "INSERT INTO inventory (table_type_id, slot_start, total_inventory, total_reserved,
             overbooking_pct)
         SELECT t, ($3::date - d) + s::time, $4, 1, $5
         FROM unnest($1::uuid[]) t, generate_series(1, $2) d, unnest($6::text[]) s",
    )
    .bind(type_ids)
    .bind(DATES as i32)
    .bind(today)
    .bind(TABLES_PER_TYPE)
    .bind(OVERBOOKING_PCT)
    .bind(&slots)
    .execute(pool)
    .await
    .unwrap();
    // One past diner per booking, as a running chain has.
    sqlx::query(
        "WITH past AS (
             SELECT gen_random_uuid() AS guest, tt.restaurant_id, tt.id AS table_type,
                    $3::date - d AS service_date, s::time AS start_time,
                    'past.' || $5 || '.' || tt.id || '.' || d || '.' || s || '@example.com' AS email
             FROM table_type tt, generate_series(1, $2) d, unnest($4::text[]) s
             WHERE tt.id = ANY($1)
         ), g AS (
             INSERT INTO guest (id, name, email) SELECT guest, 'Past Diner', email FROM past
         )
         INSERT INTO reservation (id, restaurant_id, table_type_id, guest_id, guest_name,
             guest_email, table_count, party_size, service_date, start_time, duration_minutes,
             status, price_cents, currency)
         SELECT gen_random_uuid(), restaurant_id, table_type, guest, 'Past Diner', email, 1, 2,
                service_date, start_time, 90, 'confirmed', 2500, 'EUR'
         FROM past",
    )
    .bind(type_ids)
    .bind(DATES as i32)
    .bind(today)
    .bind(&slots)
    .bind(label)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// A small deterministic generator (xorshift64*), so runs draw the same request mix.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.next_f64() * n as f64) as usize).min(n - 1)
    }
}

/// Cumulative Zipf weights over ranks 1..=n.
pub(crate) fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=n).map(|k| 1.0 / (k as f64).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

pub(crate) fn request_body(
    chain: &Chain,
    cdf: &[f64],
    rng: &mut Rng,
    i: u64,
    run: &str,
) -> (Uuid, String) {
    let u = rng.next_f64();
    let rank = cdf.partition_point(|c| *c < u).min(cdf.len() - 1);
    let (restaurant, types) = &chain.restaurants[rank];
    let table_type = types[rng.below(types.len())];
    let date = chain.first_date + chrono::Duration::days(rng.below(DATES as usize) as i64);
    let slot = SLOTS[rng.below(SLOTS.len())];
    booking_request(*restaurant, table_type, date, slot, &format!("d{i}.{run}"))
}

/// A booking's id and body, for a party of two, by the diner `<diner>@example.com`.
pub(crate) fn booking_request(
    restaurant: Uuid,
    table_type: Uuid,
    date: NaiveDate,
    (h, m): (u32, u32),
    diner: &str,
) -> (Uuid, String) {
    let id = Uuid::new_v4();
    let body = json!({
        "reservationId": id,
        "restaurantId": restaurant,
        "tableTypeId": table_type,
        "partySize": 2,
        "date": date.to_string(),
        "time": format!("{h:02}:{m:02}"),
        "guest": {"name": "Bench Diner", "email": format!("{diner}@example.com")},
    });
    (id, body.to_string())
}
