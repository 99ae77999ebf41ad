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

pub use consumer::{consume_concurrently, consume_partition, Disposition, PartitionSubscription};
pub use dead_letters::{DeadLetter, DeadLetterError, DeadLetterQueue, DeadLetters};
pub use publisher::{correlated_properties, properties, Outgoing, PublishError, Publisher};
pub use topology::Topology;

pub use lapin;

use std::time::Duration;

/// Opens a connection to the broker, named so that it is recognisable in the management UI,
/// within [`publisher::DEFAULT_CONNECT_TIMEOUT`]: a broker that accepts the connection but
/// never answers the handshake would otherwise hold a reconnecting loop for ever.
///
/// # Errors
/// When the broker cannot be reached, refuses the credentials, or does not answer in time
/// (an I/O error of kind `TimedOut`).
pub async fn connect(url: &str, name: &str) -> Result<lapin::Connection, lapin::Error> {
    let timeout = publisher::DEFAULT_CONNECT_TIMEOUT;
    match tokio::time::timeout(timeout, open(url, name)).await {
        Ok(connected) => connected,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("the broker did not complete the handshake within {timeout:?}"),
        )
        .into()),
    }
}

async fn open(url: &str, name: &str) -> Result<lapin::Connection, lapin::Error> {
    let properties = lapin::ConnectionProperties::default().with_connection_name(name.into());
    lapin::Connection::connect(url, properties).await
}

/// Why a bounded connection attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The broker accepted the TCP connection (or not even that) but did not finish the AMQP
    /// handshake in time: a hung node or a partition that drops packets.
    #[error("the broker did not complete the handshake within {0:?}")]
    TimedOut(Duration),
    #[error(transparent)]
    Failed(#[from] lapin::Error),
}

/// [`connect`], given up after `timeout`: a broker that accepts connections but never answers
/// would otherwise hold the caller for ever.
///
/// # Errors
/// [`ConnectError::TimedOut`] after `timeout`, or why the broker refused.
pub async fn connect_within(
    url: &str,
    name: &str,
    timeout: Duration,
) -> Result<lapin::Connection, ConnectError> {
    match tokio::time::timeout(timeout, open(url, name)).await {
        Ok(connected) => Ok(connected?),
        Err(_) => Err(ConnectError::TimedOut(timeout)),
    }
}

/// The broker's address in `url`, without the credentials, for logs.
pub fn address(url: &str) -> String {
    match url.parse::<lapin::uri::AMQPUri>() {
        Ok(uri) => format!(
            "{}://{}:{}/{}",
            uri.scheme, uri.authority.host, uri.authority.port, uri.vhost
        ),
        Err(_) => "(an AMQP URL that does not parse)".to_owned(),
    }
}

/// `url` asking for a heartbeat every `heartbeat` (whole seconds, at least 1), unless it asks
/// for one itself. lapin closes a connection that heard nothing for two heartbeats, so this is
/// what bounds how long a silently dead connection goes unnoticed; the broker's default (60 s)
/// made it two minutes.
pub fn with_heartbeat(url: &str, heartbeat: Duration) -> String {
    let query = url.split_once('?').map(|(_, query)| query);
    if query.is_some_and(|query| query.split('&').any(|pair| pair.starts_with("heartbeat="))) {
        return url.to_owned();
    }
    let separator = if query.is_some() { '&' } else { '?' };
    format!("{url}{separator}heartbeat={}", heartbeat.as_secs().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_is_added_unless_the_url_sets_one() {
        let second = Duration::from_secs(5);
        assert_eq!(
            with_heartbeat("amqp://h:5672/%2f", second),
            "amqp://h:5672/%2f?heartbeat=5"
        );
        assert_eq!(
            with_heartbeat("amqp://h/%2f?frame_max=8192", second),
            "amqp://h/%2f?frame_max=8192&heartbeat=5"
        );
        assert_eq!(
            with_heartbeat("amqp://h/%2f?heartbeat=30", second),
            "amqp://h/%2f?heartbeat=30"
        );
        let parsed: lapin::uri::AMQPUri = with_heartbeat("amqp://h/%2f", second).parse().unwrap();
        assert_eq!(parsed.query.heartbeat, Some(5));
    }

    #[test]
    fn the_address_leaves_the_password_out() {
        let address = address("amqp://guest:secret@broker.example:5673/prod");
        assert_eq!(address, "amqp://broker.example:5673/prod");
    }
}
