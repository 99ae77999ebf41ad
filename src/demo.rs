//! Demo data: three restaurants in three time zones, with table types, tables and a month of
//! rates. Fixed ids, so the README's walk-through can name them and loading twice is harmless.

use booking::{OpeningInterval, Restaurant, Store, TableType};
use chrono::{Duration, NaiveTime, Utc};
use uuid::Uuid;

/// The Paris restaurant of the README's walk-through.
pub const PARIS: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001);
/// Its "2-top" table type.
pub const PARIS_TWO_TOP: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0001_0001);

/// Loads the demo restaurants (once).
///
/// # Errors
/// On a database error.
pub async fn load(store: &Store) -> anyhow::Result<()> {
    let restaurants = [
        (
            PARIS,
            "Le Petit Maître",
            "12 rue des Martyrs, Paris",
            48.878,
            2.339,
            "Europe/Paris",
            "EUR",
        ),
        (
            Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0002),
            "Harbor & Vine",
            "88 Water St, New York",
            40.703,
            -74.008,
            "America/New_York",
            "USD",
        ),
        (
            Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0003),
            "Sakura Table",
            "3-1 Ginza, Chuo City, Tokyo",
            35.671,
            139.765,
            "Asia/Tokyo",
            "JPY",
        ),
    ];
    let types = [
        ("2-top", 1, 2, 12, 4_000),
        ("window 4", 3, 4, 6, 9_000),
        ("booth 6", 5, 6, 3, 15_000),
    ];
    let today = Utc::now().date_naive();
    for (index, (id, name, address, latitude, longitude, time_zone, currency)) in
        restaurants.into_iter().enumerate()
    {
        let restaurant = Restaurant {
            address: address.into(),
            ..Restaurant::with_defaults(
                id,
                name,
                time_zone,
                (latitude, longitude),
                opening_hours(time_zone == "Asia/Tokyo"),
            )
        };
        if !store.insert_restaurant(&restaurant).await? {
            continue; // already loaded
        }
        for (type_index, (type_name, seats_min, seats_max, tables, price)) in
            types.iter().enumerate()
        {
            // The Paris 2-top has the README's fixed id; the others follow a pattern.
            let type_id = Uuid::from_u128(
                PARIS_TWO_TOP.as_u128() + ((index as u128) << 20) + type_index as u128,
            );
            let base_price_cents = *price;
            let table_type = TableType {
                id: type_id,
                restaurant_id: id,
                name: (*type_name).into(),
                seats_min: *seats_min,
                seats_max: *seats_max,
                base_price_cents,
                currency: currency.into(),
                tables: 0,
                version: 1,
            };
            let label = type_name.chars().next().unwrap_or('T').to_ascii_uppercase();
            store
                .insert_table_type(&table_type, *tables, &label.to_string())
                .await?;
            // Weekends cost 25% more for the next month.
            for offset in 0..30 {
                let date = today + Duration::days(offset);
                let weekend = matches!(
                    chrono::Datelike::weekday(&date),
                    chrono::Weekday::Fri | chrono::Weekday::Sat
                );
                let price = if weekend {
                    base_price_cents * 5 / 4
                } else {
                    base_price_cents
                };
                store.set_rates(type_id, date, date, price).await?;
            }
        }
        tracing::info!(%id, name, "demo restaurant loaded");
    }
    Ok(())
}

/// Lunch and dinner every day; a late-night restaurant stays open past midnight on Friday and
/// Saturday.
fn opening_hours(late_night: bool) -> Vec<OpeningInterval> {
    let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    (1..=7)
        .flat_map(|weekday| {
            let dinner_close = if late_night && (weekday == 5 || weekday == 6) {
                time(2, 0)
            } else {
                time(23, 0)
            };
            [
                OpeningInterval {
                    weekday,
                    opens_at: time(12, 0),
                    closes_at: time(14, 30),
                },
                OpeningInterval {
                    weekday,
                    opens_at: time(18, 0),
                    closes_at: dinner_close,
                },
            ]
        })
        .collect()
}
