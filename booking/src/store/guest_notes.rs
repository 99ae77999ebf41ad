//! Staff's notes about a guest at one restaurant, read with every booking of that guest there.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::Store;
use crate::Result;

/// One note.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuestNote {
    #[serde(rename = "noteId")]
    pub id: Uuid,
    pub restaurant_id: Uuid,
    /// Lower-case.
    pub guest_email: String,
    pub note: String,
    /// Who wrote it (`staff:<email>`).
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Keeps a note about `guest_email` (lower-case) at a restaurant.
    ///
    /// # Errors
    /// On a database error (a restaurant that is gone breaks its foreign key).
    #[tracing::instrument(skip(self, note))]
    pub async fn add_guest_note(
        &self,
        restaurant_id: Uuid,
        guest_email: &str,
        note: &str,
        author: &str,
    ) -> Result<GuestNote> {
        Ok(sqlx::query_as!(
            GuestNote,
            "INSERT INTO guest_note (id, restaurant_id, guest_email, note, author)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id, restaurant_id, guest_email, note, author, created_at",
            Uuid::new_v4(),
            restaurant_id,
            guest_email,
            note,
            author
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// The notes about these guests at a restaurant, oldest first.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self, guest_emails))]
    pub async fn guest_notes(
        &self,
        restaurant_id: Uuid,
        guest_emails: &[String],
    ) -> Result<Vec<GuestNote>> {
        Ok(sqlx::query_as!(
            GuestNote,
            "SELECT id, restaurant_id, guest_email, note, author, created_at FROM guest_note
             WHERE restaurant_id = $1 AND guest_email = ANY($2)
             ORDER BY created_at, id",
            restaurant_id,
            guest_emails
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Removes a note of a restaurant; `false` when it has none with this id.
    ///
    /// # Errors
    /// On a database error.
    #[tracing::instrument(skip(self))]
    pub async fn delete_guest_note(&self, restaurant_id: Uuid, note_id: Uuid) -> Result<bool> {
        let deleted = sqlx::query!(
            "DELETE FROM guest_note WHERE restaurant_id = $1 AND id = $2",
            restaurant_id,
            note_id
        )
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
