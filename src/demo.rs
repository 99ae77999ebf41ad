//! Demo data: restaurants in six cities and four time zones, with table types, tables and a
//! month of rates. Fixed ids, so the README's walk-through can name them and loading twice is harmless.

use booking::staff::{NewStaff, StaffRole};
use booking::{OpeningInterval, Restaurant, Store, TableType};
use chrono::{Duration, NaiveTime, Utc};
use uuid::Uuid;

/// The Paris restaurant of the README's walk-through.
pub const PARIS: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001);
/// Its "2-top" table type.
pub const PARIS_TWO_TOP: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0001_0001);

/// (number, name, address, city, (latitude, longitude)).
type DemoRestaurant = (u128, &'static str, &'static str, &'static str, (f64, f64));

/// The demo restaurants. The number is the id's last digits (1 is [`PARIS`]); the city sets the
/// time zone and currency. Beyond the README's first three, a crowd in five cities to make
/// `GET /v1/search` worth trying.
#[rustfmt::skip] // a table: one restaurant a line
const RESTAURANTS: &[DemoRestaurant] = &[
    (1, "Le Petit Maître", "12 rue des Martyrs, Paris", "Paris", (48.878, 2.339)),
    (2, "Harbor & Vine", "88 Water St, New York", "New York", (40.703, -74.008)),
    (3, "Sakura Table", "3-1 Ginza, Chuo City, Tokyo", "Tokyo", (35.671, 139.765)),
    (4, "Bistrot du Marais", "24 rue Vieille du Temple, Paris", "Paris", (48.8575, 2.3590)),
    (5, "La Table de Montmartre", "5 rue Norvins, Paris", "Paris", (48.8867, 2.3392)),
    (6, "Chez Lucienne", "40 rue de Bretagne, Paris", "Paris", (48.8632, 2.3626)),
    (7, "Le Comptoir de l'Odéon", "9 carrefour de l'Odéon, Paris", "Paris", (48.8519, 2.3389)),
    (8, "Brasserie de la Bastille", "3 place de la Bastille, Paris", "Paris", (48.8532, 2.3691)),
    (9, "Les Canotiers", "18 quai de la Tournelle, Paris", "Paris", (48.8505, 2.3540)),
    (10, "Bouchon des Cordeliers", "15 place des Cordeliers, Lyon", "Lyon", (45.7630, 4.8357)),
    (11, "Le Vieux Lyon", "8 rue Saint-Jean, Lyon", "Lyon", (45.7622, 4.8271)),
    (12, "La Croix-Rousse", "2 boulevard de la Croix-Rousse, Lyon", "Lyon", (45.7745, 4.8316)),
    (13, "Brasserie Bellecour", "20 place Bellecour, Lyon", "Lyon", (45.7578, 4.8320)),
    (14, "Les Halles Gourmandes", "102 cours Lafayette, Lyon", "Lyon", (45.7628, 4.8505)),
    (15, "The Covent Garden Kitchen", "12 Henrietta St, London", "London", (51.5111, -0.1234)),
    (16, "Borough Larder", "8 Southwark St, London", "London", (51.5052, -0.0910)),
    (17, "Shoreditch Social", "45 Redchurch St, London", "London", (51.5246, -0.0763)),
    (18, "The Marylebone Table", "60 Marylebone High St, London", "London", (51.5205, -0.1512)),
    (19, "Notting Hill Supper Club", "101 Portobello Rd, London", "London", (51.5136, -0.2031)),
    (20, "Thames Side Grill", "1 Bankside, London", "London", (51.5079, -0.0977)),
    (21, "Kreuzberger Stube", "Oranienstraße 30, Berlin", "Berlin", (52.5010, 13.4210)),
    (22, "Mitte Tafel", "Auguststraße 11, Berlin", "Berlin", (52.5270, 13.3950)),
    (23, "Prenzlauer Küche", "Kastanienallee 50, Berlin", "Berlin", (52.5370, 13.4090)),
    (24, "Charlottenburg Salon", "Kantstraße 20, Berlin", "Berlin", (52.5060, 13.3190)),
    (25, "Spree Terrasse", "Friedrichstraße 140, Berlin", "Berlin", (52.5190, 13.3880)),
    (26, "Neukölln Eck", "Weserstraße 58, Berlin", "Berlin", (52.4860, 13.4330)),
    (27, "Greenwich Hearth", "75 Bedford St, New York", "New York", (40.7320, -74.0050)),
    (28, "SoHo Larder", "120 Prince St, New York", "New York", (40.7250, -73.9990)),
    (29, "Midtown Chophouse", "210 W 44th St, New York", "New York", (40.7580, -73.9880)),
    (30, "Williamsburg Standard", "160 N 6th St, Brooklyn, New York", "New York", (40.7180, -73.9590)),
    (31, "Upper West Table", "450 Amsterdam Ave, New York", "New York", (40.7830, -73.9770)),
    (32, "Harlem Supper House", "310 Lenox Ave, New York", "New York", (40.8090, -73.9440)),
    (33, "Tribeca Oyster Room", "55 Hudson St, New York", "New York", (40.7170, -74.0080)),
];

/// The time zone and currency of a demo city.
fn zone_and_currency(city: &str) -> (&'static str, &'static str) {
    match city {
        "London" => ("Europe/London", "GBP"),
        "Berlin" => ("Europe/Berlin", "EUR"),
        "New York" => ("America/New_York", "USD"),
        "Tokyo" => ("Asia/Tokyo", "JPY"),
        _ => ("Europe/Paris", "EUR"), // Paris and Lyon
    }
}

/// Loads the demo restaurants (once).
///
/// # Errors
/// On a database error.
pub async fn load(store: &Store) -> anyhow::Result<()> {
    let types = [
        ("2-top", 1, 2, 12, 4_000),
        ("window 4", 3, 4, 6, 9_000),
        ("booth 6", 5, 6, 3, 15_000),
    ];
    let today = Utc::now().date_naive();
    for (index, &(number, name, address, city, (latitude, longitude))) in
        RESTAURANTS.iter().enumerate()
    {
        let id = Uuid::from_u128(PARIS.as_u128() - 1 + number);
        let (time_zone, currency) = zone_and_currency(city);
        let restaurant = Restaurant {
            address: address.into(),
            city: city.into(),
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
        // The first three have every type; the search's crowd two each.
        let kinds = if number <= 3 { &types[..] } else { &types[..2] };
        for (type_index, (type_name, seats_min, seats_max, tables, price)) in
            kinds.iter().enumerate()
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

/// The demo staff's sign-in: a chain admin, and the manager of [`PARIS`] only.
pub const DEMO_STAFF: [(&str, &str, &str); 2] = [
    ("admin@maitred.test", "Ada Admin", "demo-admin-password"),
    (
        "manager@maitred.test",
        "Marc Manager",
        "demo-manager-password",
    ),
];

/// Creates the demo staff (once) with their known passwords, and prints how to sign in.
pub async fn staff(store: &Store) -> anyhow::Result<()> {
    for (index, (email, name, password)) in DEMO_STAFF.into_iter().enumerate() {
        let role = if index == 0 {
            StaffRole::Admin
        } else {
            StaffRole::Manager(vec![PARIS])
        };
        let new = NewStaff {
            email: email.into(),
            name: name.into(),
            role,
        };
        if let Some(account) = store.insert_staff(&new).await? {
            store
                .set_staff_password(account.id, &api::admin::password::hash(password))
                .await?;
        }
    }
    let (admin, _, admin_password) = DEMO_STAFF[0];
    let (manager, _, manager_password) = DEMO_STAFF[1];
    println!(
        "demo staff: admin panel at /admin; chain admin {admin} / {admin_password}; \
         manager of Le Petit Maître {manager} / {manager_password}"
    );
    Ok(())
}
