//! The waitlist on the website: a diner who finds a time sold out joins the line for a window
//! of start times (the same store function and checks as `POST /v1/waitlist`), and follows
//! the entry's own page: the place in line, then the table offered (a held reservation to pay
//! on its own page). The entry's token rides in the link, then in an HttpOnly cookie scoped to
//! the entry's pages, as a reservation's receipt does.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking::request::GuestForm;
use booking::store::Joined;
use booking::waitlist::{WaitlistEntry, WaitlistForm, WaitlistRequest, WaitlistStatus};
use booking::Restaurant;
use chrono::{Duration, NaiveTime, Timelike, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::restaurant::find_restaurant;
use super::{format, layout, no_store, PageError};
use crate::auth::Principal;
use crate::{ApiError, AppState};

/// The cookie that keeps an entry's token, for `/waitlist/{id}` only.
const ENTRY_COOKIE: &str = "maitred_waitlist";

/// The slot that was sold out, from the booking form's link.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wanted {
    date: Option<String>,
    time: Option<String>,
    party_size: Option<String>,
}

/// The posted form, every field as text.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Posted {
    waitlist_id: String,
    date: String,
    from: String,
    until: String,
    party_size: String,
    name: String,
    email: String,
    phone: String,
}

/// `GET /restaurants/{id}/waitlist?date=&time=&partySize=`.
pub async fn form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(wanted): Query<Wanted>,
) -> Result<Response, PageError> {
    let restaurant = find_restaurant(&state, &id).await?;
    let time = wanted
        .time
        .as_deref()
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
        .unwrap_or_else(|| NaiveTime::from_hms_opt(19, 0, 0).unwrap_or_default());
    // An hour either way, within the day.
    let from = if time.hour() >= 1 {
        time - Duration::hours(1)
    } else {
        time
    };
    let until = if time.hour() <= 22 {
        time + Duration::hours(1)
    } else {
        time
    };
    let posted = Posted {
        waitlist_id: Uuid::new_v4().to_string(),
        date: wanted.date.unwrap_or_default(),
        from: format::time(from),
        until: format::time(until),
        party_size: wanted.party_size.unwrap_or_else(|| "2".into()),
        ..Posted::default()
    };
    Ok(render(&restaurant, &posted, None, StatusCode::OK))
}

/// `POST /restaurants/{id}/waitlist`: join, then go to the entry's page.
pub async fn join(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<Posted>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let restaurant = find_restaurant(&state, &id).await?;
    let Ok(Form(posted)) = form else {
        return Err(PageError::bad_request(
            "The form could not be read. Please go back and try again.",
        ));
    };
    let Ok(waitlist_id) = Uuid::parse_str(posted.waitlist_id.trim()) else {
        return Err(PageError::bad_request(
            "This form is incomplete. Please go back to the restaurant's page.",
        ));
    };
    let phone = Some(posted.phone.trim().to_owned()).filter(|p| !p.is_empty());
    let form = WaitlistForm {
        waitlist_id,
        restaurant_id: restaurant.id,
        date: posted.date.trim().to_owned(),
        from: posted.from.trim().to_owned(),
        until: posted.until.trim().to_owned(),
        party_size: posted.party_size.trim().parse().unwrap_or(0),
        guest: GuestForm {
            name: posted.name.trim().to_owned(),
            email: posted.email.trim().to_owned(),
            phone,
        },
        callback_url: None,
    };
    let table_types = state.store.table_types(restaurant.id).await?;
    let request = match WaitlistRequest::parse(&form, &restaurant, &table_types, Utc::now()) {
        Ok(request) => request,
        Err(invalid) => {
            let problem = format!("{}: {}", field_words(invalid.field), invalid.message);
            return Ok(render(
                &restaurant,
                &posted,
                Some(&problem),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let entry = match state.store.join_waitlist(&request).await? {
        Ok(Joined::Created(entry)) => entry,
        Ok(Joined::Existing(entry)) if entry.was_requested_by(&request) => entry,
        Ok(Joined::Existing(_)) | Err(_) => {
            let problem = format!(
                "{} already has a place on this restaurant's waitlist for {}. Open the link \
                 from when you joined to see it, or leave it there first.",
                request.guest.email,
                format::long_date(request.date)
            );
            return Ok(render(
                &restaurant,
                &posted,
                Some(&problem),
                StatusCode::CONFLICT,
            ));
        }
    };
    let token = state.auth.waitlist_token(&entry);
    let mut response = Redirect::to(&format!("/waitlist/{}", entry.id)).into_response();
    set_entry_cookie(&state, &mut response, entry.id, &token);
    no_store(&mut response);
    Ok(response)
}

fn field_words(field: &str) -> &str {
    match field {
        "from" => "The earliest time",
        "until" => "The latest time",
        "partySize" => "Guests",
        "date" => "The date",
        "guest.name" | "name" => "Name",
        "guest.email" | "email" => "Email",
        "guest.phone" | "phone" => "Phone",
        other => other,
    }
}

fn render(
    restaurant: &Restaurant,
    posted: &Posted,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = layout::page(
        &format!("Waitlist of {}", restaurant.name),
        html! {
            p { a href=(format!("/restaurants/{}", restaurant.id)) { "← " (restaurant.name) } }
            h1 { "Join the waitlist" }
            p { "When a table comes free at " (restaurant.name) " for a time in your window, it is
                offered to the first in line it fits. You then have a few minutes to pay for it
                on its page; if you do not, it goes to the next." }
            @if let Some(problem) = problem {
                p.notice.error role="alert" #form-error { (problem) }
            }
            form.stack method="post" action=(format!("/restaurants/{}/waitlist", restaurant.id)) data-once {
                input type="hidden" name="waitlistId" value=(posted.waitlist_id);
                label for="date" { "Date" }
                input #date type="date" name="date" value=(posted.date) required;
                label for="from" { "Earliest time" }
                input #from type="time" name="from" value=(posted.from) required;
                label for="until" { "Latest time" }
                input #until type="time" name="until" value=(posted.until) required;
                label for="partySize" { "Guests" }
                input #partySize type="number" name="partySize" min="1" max="500" value=(posted.party_size) required;
                label for="name" { "Name" }
                input #name type="text" name="name" autocomplete="name" value=(posted.name) required;
                label for="email" { "Email" }
                input #email type="email" name="email" autocomplete="email" value=(posted.email) required;
                label for="phone" { "Phone (optional)" }
                input #phone type="tel" name="phone" autocomplete="tel" value=(posted.phone);
                div.actions { button type="submit" data-busy-label="Joining…" { "Join the waitlist" } }
            }
        },
    );
    let mut response = (status, body).into_response();
    no_store(&mut response);
    response
}

fn set_entry_cookie(state: &AppState, response: &mut Response, id: Uuid, token: &str) {
    let secure = if state.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{ENTRY_COOKIE}={token}; Path=/waitlist/{id}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        60 * 60 * 24 * 60
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Link {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Leave {
    csrf: String,
}

/// An entry opened with its token, from the link or the cookie.
struct Opened {
    entry: WaitlistEntry,
    restaurant: Restaurant,
    token: String,
}

impl Opened {
    async fn open(
        state: &AppState,
        id: &str,
        headers: &HeaderMap,
        link_token: Option<&str>,
    ) -> Result<Opened, PageError> {
        let not_found = || PageError::not_found("We could not find that place on a waitlist.");
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        let token = link_token
            .map(str::to_owned)
            .or_else(|| super::cookie(headers, ENTRY_COOKIE))
            .ok_or_else(|| {
                PageError::new(
                    StatusCode::UNAUTHORIZED,
                    "Open the link from when you joined",
                    "This page shows a place on a waitlist to the person who joined. Open it \
                     with the link you got, on the device you joined with.",
                )
            })?;
        let refused = || {
            PageError::new(
                StatusCode::FORBIDDEN,
                "This link does not open this page",
                "The link has expired or belongs to another place in line.",
            )
        };
        let entry = state
            .store
            .waitlist_entry(id)
            .await?
            .ok_or_else(not_found)?;
        match state.auth.verify(&token).map_err(|_| refused())? {
            Principal::Guest(guest) if guest.may_see_entry(&entry) => {}
            _ => return Err(refused()),
        }
        let restaurant = state
            .store
            .restaurant(entry.restaurant_id)
            .await?
            .ok_or_else(not_found)?;
        Ok(Opened {
            entry,
            restaurant,
            token,
        })
    }

    fn csrf(&self) -> String {
        super::csrf_token("maitred waitlist csrf", &self.token)
    }
}

/// `GET /waitlist/{id}[?token=]`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<Link>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, link.token.as_deref()).await?;
    let region = status_region(&state, &opened).await?;
    let entry = &opened.entry;
    let body = layout::page(
        &format!("Waitlist of {}", opened.restaurant.name),
        html! {
            h1 { "Waitlist of " (opened.restaurant.name) }
            dl.facts.card {
                dt { "Date" } dd { (format::long_date(entry.date)) }
                dt { "Times" } dd { "from " (format::time(entry.from)) " to " (format::time(entry.until)) }
                dt { "Guests" } dd { (entry.party_size) }
                dt { "Name" } dd { (entry.guest.name) }
            }
            div #status-region aria-live="polite" { (region) }
            noscript { p.muted { "Reload this page to see the latest." } }
            details.card {
                summary { "Come back later" }
                p { "This page is kept on this device. To open it elsewhere, use "
                    a href=(format!("/waitlist/{}?token={}", entry.id, opened.token)) { "this private link" } "." }
            }
        },
    );
    let mut response = body.into_response();
    if link.token.is_some() {
        set_entry_cookie(&state, &mut response, entry.id, &opened.token);
    }
    no_store(&mut response);
    Ok(response)
}

/// `GET /waitlist/{id}/status`: the live part, which the page's script polls.
pub async fn status_panel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    let mut response = status_region(&state, &opened).await?.into_response();
    no_store(&mut response);
    Ok(response)
}

/// `POST /waitlist/{id}/leave`.
pub async fn leave(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Leave>,
) -> Result<Response, PageError> {
    let opened = Opened::open(&state, &id, &headers, None).await?;
    if !bool::from(opened.csrf().as_bytes().ct_eq(form.csrf.as_bytes())) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Please try again",
            "This form is out of date. Go back to your waitlist page and try again.",
        ));
    }
    let id = opened.entry.id;
    if let Err(refusal) = state.store.leave_waitlist(id).await? {
        return Err(ApiError::refused(id, refusal).into());
    }
    let mut response = Redirect::to(&format!("/waitlist/{id}")).into_response();
    no_store(&mut response);
    Ok(response)
}

async fn status_region(state: &AppState, opened: &Opened) -> Result<Markup, PageError> {
    let entry = &opened.entry;
    let live = format!("/waitlist/{}/status", entry.id);
    let final_ = !matches!(
        entry.status,
        WaitlistStatus::Waiting | WaitlistStatus::Offered
    );
    let offer = match entry.offer_id {
        Some(offer) => state.store.reservation(offer).await?,
        None => None,
    };
    let offer_link = offer.as_ref().map(|reservation| {
        format!(
            "/reservations/{}?token={}",
            reservation.id,
            state.auth.reservation_token(reservation)
        )
    });
    Ok(html! {
        section #status data-live=(live) data-final=(final_) data-status=(entry.status.as_str()) {
            @match entry.status {
                WaitlistStatus::Waiting => {
                    div.notice.info {
                        p.status-word #status-word { "Waiting" }
                        p { "You are number " strong { (entry.place.unwrap_or(1)) } " in line for this date.
                            We will write to " (entry.guest.email) " when a table is yours; this page
                            updates by itself." }
                    }
                    form method="post" action=(format!("/waitlist/{}/leave", entry.id)) data-once {
                        input type="hidden" name="csrf" value=(opened.csrf());
                        button.secondary type="submit" data-busy-label="Leaving…" { "Leave the waitlist" }
                    }
                }
                WaitlistStatus::Offered => {
                    div.notice.ok {
                        p.status-word #status-word { "A table is yours" }
                        @if let Some(reservation) = &offer {
                            p { (format::time(reservation.time)) " on " (format::long_date(reservation.date))
                                ". Pay for it before the hold ends, or it goes to the next in line." }
                        }
                        @if let Some(link) = &offer_link {
                            p { a.button href=(link) #offer-link { "Pay for the table" } }
                        }
                    }
                }
                WaitlistStatus::Booked => {
                    div.notice.ok {
                        p.status-word #status-word { "Booked" }
                        @if let Some(link) = &offer_link { p { a href=(link) #offer-link { "Your booking" } } }
                    }
                }
                WaitlistStatus::Lapsed => {
                    div.notice.error {
                        p.status-word #status-word { "The offer lapsed" }
                        p { "The table was not paid for in time, so it went to the next in line." }
                    }
                }
                WaitlistStatus::Left => {
                    div.notice.info {
                        p.status-word #status-word { "You left the waitlist" }
                        p { a href=(format!("/restaurants/{}", opened.restaurant.id)) { "Book another time" } }
                    }
                }
            }
        }
    })
}
