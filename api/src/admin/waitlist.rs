//! The waitlist of a date, as the day's book shows it: who waits, in join order, for which
//! window, and what became of the offers the serial worker made.

use booking::waitlist::{WaitlistEntry, WaitlistStatus};
use maud::{html, Markup};

use crate::web::format;

/// The waitlist section of the book. Nothing when nobody joined for this date.
pub(super) fn section(entries: &[WaitlistEntry], time_zone: &str) -> Markup {
    let waiting = entries
        .iter()
        .filter(|e| e.status == WaitlistStatus::Waiting)
        .count();
    html! {
        @if !entries.is_empty() {
            section.waitlist aria-labelledby="waitlist-heading" {
                h2 #waitlist-heading { "Waitlist (" (waiting) " waiting)" }
                p.muted { "In join order. When a table comes free, it is offered to the first whose window and party it fits, as a held booking." }
                ol.plain.bookings #waitlist {
                    @for entry in entries {
                        li.card data-status=(entry.status.as_str()) {
                            h3 {
                                @if let Some(place) = entry.place { "#" (place) " · " }
                                (entry.guest.name) " · party of " (entry.party_size)
                            }
                            p { span.badge { (status_words(entry.status)) } }
                            dl.facts {
                                dt { "Times" } dd { (format::time(entry.from)) "–" (format::time(entry.until)) }
                                dt { "Email" } dd { a href=(format!("mailto:{}", entry.guest.email)) { (entry.guest.email) } }
                                @if let Some(phone) = &entry.guest.phone {
                                    dt { "Phone" } dd { a href=(format!("tel:{phone}")) { (phone) } }
                                }
                                dt { "Joined" } dd { (format::local_instant(entry.created_at, time_zone)) }
                                @if let Some(offer) = entry.offer_id {
                                    dt { "Offer" } dd { a href=(format!("/admin/reservations/{offer}")) { "The booking offered" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn status_words(status: WaitlistStatus) -> &'static str {
    match status {
        WaitlistStatus::Waiting => "Waiting",
        WaitlistStatus::Offered => "Offered a table, not paid yet",
        WaitlistStatus::Booked => "Took the table",
        WaitlistStatus::Lapsed => "Offer lapsed",
        WaitlistStatus::Left => "Left the waitlist",
    }
}
