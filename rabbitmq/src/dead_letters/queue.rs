//! The two dead-letter queues, and their names in a topology.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Topology;

/// One of the two dead-letter queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeadLetterQueue {
    /// `maitred.dlq`: partition commands and payment jobs.
    Commands,
    /// `maitred.webhooks.dlq`: webhook deliveries after their last attempt.
    Webhooks,
}

impl DeadLetterQueue {
    pub const ALL: [DeadLetterQueue; 2] = [DeadLetterQueue::Commands, DeadLetterQueue::Webhooks];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterQueue::Commands => "commands",
            DeadLetterQueue::Webhooks => "webhooks",
        }
    }

    /// The queue's name in `topology`.
    pub fn queue(self, topology: &Topology) -> String {
        match self {
            DeadLetterQueue::Commands => topology.dead_letter_queue(),
            DeadLetterQueue::Webhooks => topology.webhooks_dead_letter_queue(),
        }
    }

    /// The exchange that feeds the queue (and keeps routing keys): where a message that stays
    /// is put back.
    pub(super) fn exchange(self, topology: &Topology) -> String {
        match self {
            DeadLetterQueue::Commands => topology.dead_letter_exchange(),
            DeadLetterQueue::Webhooks => topology.webhooks_dead_letter_exchange(),
        }
    }

    pub(super) fn lock(self, topology: &Topology) -> String {
        format!("{}.lock", self.queue(topology))
    }
}

impl fmt::Display for DeadLetterQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeadLetterQueue {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "commands" => Ok(DeadLetterQueue::Commands),
            "webhooks" => Ok(DeadLetterQueue::Webhooks),
            other => Err(format!(
                "no dead-letter queue is called {other:?}: use commands or webhooks"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letters::test_topology as topology;

    #[test]
    fn queue_names_parse_and_map_to_the_topology() {
        let t = topology();
        assert_eq!(
            "commands".parse::<DeadLetterQueue>().unwrap().queue(&t),
            "t.maitred.dlq"
        );
        assert_eq!(
            "webhooks".parse::<DeadLetterQueue>().unwrap().queue(&t),
            "t.maitred.webhooks.dlq"
        );
        assert_eq!(
            DeadLetterQueue::Webhooks.exchange(&t),
            "t.maitred.webhooks.dlx"
        );
        assert_eq!(DeadLetterQueue::Commands.lock(&t), "t.maitred.dlq.lock");
        assert!("payments".parse::<DeadLetterQueue>().is_err());
    }
}
