//! `GET /v1/search` against a real database: near a point and in a city, what is left out,
//! the window around the time, paging, and bad input.

mod common;

use std::collections::HashSet;

use axum::http::StatusCode;
use booking::{Restaurant, Store};
use chrono::Utc;
use common::*;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const PARIS: (f64, f64) = (48.8566, 2.3522);

const FOUR_TOP: Kind = ("4-top", 1, 4, 4000, 3);

fn date() -> String {
    (Utc::now().date_naive() + chrono::Duration::days(7)).to_string()
}

async fn seed(store: &Store, name: &str, city: &str, at: (f64, f64)) -> Uuid {
    seed_restaurant_with(store, name, city, at, &[FOUR_TOP], |_| {})
        .await
        .0
}

/// Sells out `table_type` in the slots starting at these times of [`date`].
async fn sell_out(store: &Store, table_type: Uuid, tables: i32, times: &[&str]) {
    for time in times {
        sqlx::query(
            "INSERT INTO inventory (table_type_id, slot_start, total_inventory, total_reserved,
                                    overbooking_pct)
             VALUES ($1, ($2::date + $3::time), $4, $4, 0)",
        )
        .bind(table_type)
        .bind(date())
        .bind(time)
        .bind(tables)
        .execute(store.pool())
        .await
        .unwrap();
    }
}

async fn search(harness: &Harness, query: &str) -> Value {
    let reply = harness.get(&format!("/v1/search?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    assert_eq!(reply.headers["cache-control"], "public, max-age=5");
    reply.body
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

fn times(item: &Value) -> Vec<String> {
    item["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|offer| offer["time"].as_str().unwrap().to_owned())
        .collect()
}

/// Haversine on the same sphere as the schema's great_circle_km.
fn km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().asin()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn near_search_lists_the_nearest_first_within_the_radius(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let store = &harness.store;
    // Inserted out of order; about 20, 1, 5, 40 and 340 km from the point.
    let places = [
        ("Twenty", (48.6767, 2.3522)),
        ("One", (48.8566, 2.3659)),
        ("Five", (48.9016, 2.3522)),
        ("Forty", (48.8566, 1.8055)),
        ("London", (51.5074, -0.1278)),
    ];
    for (name, at) in places {
        seed(store, name, "", at).await;
    }
    let query = format!("near=48.8566,2.3522&date={}&time=19:00&partySize=2", date());
    let page = search(&harness, &query).await;
    assert_eq!(names(&page), ["One", "Five", "Twenty"], "{page}");
    assert!(page.get("nextCursor").is_none());
    for item in page["items"].as_array().unwrap() {
        let at = places
            .iter()
            .find(|(name, _)| item["name"] == *name)
            .unwrap()
            .1;
        let distance = item["distanceKm"].as_f64().unwrap();
        assert!((distance - km(PARIS, at)).abs() < 0.002, "{item}");
        assert_eq!(item["latitude"], at.0);
        assert_eq!(item["timeZone"], "UTC");
        assert_eq!(item["lowestPriceCents"], 4000);
        assert_eq!(item["currency"], "EUR");
        let first = &item["times"][0];
        assert_eq!(first["time"], "18:00");
        assert_eq!(first["tableTypeName"], "4-top");
        assert_eq!(first["priceCents"], 4000);
        assert_eq!(
            first["tablesLeft"], 3,
            "3 tables, 10% overbooking rounds down"
        );
    }
    let one = page["items"][0]["distanceKm"].as_f64().unwrap();
    assert!((0.9..1.1).contains(&one), "{one}");

    // A wider radius takes in the 40 km one, still nearest first; London stays out.
    let wider = search(&harness, &format!("{query}&radiusKm=50")).await;
    assert_eq!(names(&wider), ["One", "Five", "Twenty", "Forty"]);
    let everything = search(&harness, &format!("{query}&radiusKm=500")).await;
    assert_eq!(
        names(&everything),
        ["One", "Five", "Twenty", "Forty", "London"]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn city_search_ignores_case_and_orders_by_name(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let store = &harness.store;
    seed(store, "Bouchon", "Lyon", (45.76, 4.83)).await;
    seed(store, "Aux Halles", "LYON", (45.76, 4.85)).await;
    seed(store, "Elsewhere", "Paris", (45.76, 4.84)).await;
    seed(store, "Nowhere", "", (45.76, 4.84)).await;

    let page = search(
        &harness,
        &format!("city=lYoN&date={}&time=19:00&partySize=2", date()),
    )
    .await;
    assert_eq!(names(&page), ["Aux Halles", "Bouchon"]);
    let first = &page["items"][0];
    assert_eq!(first["city"], "LYON");
    assert!(first.get("distanceKm").is_none(), "{first}");
    // An empty near is as good as absent.
    let page = search(
        &harness,
        &format!("near=&city=paris&date={}&time=19:00&partySize=2", date()),
    )
    .await;
    assert_eq!(names(&page), ["Elsewhere"]);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn restaurants_without_a_table_for_the_party_around_the_time_are_left_out(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let store = &harness.store;
    let small = [("2-top", 1, 2, 2500, 5)];
    seed_restaurant_with(store, "Too small", "Nice", (43.7, 7.26), &small, |_| {}).await;
    // Hour-long slots and stays: the 18:00, 19:00 and 20:00 starts are the window of 19:00.
    let hourly = |r: &mut Restaurant| {
        r.slot_minutes = 60;
        r.default_duration_minutes = 60;
    };
    let (_, full) = seed_restaurant_with(
        store,
        "Booked up",
        "Nice",
        (43.7, 7.26),
        &[FOUR_TOP],
        hourly,
    )
    .await;
    sell_out(store, full[0], 3, &["18:00", "19:00", "20:00"]).await;
    let (_, busy) =
        seed_restaurant_with(store, "Busy", "Nice", (43.7, 7.26), &[FOUR_TOP], hourly).await;
    sell_out(store, busy[0], 3, &["18:00", "20:00"]).await;
    seed_restaurant_with(store, "Too soon", "Nice", (43.7, 7.26), &[FOUR_TOP], |r| {
        r.booking_horizon_days = 3;
    })
    .await;
    seed(store, "Open", "Nice", (43.7, 7.26)).await;

    let at = |time: &str| format!("city=Nice&date={}&time={time}&partySize=4", date());
    let page = search(&harness, &at("19:00")).await;
    assert_eq!(names(&page), ["Busy", "Open"], "{page}");
    assert_eq!(times(&page["items"][0]), ["19:00"]);
    // Booked up is left out for the time only: at 22:00 it has tables.
    let late = search(&harness, &at("22:00")).await;
    assert_eq!(names(&late), ["Booked up", "Busy", "Open"]);
    assert_eq!(times(&late["items"][0]), ["21:00", "22:00", "23:00"]);
    // Too small seats a couple.
    let couple = search(
        &harness,
        &format!("city=Nice&date={}&time=19:00&partySize=2", date()),
    )
    .await;
    assert_eq!(names(&couple), ["Busy", "Open", "Too small"]);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn only_start_times_within_an_hour_are_offered_each_at_its_cheapest_type(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let store = &harness.store;
    let kinds = [("window", 1, 4, 2500, 1), ("booth", 2, 6, 6000, 2)];
    let (_, types) =
        seed_restaurant_with(store, "Two kinds", "Rome", (41.9, 12.5), &kinds, |_| {}).await;
    // The cheap window table is taken in the 19:45 slot: every 90-minute stay (six slots)
    // starting from 18:30 to 19:45 covers it.
    sell_out(store, types[0], 1, &["19:45"]).await;

    let page = search(
        &harness,
        &format!("city=rome&date={}&time=19:00&partySize=2", date()),
    )
    .await;
    let item = &page["items"][0];
    // 15-minute slots from 18:00 to 20:00, both ends included.
    let expected: Vec<String> = (0..9)
        .map(|i| format!("{:02}:{:02}", 18 + i * 15 / 60, i * 15 % 60))
        .collect();
    assert_eq!(times(item), expected);
    let offers = item["times"].as_array().unwrap();
    let kind_at = |time: &str| {
        let offer = offers.iter().find(|o| o["time"] == time).unwrap();
        (
            offer["tableTypeName"].as_str().unwrap().to_owned(),
            offer["priceCents"].as_i64().unwrap(),
            offer["tableTypeId"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(kind_at("18:00").0, "window");
    assert_eq!(kind_at("18:00").2, types[0].to_string());
    assert_eq!(
        kind_at("18:15").0,
        "window",
        "18:15 + 90 min ends before 19:45"
    );
    assert_eq!(kind_at("18:30").0, "booth", "18:30 + 90 min covers 19:45");
    assert_eq!(kind_at("19:00").1, 6000);
    assert_eq!(kind_at("19:00").2, types[1].to_string());
    assert_eq!(kind_at("20:00").0, "window");
    assert_eq!(item["lowestPriceCents"], 2500);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn pages_return_every_match_exactly_once(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let store = &harness.store;
    let small = [("2-top", 1, 2, 2500, 5)];
    let mut matching = Vec::new();
    for i in 0..7 {
        // Two share a name: the id breaks the tie.
        let name = if i == 3 {
            "Bistro 2".to_owned()
        } else {
            format!("Bistro {i}")
        };
        // Spread out around Paris, each a different distance.
        let at = (PARIS.0 + 0.01 * f64::from(i), PARIS.1);
        matching.push(seed(store, &name, "Paris", at).await);
        // Between them, restaurants that cannot seat four.
        let at = (PARIS.0 + 0.01 * f64::from(i) + 0.005, PARIS.1);
        seed_restaurant_with(store, &format!("Bistro {i}b"), "Paris", at, &small, |_| {}).await;
    }
    let expected: HashSet<Uuid> = matching.iter().copied().collect();

    for (place, limit) in [("city=Paris", 2), ("near=48.8566,2.3522", 3)] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = format!(
                "{place}&date={}&time=19:00&partySize=4&limit={limit}",
                date()
            );
            if let Some(cursor) = &cursor {
                query.push_str(&format!("&cursor={cursor}"));
            }
            let page = search(&harness, &query).await;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= limit, "{page}");
            seen.extend(
                items
                    .iter()
                    .map(|item| item["id"].as_str().unwrap().parse::<Uuid>().unwrap()),
            );
            pages += 1;
            match page.get("nextCursor") {
                Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(seen.len(), 7, "{place}: {seen:?}");
        assert_eq!(
            seen.iter().copied().collect::<HashSet<_>>(),
            expected,
            "{place}"
        );
        assert!(pages >= 3, "{place}: {pages} pages");
        if place.starts_with("near") {
            assert_eq!(seen, matching, "nearest first");
        }
    }
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_page_looks_at_a_bounded_number_of_restaurants(pool: PgPool) {
    let harness = Harness::new(pool).await;
    // 250 restaurants without a table type sort before the one that has a table.
    sqlx::query(
        "INSERT INTO restaurant (id, name, city, latitude, longitude, time_zone)
         SELECT gen_random_uuid(), 'Empty ' || lpad(n::text, 3, '0'), 'Oslo', 59.9, 10.7, 'UTC'
         FROM generate_series(1, 250) AS n",
    )
    .execute(harness.store.pool())
    .await
    .unwrap();
    let table = seed(&harness.store, "Zeta", "Oslo", (59.9, 10.7)).await;

    let query = format!("city=Oslo&date={}&time=19:00&partySize=2", date());
    let first = search(&harness, &query).await;
    assert_eq!(names(&first), Vec::<String>::new());
    let cursor = first["nextCursor"].as_str().expect("a short page goes on");
    let second = search(&harness, &format!("{query}&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["id"], table.to_string());
    assert!(second.get("nextCursor").is_none(), "{second}");
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn bad_input_is_a_problem_naming_the_field(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let date = date();
    let rest = format!("date={date}&time=19:00&partySize=2");
    // A cursor of a city search, to hand to a near search.
    seed(&harness.store, "A", "Paris", PARIS).await;
    seed(&harness.store, "B", "Paris", PARIS).await;
    let city_page = search(&harness, &format!("city=Paris&{rest}&limit=1")).await;
    let city_cursor = city_page["nextCursor"].as_str().unwrap().to_owned();

    for (query, field) in [
        (format!("near=48.8,2.3&city=Paris&{rest}"), "city"),
        (rest.clone(), "near"),
        (format!("near=&city=&{rest}"), "near"),
        (format!("near=abc&{rest}"), "near"),
        (format!("near=91,2&{rest}"), "near"),
        (format!("near=48.8,2.3&radiusKm=0&{rest}"), "radiusKm"),
        (format!("near=48.8,2.3&radiusKm=501&{rest}"), "radiusKm"),
        (
            format!("city=Paris&date={date}&time=19:00&partySize=0"),
            "partySize",
        ),
        (
            format!("city=Paris&date={date}&time=19:00&partySize=101"),
            "partySize",
        ),
        (
            format!("city=Paris&date={date}&time=7pm&partySize=2"),
            "time",
        ),
        (
            "city=Paris&date=2020-01-01&time=19:00&partySize=2".to_owned(),
            "date",
        ),
        (
            "city=Paris&date=tomorrow&time=19:00&partySize=2".to_owned(),
            "date",
        ),
        (format!("city=Paris&{rest}&limit=0"), "limit"),
        (format!("city=Paris&{rest}&limit=51"), "limit"),
        (format!("city=Paris&{rest}&cursor=not-a-cursor"), "cursor"),
        (
            format!("near=48.8,2.3&{rest}&cursor={city_cursor}"),
            "cursor",
        ),
    ] {
        let reply = harness.get(&format!("/v1/search?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            reply.body
        );
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        assert_eq!(reply.body["field"], field, "{query}: {}", reply.body);
    }
    // What the query string cannot even be read as is a 400.
    for query in [
        format!("city=Paris&{rest}&colour=red"),
        format!("city=Paris&date={date}&time=19:00&partySize=two"),
        format!("city=Paris&date={date}&time=19:00"),
    ] {
        let reply = harness.get(&format!("/v1/search?{query}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.headers["content-type"], "application/problem+json");
    }
    harness.finish().await;
}
