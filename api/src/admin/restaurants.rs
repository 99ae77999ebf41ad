//! The restaurants a member of staff runs: the list (with a search), a restaurant's overview,
//! creating (chain admins), editing and deleting one; and its webhook endpoints
//! ([`webhooks`]).
//!
//! Every write goes through the store functions the JSON routes call
//! (`api/src/routes/restaurants.rs`), after the same checks: the form is parsed by the same
//! [`booking::catalog_forms::RestaurantForm::parse`] ([`form`]), an edit names the version it
//! was read at as `If-Match` does (a save after someone else's is refused, never applied), and
//! a deletion refuses while upcoming reservations are held or confirmed unless forced, which
//! cancels and refunds them.

mod booking_rules;
mod form;
mod webhooks;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use booking::catalog_forms::FormMode;
use booking::store::CatalogRefusal;
use booking::Restaurant;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{layout, SignedIn};
use crate::web::{format, no_store, PageError};
use crate::AppState;
use form::{Posted, Refusals};

/// Restaurants on a page of the list.
const PAGE_SIZE: i64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/restaurants/new", get(new_form).post(create))
        .route("/admin/restaurants/{id}", get(overview))
        .route("/admin/restaurants/{id}/edit", get(edit_form).post(update))
        .route(
            "/admin/restaurants/{id}/delete",
            get(confirm_delete).post(delete),
        )
        .merge(webhooks::routes())
        .merge(booking_rules::routes())
}

fn respond(status: StatusCode, body: Markup) -> Response {
    let mut response = (status, body).into_response();
    no_store(&mut response);
    response
}

/// The restaurant id of a path: an id that is not one is a restaurant that is not there.
fn restaurant_id(raw: &str) -> Result<Uuid, PageError> {
    raw.parse()
        .map_err(|_| PageError::not_found("There is no restaurant at this address."))
}

fn no_restaurant() -> PageError {
    PageError::not_found("No restaurant has this id; it may have been deleted.")
}

/// The restaurant of a path, once this account is known to run it.
async fn mine(state: &AppState, signed_in: &SignedIn, raw: &str) -> Result<Restaurant, PageError> {
    let id = restaurant_id(raw)?;
    signed_in.require(id)?;
    state.store.restaurant(id).await?.ok_or_else(no_restaurant)
}

fn overview_href(id: Uuid) -> String {
    format!("/admin/restaurants/{id}")
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    q: Option<String>,
    page: Option<String>,
    done: Option<String>,
    canceled: Option<String>,
}

/// `GET /admin`: the restaurants this account runs, by name, searched by name or city.
async fn home(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| q.chars().take(100).collect::<String>());
    let page: i64 = query
        .page
        .as_deref()
        .and_then(|page| page.parse().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let mut restaurants = state
        .store
        .restaurants_matching(
            q.as_deref(),
            signed_in.account.restaurants(),
            (page - 1) * PAGE_SIZE,
            PAGE_SIZE + 1,
        )
        .await?;
    let more = restaurants.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    restaurants.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let page_href = |page: i64| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(q) = &q {
            query.append_pair("q", q);
        }
        query.append_pair("page", &page.to_string());
        format!("/admin?{}", query.finish())
    };
    let notice = match query.done.as_deref() {
        Some("deleted") => {
            let canceled: usize = query
                .canceled
                .as_deref()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            Some(if canceled == 0 {
                "The restaurant was deleted.".to_owned()
            } else {
                format!(
                    "The restaurant was deleted. {} being canceled and refunded in full.",
                    reservations(
                        canceled,
                        "upcoming reservation is",
                        "upcoming reservations are"
                    )
                )
            })
        }
        _ => None,
    };
    let body = layout::page(
        "Restaurants",
        &signed_in,
        html! {
            h1 { "Restaurants" }
            @if let Some(notice) = notice { p.notice.ok role="status" { (notice) } }
            @if signed_in.account.is_admin() {
                p { a.button href="/admin/restaurants/new" { "New restaurant" } }
            }
            form.stack.card role="search" method="get" action="/admin" {
                label for="q" { "Search by name or city" }
                input #q type="search" name="q" value=(q.as_deref().unwrap_or_default());
                div.actions {
                    button type="submit" { "Search" }
                    @if q.is_some() { a href="/admin" { "Show all" } }
                }
            }
            @if restaurants.is_empty() {
                p.notice.info role="status" {
                    @match &q {
                        Some(q) => { "No restaurant's name or city contains “" (q) "”." }
                        None if page > 1 => { "There are no more restaurants." }
                        None => { "There are no restaurants for you here yet." }
                    }
                }
            } @else {
                @if let Some(q) = &q {
                    p.muted role="status" { "Restaurants whose name or city contains “" (q) "”:" }
                }
                ul.plain #restaurants {
                    @for restaurant in &restaurants {
                        li.card {
                            h2 { a href=(overview_href(restaurant.id)) { (restaurant.name) } }
                            p.muted { (format::address(&restaurant.address, &restaurant.city)) }
                        }
                    }
                }
            }
            @if page > 1 || more {
                nav.actions aria-label="Pages" {
                    @if page > 1 { a href=(page_href(page - 1)) { "← Previous page" } }
                    span { "Page " (page) }
                    @if more { a href=(page_href(page + 1)) { "Next page →" } }
                }
            }
        },
    );
    Ok(respond(StatusCode::OK, body))
}

fn reservations(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Done {
    done: Option<String>,
}

/// `GET /admin/restaurants/{id}`: a restaurant's facts and hours, and what can be done to it.
async fn overview(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<Done>,
) -> Result<Response, PageError> {
    let restaurant = mine(&state, &signed_in, &id).await?;
    let notice = match query.done.as_deref() {
        Some("created") => Some("The restaurant was created."),
        Some("saved") => Some("Your changes were saved."),
        _ => None,
    };
    let by_day = form::hours_by_day(&restaurant.opening_hours);
    let id = restaurant.id;
    let body = layout::page(
        &restaurant.name,
        &signed_in,
        html! {
            p { a href="/admin" { "← Restaurants" } }
            h1 { (restaurant.name) }
            @if let Some(notice) = notice { p.notice.ok role="status" { (notice) } }
            nav aria-label="This restaurant" {
                ul.plain.panel-links {
                    li { a href=(format!("/admin/restaurants/{id}/edit")) { "Edit details and hours" } }
                    li { a href=(format!("/admin/restaurants/{id}/table-types")) { "Table types and rates" } }
                    li { a href=(format!("/admin/restaurants/{id}/book")) { "Today's book" } }
                    li { a href=(format!("/admin/restaurants/{id}/booking-rules")) { "Pacing, turn times and changes" } }
                    li { a href=(format!("/admin/restaurants/{id}/webhooks")) { "Webhook endpoints" } }
                    li { a href=(format!("/restaurants/{id}")) { "The diners' page" } }
                    li { a href=(format!("/admin/restaurants/{id}/delete")) { "Delete this restaurant" } }
                }
            }
            h2 { "Details" }
            dl.facts.card {
                dt { "Address" } dd { (format::address(&restaurant.address, &restaurant.city)) }
                dt { "City" } dd { @if restaurant.city.is_empty() { "—" } @else { (restaurant.city) } }
                dt { "Coordinates" } dd { (restaurant.latitude) ", " (restaurant.longitude) }
                dt { "Time zone" } dd { (restaurant.time_zone) }
                dt { "Slots" } dd { "every " (restaurant.slot_minutes) " minutes" }
                dt { "Default stay" } dd { (restaurant.default_duration_minutes) " minutes" }
                dt { "Overbooking" } dd { (restaurant.overbooking_pct) "%" }
                dt { "Prepayment" } dd {
                    @if restaurant.prepayment_required { "Diners pay in full when booking" }
                    @else { "None: diners pay at the restaurant" }
                }
                dt { "Refund window" } dd {
                    "refunded when canceled more than " (restaurant.refund_window_hours) " hours ahead"
                }
                dt { "Booking horizon" } dd { (restaurant.booking_horizon_days) " days ahead" }
            }
            h2 { "Opening hours" }
            p.muted { "Local time (" (restaurant.time_zone) "); a closing time earlier than the opening time is past midnight." }
            dl.facts.card #opening-hours {
                @for day in 1..=7 {
                    dt { (format::weekday(day)) }
                    dd { @match by_day.get(&day) {
                        Some(hours) => (hours.join(", ")),
                        None => "Closed",
                    } }
                }
            }
        },
    );
    Ok(respond(StatusCode::OK, body))
}

/// The create or edit page.
fn form_page(
    status: StatusCode,
    signed_in: &SignedIn,
    restaurant: Option<&Restaurant>,
    posted: &Posted,
    refusals: &Refusals,
    stale: bool,
) -> Response {
    let (title, action, back) = match restaurant {
        Some(restaurant) => (
            format!("Edit {}", restaurant.name),
            format!("/admin/restaurants/{}/edit", restaurant.id),
            overview_href(restaurant.id),
        ),
        None => (
            "New restaurant".to_owned(),
            "/admin/restaurants/new".to_owned(),
            "/admin".to_owned(),
        ),
    };
    let body = layout::page(
        &title,
        signed_in,
        html! {
            p { a href=(back) { "← Back" } }
            h1 { (title) }
            @if stale {
                div.notice.error role="alert" #stale {
                    p { strong { "Changed by someone else — reload to see their change." } }
                    p { "Someone saved this restaurant after you opened this form, so your changes "
                        "were not saved (they are still below, to copy). "
                        a href=(action) { "Reload the form" } " to start from their version." }
                }
            } @else if !refusals.is_empty() {
                p.notice.error role="alert" { "Nothing was saved: please correct what is marked below." }
            }
            form.stack method="post" action=(action) data-once novalidate {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                @if restaurant.is_some() { input type="hidden" name="version" value=(posted.version); }
                (form::fields(posted, refusals))
                div.actions {
                    button type="submit" data-busy-label="Saving…" {
                        @if restaurant.is_some() { "Save changes" } @else { "Create restaurant" }
                    }
                    a href=(back) { "Cancel" }
                }
            }
        },
    );
    respond(status, body)
}

/// `GET /admin/restaurants/new` (chain admins).
async fn new_form(signed_in: SignedIn) -> Result<Response, PageError> {
    signed_in.require_admin()?;
    Ok(form_page(
        StatusCode::OK,
        &signed_in,
        None,
        &Posted::defaults(),
        &Vec::new(),
        false,
    ))
}

/// `POST /admin/restaurants/new`: as `POST /v1/restaurants`.
async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(posted): Form<Posted>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&posted.csrf)?;
    signed_in.require_admin()?;
    signed_in.principal().require_chain()?;
    let refused = |refusals: Refusals| {
        form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &signed_in,
            None,
            &posted,
            &refusals,
            false,
        )
    };
    let draft = match posted.parse(FormMode::Create) {
        Ok(draft) => draft,
        Err(refusals) => return Ok(refused(refusals)),
    };
    let id = Uuid::new_v4();
    match state.store.create_restaurant(id, &draft).await? {
        Ok(restaurant) => {
            tracing::info!(restaurant_id = %restaurant.id, staff = %signed_in.actor(),
                "restaurant created in the admin panel");
            Ok(Redirect::to(&format!("{}?done=created", overview_href(id))).into_response())
        }
        Err(CatalogRefusal::Invalid(invalid)) => Ok(refused(vec![(
            invalid.field.to_owned(),
            form::sentence(&invalid.message),
        )])),
        Err(refusal) => Err(refusal.into()),
    }
}

/// `GET /admin/restaurants/{id}/edit`: the form, at the version it is read at.
async fn edit_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let restaurant = mine(&state, &signed_in, &id).await?;
    Ok(form_page(
        StatusCode::OK,
        &signed_in,
        Some(&restaurant),
        &Posted::of(&restaurant),
        &Vec::new(),
        false,
    ))
}

/// `POST /admin/restaurants/{id}/edit`: as `PUT /v1/restaurants/{id}` with `If-Match` set to
/// the version the form was read at.
async fn update(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(posted): Form<Posted>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&posted.csrf)?;
    let restaurant = mine(&state, &signed_in, &id).await?;
    let expected: i32 = posted
        .version
        .trim()
        .parse()
        .map_err(|_| PageError::bad_request("The form did not say which version it edits."))?;
    let page = |status, refusals: Refusals, stale| {
        form_page(
            status,
            &signed_in,
            Some(&restaurant),
            &posted,
            &refusals,
            stale,
        )
    };
    let draft = match posted.parse(FormMode::Replace) {
        Ok(draft) => draft,
        Err(refusals) => return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, refusals, false)),
    };
    match state
        .store
        .replace_restaurant(restaurant.id, Some(&[expected]), &draft)
        .await?
    {
        Ok(saved) => {
            // A new overbooking percentage queued an inventory sync.
            state.relay.wake();
            tracing::info!(restaurant_id = %saved.id, version = saved.version,
                staff = %signed_in.actor(), "restaurant edited in the admin panel");
            Ok(Redirect::to(&format!("{}?done=saved", overview_href(saved.id))).into_response())
        }
        Err(CatalogRefusal::Stale { .. }) => Ok(page(StatusCode::CONFLICT, Vec::new(), true)),
        Err(CatalogRefusal::Invalid(invalid)) => Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![(invalid.field.to_owned(), form::sentence(&invalid.message))],
            false,
        )),
        Err(CatalogRefusal::Conflict(message)) => {
            let field = if message.starts_with("slotMinutes") {
                "slotMinutes"
            } else {
                "form"
            };
            let message = message.replacen("slotMinutes cannot", "The slot length cannot", 1);
            Ok(page(
                StatusCode::CONFLICT,
                vec![(field.to_owned(), form::sentence(&message))],
                false,
            ))
        }
        Err(CatalogRefusal::NotFound(_)) => Err(no_restaurant()),
        Err(refusal) => Err(refusal.into()),
    }
}

/// The confirmation page of a deletion.
fn delete_page(
    status: StatusCode,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    booked: usize,
    problem: Option<&str>,
) -> Response {
    let action = format!("/admin/restaurants/{}/delete", restaurant.id);
    let body = layout::page(
        &format!("Delete {}", restaurant.name),
        signed_in,
        html! {
            p { a href=(overview_href(restaurant.id)) { "← " (restaurant.name) } }
            h1 { "Delete " (restaurant.name) "?" }
            @if let Some(problem) = problem { p.notice.error role="alert" { (problem) } }
            @if booked > 0 {
                div.notice.wait #upcoming {
                    p { strong { (restaurant.name) " has "
                        (reservations(booked, "upcoming reservation", "upcoming reservations"))
                        " (held or confirmed)." } }
                    p { "Deleting it cancels each of them and refunds it in full; the diners are told. "
                        "Requests still waiting for a decision are rejected." }
                }
            } @else {
                p { "It has no upcoming held or confirmed reservations. Requests still waiting for a "
                    "decision are rejected." }
            }
            p { "Its table types go with it, and it disappears from the diners' search. This cannot be undone." }
            form.stack method="post" action=(action) data-once {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                input type="hidden" name="version" value=(restaurant.version);
                @if booked > 0 {
                    input type="hidden" name="force" value="true";
                    div.actions {
                        button.danger type="submit" data-busy-label="Deleting…" {
                            "Cancel and refund " (reservations(booked, "reservation", "reservations"))
                            ", and delete"
                        }
                        a href=(overview_href(restaurant.id)) { "Keep the restaurant" }
                    }
                } @else {
                    div.actions {
                        button.danger type="submit" data-busy-label="Deleting…" { "Delete the restaurant" }
                        a href=(overview_href(restaurant.id)) { "Keep the restaurant" }
                    }
                }
            }
        },
    );
    respond(status, body)
}

/// `GET /admin/restaurants/{id}/delete`: what a deletion would do, and the button.
async fn confirm_delete(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let restaurant = mine(&state, &signed_in, &id).await?;
    let booked = state.store.upcoming_booked(restaurant.id).await?;
    Ok(delete_page(
        StatusCode::OK,
        &signed_in,
        &restaurant,
        booked,
        None,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeleteForm {
    csrf: String,
    version: String,
    force: String,
}

/// `POST /admin/restaurants/{id}/delete`: as `DELETE /v1/restaurants/{id}` (`force=true` to
/// cancel and refund upcoming reservations), for the version the page showed.
async fn delete(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(posted): Form<DeleteForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&posted.csrf)?;
    let restaurant = mine(&state, &signed_in, &id).await?;
    let expected: Option<[i32; 1]> = posted.version.trim().parse().ok().map(|v| [v]);
    let force = posted.force == "true";
    match state
        .store
        .delete_restaurant(
            restaurant.id,
            expected.as_ref().map(<[i32; 1]>::as_slice),
            force,
            &signed_in.actor(),
        )
        .await?
    {
        Ok(deleted) => {
            if !deleted.canceled.is_empty() {
                tracing::info!(restaurant_id = %restaurant.id, canceled = deleted.canceled.len(),
                    "restaurant deleted by force; its upcoming reservations are being canceled");
                state.relay.wake();
            }
            tracing::info!(restaurant_id = %restaurant.id, staff = %signed_in.actor(),
                "restaurant deleted in the admin panel");
            Ok(Redirect::to(&format!(
                "/admin?done=deleted&canceled={}",
                deleted.canceled.len()
            ))
            .into_response())
        }
        Err(CatalogRefusal::StillBooked { count, .. }) => Ok(delete_page(
            StatusCode::CONFLICT,
            &signed_in,
            &restaurant,
            count,
            Some("Not deleted: it has upcoming reservations. Delete it only if they may be canceled and refunded."),
        )),
        Err(CatalogRefusal::Stale { .. }) => {
            let booked = state.store.upcoming_booked(restaurant.id).await?;
            Ok(delete_page(
                StatusCode::CONFLICT,
                &signed_in,
                &restaurant,
                booked,
                Some("Not deleted: it was changed by someone else since you opened this page. Here it is as it is now; look again before deleting."),
            ))
        }
        Err(CatalogRefusal::NotFound(_)) => Err(no_restaurant()),
        Err(refusal) => Err(refusal.into()),
    }
}
