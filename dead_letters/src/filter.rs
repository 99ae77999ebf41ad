//! Which dead letters to consider ([`Filter`]) and which to act on ([`Selection`]), and ages
//! as staff type them.

use std::collections::BTreeSet;
use std::time::Duration;

use booking::Invalid;
use chrono::{DateTime, Utc};
use rabbitmq::dead_letters::DeadLetter;
use uuid::Uuid;

use crate::Subject;

/// The reasons RabbitMQ dead-letters a message for.
pub const REASONS: [&str; 4] = ["rejected", "delivery_limit", "expired", "maxlen"];

/// Which dead letters to consider. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Why it was dead-lettered (one of [`REASONS`]).
    pub reason: Option<String>,
    pub restaurant_id: Option<Uuid>,
    /// Dead for at least this long (a message whose death time is unknown never matches).
    pub min_age: Option<Duration>,
}

impl Filter {
    /// # Errors
    /// An unknown reason, naming `reason`.
    pub fn new(
        reason: Option<&str>,
        restaurant_id: Option<Uuid>,
        min_age: Option<Duration>,
    ) -> Result<Self, Invalid> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(reason) = reason {
            if !REASONS.contains(&reason) {
                return Err(Invalid::new(
                    "reason",
                    format!("must be one of {}", REASONS.join(", ")),
                ));
            }
        }
        Ok(Self {
            reason: reason.map(str::to_owned),
            restaurant_id,
            min_age,
        })
    }

    pub(crate) fn matches(
        &self,
        letter: &DeadLetter,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> bool {
        let reason = self
            .reason
            .as_deref()
            .is_none_or(|reason| letter.reason() == Some(reason));
        let restaurant = self
            .restaurant_id
            .is_none_or(|id| subject.restaurant_id == Some(id));
        let age = self
            .min_age
            .is_none_or(|min| letter.age(now).is_some_and(|age| age >= min));
        reason && restaurant && age
    }
}

/// The messages a replay or purge acts on: the ones named, or every one; either way only
/// those that pass the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Message ids (see [`DeadLetter::id`]); empty with `all`.
    pub ids: BTreeSet<String>,
    pub all: bool,
    pub filter: Filter,
}

impl Selection {
    /// # Errors
    /// Neither ids nor `all`, or both.
    pub fn new(ids: Vec<String>, all: bool, filter: Filter) -> Result<Self, Invalid> {
        let ids: BTreeSet<String> = ids
            .into_iter()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .collect();
        match (ids.is_empty(), all) {
            (true, false) => Err(Invalid::new(
                "ids",
                "name the messages by id, or choose all of them (with the filters) explicitly",
            )),
            (false, true) => Err(Invalid::new(
                "all",
                "either name the messages by id or choose all, not both",
            )),
            _ => Ok(Self { ids, all, filter }),
        }
    }

    /// Every message that passes `filter`.
    pub fn matching(filter: Filter) -> Self {
        Self {
            ids: BTreeSet::new(),
            all: true,
            filter,
        }
    }

    /// The message named `id` (all of its copies), whatever it is.
    pub fn one(id: &str) -> Self {
        Self {
            ids: BTreeSet::from([id.to_owned()]),
            all: false,
            filter: Filter::default(),
        }
    }
}

/// Reads an age as humantime does (`90s`, `15m`, `2h`, `3d`, `1h 30m`), or plain seconds.
///
/// # Errors
/// Anything else, naming `minAge`.
pub fn parse_age(text: &str) -> Result<Duration, Invalid> {
    let text = text.trim();
    // humantime wants a unit; a bare number has always meant seconds here.
    let age = match text.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text),
    };
    age.map_err(|_| {
        Invalid::new(
            "minAge",
            "must be a number of seconds, or a duration such as 90s, 15m, 2h or 3d",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{decide, letter, topology};
    use rabbitmq::lapin::BasicProperties;

    #[test]
    fn filters_combine_reason_restaurant_and_age() {
        let restaurant = Uuid::new_v4();
        let old = letter("a", decide(restaurant), "rejected", 3600);
        let young = letter("b", decide(restaurant), "delivery_limit", 10);
        let elsewhere = letter("c", decide(Uuid::new_v4()), "rejected", 3600);
        let ageless = DeadLetter::new(
            &topology(),
            "p.001",
            BasicProperties::default(),
            decide(restaurant),
        );
        let now = Utc::now();
        let check = |filter: &Filter, letter: &DeadLetter| {
            filter.matches(letter, &Subject::of(&letter.body), now)
        };

        let everything = Filter::default();
        assert!([&old, &young, &elsewhere, &ageless]
            .iter()
            .all(|l| check(&everything, l)));
        let rejected = Filter::new(Some("rejected"), None, None).unwrap();
        assert!(check(&rejected, &old) && !check(&rejected, &young));
        assert!(!check(&rejected, &ageless), "no x-death, no reason");
        let here = Filter::new(None, Some(restaurant), None).unwrap();
        assert!(check(&here, &old) && check(&here, &young) && !check(&here, &elsewhere));
        let an_hour = Filter::new(None, None, Some(Duration::from_secs(1800))).unwrap();
        assert!(check(&an_hour, &old) && !check(&an_hour, &young));
        assert!(
            !check(&an_hour, &ageless),
            "an unknown age is not old enough"
        );
        let all_three = Filter::new(
            Some("rejected"),
            Some(restaurant),
            Some(Duration::from_secs(60)),
        )
        .unwrap();
        assert!(check(&all_three, &old));
        assert!(!check(&all_three, &young) && !check(&all_three, &elsewhere));

        assert_eq!(
            Filter::new(Some("bored"), None, None).unwrap_err().field,
            "reason"
        );
    }

    #[test]
    fn ages_read_units() {
        assert_eq!(parse_age("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_age("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_age("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_age("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_age(" 1h 30m ").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_age("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_age("1w").unwrap(), Duration::from_secs(7 * 86_400));
        for bad in ["", "m", "1x", "-5", "15 parsecs"] {
            assert_eq!(parse_age(bad).unwrap_err().field, "minAge", "{bad:?}");
        }
    }
}
