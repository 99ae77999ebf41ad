//! Publishing commands with publisher confirms.
//!
//! The answer to a publish is one of three, and intake's promise to the client rests on telling
//! them apart: confirmed (the broker has it), refused (the broker certainly does not have it:
//! nack, unroutable return, or no connection to send it on) or unknown (it was sent, but the
//! confirm never came back).

use std::collections::HashSet;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::AMQPValue;
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use tokio::sync::Mutex;

use crate::Topology;

/// How long to wait for a confirm before the outcome counts as unknown.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);
/// How long connecting, or handing a message to a blocked connection, may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The broker does not have the message: it is safe to tell the client nothing happened.
    #[error("the broker refused the message: {0}")]
    Refused(String),
    /// The message may or may not be enqueued.
    #[error("the publish outcome is unknown: {0}")]
    Unknown(String),
}

/// A confirming publisher on one channel, reconnecting on demand after the broker went away.
/// Cheap to share: concurrent publishes are pipelined on the channel.
pub struct Publisher {
    url: String,
    topology: Topology,
    channel: Mutex<Option<Channel>>,
    /// Delay queues this publisher has declared, so each is declared once per process.
    delays: Mutex<HashSet<Duration>>,
}

/// A message to publish: its routing key on the commands exchange, its body, and its
/// properties (see [`properties`]).
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub routing_key: &'a str,
    pub body: &'a [u8],
    pub properties: BasicProperties,
    /// Hold the message this long before routing it (a timer); zero to route it now.
    pub delay: Duration,
}

/// Persistent JSON with an id (which matches returns to their publish) and a type for ops.
/// With the reservation's request id as the correlation id, when it has one.
pub fn correlated_properties(
    message_id: &str,
    kind: &str,
    correlation_id: Option<&str>,
) -> BasicProperties {
    let properties = properties(message_id, kind);
    match correlation_id {
        Some(id) => properties.with_correlation_id(id.into()),
        None => properties,
    }
}

pub fn properties(message_id: &str, kind: &str) -> BasicProperties {
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2) // persistent
        .with_message_id(message_id.into())
        .with_type(kind.into())
}

impl Publisher {
    /// A publisher that connects on its first publish.
    pub fn new(url: impl Into<String>, topology: Topology) -> Self {
        Self {
            url: url.into(),
            topology,
            channel: Mutex::new(None),
            delays: Mutex::new(HashSet::new()),
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Publishes a message and waits for the broker's confirm. With a delay, the message goes
    /// to the delay queue for that delay (declared on first use) and reaches its routing key
    /// when the delay is over.
    ///
    /// # Errors
    /// [`PublishError::Refused`] when the broker certainly does not have the message,
    /// [`PublishError::Unknown`] when it may have it.
    #[tracing::instrument(skip_all, fields(
        routing_key = message.routing_key,
        kind = message.properties.kind().as_ref().map(|k| k.as_str()),
        delay_ms = message.delay.as_millis(),
    ))]
    pub async fn publish(&self, message: Outgoing<'_>) -> Result<(), PublishError> {
        let Outgoing {
            routing_key,
            body,
            mut properties,
            delay,
        } = message;
        let channel = self.channel().await?;
        let exchange = if delay.is_zero() {
            self.topology.commands_exchange()
        } else {
            self.ensure_delay_queue(&channel, delay).await?;
            let mut headers = properties.headers().clone().unwrap_or_default();
            headers.insert(
                Topology::DELAY_HEADER.into(),
                AMQPValue::LongString(delay.as_millis().to_string().into()),
            );
            properties = properties.with_headers(headers);
            self.topology.delay_exchange()
        };
        let options = BasicPublishOptions {
            mandatory: true, // an unroutable message comes back instead of vanishing
            ..BasicPublishOptions::default()
        };
        let send = channel.basic_publish(
            exchange.into(),
            routing_key.into(),
            options,
            body,
            properties.clone(),
        );
        let confirm = match tokio::time::timeout(SEND_TIMEOUT, send).await {
            Ok(Ok(confirm)) => confirm,
            // The channel refused the frame: nothing reached the broker.
            Ok(Err(e)) => return Err(PublishError::Refused(format!("not sent: {e}"))),
            // Part of it may have been written (a blocked connection, for example).
            Err(_) => {
                return Err(PublishError::Unknown(format!(
                    "not sent within {SEND_TIMEOUT:?}"
                )))
            }
        };
        match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
            Ok(Ok(Confirmation::Ack(None))) => Ok(()),
            // lapin pairs a return with the next confirm; a return of someone else's message
            // says nothing certain about this one.
            Ok(Ok(Confirmation::Ack(Some(returned))))
                if returned.delivery.properties.message_id() != properties.message_id() =>
            {
                Err(PublishError::Unknown(
                    "a return for another message arrived with this confirm".into(),
                ))
            }
            Ok(Ok(Confirmation::Ack(Some(returned)))) => Err(PublishError::Refused(format!(
                "unroutable: {}",
                returned.reply_text
            ))),
            Ok(Ok(Confirmation::Nack(_))) => Err(PublishError::Refused(
                "nacked (the partition is full or the broker is unwell)".into(),
            )),
            Ok(Ok(Confirmation::NotRequested)) => Err(PublishError::Unknown(
                "the channel is not in confirm mode".into(),
            )),
            Ok(Err(e)) => Err(PublishError::Unknown(e.to_string())),
            Err(_) => Err(PublishError::Unknown(format!(
                "no confirm within {CONFIRM_TIMEOUT:?}"
            ))),
        }
    }

    /// Publishes an inventory notice to every intake process, waiting for the confirm. A
    /// transient hint: with no intake listening it goes nowhere, which is fine.
    ///
    /// # Errors
    /// When the broker cannot be reached or refuses it.
    pub async fn notify_inventory(&self, body: &[u8]) -> Result<(), PublishError> {
        let channel = self.channel().await?;
        let properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(1); // transient
        let confirm = channel
            .basic_publish(
                self.topology.inventory_exchange().into(),
                "".into(),
                BasicPublishOptions::default(),
                body,
                properties,
            )
            .await
            .map_err(|e| PublishError::Refused(format!("not sent: {e}")))?;
        match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
            Ok(Ok(Confirmation::Ack(_))) => Ok(()),
            Ok(Ok(other)) => Err(PublishError::Refused(format!("{other:?}"))),
            Ok(Err(e)) => Err(PublishError::Unknown(e.to_string())),
            Err(_) => Err(PublishError::Unknown(format!(
                "no confirm within {CONFIRM_TIMEOUT:?}"
            ))),
        }
    }

    /// The ready messages of a queue, read on the publishing channel.
    ///
    /// # Errors
    /// When the broker cannot be reached or the queue does not exist.
    pub async fn queue_depth(&self, queue: &str) -> Result<u32, PublishError> {
        let channel = self.channel().await?;
        self.topology
            .ready_messages(&channel, queue)
            .await
            .map_err(|e| PublishError::Refused(format!("{queue}: {e}")))
    }

    /// Whether the broker is reachable and the topology is declared: the commands exchange
    /// and the dead-letter queue exist. For readiness probes.
    ///
    /// # Errors
    /// What is missing or unreachable.
    pub async fn check_ready(&self) -> Result<(), PublishError> {
        let channel = self.channel().await?;
        let passive = lapin::options::ExchangeDeclareOptions {
            passive: true,
            ..Default::default()
        };
        // A missing exchange closes the channel; the next publish opens a new one.
        channel
            .exchange_declare(
                self.topology.commands_exchange().into(),
                lapin::ExchangeKind::Direct,
                passive,
                lapin::types::FieldTable::default(),
            )
            .await
            .map_err(|e| PublishError::Refused(format!("the commands exchange: {e}")))?;
        self.topology
            .ready_messages(&channel, &self.topology.dead_letter_queue())
            .await
            .map_err(|e| PublishError::Refused(format!("the dead-letter queue: {e}")))?;
        Ok(())
    }

    async fn ensure_delay_queue(
        &self,
        channel: &Channel,
        delay: Duration,
    ) -> Result<(), PublishError> {
        let mut declared = self.delays.lock().await;
        if !declared.contains(&delay) {
            self.topology
                .declare_delay(channel, delay)
                .await
                .map_err(|e| {
                    PublishError::Refused(format!("cannot declare the delay queue: {e}"))
                })?;
            declared.insert(delay);
        }
        Ok(())
    }

    /// The current channel, or a new one in confirm mode if there is none or it broke. A channel
    /// holds its connection open, so only the channel is kept.
    async fn channel(&self) -> Result<Channel, PublishError> {
        let mut slot = self.channel.lock().await;
        if let Some(channel) = slot.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        let refused = |e: lapin::Error| PublishError::Refused(format!("no broker connection: {e}"));
        let connection: Connection =
            tokio::time::timeout(SEND_TIMEOUT, crate::connect(&self.url, "maitred-publisher"))
                .await
                .map_err(|_| {
                    PublishError::Refused(format!("no broker connection within {SEND_TIMEOUT:?}"))
                })?
                .map_err(refused)?;
        let channel = connection.create_channel().await.map_err(refused)?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(refused)?;
        *slot = Some(channel.clone());
        // A new connection may mean a new broker (or a reset one): declare delay queues again.
        self.delays.lock().await.clear();
        Ok(channel)
    }
}
