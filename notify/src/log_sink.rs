//! The development sink: each message is written to the log, whole, and counts as sent. It is
//! what `scripts/up.sh` runs with (no `MAITRED_SMTP_URL`), so a developer reads the emails in
//! the terminal.

use futures_util::future::BoxFuture;

use crate::{Email, Notifier, SendError};

/// A [`Notifier`] that logs instead of sending.
#[derive(Debug, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn name(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), SendError>> {
        let attachments: Vec<&str> = email
            .attachments
            .iter()
            .map(|file| file.filename.as_str())
            .collect();
        tracing::info!(
            to = email.to_address,
            subject = email.subject,
            message_id = email.message_id,
            ?attachments,
            "email (not sent: development log sink)\n{}",
            email.text
        );
        Box::pin(async { Ok(()) })
    }
}
