//! Moving committed messages from PostgreSQL to RabbitMQ.
//!
//! Every message that a state change needs is first written in the change's own transaction,
//! then published with confirms, then deleted. Whatever a crash or a broker outage leaves
//! behind is published later, and every consumer is idempotent, so a message is never lost
//! and a duplicate is harmless.
//!
//! Layout:
//! - [`intake`]: relaying a new booking request's `decide` command, with the 202/503 promise
//!   (a refused request that nobody was promised is withdrawn).
//! - [`intake_batch`]: intake's group commit: requests arriving together are recorded and
//!   relayed together.
//! - [`relay`]: the follow-up messages of transitions (timers, payment jobs, webhooks,
//!   commands), published by a background task each process runs.
//! - [`sweeper`]: the safety net: stranded intake commands and holds whose expiry timer was
//!   lost.

pub mod intake;
pub mod intake_batch;
pub mod relay;
pub mod sweeper;

use std::time::Duration;

use booking::messages::{self, Envelope};
use rabbitmq::{Outgoing, PublishError, Publisher, Topology};

pub use intake::{relay_decision, Relayed, Relayer};
pub use intake_batch::{Batched, IntakeBatcher};
pub use relay::{Relay, RelayWaker};
pub use sweeper::{run_sweeper, SweeperConfig};

/// Publishes a command to its restaurant's partition, after `delay`, with the request id of
/// its reservation as the correlation id.
///
/// # Errors
/// As [`Publisher::publish`].
pub async fn publish_command(
    publisher: &Publisher,
    envelope: &Envelope,
    message_id: &str,
    correlation_id: Option<&str>,
    delay: Duration,
) -> Result<(), PublishError> {
    let partition = publisher.topology().partition_of(envelope.restaurant_id);
    publisher
        .publish(Outgoing {
            routing_key: &Topology::routing_key(partition),
            body: &messages::to_json(envelope),
            properties: rabbitmq::correlated_properties(
                message_id,
                envelope.command.kind(),
                correlation_id,
            ),
            delay,
        })
        .await
}
