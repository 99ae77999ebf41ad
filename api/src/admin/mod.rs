//! The staff's admin panel: server-rendered pages under `/admin`, behind a real sign-in
//! ([`session`]), on the same store and domain functions as the JSON routes and with the same
//! rights (a manager runs only their restaurants; operations are the chain admin's).
//!
//! - [`session`]: sign in, sign out, set a password from a one-time link;
//! - [`restaurants`]: the restaurants (list and search, create, edit, delete) and their
//!   webhook endpoints;
//! - [`table_types`]: table types, tables and rates;
//! - [`book`]: the day's book and a reservation's detail, with the host's actions;
//! - [`seating`]: seat a booking at tables, the floor, and walk-ins;
//! - [`operations`]: queues, decisions and the dead-letter queues (chain admin).

mod book;
mod layout;
mod operations;
pub mod password;
mod restaurants;
mod seating;
pub mod session;
mod table_types;
mod waitlist;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;

pub use session::{SignInGuard, SignedIn};

use crate::web::{no_store, PageError};
use crate::AppState;

/// The panel's pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/login",
            get(session::login_form).post(session::login),
        )
        .route("/admin/logout", post(session::logout))
        .route(
            "/admin/set-password",
            get(session::set_password_form).post(session::set_password),
        )
        .merge(restaurants::routes())
        .merge(table_types::routes())
        .merge(book::routes())
        .merge(seating::routes())
        .merge(operations::routes())
        .layer(axum::middleware::map_response(in_panel_frame))
}

/// An error page from a panel route, shown in the panel's frame rather than the diners'.
async fn in_panel_frame(mut response: Response) -> Response {
    let Some(error) = response.extensions_mut().remove::<PageError>() else {
        return response;
    };
    let body = layout::signed_out(
        error.title(),
        html! {
            h1 { (error.title()) }
            p.notice.error role="alert" { (error.message()) }
            p { a href="/admin" { "Back to the panel" } }
        },
    );
    let mut framed = (response.status(), body).into_response();
    no_store(&mut framed);
    framed
}
