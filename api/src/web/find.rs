//! `/`: find a table.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::{briefly_cacheable, layout, PageError};
use crate::AppState;

/// `GET /`.
pub async fn page(State(state): State<AppState>) -> Result<Response, PageError> {
    let restaurants = state.store.restaurants(None, 100).await?;
    let body = layout::page(
        "Find a table",
        html! {
            h1 { "Find a table" }
            ul.plain.results {
                @for restaurant in &restaurants {
                    li.card { a href=(format!("/restaurants/{}", restaurant.id)) { (restaurant.name) } }
                }
            }
        },
    );
    let mut response = body.into_response();
    briefly_cacheable(&mut response);
    Ok(response)
}
