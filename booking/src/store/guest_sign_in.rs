//! Diners' sign-in links and sessions for the website's history (`/me`). Like the staff's,
//! secrets are kept only as SHA-256 digests. A link is used by one conditional `UPDATE`, so two
//! clicks at once sign in once; old rows are cleared a few at a time as new ones are written.

use chrono::{DateTime, Utc};

use super::Store;
use crate::Result;

/// How many expired rows one new link or session clears: enough to keep up with what is made,
/// small enough to cost nothing.
const CLEARED_PER_WRITE: i64 = 20;

impl Store {
    /// Records a sign-in link for `email` (lower-case), valid until `expires_at`, if any
    /// reservation was booked with that email; `false` (and nothing written) otherwise.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn insert_guest_sign_in(
        &self,
        email: &str,
        token_sha256: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query!(
            "INSERT INTO guest_sign_in (token_sha256, email, expires_at)
             SELECT $1, $2, $3
             WHERE EXISTS (SELECT 1 FROM reservation WHERE guest_email = $2)",
            token_sha256,
            email,
            expires_at
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        sqlx::query!(
            "DELETE FROM guest_sign_in WHERE token_sha256 IN (
                 SELECT token_sha256 FROM guest_sign_in
                 WHERE expires_at < now() - interval '1 day' LIMIT $1)",
            CLEARED_PER_WRITE
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Uses a sign-in link: marks it used and starts a session for its email until
    /// `session_expires_at`, in one transaction. `None` when the link is unknown, used or
    /// expired.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn use_guest_sign_in(
        &self,
        token_sha256: &[u8],
        session_sha256: &[u8],
        session_expires_at: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let mut tx = self.pool.begin().await?;
        let email = sqlx::query_scalar!(
            "UPDATE guest_sign_in SET used_at = now()
             WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now()
             RETURNING email",
            token_sha256
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(email) = email else {
            return Ok(None);
        };
        sqlx::query!(
            "INSERT INTO guest_session (secret_sha256, email, expires_at) VALUES ($1, $2, $3)",
            session_sha256,
            email,
            session_expires_at
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "DELETE FROM guest_session WHERE secret_sha256 IN (
                 SELECT secret_sha256 FROM guest_session
                 WHERE expires_at < now() - interval '1 day' LIMIT $1)",
            CLEARED_PER_WRITE
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(email))
    }

    /// The email of a live guest session: not ended, not expired.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn guest_session_email(&self, secret_sha256: &[u8]) -> Result<Option<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT email FROM guest_session
             WHERE secret_sha256 = $1 AND ended_at IS NULL AND expires_at > now()",
            secret_sha256
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends a guest session for good (sign-out).
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn end_guest_session(&self, secret_sha256: &[u8]) -> Result<()> {
        sqlx::query!(
            "UPDATE guest_session SET ended_at = now()
             WHERE secret_sha256 = $1 AND ended_at IS NULL",
            secret_sha256
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
