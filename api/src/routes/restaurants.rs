//! `/v1/restaurants`: the public catalog.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use booking::{Restaurant, TableType};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{Path, Query};
use crate::{ApiError, AppState};

const DEFAULT_PAGE_SIZE: i64 = 20;
const MAX_PAGE_SIZE: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/restaurants", get(list))
        .route("/v1/restaurants/{id}", get(show))
        .route(
            "/v1/restaurants/{id}/table-types/{type_id}",
            get(show_table_type),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    cursor: Option<Uuid>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<Uuid>,
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<Restaurant>>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(booking::Invalid::new(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}, got {limit}"),
        )
        .into());
    }
    let items = state.store.restaurants(query.cursor, limit).await?;
    let next_cursor = if items.len() as i64 == limit {
        items.last().map(|r| r.id)
    } else {
        None
    };
    Ok(axum::Json(Page { items, next_cursor }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RestaurantPage {
    #[serde(flatten)]
    restaurant: Restaurant,
    table_types: Vec<TableType>,
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RestaurantPage>, ApiError> {
    let restaurant = state
        .store
        .restaurant(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no restaurant has the id {id}")))?;
    let table_types = state.store.table_types(id).await?;
    Ok(axum::Json(RestaurantPage {
        restaurant,
        table_types,
    }))
}

async fn show_table_type(
    State(state): State<AppState>,
    Path((id, type_id)): Path<(Uuid, Uuid)>,
) -> Result<axum::Json<TableType>, ApiError> {
    state
        .store
        .table_type(id, type_id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "restaurant {id} has no table type with the id {type_id}"
            ))
        })
}
