//! The admin panel's frame: the shared page frame with the panel's navigation, who is signed
//! in, and the sign-out button.

use maud::{html, Markup};

use super::session::SignedIn;
use crate::web::layout::frame;

/// A panel page for `signed_in`.
pub fn page(title: &str, signed_in: &SignedIn, content: Markup) -> Markup {
    frame(
        title,
        html! {
            a.brand href="/admin" { "maitred admin" }
            nav aria-label="Admin" {
                a href="/admin" { "Restaurants" }
                @if signed_in.account.is_admin() {
                    " " a href="/admin/operations" { "Operations" }
                }
                " "
                form.inline method="post" action="/admin/logout" {
                    input type="hidden" name="csrf" value=(signed_in.csrf());
                    button.link type="submit" { "Sign out" }
                }
            }
        },
        content,
        html! { p { "Signed in as " (signed_in.account.name) " (" (signed_in.account.email) "). Times are each restaurant's local time." } },
    )
}

/// A page for someone not signed in (sign-in, set a password).
pub fn signed_out(title: &str, content: Markup) -> Markup {
    frame(
        title,
        html! { a.brand href="/admin" { "maitred admin" } },
        content,
        html! {},
    )
}
