//! Emails to diners: the [`Notifier`] port, its two implementations, and the messages.
//!
//! Layout:
//! - this file: an [`Email`] as the senders take it, and the port;
//! - [`smtp`]: the SMTP implementation (lettre), plain on loopback or STARTTLS to a relay;
//! - [`log_sink`]: the development sink, which writes each message to the log instead;
//! - [`messages`]: what each kind of notification says, in plain text and simple HTML;
//! - [`calendar`]: the `.ics` entry a confirmation carries.
//!
//! The crate sends and words messages, nothing else: when a message is due, whether it still
//! applies and whether it was already sent is the store's business (`booking`), and retrying
//! is the worker's.

pub mod calendar;
pub mod log_sink;
pub mod messages;
pub mod smtp;

use futures_util::future::BoxFuture;

pub use log_sink::LogNotifier;
pub use messages::{compose, sign_in_link};
pub use smtp::SmtpNotifier;

/// One message to one diner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The diner's name, shown beside the address (none when empty).
    pub to_name: String,
    pub to_address: String,
    pub subject: String,
    /// The `Message-ID`, stable per notification, so a mailbox can tell a copy from a new
    /// message.
    pub message_id: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

/// A file sent with an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type, e.g. `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Sending again will not help: the server refused the recipient or the message (an SMTP
    /// 5xx), or the address is not an address.
    #[error("refused for good: {0}")]
    Permanent(String),
    /// The server could not be reached, timed out, or asked to try later (an SMTP 4xx).
    #[error("not sent: {0}")]
    Transient(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Somewhere emails go.
pub trait Notifier: Send + Sync {
    /// For logs and the start-up line: `smtp` or `log`.
    fn name(&self) -> &'static str;

    /// Sends one message. `Ok` means the server accepted it for delivery.
    ///
    /// # Errors
    /// [`SendError::Permanent`] when retrying cannot help, [`SendError::Transient`] otherwise.
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), SendError>>;
}
