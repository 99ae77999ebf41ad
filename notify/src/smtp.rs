//! Sending through an SMTP server with lettre: `smtp://host:port` talks plain SMTP (a relay on
//! loopback, a test server), `smtp://host:port?tls=required` upgrades with STARTTLS and
//! `smtps://host:port` speaks TLS from the start, both on rustls. Credentials go in the URL
//! (`smtp://user:password@host:587?tls=required`). One connection per message: a job sends one
//! message, and jobs are spread over workers.

use std::time::Duration;

use futures_util::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::Instrument;

use crate::{Email, Notifier, SendError};

/// The SMTP implementation of [`Notifier`].
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The server, without credentials, for the logs.
    server: String,
}

/// A setting of the SMTP notifier that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("the SMTP URL is not usable: {0}")]
    Url(#[from] lettre::transport::smtp::Error),
    #[error(
        "the sender address is not an address such as \"Maître D <bookings@example.com>\": {0}"
    )]
    From(#[from] lettre::address::AddressError),
}

impl SmtpNotifier {
    /// A notifier that sends through `url` as `from`, giving up on a server after `timeout`.
    ///
    /// # Errors
    /// When the URL or the sender address does not parse.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, SmtpSetupError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
            .timeout(Some(timeout))
            .build();
        let server = url
            .rsplit_once('@')
            .map_or(url, |(_, host)| host)
            .trim_start_matches("smtp://")
            .trim_start_matches("smtps://")
            .to_owned();
        Ok(Self {
            transport,
            from: from.parse()?,
            server,
        })
    }

    fn message(&self, email: &Email) -> Result<Message, SendError> {
        let to = email
            .to_address
            .parse()
            .map(|address| {
                let name = Some(email.to_name.clone()).filter(|name| !name.is_empty());
                Mailbox::new(name, address)
            })
            .map_err(|e| SendError::Permanent(format!("the guest's address: {e}")))?;
        let body = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
        let body = email.attachments.iter().try_fold(
            MultiPart::mixed().multipart(body),
            |mixed, file| {
                let content_type = ContentType::parse(&file.content_type)
                    .map_err(|e| SendError::Permanent(format!("{}: {e}", file.filename)))?;
                Ok::<_, SendError>(
                    mixed.singlepart(
                        lettre::message::Attachment::new(file.filename.clone())
                            .body(file.body.clone(), content_type),
                    ),
                )
            },
        )?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(email.message_id.clone()))
            .multipart(body)
            .map_err(|e| SendError::Permanent(format!("building the message: {e}")))
    }
}

impl Notifier for SmtpNotifier {
    fn name(&self) -> &'static str {
        "smtp"
    }

    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), SendError>> {
        let span = tracing::info_span!("smtp", server = self.server, message_id = email.message_id);
        Box::pin(
            async move {
                let message = self.message(email)?;
                match self.transport.send(message).await {
                    Ok(response) => {
                        tracing::debug!(code = %response.code(), "accepted");
                        Ok(())
                    }
                    Err(error) if error.is_permanent() => {
                        Err(SendError::Permanent(error.to_string()))
                    }
                    Err(error) => Err(SendError::Transient(error.to_string())),
                }
            }
            .instrument(span),
        )
    }
}
