//! What a sweep acts on (its [`Selector`]) and what it did (a [`Sweep`]).

use std::future::Future;

use serde::Serialize;

use super::DeadLetter;

/// Chooses the messages an operation acts on. Implemented by any `Fn(&DeadLetter) -> bool`;
/// a selector that must look something up (a database, for example) implements it directly.
pub trait Selector {
    fn select(&self, letter: &DeadLetter) -> impl Future<Output = bool> + Send;
}

impl<F> Selector for F
where
    F: Fn(&DeadLetter) -> bool + Sync,
{
    fn select(&self, letter: &DeadLetter) -> impl Future<Output = bool> + Send {
        std::future::ready(self(letter))
    }
}

/// What a sweep does with the messages its selector chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Read them and leave them.
    Browse,
    /// Publish them back to where they came from, then remove them.
    Replay,
    /// Remove them.
    Purge,
}

/// How far a sweep has got: `done` of the `total` messages it will read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// What happened to one chosen message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Left in place: a browse, or a dry run.
    Kept,
    Replayed,
    Purged,
    /// The replay was refused; the message is still in the dead-letter queue.
    Failed(String),
}

/// A chosen message and what happened to it.
#[derive(Debug, Clone)]
pub struct Handled {
    pub letter: DeadLetter,
    pub outcome: Outcome,
}

/// The result of a sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub action: Action,
    pub dry_run: bool,
    /// Messages read.
    pub scanned: u64,
    /// Messages the selector did not choose: left in place.
    pub skipped: u64,
    /// The chosen messages, in queue order, and what happened to each.
    pub chosen: Vec<Handled>,
}

impl Sweep {
    fn count(&self, outcome: impl Fn(&Outcome) -> bool) -> u64 {
        self.chosen.iter().filter(|h| outcome(&h.outcome)).count() as u64
    }

    pub fn replayed(&self) -> u64 {
        self.count(|o| *o == Outcome::Replayed)
    }

    pub fn purged(&self) -> u64 {
        self.count(|o| *o == Outcome::Purged)
    }

    pub fn failed(&self) -> u64 {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letters::test_topology as topology;
    use lapin::BasicProperties;

    #[test]
    fn closures_select_and_sweeps_count_outcomes() {
        let letter = DeadLetter::new(&topology(), "p.000", BasicProperties::default(), vec![]);
        let only_p0 = |l: &DeadLetter| l.routing_key == "p.000";
        let chosen = futures_util::FutureExt::now_or_never(only_p0.select(&letter));
        assert_eq!(chosen, Some(true));
        let handled = |outcome| Handled {
            letter: letter.clone(),
            outcome,
        };
        let sweep = Sweep {
            action: Action::Replay,
            dry_run: false,
            scanned: 5,
            skipped: 2,
            chosen: vec![
                handled(Outcome::Replayed),
                handled(Outcome::Replayed),
                handled(Outcome::Failed("unroutable".into())),
            ],
        };
        assert_eq!(
            (sweep.replayed(), sweep.failed(), sweep.purged()),
            (2, 1, 0)
        );
    }
}
