//! `/v1/restaurants`: the public catalog.

use axum::extract::State;
use booking::{Restaurant, TableType};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::extract::{Path, Query};
use crate::openapi::problems::{BadRequest, Invalid, NotFound};
use crate::paging::{Page, PageQuery};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(show_table_type))
}

/// The chain's restaurants, in id order.
#[utoipa::path(get, path = "/v1/restaurants", tag = "catalog",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of restaurants", body = Page<Restaurant>),
        BadRequest, Invalid,
    ))]
async fn list(
    State(state): State<AppState>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<Restaurant>>, ApiError> {
    let limit = page.limit()?;
    let items = state.store.restaurants(page.cursor, limit).await?;
    Ok(axum::Json(Page::new(items, limit, |r| r.id)))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct RestaurantPage {
    #[serde(flatten)]
    restaurant: Restaurant,
    table_types: Vec<TableType>,
}

/// A restaurant's page: its details, hours and table types.
#[utoipa::path(get, path = "/v1/restaurants/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "The restaurant")),
    responses(
        (status = 200, description = "The restaurant", body = RestaurantPage),
        BadRequest, NotFound,
    ))]
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

/// One table type of a restaurant.
#[utoipa::path(get, path = "/v1/restaurants/{id}/table-types/{type_id}", tag = "catalog",
    params(
        ("id" = Uuid, Path, description = "The restaurant"),
        ("type_id" = Uuid, Path, description = "The table type"),
    ),
    responses(
        (status = 200, description = "The table type", body = TableType),
        BadRequest, NotFound,
    ))]
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
