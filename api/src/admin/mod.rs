//! The staff's admin panel: server-rendered pages under `/admin`, behind a real sign-in
//! ([`session`]), on the same store and domain functions as the JSON routes and with the same
//! rights (a manager runs only their restaurants; operations are the chain admin's).
//!
//! - [`session`]: sign in, sign out, set a password from a one-time link;
//! - [`restaurants`]: the restaurants (list and search, create, edit, delete) and their
//!   webhook endpoints;
//! - [`table_types`]: table types, tables and rates;
//! - [`book`]: the day's book and a reservation's detail, with the host's actions;
//! - [`operations`]: queues, decisions and the dead-letter queues (chain admin).

mod book;
mod layout;
mod operations;
pub mod password;
mod restaurants;
pub mod session;
mod table_types;

use axum::routing::{get, post};
use axum::Router;

pub use session::{SignInGuard, SignedIn};

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
        .merge(operations::routes())
}
