//! Cursor paging for lists: `?limit=&cursor=`, answered with `{items, nextCursor}`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use booking::Invalid;

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<Uuid>,
}

impl PageQuery {
    /// # Errors
    /// A page size outside 1..=100, naming `limit`.
    pub fn limit(&self) -> Result<i64, Invalid> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if (1..=MAX_PAGE_SIZE).contains(&limit) {
            Ok(limit)
        } else {
            Err(Invalid::new(
                "limit",
                format!("must be between 1 and {MAX_PAGE_SIZE}, got {limit}"),
            ))
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Uuid>,
}

impl<T> Page<T> {
    /// A page of `limit` asked-for items; a full page may have a next one, found after the last
    /// item's `id`.
    pub fn new(items: Vec<T>, limit: i64, id: impl Fn(&T) -> Uuid) -> Self {
        let next_cursor = if items.len() as i64 == limit {
            items.last().map(id)
        } else {
            None
        };
        Self { items, next_cursor }
    }
}
