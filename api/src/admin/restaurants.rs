//! The restaurants a member of staff runs.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::html;

use super::{layout, SignedIn};
use crate::web::{no_store, PageError};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin", get(home))
}

/// `GET /admin`: the restaurants this account runs.
async fn home(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, PageError> {
    let restaurants = match signed_in.account.restaurants() {
        None => state.store.restaurants(None, 100).await?,
        Some(ids) => {
            let mut mine = Vec::new();
            for id in ids {
                if let Some(restaurant) = state.store.restaurant(*id).await? {
                    mine.push(restaurant);
                }
            }
            mine
        }
    };
    let body = layout::page(
        "Restaurants",
        &signed_in,
        html! {
            h1 { "Restaurants" }
            ul.plain {
                @for restaurant in &restaurants {
                    li.card { h2 { (restaurant.name) } p.muted { (restaurant.city) } }
                }
            }
        },
    );
    let mut response = body.into_response();
    no_store(&mut response);
    Ok(response)
}
