//! The store's error: the database failed, or a rule the store relies on was broken.
//!
//! A caller's mistake is not an error here. Store methods that can refuse a request answer
//! `Result<Result<T, Refusal>>` (or [`crate::store::Written`]): the inner result is the domain
//! answer the caller must act on (a 404, a 409), the outer one what went wrong with the system.
//! Keeping them apart means `?` can never pass a refusal off as a failure, nor the other way
//! round.

/// What went wrong in the store. Nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed. It may be unavailable ([`Error::is_unavailable`]), in
    /// which case retrying later is right.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A rule the store relies on does not hold: an illegal transition, inventory that changed
    /// under the decision's row locks, a decided reservation without a currency. Retrying
    /// cannot help: it is a bug or data changed by hand, for a person to look at.
    #[error("broken invariant: {0}")]
    Invariant(String),
}

/// The store's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the database cannot be reached right now, rather than the statement being
    /// wrong: the caller should back off and retry, and nothing was written.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Database(error) => is_unavailable(error),
            Error::Invariant(_) => false,
        }
    }

    /// Whether this is a broken invariant.
    pub fn is_invariant(&self) -> bool {
        matches!(self, Error::Invariant(_))
    }

    pub(crate) fn invariant(message: impl Into<String>) -> Self {
        Error::Invariant(message.into())
    }
}

/// Whether a database error means "the database cannot be reached right now" rather than "this
/// statement is wrong": the caller should back off and retry, and nothing was written.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        // By SQLSTATE: sqlx's `ErrorKind` only names integrity violations. Class 08 is
        // connection exceptions; 57P01-57P03 are shutdowns and "cannot connect now" while the
        // server starts.
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unreachable_database_is_unavailable() {
        assert!(Error::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!Error::from(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!Error::invariant("illegal transition").is_unavailable());
        assert!(Error::invariant("illegal transition").is_invariant());
    }
}
