//! The frame every page shares: language, viewport, the stylesheet and script, a skip link,
//! the header and the footer. The diners' pages and the admin panel differ only in their
//! header's navigation.

use maud::{html, Markup, DOCTYPE};

use super::assets;

/// A diner's page titled `title`, with `content` as its main landmark.
pub fn page(title: &str, content: Markup) -> Markup {
    frame(
        title,
        html! {
            a.brand href="/" { "maitred" }
            nav aria-label="Site" {
                a href="/" { "Find a table" }
                a href="/me" { "Your bookings" }
            }
        },
        content,
        html! { p { "Times are the restaurant's local time. Prices include the table for the whole stay." } },
    )
}

/// A whole page: `header` inside the site's banner, `content` as the main landmark.
pub fn frame(title: &str, header: Markup, content: Markup, footer: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · maitred" }
                link rel="stylesheet" href=(assets::url("site.css"));
                script src=(assets::url("site.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site { (header) }
                main #main tabindex="-1" {
                    (content)
                }
                footer.site { (footer) }
            }
        }
    }
}
