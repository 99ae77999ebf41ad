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

use std::io::ErrorKind;
use std::time::Duration;

/// The broker's addresses in `urls`: one AMQP URL, or the nodes of one cluster as several,
/// separated by commas.
pub fn addresses(urls: &str) -> impl Iterator<Item = &str> {
    urls.split(',').map(str::trim).filter(|url| !url.is_empty())
}

/// Opens a connection to the first node in `urls` (see [`addresses`]) that answers, named so
/// that it is recognisable in the management UI, allowing each node
/// [`publisher::DEFAULT_CONNECT_TIMEOUT`]: a broker that accepts the connection but never
/// answers the handshake would otherwise hold a reconnecting loop for ever.
///
/// # Errors
/// When no node can be reached, or the last one tried refuses the credentials or does not
/// answer in time (an I/O error of kind `TimedOut`).
pub async fn connect(urls: &str, name: &str) -> Result<lapin::Connection, lapin::Error> {
    let timeout = publisher::DEFAULT_CONNECT_TIMEOUT;
    match connect_within(urls, name, timeout).await {
        Ok(connection) => Ok(connection),
        Err(ConnectError::Failed(error)) => Err(error),
        Err(error @ ConnectError::TimedOut(_)) => Err(io_error(ErrorKind::TimedOut, &error)),
        Err(error @ ConnectError::NoAddress) => Err(io_error(ErrorKind::InvalidInput, &error)),
    }
}

fn io_error(kind: ErrorKind, error: &ConnectError) -> lapin::Error {
    std::io::Error::new(kind, error.to_string()).into()
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
    #[error("no broker address is configured")]
    NoAddress,
}

/// [`connect`], allowing each node `timeout`: a node that accepts connections but never
/// answers would otherwise hold the caller for ever. The nodes are tried in their order, so
/// while the first answers every process uses it, and when it goes away they move to the next.
///
/// # Errors
/// Why the last node tried failed: [`ConnectError::TimedOut`] after `timeout`, or why it
/// refused.
pub async fn connect_within(
    urls: &str,
    name: &str,
    timeout: Duration,
) -> Result<lapin::Connection, ConnectError> {
    let mut failure = ConnectError::NoAddress;
    for url in addresses(urls) {
        failure = match tokio::time::timeout(timeout, open(url, name)).await {
            Ok(Ok(connection)) => return Ok(connection),
            Ok(Err(error)) => ConnectError::Failed(error),
            Err(_) => ConnectError::TimedOut(timeout),
        };
        tracing::debug!(broker = %address(url), error = %failure, "broker node unavailable");
    }
    Err(failure)
}

/// The broker's addresses in `urls`, without the credentials, for logs.
pub fn address(urls: &str) -> String {
    let shown: Vec<String> = addresses(urls)
        .map(|url| match url.parse::<lapin::uri::AMQPUri>() {
            Ok(uri) => format!(
                "{}://{}:{}/{}",
                uri.scheme, uri.authority.host, uri.authority.port, uri.vhost
            ),
            Err(_) => "(an AMQP URL that does not parse)".to_owned(),
        })
        .collect();
    shown.join(", ")
}

/// Each address in `urls` asking for a heartbeat every `heartbeat` (whole seconds, at least 1),
/// unless it asks for one itself. lapin closes a connection that heard nothing for two
/// heartbeats, so this is what bounds how long a silently dead connection goes unnoticed; the
/// broker's default (60 s) made it two minutes.
pub fn with_heartbeat(urls: &str, heartbeat: Duration) -> String {
    let each: Vec<String> = addresses(urls)
        .map(|url| {
            let query = url.split_once('?').map(|(_, query)| query);
            if query
                .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("heartbeat=")))
            {
                return url.to_owned();
            }
            let separator = if query.is_some() { '&' } else { '?' };
            format!("{url}{separator}heartbeat={}", heartbeat.as_secs().max(1))
        })
        .collect();
    each.join(",")
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

    #[test]
    fn a_cluster_is_listed_with_commas() {
        let nodes = "amqp://g:p@a:5672/%2f, amqp://g:p@b:5673/%2f?heartbeat=9,";
        assert_eq!(addresses(nodes).count(), 2);
        assert_eq!(address(nodes), "amqp://a:5672//, amqp://b:5673//");
        assert_eq!(
            with_heartbeat(nodes, Duration::from_secs(5)),
            "amqp://g:p@a:5672/%2f?heartbeat=5,amqp://g:p@b:5673/%2f?heartbeat=9"
        );
    }
}
