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

/// The default deadline of one publish, from asking for a channel to the broker's confirm.
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(3);
/// The default bound on opening a connection (the AMQP handshake included).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
    connect_timeout: Duration,
    /// Every operation's deadline, so a broker that stops answering gets a prompt answer.
    publish_timeout: Duration,
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
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            delays: Mutex::new(HashSet::new()),
        }
    }

    /// This publisher with other bounds: on opening its connection, and on each operation as a
    /// whole (a publish from asking for a channel to the confirm, a readiness check, …).
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, publish: Duration) -> Self {
        self.connect_timeout = connect;
        self.publish_timeout = publish;
        self
    }

    pub fn publish_timeout(&self) -> Duration {
        self.publish_timeout
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
        // Whether the message may have left: before that, a missed deadline refuses it.
        let mut sent = false;
        let deadline = self.publish_timeout;
        match tokio::time::timeout(deadline, self.publish_confirmed(message, &mut sent)).await {
            Ok(outcome) => outcome,
            Err(_) if sent => Err(PublishError::Unknown(format!(
                "no confirm within {deadline:?}"
            ))),
            Err(_) => Err(PublishError::Refused(format!(
                "the broker did not take the message within {deadline:?}"
            ))),
        }
    }

    async fn publish_confirmed(
        &self,
        message: Outgoing<'_>,
        sent: &mut bool,
    ) -> Result<(), PublishError> {
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
        // From here part of it may be written (a blocked or frozen connection, for example).
        *sent = true;
        let confirm = channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                options,
                body,
                properties.clone(),
            )
            .await
            // The channel refused the frame: nothing reached the broker.
            .map_err(|e| PublishError::Refused(format!("not sent: {e}")))?;
        match confirm.await {
            Ok(Confirmation::Ack(None)) => Ok(()),
            // lapin pairs a return with the next confirm; a return of someone else's message
            // says nothing certain about this one.
            Ok(Confirmation::Ack(Some(returned)))
                if returned.delivery.properties.message_id() != properties.message_id() =>
            {
                Err(PublishError::Unknown(
                    "a return for another message arrived with this confirm".into(),
                ))
            }
            Ok(Confirmation::Ack(Some(returned))) => Err(PublishError::Refused(format!(
                "unroutable: {}",
                returned.reply_text
            ))),
            Ok(Confirmation::Nack(_)) => Err(PublishError::Refused(
                "nacked (the partition is full or the broker is unwell)".into(),
            )),
            Ok(Confirmation::NotRequested) => Err(PublishError::Unknown(
                "the channel is not in confirm mode".into(),
            )),
            Err(e) => Err(PublishError::Unknown(e.to_string())),
        }
    }

    /// Publishes inventory notices to every intake process, in order, then waits for their
    /// confirms together: one broker round trip for the batch, not one per notice. Transient
    /// hints: with no intake listening they go nowhere, which is fine.
    ///
    /// # Errors
    /// When the broker cannot be reached or refuses one (the others may have gone out).
    pub async fn notify_inventory(&self, bodies: &[Vec<u8>]) -> Result<(), PublishError> {
        self.within_deadline(async {
            let channel = self.channel().await?;
            let properties = BasicProperties::default()
                .with_content_type("application/json".into())
                .with_delivery_mode(1); // transient
            let mut confirms = Vec::with_capacity(bodies.len());
            for body in bodies {
                let confirm = channel
                    .basic_publish(
                        self.topology.inventory_exchange().into(),
                        "".into(),
                        BasicPublishOptions::default(),
                        body,
                        properties.clone(),
                    )
                    .await
                    .map_err(|e| PublishError::Refused(format!("not sent: {e}")))?;
                confirms.push(confirm);
            }
            for confirm in confirms {
                match confirm.await {
                    Ok(Confirmation::Ack(_)) => {}
                    Ok(other) => return Err(PublishError::Refused(format!("{other:?}"))),
                    Err(e) => return Err(PublishError::Unknown(e.to_string())),
                }
            }
            Ok(())
        })
        .await
    }

    /// The ready messages of a queue, read on the publishing channel.
    ///
    /// # Errors
    /// When the broker cannot be reached or the queue does not exist.
    pub async fn queue_depth(&self, queue: &str) -> Result<u32, PublishError> {
        self.within_deadline(async {
            let channel = self.channel().await?;
            self.topology
                .ready_messages(&channel, queue)
                .await
                .map_err(|e| PublishError::Refused(format!("{queue}: {e}")))
        })
        .await
    }

    /// Whether the broker is reachable and the topology is declared: the commands exchange
    /// and the dead-letter queue exist. For readiness probes.
    ///
    /// # Errors
    /// What is missing or unreachable.
    pub async fn check_ready(&self) -> Result<(), PublishError> {
        self.within_deadline(async {
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
        })
        .await
    }

    /// `operation`, given up after the publish deadline. Only for operations whose outcome
    /// does not matter when it is cut short (a transient hint, a read): a late answer counts
    /// as a refusal.
    async fn within_deadline<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, PublishError>>,
    ) -> Result<T, PublishError> {
        let deadline = self.publish_timeout;
        tokio::time::timeout(deadline, operation)
            .await
            .unwrap_or_else(|_| {
                Err(PublishError::Refused(format!(
                    "the broker did not answer within {deadline:?}"
                )))
            })
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
            crate::connect_within(&self.url, "maitred-publisher", self.connect_timeout)
                .await
                .map_err(|e| PublishError::Refused(format!("no broker connection: {e}")))?;
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
