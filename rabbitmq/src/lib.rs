//! maitred's messaging layer on RabbitMQ. It knows queues, envelopes and acknowledgements, and no
//! domain rules.
//!
//! Layout:
//! - [`topology`]: the exchanges and the partition queues, their names and arguments, and the
//!   stable hash that routes a restaurant to its partition.
//! - [`publisher`]: publishing with publisher confirms, with a clear answer: confirmed, refused
//!   (nothing was enqueued) or unknown (it may have been enqueued); delayed publishing.
//! - [`consumer`]: a serial consumer of one partition and a concurrent one for work queues,
//!   with manual acks.
//! - [`inventory`]: following the workers' inventory notices (the sold-out hints intake uses).
//! - [`dead_letters`]: browsing, replaying and purging the dead-letter queues without losing
//!   a message.
//!
//! What the messages mean is the domain's business (`booking::messages`); here they are bytes.

pub mod consumer;
pub mod dead_letters;
pub mod inventory;
pub mod publisher;
pub mod topology;

pub use consumer::{consume_concurrently, consume_partition, Disposition};
pub use dead_letters::{DeadLetter, DeadLetterError, DeadLetterQueue, DeadLetters};
pub use publisher::{correlated_properties, properties, Outgoing, PublishError, Publisher};
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
