//! A restaurant's week of opening intervals, as sent and as checked: intervals never overlap,
//! even across midnight or from Sunday into Monday.

use chrono::NaiveTime;
use serde::Deserialize;

use super::{shown, MAX_OPENING_INTERVALS, MINUTES_PER_DAY};
use crate::{Invalid, OpeningInterval};

const MINUTES_PER_WEEK: i64 = 7 * MINUTES_PER_DAY;
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `HH:MM`; `24:00` is accepted for a closing time and means midnight.
fn parse_clock(raw: &str, closing: bool) -> Option<NaiveTime> {
    if closing && raw == "24:00" {
        return Some(NaiveTime::MIN);
    }
    if raw.len() != 5 {
        return None;
    }
    NaiveTime::parse_from_str(raw, "%H:%M").ok()
}

/// One opening interval as the client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpeningHoursForm {
    /// ISO 8601 weekday: 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: i64,
    /// `HH:MM`, local time.
    #[schema(example = "18:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub opens_at: String,
    /// `HH:MM`, local time. Not after `opensAt` means it closes after midnight (`18:00` to
    /// `02:00`); equal to it means open around the clock.
    #[schema(example = "23:00", pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
    pub closes_at: String,
}

/// A restaurant's week: intervals that never overlap, even across midnight, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours(Vec<OpeningInterval>);

impl OpeningHours {
    /// # Errors
    /// A bad weekday or time, too many intervals, or two that overlap, naming `openingHours`.
    pub fn parse(forms: &[OpeningHoursForm]) -> Result<Self, Invalid> {
        const FIELD: &str = "openingHours";
        if forms.len() > MAX_OPENING_INTERVALS {
            return Err(Invalid::new(
                FIELD,
                format!("must have at most {MAX_OPENING_INTERVALS} intervals"),
            ));
        }
        let mut intervals = Vec::with_capacity(forms.len());
        for (index, form) in forms.iter().enumerate() {
            let weekday = i16::try_from(form.weekday)
                .ok()
                .filter(|day| (1..=7).contains(day))
                .ok_or_else(|| {
                    Invalid::new(
                        FIELD,
                        format!(
                            "[{index}].weekday must be 1 (Monday) to 7 (Sunday), got {}",
                            form.weekday
                        ),
                    )
                })?;
            let opens_at = parse_clock(&form.opens_at, false).ok_or_else(|| {
                Invalid::new(
                    FIELD,
                    format!(
                        "[{index}].opensAt must be HH:MM, got {}",
                        shown(&form.opens_at)
                    ),
                )
            })?;
            let closes_at = parse_clock(&form.closes_at, true).ok_or_else(|| {
                Invalid::new(
                    FIELD,
                    format!(
                        "[{index}].closesAt must be HH:MM, got {}",
                        shown(&form.closes_at)
                    ),
                )
            })?;
            intervals.push(OpeningInterval {
                weekday,
                opens_at,
                closes_at,
            });
        }
        intervals.sort_by_key(|interval| (interval.weekday, interval.opens_at));
        for (i, a) in intervals.iter().enumerate() {
            for b in &intervals[i + 1..] {
                if overlap(a, b) {
                    return Err(Invalid::new(
                        FIELD,
                        format!("{} and {} overlap", describe(a), describe(b)),
                    ));
                }
            }
        }
        Ok(Self(intervals))
    }

    pub fn intervals(&self) -> &[OpeningInterval] {
        &self.0
    }

    pub fn into_intervals(self) -> Vec<OpeningInterval> {
        self.0
    }
}

fn minute_of_day(time: NaiveTime) -> i64 {
    time.signed_duration_since(NaiveTime::MIN).num_minutes()
}

/// Where an interval starts in the week, in minutes from Monday 00:00, and how long it lasts.
fn arc(interval: &OpeningInterval) -> (i64, i64) {
    let opens = minute_of_day(interval.opens_at);
    let closes = minute_of_day(interval.closes_at);
    let length = if closes > opens {
        closes - opens
    } else {
        closes - opens + MINUTES_PER_DAY
    };
    (
        (i64::from(interval.weekday) - 1) * MINUTES_PER_DAY + opens,
        length,
    )
}

/// Whether two intervals share a minute of the week. The week wraps around: Sunday's late
/// service runs into Monday morning.
fn overlap(a: &OpeningInterval, b: &OpeningInterval) -> bool {
    let (a_start, a_length) = arc(a);
    let (b_start, b_length) = arc(b);
    (b_start - a_start).rem_euclid(MINUTES_PER_WEEK) < a_length
        || (a_start - b_start).rem_euclid(MINUTES_PER_WEEK) < b_length
}

fn describe(interval: &OpeningInterval) -> String {
    let day = usize::try_from(interval.weekday - 1)
        .ok()
        .and_then(|index| WEEKDAYS.get(index))
        .copied()
        .unwrap_or("?");
    format!(
        "{day} {}-{}",
        interval.opens_at.format("%H:%M"),
        interval.closes_at.format("%H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(intervals: &[(i64, &str, &str)]) -> Result<OpeningHours, Invalid> {
        let forms: Vec<OpeningHoursForm> = intervals
            .iter()
            .map(|(weekday, opens, closes)| OpeningHoursForm {
                weekday: *weekday,
                opens_at: (*opens).into(),
                closes_at: (*closes).into(),
            })
            .collect();
        OpeningHours::parse(&forms)
    }

    #[test]
    fn opening_hours_cross_midnight_and_never_overlap() {
        let week = hours(&[
            (5, "18:00", "02:00"),
            (6, "02:00", "04:00"),
            (1, "00:00", "00:00"),
        ])
        .unwrap();
        // Sorted by weekday and opening time; 00:00-00:00 is a whole day.
        assert_eq!(week.intervals()[0].weekday, 1);
        assert!(week.intervals()[0].crosses_midnight());
        assert_eq!(
            hours(&[(1, "09:00", "24:00")]).unwrap().intervals()[0].closes_at,
            NaiveTime::MIN
        );

        for overlapping in [
            vec![(1, "12:00", "15:00"), (1, "14:00", "16:00")],
            vec![(1, "12:00", "15:00"), (1, "12:00", "13:00")],
            // Friday's late service runs into Saturday's brunch.
            vec![(5, "18:00", "02:00"), (6, "01:00", "11:00")],
            // Sunday's late service runs into Monday.
            vec![(7, "20:00", "03:00"), (1, "02:30", "04:00")],
            // Open around the clock on Monday, and again Monday night.
            vec![(1, "06:00", "06:00"), (1, "22:00", "23:00")],
        ] {
            let error = hours(&overlapping).unwrap_err();
            assert_eq!(error.field, "openingHours");
            assert!(error.message.contains("overlap"), "{}", error.message);
        }
        // Touching is not overlapping.
        assert!(hours(&[(1, "12:00", "15:00"), (1, "15:00", "18:00")]).is_ok());
        assert!(hours(&[(7, "00:00", "00:00"), (1, "00:00", "00:00")]).is_ok());

        for bad in [
            vec![(0, "12:00", "14:00")],
            vec![(1, "12h00", "14:00")],
            vec![(1, "25:00", "14:00")],
            vec![(1, "12:00", "9:00")],
            vec![(1, "24:00", "09:00")],
        ] {
            assert_eq!(hours(&bad).unwrap_err().field, "openingHours");
        }
        let too_many: Vec<(i64, &str, &str)> = (0..51).map(|_| (1, "12:00", "13:00")).collect();
        assert!(hours(&too_many).is_err());
    }
}
