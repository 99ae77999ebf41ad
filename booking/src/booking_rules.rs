//! A restaurant's booking rules: how many covers (people) the kitchen can start per slot
//! (pacing), how long a party of each size sits (turn times), and when and how often a diner
//! may change a booking. Stored with the restaurant as one JSON document; the decision reads
//! them with the restaurant and enforces pacing against the `slot_covers` ledger, whose CHECK
//! refuses exceeding a limit even if the code were wrong.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The most pacing rules and turn times a restaurant may have.
pub const MAX_RULES: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingRules {
    /// Limits on the covers starting in each slot, by period of the day. A slot under several
    /// rules takes the smallest limit; a slot under none is not paced.
    pub pacing: Vec<PacingRule>,
    /// The sitting of a party, by size: the first entry whose `partySizeUpTo` seats the party,
    /// or the last entry for a larger party. Without entries every party sits for the
    /// restaurant's `defaultDurationMinutes`.
    pub turn_times: Vec<TurnTime>,
    /// A diner may change a booking until this many minutes before it starts.
    pub modification_cutoff_minutes: i32,
    /// How many times a diner may change one booking.
    pub max_modifications: i32,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            pacing: Vec::new(),
            turn_times: Vec::new(),
            modification_cutoff_minutes: 120,
            max_modifications: 3,
        }
    }
}

/// At most `maxCovers` people may start in each slot whose start time is in `[from, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PacingRule {
    #[serde(with = "hh_mm")]
    #[schema(value_type = String, example = "18:00")]
    pub from: NaiveTime,
    /// Not after `from` means the period runs past midnight; equal to it means all day.
    #[serde(with = "hh_mm")]
    #[schema(value_type = String, example = "22:00")]
    pub until: NaiveTime,
    pub max_covers: i32,
}

impl PacingRule {
    fn covers(&self, start: NaiveTime) -> bool {
        if self.from < self.until {
            self.from <= start && start < self.until
        } else {
            // Past midnight (18:00 to 02:00), or around the clock when equal.
            start >= self.from || start < self.until
        }
    }
}

/// Parties of up to `partySizeUpTo` people sit for `minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TurnTime {
    pub party_size_up_to: i32,
    pub minutes: i32,
}

impl BookingRules {
    /// The most covers that may start in the slot at `start`, if it is paced.
    pub fn covers_limit(&self, start: NaiveTime) -> Option<i32> {
        self.pacing
            .iter()
            .filter(|rule| rule.covers(start))
            .map(|rule| rule.max_covers)
            .min()
    }

    /// How long a party of `party_size` sits, `default_minutes` without turn times.
    pub fn sitting_minutes(&self, party_size: i32, default_minutes: i32) -> i32 {
        self.turn_times
            .iter()
            .find(|turn| party_size <= turn.party_size_up_to)
            .or(self.turn_times.last())
            .map_or(default_minutes, |turn| turn.minutes)
    }

    /// The longest sitting of any party: how far past a date its stays can reach.
    pub fn longest_sitting(&self, default_minutes: i32) -> i32 {
        self.turn_times
            .iter()
            .map(|turn| turn.minutes)
            .chain([default_minutes])
            .max()
            .unwrap_or(default_minutes)
    }
}

/// The body of `PUT /v1/restaurants/{id}/booking-rules`: the whole document.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BookingRulesForm {
    /// At most 24 rules; `maxCovers` 1 to 10000.
    #[schema(max_items = 24)]
    pub pacing: Vec<PacingRuleForm>,
    /// At most 24 entries, in increasing party size; minutes 15 to 720.
    #[schema(max_items = 24)]
    pub turn_times: Vec<TurnTimeForm>,
    /// 0 to 43200 (30 days).
    #[schema(minimum = 0, maximum = 43200)]
    pub modification_cutoff_minutes: i64,
    /// 0 (no changes) to 20.
    #[schema(minimum = 0, maximum = 20)]
    pub max_modifications: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PacingRuleForm {
    /// `HH:MM`, local time.
    #[schema(example = "18:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub from: String,
    /// `HH:MM`, local time; not after `from` runs past midnight.
    #[schema(example = "22:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub until: String,
    #[schema(minimum = 1, maximum = 10000)]
    pub max_covers: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TurnTimeForm {
    #[schema(minimum = 1, maximum = 1000)]
    pub party_size_up_to: i64,
    #[schema(minimum = 15, maximum = 720)]
    pub minutes: i64,
}

fn clock(field: &'static str, index: usize, name: &str, raw: &str) -> Result<NaiveTime, Invalid> {
    (raw.len() == 5)
        .then(|| NaiveTime::parse_from_str(raw, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| Invalid::new(field, format!("[{index}].{name} must be HH:MM")))
}

fn bounded(
    field: &'static str,
    what: String,
    value: i64,
    (min, max): (i64, i64),
) -> Result<i32, Invalid> {
    if (min..=max).contains(&value) {
        Ok(i32::try_from(value).unwrap_or(i32::MAX))
    } else {
        Err(Invalid::new(
            field,
            format!("{what} must be between {min} and {max}, got {value}"),
        ))
    }
}

impl BookingRulesForm {
    /// # Errors
    /// The first rule that breaks a limit, naming its field.
    pub fn parse(&self) -> Result<BookingRules, Invalid> {
        if self.pacing.len() > MAX_RULES {
            return Err(Invalid::new(
                "pacing",
                format!("must have at most {MAX_RULES} rules"),
            ));
        }
        if self.turn_times.len() > MAX_RULES {
            return Err(Invalid::new(
                "turnTimes",
                format!("must have at most {MAX_RULES} entries"),
            ));
        }
        let mut pacing = Vec::with_capacity(self.pacing.len());
        for (index, rule) in self.pacing.iter().enumerate() {
            pacing.push(PacingRule {
                from: clock("pacing", index, "from", &rule.from)?,
                until: clock("pacing", index, "until", &rule.until)?,
                max_covers: bounded(
                    "pacing",
                    format!("[{index}].maxCovers"),
                    rule.max_covers,
                    (1, 10_000),
                )?,
            });
        }
        let mut turn_times: Vec<TurnTime> = Vec::with_capacity(self.turn_times.len());
        for (index, turn) in self.turn_times.iter().enumerate() {
            let party_size_up_to = bounded(
                "turnTimes",
                format!("[{index}].partySizeUpTo"),
                turn.party_size_up_to,
                (1, 1000),
            )?;
            if turn_times
                .last()
                .is_some_and(|before| before.party_size_up_to >= party_size_up_to)
            {
                return Err(Invalid::new(
                    "turnTimes",
                    format!("[{index}].partySizeUpTo must be larger than the entry before it"),
                ));
            }
            turn_times.push(TurnTime {
                party_size_up_to,
                minutes: bounded(
                    "turnTimes",
                    format!("[{index}].minutes"),
                    turn.minutes,
                    (15, 720),
                )?,
            });
        }
        Ok(BookingRules {
            pacing,
            turn_times,
            modification_cutoff_minutes: bounded(
                "modificationCutoffMinutes",
                "it".into(),
                self.modification_cutoff_minutes,
                (0, 43_200),
            )?,
            max_modifications: bounded(
                "maxModifications",
                "it".into(),
                self.max_modifications,
                (0, 20),
            )?,
        })
    }
}

/// `HH:MM` in the stored document, as on the wire.
mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        crate::wire_time::serialize_hh_mm(time, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(d)?;
        NaiveTime::parse_from_str(&raw, "%H:%M").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn form(pacing: Vec<(&str, &str, i64)>, turns: Vec<(i64, i64)>) -> BookingRulesForm {
        BookingRulesForm {
            pacing: pacing
                .into_iter()
                .map(|(from, until, max_covers)| PacingRuleForm {
                    from: from.into(),
                    until: until.into(),
                    max_covers,
                })
                .collect(),
            turn_times: turns
                .into_iter()
                .map(|(party_size_up_to, minutes)| TurnTimeForm {
                    party_size_up_to,
                    minutes,
                })
                .collect(),
            modification_cutoff_minutes: 60,
            max_modifications: 2,
        }
    }

    #[test]
    fn the_smallest_limit_of_the_rules_covering_a_slot_applies() {
        let rules = form(
            vec![
                ("18:00", "22:00", 16),
                ("20:00", "21:00", 8),
                ("23:00", "01:00", 4),
            ],
            vec![],
        )
        .parse()
        .unwrap();
        assert_eq!(rules.covers_limit(t("17:45")), None);
        assert_eq!(rules.covers_limit(t("18:00")), Some(16));
        assert_eq!(rules.covers_limit(t("20:15")), Some(8));
        assert_eq!(rules.covers_limit(t("22:00")), None);
        assert_eq!(rules.covers_limit(t("00:30")), Some(4));
        assert_eq!(rules.covers_limit(t("23:00")), Some(4));
    }

    #[test]
    fn a_party_sits_for_the_first_turn_time_that_seats_it() {
        let rules = form(vec![], vec![(2, 90), (6, 120)]).parse().unwrap();
        assert_eq!(rules.sitting_minutes(1, 75), 90);
        assert_eq!(rules.sitting_minutes(2, 75), 90);
        assert_eq!(rules.sitting_minutes(3, 75), 120);
        assert_eq!(rules.sitting_minutes(9, 75), 120);
        assert_eq!(rules.longest_sitting(75), 120);
        assert_eq!(BookingRules::default().sitting_minutes(4, 75), 75);
    }

    #[test]
    fn bad_rules_name_their_field() {
        let field = |f: BookingRulesForm| f.parse().unwrap_err().field;
        assert_eq!(field(form(vec![("18:0", "22:00", 1)], vec![])), "pacing");
        assert_eq!(field(form(vec![("18:00", "22:00", 0)], vec![])), "pacing");
        assert_eq!(field(form(vec![], vec![(6, 120), (2, 90)])), "turnTimes");
        assert_eq!(field(form(vec![], vec![(2, 10)])), "turnTimes");
        let mut f = form(vec![], vec![]);
        f.max_modifications = 21;
        assert_eq!(field(f), "maxModifications");
    }
}
