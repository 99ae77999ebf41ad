//! The booking form. It posts to the same intake as `POST /v1/reservations` (same checks, same
//! idempotency): the form carries a `reservationId` and a `retryKey` made when it was shown,
//! so a double click or a reload re-sends the same request, which books once and hands the
//! same browser its receipt again.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking::availability::{SlotAvailability, TypeAvailability};
use booking::request::{parse_date, parse_time, BookingForm, GuestForm};
use booking::special_requests::Tag;
use booking::{Restaurant, TableType};
use chrono::{NaiveDate, NaiveTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::restaurant::{book_href, find_restaurant, find_table_type, party_select, seats};
use super::{format, layout, no_store, reservation, PageError};
use crate::rate_limit::BookingAllowance;
use crate::{intake, ApiError, AppState};

/// The simulated gateway's cards, offered in development: what each does, and its token.
pub(super) const TEST_CARDS: [(&str, &str); 3] = [
    ("tok_visa", "Test card that is approved"),
    ("tok_chargeDeclined", "Test card that is declined"),
    ("tok_timeout", "Test card whose bank never answers"),
];

/// The slot the diner picked on the restaurant page.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    table_type: Option<String>,
    date: Option<String>,
    time: Option<String>,
    party_size: Option<String>,
}

/// The posted form, every field as text: whatever is wrong is said next to it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Posted {
    reservation_id: String,
    retry_key: String,
    table_type: String,
    date: String,
    time: String,
    party_size: String,
    name: String,
    email: String,
    phone: String,
    payment_token: String,
    special_requests: String,
    // One checkbox per tag, named as the tag's wire name in camelCase.
    allergy: String,
    birthday: String,
    anniversary: String,
    high_chair: String,
    accessible_table: String,
}

impl Posted {
    /// The tags whose boxes are ticked.
    fn tags(&self) -> Vec<Tag> {
        [
            (Tag::Allergy, &self.allergy),
            (Tag::Birthday, &self.birthday),
            (Tag::Anniversary, &self.anniversary),
            (Tag::HighChair, &self.high_chair),
            (Tag::AccessibleTable, &self.accessible_table),
        ]
        .into_iter()
        .filter(|(_, ticked)| !ticked.is_empty())
        .map(|(tag, _)| tag)
        .collect()
    }
}

/// What the form shows: the slot, the diner's entries, and what went wrong with them.
struct FormView {
    restaurant: Restaurant,
    table_type: TableType,
    date: NaiveDate,
    time: NaiveTime,
    posted: Posted,
    /// The price and tables left of the slot now, when it is bookable.
    offer: Option<TypeAvailability>,
    /// Bookable times near the one asked for, when it is not.
    nearest: Vec<(NaiveTime, TypeAvailability)>,
    /// A field name and what is wrong with it.
    field_error: Option<(&'static str, String)>,
    /// What went wrong with the booking as a whole.
    error: Option<String>,
    test_cards: bool,
}

/// `GET /restaurants/{id}/book?tableType=&date=&time=&partySize=`.
pub async fn form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(slot): Query<Slot>,
) -> Result<Response, PageError> {
    let restaurant = find_restaurant(&state, &id).await?;
    let posted = Posted {
        reservation_id: Uuid::new_v4().to_string(),
        // 64 random hex characters: the browser's proof that a retry is its own.
        retry_key: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        table_type: slot.table_type.unwrap_or_default(),
        date: slot.date.unwrap_or_default(),
        time: slot.time.unwrap_or_default(),
        party_size: slot.party_size.unwrap_or_else(|| "2".into()),
        ..Posted::default()
    };
    let view = FormView::load(&state, restaurant, posted).await?;
    Ok(view.render(StatusCode::OK))
}

/// `POST /restaurants/{id}/book`: book, then go to the reservation's page with its receipt.
pub async fn submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    allowance: Result<BookingAllowance, ApiError>,
    headers: HeaderMap,
    form: Result<Form<Posted>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let restaurant = find_restaurant(&state, &id).await?;
    let Ok(Form(posted)) = form else {
        return Err(PageError::bad_request(
            "The form could not be read. Please go back to the restaurant's page and pick a \
             time again.",
        ));
    };
    let Ok(reservation_id) = Uuid::parse_str(posted.reservation_id.trim()) else {
        return Err(PageError::bad_request(
            "This booking form is incomplete. Please go back to the restaurant's page and pick \
             a time again.",
        ));
    };
    let mut view = FormView::load(&state, restaurant, posted).await?;
    if let Err(refused) = allowance {
        view.error = Some(refused.to_string());
        return Ok(view.render(StatusCode::TOO_MANY_REQUESTS));
    }
    let Some(party_size) = view.party_size() else {
        view.field_error = Some(("partySize", "Choose how many guests.".into()));
        return Ok(view.render(StatusCode::UNPROCESSABLE_ENTITY));
    };
    let optional = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    let booking = BookingForm {
        reservation_id,
        restaurant_id: view.restaurant.id,
        table_type_id: view.table_type.id,
        table_count: 1,
        party_size,
        date: view.date.to_string(),
        time: format::time(view.time),
        duration_minutes: None,
        guest: GuestForm {
            name: view.posted.name.trim().to_owned(),
            email: view.posted.email.trim().to_owned(),
            phone: optional(&view.posted.phone),
        },
        payment_token: optional(&view.posted.payment_token),
        callback_url: None,
        retry_key: optional(&view.posted.retry_key),
        special_requests: optional(&view.posted.special_requests),
        tags: view.posted.tags(),
    };
    let request_id = headers
        .get(crate::REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok());
    match intake::book(&state, booking, request_id).await {
        Ok(booked) if booked.hand_over_token => {
            let token = state.auth.reservation_token(&booked.reservation);
            let mut response =
                Redirect::to(&format!("/reservations/{}", booked.reservation.id)).into_response();
            reservation::set_receipt_cookie(&state, &mut response, booked.reservation.id, &token);
            no_store(&mut response);
            Ok(response)
        }
        // The id is taken by a request this browser cannot prove is its own.
        Ok(_) | Err(ApiError::Conflict(_)) => {
            view.error = Some(
                "This form was already used for a booking. Please go back to the restaurant's \
                 page and pick a time again."
                    .into(),
            );
            Ok(view.render(StatusCode::CONFLICT))
        }
        Err(ApiError::Invalid(invalid)) => {
            let field = form_field(invalid.field);
            view.field_error = Some((field, explain(field, &invalid.message)));
            Ok(view.render(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(ApiError::SoldOut(_)) => {
            view.offer = None;
            view.nearest = view.nearest_times(&state, party_size).await?;
            Ok(view.render(StatusCode::CONFLICT))
        }
        Err(error @ (ApiError::Unavailable(_) | ApiError::TooManyRequests { .. })) => {
            let status = if matches!(error, ApiError::Unavailable(_)) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            view.error = Some(match error {
                ApiError::Unavailable(_) => "The restaurant is taking a great many bookings \
                    right now and could not take yours; nothing was booked or charged. Please \
                    press Book again in a moment: it is safe, you will not be booked twice."
                    .into(),
                other => other.to_string(),
            });
            Ok(view.render(status))
        }
        Err(other) => Err(other.into()),
    }
}

impl FormView {
    /// The form for `posted`'s slot, with the slot's current offer.
    async fn load(
        state: &AppState,
        restaurant: Restaurant,
        posted: Posted,
    ) -> Result<FormView, PageError> {
        let start_again = |what: &str| {
            PageError::bad_request(format!(
                "{what} Please pick a time on {}'s page.",
                restaurant.name
            ))
        };
        let table_type = find_table_type(state, &restaurant, &posted.table_type).await?;
        let date = parse_date(posted.date.trim())
            .map_err(|_| start_again("The booking form has no valid date."))?;
        let time = parse_time(posted.time.trim())
            .map_err(|_| start_again("The booking form has no valid time."))?;
        let mut view = FormView {
            restaurant,
            table_type,
            date,
            time,
            posted,
            offer: None,
            nearest: Vec::new(),
            field_error: None,
            error: None,
            test_cards: state.web.test_cards,
        };
        if let Err(invalid) = view.restaurant.check_bookable_date(date, Utc::now()) {
            view.error = Some(format!("The date {}.", invalid.message));
            return Ok(view);
        }
        let party_size = view
            .party_size()
            .unwrap_or(i64::from(view.table_type.seats_min));
        let slots = view.slots(state, party_size).await?;
        let type_id = view.table_type.id;
        view.offer = slots
            .iter()
            .find(|slot| slot.time == time)
            .and_then(|slot| slot.table_types.iter().find(|t| t.table_type_id == type_id))
            .filter(|offer| offer.tables_left > 0)
            .cloned();
        if view.offer.is_none() {
            view.nearest = nearest(&slots, type_id, time);
        }
        Ok(view)
    }

    fn party_size(&self) -> Option<i64> {
        self.posted.party_size.trim().parse().ok()
    }

    async fn slots(
        &self,
        state: &AppState,
        party_size: i64,
    ) -> Result<Vec<SlotAvailability>, PageError> {
        let party_size = i32::try_from(party_size.clamp(1, 100)).unwrap_or(1);
        Ok(state
            .store
            .availability(
                &self.restaurant,
                self.date,
                party_size,
                None,
                &state.pricing,
                Utc::now(),
            )
            .await?)
    }

    async fn nearest_times(
        &self,
        state: &AppState,
        party_size: i64,
    ) -> Result<Vec<(NaiveTime, TypeAvailability)>, PageError> {
        let slots = self.slots(state, party_size).await?;
        Ok(nearest(&slots, self.table_type.id, self.time))
    }

    fn render(self, status: StatusCode) -> Response {
        let restaurant = &self.restaurant;
        let table_type = &self.table_type;
        let error_for = |field: &str| {
            self.field_error
                .as_ref()
                .filter(|(name, _)| *name == field)
                .map(|(_, message)| message.as_str())
        };
        let party = self.party_size().and_then(|size| i32::try_from(size).ok());
        let body = layout::page(
            &format!("Book at {}", restaurant.name),
            html! {
                p { a href=(format!("/restaurants/{}", restaurant.id)) { "← " (restaurant.name) } }
                h1 { "Book a table" }
                dl.facts.card {
                    dt { "Restaurant" } dd { (restaurant.name) }
                    dt { "Table" } dd { (table_type.name) " (" (seats(table_type)) ")" }
                    dt { "When" } dd { (format::long_date(self.date)) " at " (format::time(self.time)) }
                    @if let Some(offer) = &self.offer {
                        dt { "Price" } dd {
                            (format::money(offer.price_cents, &offer.currency)) " for the table"
                            span.muted { " · " (offer.tables_left) " left at this time" }
                        }
                    }
                }
                @if let Some(error) = &self.error {
                    p.notice.error role="alert" #form-error { (error) }
                }
                @if self.offer.is_none() && self.error.is_none() {
                    (sold_out(restaurant, table_type, self.date, self.time, party, &self.nearest))
                }
                @if self.offer.is_some() {
                    form.stack method="post" action=(format!("/restaurants/{}/book", restaurant.id))
                        data-once novalidate {
                        input type="hidden" name="reservationId" value=(self.posted.reservation_id);
                        input type="hidden" name="retryKey" value=(self.posted.retry_key);
                        input type="hidden" name="tableType" value=(table_type.id);
                        input type="hidden" name="date" value=(self.date);
                        input type="hidden" name="time" value=(format::time(self.time));
                        @if let Some((field, message)) = &self.field_error {
                            @if !matches!(*field, "name" | "email" | "phone" | "partySize" | "paymentToken" | "specialRequests") {
                                p.notice.error role="alert" { (message) }
                            }
                        }
                        label for="partySize" { "Guests" }
                        (party_select("partySize", party.unwrap_or(table_type.seats_min),
                            table_type.seats_min, table_type.seats_max, error_for("partySize")))
                        (text_field("name", "Name", "text", "name", &self.posted.name, true, None, error_for("name")))
                        (text_field("email", "Email", "email", "email", &self.posted.email, true,
                            Some("We send nothing else to this address."), error_for("email")))
                        (text_field("phone", "Phone (optional)", "tel", "tel", &self.posted.phone, false,
                            Some("So the restaurant can reach you on the day."), error_for("phone")))
                        (special_requests_fields(&self.posted, error_for("specialRequests")))
                        @if restaurant.prepayment_required {
                            (payment_choice(self.test_cards, &self.posted.payment_token, error_for("paymentToken")))
                            p.muted {
                                "You pay the full price now. Cancel up to " (restaurant.refund_window_hours)
                                " hours before for a full refund; after that there is no refund."
                            }
                        } @else if restaurant.no_show_fee_cents > 0 {
                            (payment_choice(self.test_cards, &self.posted.payment_token, error_for("paymentToken")))
                            p.muted #no-show-fee {
                                "Nothing is charged now: you pay at the restaurant. Your card is kept on file, and if you do not come, the restaurant charges a no-show fee of "
                                strong { (format::money(restaurant.no_show_fee_cents, &table_type.currency)) " per guest" } "."
                                @if restaurant.late_cancellation_fee {
                                    " So does a cancellation less than " (restaurant.refund_window_hours) " hours before."
                                }
                            }
                        } @else {
                            p.muted { "Nothing is charged now: you pay at the restaurant." }
                        }
                        div.actions {
                            button type="submit" data-busy-label="Booking…" {
                                @if restaurant.prepayment_required { "Book and pay" } @else { "Book" }
                            }
                        }
                    }
                }
            },
        );
        let mut response = (status, body).into_response();
        no_store(&mut response);
        response
    }
}

/// The bookable times of `slots` nearest `time`: the same table type first, then any.
fn nearest(
    slots: &[SlotAvailability],
    table_type_id: Uuid,
    time: NaiveTime,
) -> Vec<(NaiveTime, TypeAvailability)> {
    let mut open: Vec<(NaiveTime, TypeAvailability)> = slots
        .iter()
        .flat_map(|slot| {
            slot.table_types
                .iter()
                .filter(|offer| offer.tables_left > 0)
                .map(|offer| (slot.time, offer.clone()))
        })
        .collect();
    open.sort_by_key(|(at, offer)| {
        (
            offer.table_type_id != table_type_id,
            (*at - time).num_minutes().abs(),
            *at,
        )
    });
    open.truncate(6);
    open
}

fn sold_out(
    restaurant: &Restaurant,
    table_type: &TableType,
    date: NaiveDate,
    time: NaiveTime,
    party: Option<i32>,
    nearest: &[(NaiveTime, TypeAvailability)],
) -> Markup {
    let party = party.unwrap_or(table_type.seats_min);
    html! {
        div.notice.error role="alert" #sold-out {
            p { strong { "Sold out." } " " (table_type.name) " has no table left at "
                (format::time(time)) " on " (format::long_date(date)) " for " (party) "." }
            p { a #join-waitlist href=(format!("/restaurants/{}/waitlist?date={date}&time={}&partySize={party}",
                    restaurant.id, format::time(time))) { "Join the waitlist for this time" }
                " and we will offer you a table if one comes free." }
            @if nearest.is_empty() {
                p { "Nothing else is free that day. "
                    a href=(format!("/restaurants/{}", restaurant.id)) { "Try another date" } "." }
            } @else {
                p { "These times are free:" }
                ul.times {
                    @for (at, offer) in nearest {
                        li { a href=(book_href(restaurant.id, offer.table_type_id, date, *at, party)) {
                            strong { (format::time(*at)) } " · " (offer.name) " · "
                            (format::money(offer.price_cents, &offer.currency))
                        } }
                    }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn text_field(
    name: &str,
    label: &str,
    kind: &str,
    autocomplete: &str,
    value: &str,
    required: bool,
    hint: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described: Vec<&str> = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        label for=(name) { (label) }
        @if let Some(hint) = hint { span.hint id=(hint_id) { (hint) } }
        input id=(name) name=(name) type=(kind) value=(value) autocomplete=(autocomplete)
            required[required] aria-invalid=[error.map(|_| "true")]
            aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
        @if let Some(error) = error { span.field-error id=(error_id) { (error) } }
    }
}

fn payment_choice(test_cards: bool, chosen: &str, error: Option<&str>) -> Markup {
    html! {
        @if test_cards {
            fieldset aria-describedby=[error.map(|_| "paymentToken-error")] {
                legend { "Payment" }
                p.hint.muted { "This is a demonstration: pick a test card. No money moves." }
                @for (index, (token, label)) in TEST_CARDS.iter().enumerate() {
                    @let id = format!("card-{token}");
                    label.choice for=(id) {
                        input type="radio" id=(id) name="paymentToken" value=(token)
                            checked[chosen == *token || (chosen.is_empty() && index == 0)];
                        (label)
                    }
                }
                @if let Some(error) = error { span.field-error #paymentToken-error { (error) } }
            }
        } @else {
            (text_field("paymentToken", "Card token", "text", "off", chosen, true,
                Some("The token your card provider's payment form gave you."), error))
        }
    }
}

/// Tags to tick and a line for the restaurant (both optional).
fn special_requests_fields(posted: &Posted, error: Option<&str>) -> Markup {
    let ticked = posted.tags();
    html! {
        fieldset {
            legend { "Anything the restaurant should know? (optional)" }
            @for tag in Tag::ALL {
                @let name = tag_field(tag);
                label.choice {
                    input #(format!("tag-{name}")) type="checkbox" name=(name) value="on"
                        checked[ticked.contains(&tag)];
                    " " (tag.label())
                }
            }
            label for="specialRequests" { "Special requests" }
            textarea #specialRequests name="specialRequests" rows="3" maxlength="500"
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| "specialRequests-error")] {
                (posted.special_requests)
            }
            @if let Some(error) = error { p.field-error #specialRequests-error { (error) } }
        }
    }
}

/// The checkbox's name for a tag: its wire name in camelCase, as [`Posted`] reads it.
fn tag_field(tag: Tag) -> &'static str {
    match tag {
        Tag::Allergy => "allergy",
        Tag::Birthday => "birthday",
        Tag::Anniversary => "anniversary",
        Tag::HighChair => "highChair",
        Tag::AccessibleTable => "accessibleTable",
    }
}

/// The form's name for an intake field (`guest.email` → `email`).
fn form_field(field: &str) -> &'static str {
    match field {
        "guest.name" => "name",
        "guest.email" => "email",
        "guest.phone" => "phone",
        "partySize" => "partySize",
        "paymentToken" => "paymentToken",
        "specialRequests" => "specialRequests",
        _ => "form",
    }
}

/// Intake's messages are phrases about a field ("must be 1 to 200 characters"): as a sentence
/// that names the field the way the form does.
fn explain(field: &str, message: &str) -> String {
    let label = match field {
        "name" => "Your name",
        "email" => "The email address",
        "phone" => "The phone number",
        "partySize" => "The number of guests",
        "paymentToken" => "The card",
        "specialRequests" => "The special requests",
        _ => "The booking",
    };
    let sentence = if message.starts_with("must") || message.starts_with("is ") {
        format!("{label} {message}")
    } else {
        let mut chars = message.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    };
    if sentence.ends_with('.') {
        sentence
    } else {
        format!("{sentence}.")
    }
}
