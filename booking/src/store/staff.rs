//! Staff accounts, their one-time password links and their signed-in sessions. Secrets (link
//! and session) are kept only as SHA-256 digests: a copy of the database opens nothing.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Store;
use crate::staff::{NewStaff, StaffAccount, StaffRole};
use crate::Result;

struct AccountRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    restaurants: Vec<Uuid>,
    disabled: bool,
}

impl From<AccountRow> for StaffAccount {
    fn from(row: AccountRow) -> Self {
        let role = if row.role == "admin" {
            StaffRole::Admin
        } else {
            StaffRole::Manager(row.restaurants)
        };
        StaffAccount {
            id: row.id,
            email: row.email,
            name: row.name,
            role,
            disabled: row.disabled,
        }
    }
}

/// A staff account as sign-in needs it: with its password hash, if it has one yet.
pub struct SignInAccount {
    pub account: StaffAccount,
    pub password_hash: Option<String>,
}

impl Store {
    /// Creates an account, or returns `None` when one has this email (in any case).
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self, staff), fields(email = %staff.email))]
    pub async fn insert_staff(&self, staff: &NewStaff) -> Result<Option<StaffAccount>> {
        let (role, restaurants) = match &staff.role {
            StaffRole::Admin => ("admin", Vec::new()),
            StaffRole::Manager(ids) => ("manager", ids.clone()),
        };
        let row = sqlx::query_as!(
            AccountRow,
            "INSERT INTO staff_account (id, email, name, role, restaurants)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING
             RETURNING id, email, name, role, restaurants, disabled",
            Uuid::new_v4(),
            staff.email,
            staff.name,
            role,
            &restaurants,
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StaffAccount::from))
    }

    /// The account with this email (in any case), with its password hash.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn staff_for_sign_in(&self, email: &str) -> Result<Option<SignInAccount>> {
        let row = sqlx::query!(
            "SELECT id, email, name, role, restaurants, disabled, password_hash
             FROM staff_account WHERE lower(email) = lower($1)",
            email
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| SignInAccount {
            password_hash: row.password_hash,
            account: AccountRow {
                id: row.id,
                email: row.email,
                name: row.name,
                role: row.role,
                restaurants: row.restaurants,
                disabled: row.disabled,
            }
            .into(),
        }))
    }

    /// Sets the password hash of an account outright (the demo accounts).
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all, fields(staff_id = %staff_id))]
    pub async fn set_staff_password(&self, staff_id: Uuid, password_hash: &str) -> Result<()> {
        sqlx::query!(
            "UPDATE staff_account SET password_hash = $2 WHERE id = $1",
            staff_id,
            password_hash
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a one-time link to set the account's password, valid until `expires_at`.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all, fields(staff_id = %staff_id))]
    pub async fn insert_password_link(
        &self,
        staff_id: Uuid,
        secret_sha256: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query!(
            "INSERT INTO staff_password_link (secret_sha256, staff_id, expires_at)
             VALUES ($1, $2, $3)",
            secret_sha256,
            staff_id,
            expires_at
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account a password link opens, while it is unused and unexpired.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn password_link_account(
        &self,
        secret_sha256: &[u8],
    ) -> Result<Option<StaffAccount>> {
        let row = sqlx::query_as!(
            AccountRow,
            "SELECT a.id, a.email, a.name, a.role, a.restaurants, a.disabled
             FROM staff_password_link l JOIN staff_account a ON a.id = l.staff_id
             WHERE l.secret_sha256 = $1 AND l.used_at IS NULL AND l.expires_at > now()",
            secret_sha256
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StaffAccount::from))
    }

    /// Uses a password link: sets the password and ends every session of the account, in
    /// one transaction. `false` when the link was used or expired meanwhile.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn use_password_link(
        &self,
        secret_sha256: &[u8],
        password_hash: &str,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let staff_id = sqlx::query_scalar!(
            "UPDATE staff_password_link SET used_at = now()
             WHERE secret_sha256 = $1 AND used_at IS NULL AND expires_at > now()
             RETURNING staff_id",
            secret_sha256
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(staff_id) = staff_id else {
            return Ok(false);
        };
        sqlx::query!(
            "UPDATE staff_account SET password_hash = $2 WHERE id = $1",
            staff_id,
            password_hash
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE staff_session SET ended_at = now() WHERE staff_id = $1 AND ended_at IS NULL",
            staff_id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Starts a session for the account until `expires_at`.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all, fields(staff_id = %staff_id))]
    pub async fn insert_staff_session(
        &self,
        staff_id: Uuid,
        secret_sha256: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query!(
            "INSERT INTO staff_session (secret_sha256, staff_id, expires_at) VALUES ($1, $2, $3)",
            secret_sha256,
            staff_id,
            expires_at
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account of a live session: not ended, not expired, account not disabled.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn session_account(&self, secret_sha256: &[u8]) -> Result<Option<StaffAccount>> {
        let row = sqlx::query_as!(
            AccountRow,
            "SELECT a.id, a.email, a.name, a.role, a.restaurants, a.disabled
             FROM staff_session s JOIN staff_account a ON a.id = s.staff_id
             WHERE s.secret_sha256 = $1 AND s.ended_at IS NULL AND s.expires_at > now()
               AND NOT a.disabled",
            secret_sha256
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StaffAccount::from))
    }

    /// Ends a session for good (sign-out).
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip_all)]
    pub async fn end_staff_session(&self, secret_sha256: &[u8]) -> Result<()> {
        sqlx::query!(
            "UPDATE staff_session SET ended_at = now()
             WHERE secret_sha256 = $1 AND ended_at IS NULL",
            secret_sha256
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
