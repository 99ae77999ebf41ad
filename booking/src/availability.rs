//! What a party can book on a date: every bookable start time, and for each the table types
//! that seat the party with the tables left and the price the worker's decision would charge
//! now. Pure functions over what the store read; no SQL.
//!
//! A slot's inventory row is made on its first booking. Until then the slot has the type's
//! active tables and the restaurant's overbooking, with nothing reserved: [`InventoryRow::fresh`]
//! is that row.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use uuid::Uuid;

use crate::pricing::{Occupancy, PricingSteps};
use crate::{schedule, Restaurant, TableType};

/// One row of the `inventory` table: a table type's tables in one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    pub table_type_id: Uuid,
    /// Local wall-clock start of the slot.
    pub slot_start: NaiveDateTime,
    pub total_inventory: i32,
    pub total_reserved: i32,
    pub overbooking_pct: i32,
}

impl InventoryRow {
    /// The row a slot has before its first booking.
    pub fn fresh(table_type: &TableType, slot_start: NaiveDateTime, overbooking_pct: i32) -> Self {
        Self {
            table_type_id: table_type.id,
            slot_start,
            total_inventory: i32::try_from(table_type.tables.max(0)).unwrap_or(i32::MAX),
            total_reserved: 0,
            overbooking_pct,
        }
    }

    /// The most tables the slot may have reserved: the inventory plus the overbooking, rounded
    /// down. The same rule as the table's CHECK constraint.
    pub fn limit(&self) -> i64 {
        i64::from(self.total_inventory) * (100 + i64::from(self.overbooking_pct)) / 100
    }

    /// Tables that may still be reserved; negative if the slot is over its limit.
    pub fn left(&self) -> i64 {
        self.limit() - i64::from(self.total_reserved)
    }

    pub fn occupancy(&self) -> Occupancy {
        Occupancy {
            reserved: i64::from(self.total_reserved),
            inventory: i64::from(self.total_inventory),
        }
    }
}

/// The occupancy that prices a stay: that of its fullest covered slot, before the booking.
/// The availability and the worker's decision both price with it. `None` for no slots.
pub fn stay_occupancy<'a>(slots: impl IntoIterator<Item = &'a InventoryRow>) -> Option<Occupancy> {
    Occupancy::fullest(slots.into_iter().map(InventoryRow::occupancy))
}

/// What the availability of a date is computed from, as the store read it.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    pub restaurant: &'a Restaurant,
    /// The restaurant's table types (those the caller asks about).
    pub table_types: &'a [TableType],
    /// The existing inventory rows of those types from the date's midnight until a stay
    /// starting at the end of the date ends. A slot without a row is [`InventoryRow::fresh`].
    pub inventory: &'a [InventoryRow],
    /// The price per table of a type on the date; without one the type's base price applies.
    pub rates: &'a HashMap<Uuid, i64>,
    /// The covers already starting in each slot of the date that has any (the pacing ledger).
    pub covers_started: &'a HashMap<NaiveDateTime, i32>,
}

/// One bookable start time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlotAvailability {
    /// Local wall-clock time, `HH:MM`.
    #[serde(serialize_with = "crate::wire_time::serialize_hh_mm")]
    #[schema(value_type = String, example = "19:30")]
    pub time: NaiveTime,
    /// Every type that seats the party at one table, including those with no table left.
    pub table_types: Vec<TypeAvailability>,
}

/// One table type at one start time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeAvailability {
    pub table_type_id: Uuid,
    pub name: String,
    pub seats_min: i32,
    pub seats_max: i32,
    /// Tables still free for the whole stay: 0 means sold out.
    pub tables_left: i32,
    /// The price of one table for a stay starting now, at the current occupancy.
    pub price_cents: i64,
    pub currency: String,
}

/// The start times on `date` (local) at which a party of `party_size` can book a stay of the
/// restaurant's default duration, with every type that seats the party at one table.
///
/// A start time is on the restaurant's slot grid, later than `now`, exists in the restaurant's
/// time zone (not skipped by a daylight-saving change), and the whole stay fits its opening
/// hours, a service that crosses midnight included. Nothing is bookable beyond the booking
/// horizon, nor at a restaurant whose time zone is unknown.
pub fn availability(
    snapshot: &Snapshot<'_>,
    date: NaiveDate,
    party_size: i32,
    pricing: &PricingSteps,
    now: DateTime<Utc>,
) -> Vec<SlotAvailability> {
    let restaurant = snapshot.restaurant;
    let Ok(tz) = restaurant.time_zone.parse::<Tz>() else {
        return Vec::new();
    };
    let today = now.with_timezone(&tz).date_naive();
    let horizon = Duration::days(i64::from(restaurant.booking_horizon_days));
    if today
        .checked_add_signed(horizon)
        .is_none_or(|last| date > last)
    {
        return Vec::new();
    }
    let (slot, duration) = (
        restaurant.slot_minutes,
        restaurant.sitting_minutes(party_size),
    );
    if slot <= 0 || duration <= 0 {
        return Vec::new();
    }

    let fitting: Vec<&TableType> = snapshot
        .table_types
        .iter()
        .filter(|t| t.seats_min <= party_size && party_size <= t.seats_max)
        .collect();
    let rows: HashMap<(Uuid, NaiveDateTime), &InventoryRow> = snapshot
        .inventory
        .iter()
        .map(|row| ((row.table_type_id, row.slot_start), row))
        .collect();

    let mut slots = Vec::new();
    for minute in (0..24 * 60).step_by(slot as usize) {
        let Some(time) = NaiveTime::from_num_seconds_from_midnight_opt(minute * 60, 0) else {
            continue;
        };
        let start = date.and_time(time);
        match tz.from_local_datetime(&start).earliest() {
            Some(instant) if instant > now => {}
            _ => continue,
        }
        let Some(end) = start.checked_add_signed(Duration::minutes(i64::from(duration))) else {
            continue;
        };
        if !schedule::is_open(&restaurant.opening_hours, start, end) {
            continue;
        }
        // Pacing: the kitchen starts no more covers here than the rules allow.
        if let Some(limit) = restaurant.booking_rules.covers_limit(time) {
            let started = snapshot.covers_started.get(&start).copied().unwrap_or(0);
            if i64::from(started) + i64::from(party_size) > i64::from(limit) {
                continue;
            }
        }
        let covered = schedule::covered_slots(start, duration, slot);
        let table_types = fitting
            .iter()
            .map(|table_type| {
                let stay: Vec<InventoryRow> = covered
                    .iter()
                    .map(|slot_start| match rows.get(&(table_type.id, *slot_start)) {
                        Some(row) => (*row).clone(),
                        None => {
                            InventoryRow::fresh(table_type, *slot_start, restaurant.overbooking_pct)
                        }
                    })
                    .collect();
                let left = stay.iter().map(InventoryRow::left).min().unwrap_or(0);
                let occupancy = stay_occupancy(&stay).unwrap_or(Occupancy {
                    reserved: 0,
                    inventory: table_type.tables,
                });
                let per_table = snapshot
                    .rates
                    .get(&table_type.id)
                    .copied()
                    .unwrap_or(table_type.base_price_cents);
                TypeAvailability {
                    table_type_id: table_type.id,
                    name: table_type.name.clone(),
                    seats_min: table_type.seats_min,
                    seats_max: table_type.seats_max,
                    tables_left: i32::try_from(left.max(0)).unwrap_or(i32::MAX),
                    price_cents: pricing.price_cents(per_table, 1, occupancy),
                    currency: table_type.currency.clone(),
                }
            })
            .collect();
        slots.push(SlotAvailability { time, table_types });
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpeningInterval;

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(date: &str, t: &str) -> NaiveDateTime {
        day(date).and_time(time(t))
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn interval(weekday: i16, opens: &str, closes: &str) -> OpeningInterval {
        OpeningInterval {
            weekday,
            opens_at: time(opens),
            closes_at: time(closes),
        }
    }

    /// 30-minute slots, 60-minute stays, 10% overbooking, in UTC.
    fn restaurant(hours: Vec<OpeningInterval>) -> Restaurant {
        let mut r = Restaurant::with_defaults(Uuid::from_u128(1), "R", "UTC", (0.0, 0.0), hours);
        r.slot_minutes = 30;
        r.default_duration_minutes = 60;
        r
    }

    fn table_type(id: u128, name: &str, seats: (i32, i32), tables: i64) -> TableType {
        TableType {
            id: Uuid::from_u128(id),
            restaurant_id: Uuid::from_u128(1),
            name: name.into(),
            seats_min: seats.0,
            seats_max: seats.1,
            base_price_cents: 1000,
            currency: "EUR".into(),
            tables,
            version: 1,
        }
    }

    fn row(type_id: u128, slot: NaiveDateTime, inventory: i32, reserved: i32) -> InventoryRow {
        InventoryRow {
            table_type_id: Uuid::from_u128(type_id),
            slot_start: slot,
            total_inventory: inventory,
            total_reserved: reserved,
            overbooking_pct: 10,
        }
    }

    const MONDAY: &str = "2026-12-07";
    const EARLIER: &str = "2026-12-01T00:00:00Z";

    fn compute(
        restaurant: &Restaurant,
        types: &[TableType],
        inventory: &[InventoryRow],
        rates: &HashMap<Uuid, i64>,
        (date, party, now): (&str, i32, &str),
    ) -> Vec<SlotAvailability> {
        let snapshot = Snapshot {
            restaurant,
            table_types: types,
            inventory,
            rates,
            covers_started: &HashMap::new(),
        };
        availability(
            &snapshot,
            day(date),
            party,
            &PricingSteps::default(),
            utc(now),
        )
    }

    fn times(slots: &[SlotAvailability]) -> Vec<String> {
        slots
            .iter()
            .map(|s| s.time.format("%H:%M").to_string())
            .collect()
    }

    #[test]
    fn slots_are_the_grid_times_whose_whole_stay_is_open() {
        let r = restaurant(vec![
            interval(1, "12:00", "14:00"),
            interval(1, "19:00", "20:30"),
        ]);
        let types = [table_type(10, "2-top", (1, 2), 5)];
        let slots = compute(&r, &types, &[], &HashMap::new(), (MONDAY, 2, EARLIER));
        assert_eq!(times(&slots), ["12:00", "12:30", "13:00", "19:00", "19:30"]);
        let first = &slots[0].table_types[0];
        assert_eq!(
            first.tables_left, 5,
            "5 tables, 10% overbooking rounds down"
        );
        assert_eq!(first.price_cents, 1000);
        assert_eq!(first.name, "2-top");
        assert_eq!(first.currency, "EUR");
    }

    #[test]
    fn only_types_that_seat_the_party_are_listed() {
        let r = restaurant(vec![interval(1, "12:00", "13:00")]);
        let types = [
            table_type(10, "2-top", (1, 2), 5),
            table_type(11, "4-top", (3, 4), 5),
            table_type(12, "6-top", (4, 6), 5),
        ];
        let names = |party| {
            compute(&r, &types, &[], &HashMap::new(), (MONDAY, party, EARLIER))[0]
                .table_types
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(2), ["2-top"]);
        assert_eq!(names(4), ["4-top", "6-top"]);
        assert_eq!(names(6), ["6-top"]);
        assert!(names(7).is_empty());
    }

    #[test]
    fn tables_left_is_the_tightest_covered_slot_under_the_overbooking_limit() {
        let r = restaurant(vec![interval(1, "18:00", "21:00")]);
        let types = [table_type(10, "4-top", (1, 4), 10)];
        // 10 tables + 10% = 11 per slot.
        let inventory = [
            row(10, at(MONDAY, "19:00"), 10, 3),
            row(10, at(MONDAY, "19:30"), 10, 8),
            row(10, at(MONDAY, "20:00"), 10, 12), // over the limit (tables deactivated)
        ];
        let slots = compute(
            &r,
            &types,
            &inventory,
            &HashMap::new(),
            (MONDAY, 2, EARLIER),
        );
        let left: Vec<(String, i32)> = slots
            .iter()
            .map(|s| {
                (
                    s.time.format("%H:%M").to_string(),
                    s.table_types[0].tables_left,
                )
            })
            .collect();
        assert_eq!(
            left,
            [
                ("18:00".into(), 11),
                ("18:30".into(), 8), // 18:30 + 19:00
                ("19:00".into(), 3), // 19:00 + 19:30
                ("19:30".into(), 0), // 19:30 + 20:00, which is over its limit
                ("20:00".into(), 0),
            ]
        );
        // A row keeps the overbooking it was made with.
        let mut strict = inventory[0].clone();
        strict.overbooking_pct = 0;
        let slots = compute(&r, &types, &[strict], &HashMap::new(), (MONDAY, 2, EARLIER));
        assert_eq!(slots[2].table_types[0].tables_left, 7);
        assert_eq!(slots[0].table_types[0].tables_left, 11);
    }

    #[test]
    fn a_type_without_tables_is_listed_sold_out() {
        let r = restaurant(vec![interval(1, "12:00", "13:00")]);
        let types = [table_type(10, "booth", (1, 4), 0)];
        let slots = compute(&r, &types, &[], &HashMap::new(), (MONDAY, 2, EARLIER));
        assert_eq!(slots[0].table_types[0].tables_left, 0);
        assert_eq!(
            slots[0].table_types[0].price_cents, 1500,
            "zero inventory is full"
        );
    }

    #[test]
    fn the_fullest_covered_slot_sets_the_multiplier() {
        let r = restaurant(vec![interval(1, "18:00", "21:00")]);
        let types = [table_type(10, "4-top", (1, 4), 10)];
        let mut rates = HashMap::new();
        rates.insert(Uuid::from_u128(10), 2000);
        let inventory = [
            row(10, at(MONDAY, "18:30"), 10, 7),  // exactly 70%: not over
            row(10, at(MONDAY, "19:00"), 10, 8),  // 80%
            row(10, at(MONDAY, "20:00"), 10, 10), // 100%
        ];
        let slots = compute(&r, &types, &inventory, &rates, (MONDAY, 2, EARLIER));
        let prices: Vec<(String, i64)> = slots
            .iter()
            .map(|s| {
                (
                    s.time.format("%H:%M").to_string(),
                    s.table_types[0].price_cents,
                )
            })
            .collect();
        assert_eq!(
            prices,
            [
                ("18:00".into(), 2000), // 0% and 70%
                ("18:30".into(), 2400), // 70% and 80%
                ("19:00".into(), 2400), // 80% and 0%
                ("19:30".into(), 3000), // 0% and 100%
                ("20:00".into(), 3000), // 100% and 0%
            ]
        );
        // The decision prices from the same rows with the same rule.
        let stay = [inventory[0].clone(), inventory[1].clone()];
        let occupancy = stay_occupancy(&stay).unwrap();
        assert_eq!(
            occupancy,
            Occupancy {
                reserved: 8,
                inventory: 10
            }
        );
        assert_eq!(
            PricingSteps::default().price_cents(2000, 1, occupancy),
            slots[1].table_types[0].price_cents
        );
    }

    #[test]
    fn a_service_crossing_midnight_books_into_the_next_day() {
        // Friday 2026-12-11 18:00 to Saturday 02:00; nothing else.
        let r = restaurant(vec![interval(5, "18:00", "02:00")]);
        let types = [table_type(10, "4-top", (1, 4), 10)];
        let inventory = [
            row(10, at("2026-12-12", "00:00"), 10, 10), // full after midnight
            row(10, at("2026-12-12", "01:00"), 10, 11),
        ];
        let rates = HashMap::new();
        let friday = compute(&r, &types, &inventory, &rates, ("2026-12-11", 2, EARLIER));
        assert_eq!(friday.len(), 12, "18:00 to 23:30");
        assert_eq!(times(&friday)[11], "23:30");
        let last = &friday[11].table_types[0];
        assert_eq!(
            (last.tables_left, last.price_cents),
            (1, 1500),
            "23:30 + 00:00: 11 - 10 left, priced at 100%"
        );
        assert_eq!(friday[10].table_types[0].tables_left, 11);
        assert_eq!(friday[10].table_types[0].price_cents, 1000);

        let saturday = compute(&r, &types, &inventory, &rates, ("2026-12-12", 2, EARLIER));
        assert_eq!(times(&saturday), ["00:00", "00:30", "01:00"]);
        let left: Vec<i32> = saturday
            .iter()
            .map(|s| s.table_types[0].tables_left)
            .collect();
        assert_eq!(left, [1, 0, 0]);

        let thursday = compute(&r, &types, &inventory, &rates, ("2026-12-10", 2, EARLIER));
        assert!(thursday.is_empty());
    }

    #[test]
    fn only_start_times_after_now_are_bookable() {
        let r = restaurant(vec![interval(1, "12:00", "14:00")]);
        let types = [table_type(10, "2-top", (1, 2), 5)];
        let now = |s| compute(&r, &types, &[], &HashMap::new(), (MONDAY, 2, s));
        assert_eq!(times(&now("2026-12-07T12:00:00Z")), ["12:30", "13:00"]);
        assert_eq!(times(&now("2026-12-07T12:10:00Z")), ["12:30", "13:00"]);
        assert!(now("2026-12-07T13:00:00Z").is_empty());
        assert!(now("2026-12-08T00:00:00Z").is_empty());
    }

    #[test]
    fn start_times_are_local_to_the_restaurant() {
        let mut r = restaurant(vec![interval(1, "12:00", "14:00")]);
        r.time_zone = "Europe/Paris".into(); // UTC+1 in December
        let types = [table_type(10, "2-top", (1, 2), 5)];
        // 11:10 UTC is 12:10 in Paris.
        let slots = compute(
            &r,
            &types,
            &[],
            &HashMap::new(),
            (MONDAY, 2, "2026-12-07T11:10:00Z"),
        );
        assert_eq!(times(&slots), ["12:30", "13:00"]);

        r.time_zone = "Mars/Olympus_Mons".into();
        assert!(compute(&r, &types, &[], &HashMap::new(), (MONDAY, 2, EARLIER)).is_empty());
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_is_not_bookable() {
        // Europe/Paris skips 02:00-03:00 on Sunday 2027-03-28.
        let mut r = restaurant(vec![interval(6, "22:00", "06:00")]);
        r.time_zone = "Europe/Paris".into();
        let types = [table_type(10, "2-top", (1, 2), 5)];
        let slots = compute(
            &r,
            &types,
            &[],
            &HashMap::new(),
            ("2027-03-28", 2, "2027-03-01T00:00:00Z"),
        );
        assert_eq!(
            times(&slots),
            ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30", "05:00"]
        );
    }

    #[test]
    fn nothing_is_bookable_beyond_the_horizon() {
        let mut r = restaurant(vec![interval(1, "12:00", "13:00")]);
        r.booking_horizon_days = 6;
        let types = [table_type(10, "2-top", (1, 2), 5)];
        // Monday the 7th is 6 days after Tuesday the 1st.
        let on = |now| compute(&r, &types, &[], &HashMap::new(), (MONDAY, 2, now)).len();
        assert_eq!(on("2026-12-01T10:00:00Z"), 1);
        assert_eq!(on("2026-11-30T23:59:00Z"), 0);
    }

    #[test]
    fn serializes_in_camel_case_with_hh_mm_times() {
        let slot = SlotAvailability {
            time: time("19:30"),
            table_types: vec![TypeAvailability {
                table_type_id: Uuid::from_u128(10),
                name: "4-top".into(),
                seats_min: 1,
                seats_max: 4,
                tables_left: 0,
                price_cents: 2400,
                currency: "EUR".into(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&slot).unwrap(),
            serde_json::json!({
                "time": "19:30",
                "tableTypes": [{
                    "tableTypeId": "00000000-0000-0000-0000-00000000000a",
                    "name": "4-top",
                    "seatsMin": 1,
                    "seatsMax": 4,
                    "tablesLeft": 0,
                    "priceCents": 2400,
                    "currency": "EUR"
                }]
            })
        );
    }
}
