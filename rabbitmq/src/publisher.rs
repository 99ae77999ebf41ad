//! Publishing commands with publisher confirms.
//!
//! The answer to a publish is one of three, and intake's promise to the client rests on telling
//! them apart: confirmed (the broker has it), refused (the broker certainly does not have it:
//! nack, unroutable return, or no connection to send it on) or unknown (it was sent, but the
//! confirm never came back).

use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use tokio::sync::Mutex;

use crate::{Envelope, Topology};

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
}

impl Publisher {
    /// A publisher that connects on its first publish.
    pub fn new(url: impl Into<String>, topology: Topology) -> Self {
        Self {
            url: url.into(),
            topology,
            channel: Mutex::new(None),
        }
    }

    /// Publishes a command to its restaurant's partition and waits for the broker's confirm.
    ///
    /// # Errors
    /// [`PublishError::Refused`] when the broker certainly does not have the message,
    /// [`PublishError::Unknown`] when it may have it.
    #[tracing::instrument(skip_all, fields(
        restaurant_id = %envelope.restaurant_id,
        command = envelope.command.kind(),
        reservation_id = %envelope.command.reservation_id(),
    ))]
    pub async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let partition = self.topology.partition_of(envelope.restaurant_id);
        self.publish_raw(
            &Topology::routing_key(partition),
            &envelope.to_json(),
            properties(envelope),
        )
        .await
    }

    /// Publishes bytes to the commands exchange under a routing key. Tests use it to put a
    /// malformed message on a partition.
    ///
    /// # Errors
    /// As [`Publisher::publish`].
    pub async fn publish_raw(
        &self,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        let channel = self.channel().await?;
        let options = BasicPublishOptions {
            mandatory: true, // an unroutable message comes back instead of vanishing
            ..BasicPublishOptions::default()
        };
        let send = channel.basic_publish(
            self.topology.commands_exchange().into(),
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
        Ok(channel)
    }
}

fn properties(envelope: &Envelope) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(
        "x-restaurant-id".into(),
        AMQPValue::LongString(envelope.restaurant_id.to_string().into()),
    );
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2) // persistent
        .with_message_id(envelope.command.reservation_id().to_string().into())
        .with_type(envelope.command.kind().into())
        .with_headers(headers)
}
