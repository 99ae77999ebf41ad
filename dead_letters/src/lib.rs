//! Dead letters as the staff see them, shared by `maitred dlq` and the `/v1/dead-letters`
//! routes: what a message is about (its restaurant and reservation), the filters, the
//! selection, and the JSON views. The mechanics (reading without losing, replaying with
//! confirms) are [`rabbitmq::dead_letters`]. No HTTP here: the routes are a thin layer over
//! [`list`], [`show`] and [`sweep`], and so is the CLI.
//!
//! The restaurant of a message:
//! - a partition command is an [`Envelope`](booking::messages::Envelope), which names it;
//! - a webhook job carries the event's payload, whose `data` is the reservation;
//! - a payment job names only its payment: the restaurant is looked up in the database when
//!   a [`Store`](booking::Store) is at hand (the API always has one), and is unknown
//!   otherwise, so such a message then never matches a restaurant filter;
//! - anything else (a malformed message) has none.
//!
//! Layout:
//! - [`filter`]: which messages to consider ([`Filter`]) and act on ([`Selection`]), and ages
//!   as staff type them;
//! - [`subject`]: what a message is about ([`Subject`]), looked up by a [`Resolver`];
//! - [`views`]: the JSON views of a message, a list and a sweep's report;
//! - here: [`list`], [`show`] and [`sweep`], which run the mechanics with a selection.

pub mod filter;
pub mod subject;
pub mod views;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rabbitmq::dead_letters::{Action, DeadLetter, Outcome, Progress, Selector, Sweep};
use rabbitmq::{DeadLetterError, DeadLetterQueue, DeadLetters};

pub use filter::{parse_age, Filter, Selection, REASONS};
pub use subject::{Resolver, Subject};
pub use views::{DeadLetterDetail, DeadLetterSummary, SweepItem, SweepReport};

use views::{body_view, properties_view, summarize};

/// A [`Selection`] as the mechanics' [`Selector`].
struct Selecting<'a> {
    selection: &'a Selection,
    resolver: &'a Resolver,
    now: DateTime<Utc>,
}

impl Selector for Selecting<'_> {
    async fn select(&self, letter: &DeadLetter) -> bool {
        if !self.selection.all && !self.selection.ids.contains(&letter.id) {
            return false;
        }
        let subject = self.resolver.subject(letter).await;
        self.selection.filter.matches(letter, &subject, self.now)
    }
}

/// Reads the whole queue and returns the dead letters that pass `filter`, leaving them all.
///
/// # Errors
/// See [`DeadLetterError`].
pub async fn list(
    dead_letters: &DeadLetters,
    queue: DeadLetterQueue,
    filter: &Filter,
    resolver: &Resolver,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Vec<DeadLetterSummary>, DeadLetterError> {
    let selection = Selection::matching(filter.clone());
    let now = Utc::now();
    let selector = Selecting {
        selection: &selection,
        resolver,
        now,
    };
    let sweep = dead_letters.browse(queue, &selector, progress).await?;
    let mut items = Vec::with_capacity(sweep.chosen.len());
    for handled in &sweep.chosen {
        items.push(summarize(queue, &handled.letter, resolver, now).await);
    }
    Ok(items)
}

/// The dead letter `id` in full (the first copy, if a crash left two), leaving it.
///
/// # Errors
/// See [`DeadLetterError`].
pub async fn show(
    dead_letters: &DeadLetters,
    queue: DeadLetterQueue,
    id: &str,
    resolver: &Resolver,
) -> Result<Option<DeadLetterDetail>, DeadLetterError> {
    let selection = Selection::one(id);
    let now = Utc::now();
    let selector = Selecting {
        selection: &selection,
        resolver,
        now,
    };
    let sweep = dead_letters.browse(queue, &selector, &|_| {}).await?;
    let Some(handled) = sweep.chosen.first() else {
        return Ok(None);
    };
    let letter = &handled.letter;
    let (body, body_encoding) = body_view(&letter.body);
    Ok(Some(DeadLetterDetail {
        summary: summarize(queue, letter, resolver, now).await,
        deaths: letter.deaths.clone(),
        properties: properties_view(&letter.properties),
        headers: letter.headers_json(),
        body,
        body_encoding,
    }))
}

/// Replays or purges the selected dead letters; a dry run only reports them.
///
/// # Errors
/// See [`DeadLetterError`].
pub async fn sweep(
    dead_letters: &DeadLetters,
    queue: DeadLetterQueue,
    action: Action,
    selection: &Selection,
    dry_run: bool,
    resolver: &Resolver,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<SweepReport, DeadLetterError> {
    let now = Utc::now();
    let selector = Selecting {
        selection,
        resolver,
        now,
    };
    let sweep: Sweep = match action {
        Action::Replay => {
            dead_letters
                .replay(queue, &selector, dry_run, progress)
                .await?
        }
        Action::Purge => {
            dead_letters
                .purge(queue, &selector, dry_run, progress)
                .await?
        }
        Action::Browse => dead_letters.browse(queue, &selector, progress).await?,
    };
    let mut messages = Vec::with_capacity(sweep.chosen.len());
    for handled in &sweep.chosen {
        let (outcome, error) = match (&handled.outcome, action) {
            (Outcome::Replayed, _) => ("replayed", None),
            (Outcome::Purged, _) => ("purged", None),
            (Outcome::Failed(why), _) => ("failed", Some(why.clone())),
            (Outcome::Kept, Action::Purge) => ("would_purge", None),
            (Outcome::Kept, _) => ("would_replay", None),
        };
        messages.push(SweepItem {
            summary: summarize(queue, &handled.letter, resolver, now).await,
            outcome: outcome.into(),
            error,
        });
    }
    let seen: BTreeSet<&str> = sweep.chosen.iter().map(|h| h.letter.id.as_str()).collect();
    Ok(SweepReport {
        action: match action {
            Action::Replay => "replay",
            Action::Purge => "purge",
            Action::Browse => "browse",
        }
        .into(),
        queue: queue.to_string(),
        dry_run,
        scanned: sweep.scanned,
        matched: sweep.chosen.len() as u64,
        replayed: sweep.replayed(),
        purged: sweep.purged(),
        skipped: sweep.skipped,
        failed: sweep.failed(),
        not_found: selection
            .ids
            .iter()
            .filter(|id| !seen.contains(id.as_str()))
            .cloned()
            .collect(),
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{decide, letter};
    use uuid::Uuid;

    #[test]
    fn a_selection_names_ids_or_all_never_both_nor_neither() {
        let filter = Filter::default();
        assert_eq!(
            Selection::new(vec![], false, filter.clone())
                .unwrap_err()
                .field,
            "ids"
        );
        assert_eq!(
            Selection::new(vec!["a".into()], true, filter.clone())
                .unwrap_err()
                .field,
            "all"
        );
        let named =
            Selection::new(vec![" a ".into(), "b".into(), "".into()], false, filter).unwrap();
        assert_eq!(named.ids, BTreeSet::from(["a".into(), "b".into()]));

        let resolver = Resolver::new(None);
        let selecting = Selecting {
            selection: &named,
            resolver: &resolver,
            now: Utc::now(),
        };
        let pick = |l: &DeadLetter| futures_executor_lite(selecting.select(l));
        assert!(pick(&letter("a", decide(Uuid::nil()), "rejected", 5)));
        assert!(!pick(&letter("z", decide(Uuid::nil()), "rejected", 5)));
    }

    /// Runs a future that never waits (no database is involved).
    fn futures_executor_lite<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the future waited"),
        }
    }
}

/// Dead letters made up for the unit tests.
#[cfg(test)]
mod testing {
    use booking::messages::{Command, Envelope};
    use chrono::Utc;
    use rabbitmq::dead_letters::DeadLetter;
    use rabbitmq::lapin::types::{AMQPValue, FieldArray, FieldTable, LongString};
    use rabbitmq::Topology;
    use uuid::Uuid;

    pub fn topology() -> Topology {
        Topology {
            prefix: String::new(),
            partitions: 4,
            max_length: 10,
            delivery_limit: 3,
            quorum_size: None,
        }
    }

    /// A dead letter rejected by `p.001` `seconds_ago` seconds ago.
    pub fn letter(id: &str, body: Vec<u8>, reason: &str, seconds_ago: i64) -> DeadLetter {
        let text = |s: &str| AMQPValue::LongString(LongString::from(s));
        let mut death = FieldTable::default();
        death.insert("queue".into(), text("maitred.p.001"));
        death.insert("reason".into(), text(reason));
        death.insert("count".into(), AMQPValue::LongLongInt(1));
        let at = (Utc::now() - chrono::Duration::seconds(seconds_ago)).timestamp();
        death.insert("time".into(), AMQPValue::Timestamp(at as u64));
        let mut headers = FieldTable::default();
        headers.insert(
            "x-death".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
        );
        let properties = rabbitmq::properties(id, "decide").with_headers(headers);
        DeadLetter::new(&topology(), "p.001", properties, body)
    }

    pub fn decide(restaurant_id: Uuid) -> Vec<u8> {
        booking::messages::to_json(&Envelope {
            restaurant_id,
            command: Command::Decide {
                reservation_id: Uuid::nil(),
            },
        })
    }
}
