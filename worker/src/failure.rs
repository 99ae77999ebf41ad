//! How a delivery whose store call failed is settled.

use rabbitmq::Disposition;

/// A broken invariant goes to the dead-letter queue at once: retrying cannot fix it, and each
/// retry would hold up the partition behind it until the delivery limit. Any other failure is
/// requeued, and the delivery limit dead-letters a message that keeps failing. (An unreachable
/// database never gets here: [`crate::with_database`] waits it out in place.)
pub fn disposition_of(error: &booking::Error) -> Disposition {
    match error {
        booking::Error::Invariant(_) => Disposition::DeadLetter,
        booking::Error::Database(_) => Disposition::Retry,
    }
}

/// Logs a failed store call as what it is, and says how to settle its delivery.
pub(crate) fn settle(error: &booking::Error, what: &str) -> Disposition {
    let disposition = disposition_of(error);
    if disposition == Disposition::DeadLetter {
        tracing::error!(error = ?error, "{what} broke an invariant: dead-lettering it for a person to look at");
    } else {
        tracing::error!(error = ?error, "{what} failed; requeueing");
    }
    disposition
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_invariant_is_dead_lettered_and_a_database_error_retried() {
        let invariant = booking::Error::Invariant("illegal transition held → pending".into());
        assert_eq!(disposition_of(&invariant), Disposition::DeadLetter);
        let database = booking::Error::Database(sqlx::Error::RowNotFound);
        assert_eq!(disposition_of(&database), Disposition::Retry);
    }
}
