//! Opening hours and slots, in the restaurant's local wall-clock time.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::OpeningInterval;

/// The instant a local wall-clock time happens in an IANA zone; the earlier one when a
/// daylight-saving change repeats it, `None` when it skips it or the zone is unknown.
pub fn start_instant(time_zone: &str, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let tz: Tz = time_zone.parse().ok()?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|instant| instant.with_timezone(&Utc))
}

/// The last instant a guest may cancel with a full refund: `refund_window_hours` before the
/// local start. `None` when the start does not exist in the zone (then no refund is due).
/// The cancellation and the page that explains it both follow this.
pub fn refund_deadline(
    time_zone: &str,
    refund_window_hours: i32,
    start: NaiveDateTime,
) -> Option<DateTime<Utc>> {
    start_instant(time_zone, start)
        .map(|instant| instant - chrono::Duration::hours(i64::from(refund_window_hours)))
}

/// Whether the restaurant is open for the whole of `[start, end)`. An interval that crosses
/// midnight belongs to the day it opens, so the previous day's late service counts too.
pub fn is_open(hours: &[OpeningInterval], start: NaiveDateTime, end: NaiveDateTime) -> bool {
    let day = start.date();
    [day.pred_opt(), Some(day)]
        .into_iter()
        .flatten()
        .any(|service_day| {
            let weekday = service_day.weekday().number_from_monday() as i16;
            hours
                .iter()
                .filter(|interval| interval.weekday == weekday)
                .any(|interval| {
                    let opens = service_day.and_time(interval.opens_at);
                    let closes_day = if interval.crosses_midnight() {
                        service_day.succ_opt()
                    } else {
                        Some(service_day)
                    };
                    let Some(closes) = closes_day.map(|d| d.and_time(interval.closes_at)) else {
                        return false;
                    };
                    opens <= start && end <= closes
                })
        })
}

/// The start of every slot that `[start, start + duration)` covers. `start` is expected on the
/// slot grid; a duration that ends mid-slot still holds that slot.
pub fn covered_slots(
    start: NaiveDateTime,
    duration_minutes: i32,
    slot_minutes: i32,
) -> Vec<NaiveDateTime> {
    let step = i64::from(slot_minutes.max(1));
    let end = start + Duration::minutes(i64::from(duration_minutes));
    (0..)
        .map(|i| start + Duration::minutes(i * step))
        .take_while(|slot| *slot < end)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};

    fn at(date: &str, time: &str) -> NaiveDateTime {
        NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .unwrap()
            .and_time(NaiveTime::parse_from_str(time, "%H:%M").unwrap())
    }

    fn interval(weekday: i16, opens: &str, closes: &str) -> OpeningInterval {
        OpeningInterval {
            weekday,
            opens_at: NaiveTime::parse_from_str(opens, "%H:%M").unwrap(),
            closes_at: NaiveTime::parse_from_str(closes, "%H:%M").unwrap(),
        }
    }

    // 2026-12-07 is a Monday.
    #[test]
    fn open_only_when_the_whole_stay_fits_an_interval() {
        let hours = [interval(1, "12:00", "14:30"), interval(1, "18:00", "23:00")];
        assert!(is_open(
            &hours,
            at("2026-12-07", "12:00"),
            at("2026-12-07", "13:30")
        ));
        assert!(is_open(
            &hours,
            at("2026-12-07", "21:30"),
            at("2026-12-07", "23:00")
        ));
        assert!(!is_open(
            &hours,
            at("2026-12-07", "14:00"),
            at("2026-12-07", "15:30")
        ));
        assert!(!is_open(
            &hours,
            at("2026-12-07", "22:00"),
            at("2026-12-07", "23:30")
        ));
        assert!(!is_open(
            &hours,
            at("2026-12-08", "12:00"),
            at("2026-12-08", "13:30")
        ));
    }

    #[test]
    fn an_interval_crossing_midnight_covers_the_next_morning() {
        let hours = [interval(5, "18:00", "02:00")]; // Friday night
        assert!(is_open(
            &hours,
            at("2026-12-11", "23:30"),
            at("2026-12-12", "01:00")
        ));
        assert!(is_open(
            &hours,
            at("2026-12-12", "00:30"),
            at("2026-12-12", "02:00")
        ));
        assert!(!is_open(
            &hours,
            at("2026-12-12", "01:00"),
            at("2026-12-12", "02:30")
        ));
        assert!(!is_open(
            &hours,
            at("2026-12-12", "18:00"),
            at("2026-12-12", "19:00")
        ));
    }

    #[test]
    fn slots_cover_the_stay_including_a_partial_last_slot() {
        let slots = covered_slots(at("2026-12-07", "19:00"), 90, 15);
        assert_eq!(slots.len(), 6);
        assert_eq!(slots[5], at("2026-12-07", "20:15"));
        assert_eq!(covered_slots(at("2026-12-07", "19:00"), 100, 30).len(), 4);
        let late = covered_slots(at("2026-12-07", "23:30"), 60, 30);
        assert_eq!(
            late,
            vec![at("2026-12-07", "23:30"), at("2026-12-08", "00:00")]
        );
    }
}
