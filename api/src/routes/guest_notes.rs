//! `/v1/restaurants/{id}/guest-notes`: what a restaurant's staff keep about a guest ("prefers
//! the window", "nut allergy"). Notes belong to one restaurant: they show on that guest's
//! bookings there, and only its staff read or write them.

use axum::extract::State;
use axum::http::StatusCode;
use booking::store::GuestNote;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Staff;
use crate::extract::{Json, Path, Query};
use crate::guest_sign_in::parse_email;
use crate::openapi::problems::{BadRequest, Forbidden, Invalid, NotFound, Unauthorized};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(remove))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct GuestQuery {
    /// The guest's email.
    #[param(min_length = 3, max_length = 254)]
    email: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewNote {
    /// The guest's email.
    #[schema(min_length = 3, max_length = 254)]
    email: String,
    /// 1 to 500 characters; line breaks but no other control characters.
    #[schema(min_length = 1, max_length = 500)]
    note: String,
}

/// Staff: the notes about a guest at this restaurant, oldest first.
#[utoipa::path(get, path = "/v1/restaurants/{id}/guest-notes", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant"), GuestQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notes", body = Vec<GuestNote>),
        BadRequest, Unauthorized, Forbidden, Invalid,
    ))]
async fn list(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<GuestQuery>,
) -> Result<axum::Json<Vec<GuestNote>>, ApiError> {
    staff.require(id)?;
    let email = parse_email(&query.email)?;
    Ok(axum::Json(state.store.guest_notes(id, &[email]).await?))
}

/// Staff: keep a note about a guest at this restaurant.
#[utoipa::path(post, path = "/v1/restaurants/{id}/guest-notes", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant")),
    request_body = NewNote,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Kept", body = GuestNote),
        BadRequest, Unauthorized, Forbidden, NotFound, Invalid,
    ))]
async fn add(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(new): Json<NewNote>,
) -> Result<(StatusCode, axum::Json<GuestNote>), ApiError> {
    staff.require(id)?;
    let email = parse_email(&new.email)?;
    let note = booking::special_requests::free_text("note", Some(&new.note))?
        .ok_or_else(|| booking::Invalid::new("note", "must not be blank"))?;
    if state.store.restaurant(id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no restaurant has the id {id}")));
    }
    let kept = state
        .store
        .add_guest_note(id, &email, &note, &staff.actor())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(kept)))
}

/// Staff: remove a note.
#[utoipa::path(delete, path = "/v1/restaurants/{id}/guest-notes/{note_id}", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("note_id" = Uuid, Path, description = "The noteId"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn remove(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((id, note_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    staff.require(id)?;
    if state.store.delete_guest_note(id, note_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "this restaurant has no guest note with the id {note_id}"
        )))
    }
}
