//! `/v1/restaurants/{id}/table-types`: one table type (public), and the staff's writes to
//! them (a staff token that manages the restaurant). Answers carry the type's `ETag`; a `PUT`
//! needs `If-Match` (see [`crate::etag`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use booking::catalog_forms::{FormMode, TableTypeForm};
use booking::TableType;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::restaurants::DeleteQuery;
use crate::auth::Staff;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, PreconditionRequired,
    Unauthorized,
};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_table_type))
        .routes(routes!(
            show_table_type,
            replace_table_type,
            delete_table_type
        ))
}

fn location(restaurant_id: Uuid, id: Uuid) -> String {
    format!("/v1/restaurants/{restaurant_id}/table-types/{id}")
}

/// One table type of a restaurant.
#[utoipa::path(get, path = "/v1/restaurants/{id}/table-types/{type_id}", tag = "catalog",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
    ),
    responses(
        (status = 200, description = "The table type", body = TableType,
            headers(("ETag" = String, description = "The table type's version, for If-Match"))),
        BadRequest, NotFound,
    ))]
async fn show_table_type(
    State(state): State<AppState>,
    Path((id, type_id)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let table_type = state.store.table_type(id, type_id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "restaurant {id} has no table type with the id {type_id}"
        ))
    })?;
    Ok(etag::tagged(
        StatusCode::OK,
        table_type.version,
        None,
        table_type,
    ))
}

/// Add a table type to a restaurant, optionally with its first `tables` active tables
/// labelled `{labelPrefix}1`, `{labelPrefix}2`, … Names are unique among a restaurant's types.
#[utoipa::path(post, path = "/v1/restaurants/{id}/table-types", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant")),
    request_body = TableTypeForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TableType, headers(
            ("ETag" = String, description = "The table type's version, for If-Match"),
            ("Location" = String, description = "The new table type"),
        )),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid,
    ))]
async fn create_table_type(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(restaurant_id): Path<Uuid>,
    Json(form): Json<TableTypeForm>,
) -> Result<Response, ApiError> {
    staff.require(restaurant_id)?;
    let (draft, tables) = form.parse(FormMode::Create)?;
    let id = Uuid::new_v4();
    let table_type = state
        .store
        .create_table_type(restaurant_id, id, &draft, &tables)
        .await??;
    Ok(etag::tagged(
        StatusCode::CREATED,
        table_type.version,
        Some(&location(restaurant_id, id)),
        table_type,
    ))
}

/// Replace a table type's name, seats, base price and currency (every field; `If-Match`
/// required). Its tables are managed under `…/tables`.
#[utoipa::path(put, path = "/v1/restaurants/{id}/table-types/{type_id}", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        ("If-Match" = String, Header, description = "The ETag last read, or `*`"),
    ),
    request_body = TableTypeForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced", body = TableType,
            headers(("ETag" = String, description = "The new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, Invalid,
        PreconditionRequired,
    ))]
async fn replace_table_type(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    Json(form): Json<TableTypeForm>,
) -> Result<Response, ApiError> {
    staff.require(restaurant_id)?;
    let expected = if_match.required("the table type")?;
    let (draft, _) = form.parse(FormMode::Replace)?;
    let table_type = state
        .store
        .replace_table_type(restaurant_id, id, expected, &draft)
        .await??;
    Ok(etag::tagged(
        StatusCode::OK,
        table_type.version,
        None,
        table_type,
    ))
}

/// Delete a table type. Refused with `409` while upcoming reservations of it are held or
/// confirmed, unless `force=true`: then each is canceled and refunded in full, and pending
/// requests are rejected. `If-Match` is honoured when given.
#[utoipa::path(delete, path = "/v1/restaurants/{id}/table-types/{type_id}", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        ("If-Match" = Option<String>, Header, description = "Delete only this version (an ETag, or `*`)"),
        DeleteQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
    ))]
async fn delete_table_type(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, id)): Path<(Uuid, Uuid)>,
    Query(query): Query<DeleteQuery>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    staff.require(restaurant_id)?;
    let deleted = state
        .store
        .delete_table_type(
            restaurant_id,
            id,
            if_match.optional(),
            query.force.unwrap_or(false),
            &staff.actor(),
        )
        .await??;
    if !deleted.canceled.is_empty() {
        tracing::info!(%restaurant_id, table_type_id = %id, canceled = deleted.canceled.len(),
            "table type deleted by force; its upcoming reservations are being canceled");
        state.relay.wake();
    }
    Ok(StatusCode::NO_CONTENT)
}
