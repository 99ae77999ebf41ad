//! `/v1/waitlist`: diners whose slot is sold out wait in line for a table to come back. The
//! restaurant's serial worker offers freed tables in join order; the offer is a reservation
//! (`offerReservationId`), held for payment as any booking (or confirmed where no prepayment
//! is taken), announced by webhook to `callbackUrl` and by email.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking::store::Joined;
use booking::waitlist::{WaitlistEntry, WaitlistForm, WaitlistRequest};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Staff};
use crate::extract::{Json, Path, Query};
use crate::openapi::problems::{BadRequest, Conflict, Forbidden, Invalid, NotFound, Unauthorized};
use crate::rate_limit::BookingAllowance;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join))
        .routes(routes!(show, leave))
        .routes(routes!(of_restaurant))
}

/// An entry as its diner sees it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct WaitlistReceipt {
    #[serde(flatten)]
    entry: WaitlistEntry,
    /// A bearer token for this entry only: send it to see the entry or leave the line. In the
    /// answer to the request that made the entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    /// Once a table is offered: the token of the offered reservation, to pay or cancel it.
    #[serde(skip_serializing_if = "Option::is_none")]
    offer_access_token: Option<String>,
}

/// Join the waitlist of a restaurant's date for a window of start times. Open to anonymous
/// diners. `201` for a new entry, `200` for a retry of the same request; one place per
/// diner, restaurant and date.
#[utoipa::path(post, path = "/v1/waitlist", tag = "waitlist",
    request_body = WaitlistForm,
    responses(
        (status = 201, description = "In line", body = WaitlistReceipt),
        (status = 200, description = "A retry of the same request", body = WaitlistReceipt),
        BadRequest, Conflict, Invalid,
    ))]
async fn join(
    State(state): State<AppState>,
    _allowed: BookingAllowance,
    Json(form): Json<WaitlistForm>,
) -> Result<Response, ApiError> {
    if let Some(url) = &form.callback_url {
        crate::intake::check_callback_url(&state, url)?;
    }
    let restaurant = state
        .store
        .restaurant(form.restaurant_id)
        .await?
        .ok_or_else(|| booking::Invalid::new("restaurantId", "no restaurant has this id"))?;
    let table_types = state.store.table_types(restaurant.id).await?;
    let request = WaitlistRequest::parse(&form, &restaurant, &table_types, Utc::now())?;
    let (entry, created) = match state
        .store
        .join_waitlist(&request)
        .await?
        .map_err(|refusal| ApiError::refused(request.id, refusal))?
    {
        Joined::Created(entry) => (entry, true),
        Joined::Existing(entry) if entry.was_requested_by(&request) => (entry, false),
        Joined::Existing(_) => {
            return Err(ApiError::Conflict(format!(
                "waitlistId {} is already used by a different request; generate a new id",
                request.id
            )))
        }
    };
    // A retry is handed the token too: only who knows the id and every detail can send it.
    let access_token = Some(state.auth.waitlist_token(&entry));
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/waitlist/{}", entry.id);
    let mut response = (
        status,
        axum::Json(WaitlistReceipt {
            entry,
            access_token,
            offer_access_token: None,
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// An entry: its place in line while it waits, and the reservation offered once there is one
/// (with its token, for the diner).
#[utoipa::path(get, path = "/v1/waitlist/{id}", tag = "waitlist",
    params(("id" = Uuid, Path, description = "The waitlistId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = WaitlistReceipt),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
async fn show(
    caller: Principal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<WaitlistReceipt>, ApiError> {
    let entry = authorized(&state, &caller, id).await?;
    let offer_access_token = match (&caller, entry.offer_id) {
        (Principal::Guest(_), Some(offer)) => state
            .store
            .reservation(offer)
            .await?
            .map(|reservation| state.auth.reservation_token(&reservation)),
        _ => None,
    };
    Ok(axum::Json(WaitlistReceipt {
        entry,
        access_token: None,
        offer_access_token,
    }))
}

/// Leave the line. Only a waiting entry can; an offered table is a reservation, canceled as
/// any. Leaving twice is leaving once.
#[utoipa::path(delete, path = "/v1/waitlist/{id}", tag = "waitlist",
    params(("id" = Uuid, Path, description = "The waitlistId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Out of the line", body = WaitlistEntry),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
async fn leave(
    caller: Principal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<WaitlistEntry>, ApiError> {
    authorized(&state, &caller, id).await?;
    let entry = state
        .store
        .leave_waitlist(id)
        .await?
        .map_err(|refusal| ApiError::refused(id, refusal))?;
    Ok(axum::Json(entry))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DateQuery {
    /// `YYYY-MM-DD`, the restaurant's local date.
    #[param(format = Date, example = "2026-12-24")]
    date: String,
}

/// Staff: a restaurant's waitlist for a date, in join order, every status.
#[utoipa::path(get, path = "/v1/restaurants/{id}/waitlist", tag = "staff",
    params(("id" = Uuid, Path, description = "The restaurant"), DateQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entries", body = Vec<WaitlistEntry>),
        BadRequest, Unauthorized, Forbidden, Invalid,
    ))]
async fn of_restaurant(
    Staff(staff): Staff,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<DateQuery>,
) -> Result<axum::Json<Vec<WaitlistEntry>>, ApiError> {
    staff.require(id)?;
    let date: NaiveDate = booking::request::parse_date(&query.date)?;
    Ok(axum::Json(state.store.waitlist_on(id, date).await?))
}

async fn authorized(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> Result<WaitlistEntry, ApiError> {
    let entry = state
        .store
        .waitlist_entry(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no waitlist entry has the id {id}")))?;
    match caller {
        Principal::Staff(staff) => staff.require(entry.restaurant_id)?,
        Principal::Guest(guest) if guest.may_see_entry(&entry) => {}
        Principal::Guest(_) => {
            return Err(ApiError::Forbidden(
                "this waitlist entry belongs to another guest".into(),
            ))
        }
    }
    Ok(entry)
}
