//! `/v1/restaurants/{id}/table-types/{type_id}/tables`: the physical tables of a table type,
//! for staff who manage the restaurant. The active tables are the type's inventory: a change
//! to their number is applied to future inventory through the restaurant's queue, never below
//! what is already booked. Answers carry the table's `ETag`; a `PUT` needs `If-Match`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use booking::catalog_forms::{FormMode, TableForm};
use booking::store::DiningTable;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Staff;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, PreconditionRequired,
    Unauthorized,
};
use crate::paging::{Page, PageQuery};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tables, create_table))
        .routes(routes!(show_table, replace_table, delete_table))
}

/// A table type's tables, in id order.
#[utoipa::path(get, path = "/v1/restaurants/{id}/table-types/{type_id}/tables", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        PageQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of tables", body = Page<DiningTable>),
        BadRequest, Unauthorized, Forbidden, NotFound, Invalid,
    ))]
async fn list_tables(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id)): Path<(Uuid, Uuid)>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<DiningTable>>, ApiError> {
    staff.require(restaurant_id)?;
    let limit = page.limit()?;
    let tables = state
        .store
        .dining_tables(restaurant_id, type_id, page.cursor, limit)
        .await??;
    Ok(axum::Json(Page::new(tables, limit, |t| t.id)))
}

/// Add a table to a table type (active unless `active` is false).
#[utoipa::path(post, path = "/v1/restaurants/{id}/table-types/{type_id}/tables", tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
    ),
    request_body = TableForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = DiningTable, headers(
            ("ETag" = String, description = "The table's version, for If-Match"),
            ("Location" = String, description = "The new table"),
        )),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid,
    ))]
async fn create_table(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id)): Path<(Uuid, Uuid)>,
    Json(form): Json<TableForm>,
) -> Result<Response, ApiError> {
    staff.require(restaurant_id)?;
    let draft = form.parse(FormMode::Create)?;
    let id = Uuid::new_v4();
    let table = state
        .store
        .create_dining_table(restaurant_id, type_id, id, &draft)
        .await??;
    state.relay.wake();
    Ok(etag::tagged(
        StatusCode::CREATED,
        table.version,
        Some(&format!(
            "/v1/restaurants/{restaurant_id}/table-types/{type_id}/tables/{id}"
        )),
        table,
    ))
}

/// One table.
#[utoipa::path(get, path = "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        ("table_id" = Uuid, Path, description = "The table"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", body = DiningTable,
            headers(("ETag" = String, description = "The table's version, for If-Match"))),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn show_table(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id, id)): Path<(Uuid, Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    staff.require(restaurant_id)?;
    let table = state
        .store
        .dining_table(restaurant_id, type_id, id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "table type {type_id} of restaurant {restaurant_id} has no table with the id {id}"
            ))
        })?;
    Ok(etag::tagged(StatusCode::OK, table.version, None, table))
}

/// Replace a table's label, area and active flag (every field; `If-Match` required). Taking
/// it out of service lowers the type's future inventory, never below what is booked.
#[utoipa::path(put, path = "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        ("table_id" = Uuid, Path, description = "The table"),
        ("If-Match" = String, Header, description = "The ETag last read, or `*`"),
    ),
    request_body = TableForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced", body = DiningTable,
            headers(("ETag" = String, description = "The new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, Invalid,
        PreconditionRequired,
    ))]
async fn replace_table(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id, id)): Path<(Uuid, Uuid, Uuid)>,
    if_match: IfMatch,
    Json(form): Json<TableForm>,
) -> Result<Response, ApiError> {
    staff.require(restaurant_id)?;
    let expected = if_match.required("the table")?;
    let draft = form.parse(FormMode::Replace)?;
    let table = state
        .store
        .replace_dining_table(restaurant_id, type_id, id, expected, &draft)
        .await??;
    state.relay.wake();
    Ok(etag::tagged(StatusCode::OK, table.version, None, table))
}

/// Remove a table for good; removing an active one lowers the type's future inventory, never
/// below what is booked. `If-Match` is honoured when given.
#[utoipa::path(delete, path = "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    tag = "staff",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
        ("table_id" = Uuid, Path, description = "The table"),
        ("If-Match" = Option<String>, Header, description = "Delete only this version (an ETag, or `*`)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed,
    ))]
async fn delete_table(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path((restaurant_id, type_id, id)): Path<(Uuid, Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    staff.require(restaurant_id)?;
    state
        .store
        .delete_dining_table(restaurant_id, type_id, id, if_match.optional())
        .await??;
    state.relay.wake();
    Ok(StatusCode::NO_CONTENT)
}
