//! maitred's messaging layer on RabbitMQ. It knows queues, envelopes and acknowledgements, and no
//! domain rules.
//!
//! Layout:
//! - [`topology`]: the exchanges and the partition queues, their names and arguments, and the
//!   stable hash that routes a restaurant to its partition.
//! - [`envelope`]: the commands that travel through a partition, as JSON.
//! - [`publisher`]: publishing with publisher confirms, with a clear answer: confirmed, refused
//!   (nothing was enqueued) or unknown (it may have been enqueued).
//! - [`consumer`]: a serial consumer of one partition, with manual acks.

pub mod consumer;
pub mod envelope;
pub mod publisher;
pub mod topology;

pub use consumer::{consume_partition, Disposition};
pub use envelope::{Command, Envelope};
pub use publisher::{PublishError, Publisher};
pub use topology::Topology;

pub use lapin;

/// Opens a connection to the broker, named so that it is recognisable in the management UI.
///
/// # Errors
/// When the broker cannot be reached or refuses the credentials.
pub async fn connect(url: &str, name: &str) -> Result<lapin::Connection, lapin::Error> {
    let properties = lapin::ConnectionProperties::default().with_connection_name(name.into());
    lapin::Connection::connect(url, properties).await
}
