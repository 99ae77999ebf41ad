//! The scenario: one restaurant per contender, seeded with its three table types.

use super::*;

/// One restaurant of a contender: its own rows, so each contender starts on fresh inventory.
#[derive(Debug, Clone)]
pub(crate) struct Scene {
    pub(crate) restaurant_id: Uuid,
    pub(crate) table_types: Vec<Uuid>,
    pub(crate) date: NaiveDate,
    pub(crate) time: NaiveTime,
}

impl Scene {
    pub(crate) fn slot(&self) -> NaiveDateTime {
        self.date.and_time(self.time)
    }
}

/// A restaurant open around the clock, with 90-minute slots and 90-minute stays (so a booking
/// holds exactly one slot), 10% overbooking, no prepayment (a decision is the final state), and
/// three table types of 200 tables.
pub(crate) async fn seed(store: &Store, label: &str) -> Scene {
    let always_open = (1..=7)
        .map(|weekday| OpeningInterval {
            weekday,
            opens_at: NaiveTime::MIN,
            closes_at: NaiveTime::MIN,
        })
        .collect();
    let mut restaurant = Restaurant::with_defaults(
        Uuid::new_v4(),
        format!("Flash crowd ({label})"),
        "UTC",
        (48.85, 2.35),
        always_open,
    );
    restaurant.slot_minutes = 90;
    restaurant.default_duration_minutes = 90;
    restaurant.overbooking_pct = OVERBOOKING_PCT;
    restaurant.prepayment_required = false;
    assert!(store.insert_restaurant(&restaurant).await.unwrap());
    let mut table_types = Vec::new();
    for section in SECTIONS {
        let table_type = TableType {
            id: Uuid::new_v4(),
            restaurant_id: restaurant.id,
            name: format!("Section {section}"),
            seats_min: 1,
            seats_max: 4,
            base_price_cents: 2500,
            currency: "EUR".into(),
            tables: 0,
            version: 1,
        };
        store
            .insert_table_type(&table_type, TABLES_PER_TYPE, section)
            .await
            .unwrap();
        table_types.push(table_type.id);
    }
    Scene {
        restaurant_id: restaurant.id,
        table_types,
        date: Utc::now().date_naive() + chrono::Duration::days(7),
        // 19:30 = 13 × 90 minutes: on the 90-minute grid.
        time: NaiveTime::from_hms_opt(19, 30, 0).unwrap(),
    }
}

/// The peers find their inventory rows made (maitred makes them on first need).
pub(crate) async fn make_inventory(pool: &PgPool, scene: &Scene) {
    for table_type in &scene.table_types {
        sqlx::query(
            "INSERT INTO inventory (table_type_id, slot_start, total_inventory, overbooking_pct)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(table_type)
        .bind(scene.slot())
        .bind(TABLES_PER_TYPE as i32)
        .bind(OVERBOOKING_PCT)
        .execute(pool)
        .await
        .unwrap();
    }
}
