//! A restaurant's table types, their tables and their rates, as staff who run the restaurant
//! manage them. Every change goes through the store functions the JSON routes call
//! (`api/src/routes/table_types.rs`, `tables.rs`, `rates.rs`), with the same parsing
//! ([`booking::catalog_forms`]) and the same optimistic concurrency: an edit form carries the
//! version it was read at, and a save against a newer one is refused, never applied over it.
//!
//! - this file: the list of a restaurant's table types with the form to add one, and what the
//!   pages share (finding the restaurant and type, prices typed as `45.00`, field errors);
//! - [`edit`]: one table type (edit, delete) and its tables (add, in and out of service,
//!   remove);
//! - [`rates`]: the price calendar of the next three months, and setting or clearing rates.

mod edit;
mod rates;

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use booking::catalog_forms::{FormMode, TableTypeForm};
use booking::store::CatalogRefusal;
use booking::{Invalid, Restaurant, TableType};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{layout, SignedIn};
use crate::web::{format, no_store, PageError};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/restaurants/{id}/table-types",
            get(list).post(create),
        )
        .route(
            "/admin/restaurants/{id}/table-types/{type_id}",
            get(edit::page).post(edit::save),
        )
        .route(
            "/admin/restaurants/{id}/table-types/{type_id}/delete",
            get(edit::confirm_delete).post(edit::delete),
        )
        .route(
            "/admin/restaurants/{id}/table-types/{type_id}/tables",
            post(edit::add_table),
        )
        .route(
            "/admin/restaurants/{id}/table-types/{type_id}/tables/{table_id}/service",
            post(edit::set_in_service),
        )
        .route(
            "/admin/restaurants/{id}/table-types/{type_id}/tables/{table_id}/delete",
            post(edit::remove_table),
        )
        .route(
            "/admin/restaurants/{id}/table-types/{type_id}/rates",
            get(rates::page).post(rates::set),
        )
        .route(
            "/admin/restaurants/{id}/table-types/{type_id}/rates/clear",
            post(rates::clear),
        )
}

/// The restaurant `id` names, if this account runs it: a malformed or unknown id is `404`,
/// another restaurant's `403`.
pub(super) async fn restaurant_for(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
) -> Result<Restaurant, PageError> {
    let not_found = || PageError::not_found("There is no restaurant with this address.");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    signed_in.require(id)?;
    state.store.restaurant(id).await?.ok_or_else(not_found)
}

/// The restaurant's table type `id` names (`404` when it has none such).
pub(super) async fn table_type_for(
    state: &AppState,
    restaurant: &Restaurant,
    id: &str,
) -> Result<TableType, PageError> {
    let not_found = || PageError::not_found(format!("{} has no such table type.", restaurant.name));
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    state
        .store
        .table_type(restaurant.id, id)
        .await?
        .ok_or_else(not_found)
}

/// Both at once, for the pages under a table type.
pub(super) async fn scope(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    type_id: &str,
) -> Result<(Restaurant, TableType), PageError> {
    let restaurant = restaurant_for(state, signed_in, id).await?;
    let table_type = table_type_for(state, &restaurant, type_id).await?;
    Ok((restaurant, table_type))
}

pub(super) fn types_path(restaurant_id: Uuid) -> String {
    format!("/admin/restaurants/{restaurant_id}/table-types")
}

pub(super) fn type_path(restaurant_id: Uuid, type_id: Uuid) -> String {
    format!("/admin/restaurants/{restaurant_id}/table-types/{type_id}")
}

/// A page that is never kept by a cache.
pub(super) fn respond(status: StatusCode, body: Markup) -> Response {
    let mut response = (status, body).into_response();
    no_store(&mut response);
    response
}

/// Where to go after a change, with what to say there.
pub(super) fn done(path: &str, done: &str) -> Response {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("done", done)
        .finish();
    let mut response = Redirect::to(&format!("{path}?{query}")).into_response();
    no_store(&mut response);
    response
}

/// `45`, `45.5`, `45.00` or `45,00` in a currency's main unit, as minor units (cents).
pub(super) fn parse_money(raw: &str) -> Result<i64, &'static str> {
    const HINT: &str = "must be an amount such as 45 or 45.50";
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required");
    }
    let (units, fraction) = raw.split_once(['.', ',']).unwrap_or((raw, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if units.is_empty() || !digits(units) || !digits(fraction) || fraction.len() > 2 {
        return Err(HINT);
    }
    let units: i64 = units.parse().map_err(|_| "is too large")?;
    let cents = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().map_err(|_| HINT)? * 10,
        _ => fraction.parse::<i64>().map_err(|_| HINT)?,
    };
    units
        .checked_mul(100)
        .and_then(|units| units.checked_add(cents))
        .ok_or("is too large")
}

/// Cents as a form shows them: `45.00`.
pub(super) fn money_input(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// A whole number typed in a form (`None` when left empty: the parsing says it is required).
fn whole(field: &'static str, raw: &str) -> Result<Option<i64>, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| Invalid::new(field, "must be a whole number"))
}

/// The errors of a form, by field name; `""` for the form as a whole.
#[derive(Debug, Default)]
pub(super) struct Errors(BTreeMap<&'static str, String>);

impl Errors {
    pub(super) fn one(field: &'static str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.0.insert(field, message.into());
        errors
    }

    pub(super) fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A labelled input with its hint and its error, tied together for screen readers.
#[allow(clippy::too_many_arguments)]
pub(super) fn field(
    form: &str,
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    hint: Option<&str>,
    errors: &Errors,
    extra: Markup,
) -> Markup {
    let id = format!("{form}-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let error = errors.get(name);
    let described: Vec<&str> = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        div {
            label for=(id) { (label) }
            @if let Some(hint) = hint { span.hint id=(hint_id) { (hint) } }
            input id=(id) type=(kind) name=(name) value=(value)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
            (extra)
            @if let Some(error) = error { span.field-error id=(error_id) { (error) } }
        }
    }
}

/// The form-wide error, if any, as an alert.
pub(super) fn form_error(errors: &Errors) -> Markup {
    html! {
        @if let Some(error) = errors.get("") {
            p.notice.error role="alert" { (error) }
        } @else if !errors.is_empty() {
            p.notice.error role="alert" { "Please correct the fields marked below." }
        }
    }
}

/// A table type form as typed: the same fields as the JSON body, a price in the currency's
/// main unit.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct TypeFields {
    pub csrf: String,
    pub name: String,
    pub seats_min: String,
    pub seats_max: String,
    pub base_price: String,
    pub currency: String,
    pub tables: String,
    pub version: String,
}

impl TypeFields {
    pub(super) fn of(table_type: &TableType) -> Self {
        Self {
            name: table_type.name.clone(),
            seats_min: table_type.seats_min.to_string(),
            seats_max: table_type.seats_max.to_string(),
            base_price: money_input(table_type.base_price_cents),
            currency: table_type.currency.clone(),
            version: table_type.version.to_string(),
            ..Self::default()
        }
    }

    /// The JSON route's form, for its own parsing.
    pub(super) fn form(&self, mode: FormMode) -> Result<TableTypeForm, Invalid> {
        Ok(TableTypeForm {
            name: Some(self.name.clone()),
            seats_min: whole("seatsMin", &self.seats_min)?,
            seats_max: whole("seatsMax", &self.seats_max)?,
            base_price_cents: Some(
                parse_money(&self.base_price)
                    .map_err(|message| Invalid::new("basePrice", message))?,
            ),
            currency: Some(self.currency.clone()),
            tables: match mode {
                FormMode::Create => whole("tables", &self.tables)?,
                FormMode::Replace => None,
            },
            label_prefix: None,
        })
    }
}

/// The field an error of the table type's parsing belongs to, in plain words.
pub(super) fn type_errors(invalid: &Invalid) -> Errors {
    let (field, label) = match invalid.field {
        "name" => ("name", "The name"),
        "seatsMin" => ("seatsMin", "The fewest seats"),
        "seatsMax" => ("seatsMax", "The most seats"),
        "basePriceCents" | "basePrice" => ("basePrice", "The base price"),
        "currency" => ("currency", "The currency"),
        "tables" => ("tables", "The number of tables"),
        _ => ("", "This form"),
    };
    let message = invalid
        .message
        .replace("seatsMin", "the fewest seats")
        .replace("seatsMax", "the most seats");
    Errors::one(field, format!("{label} {message}."))
}

/// A refusal of the store shown on a form: conflicts and stale versions are the person's to
/// resolve; a vanished row is a `404` page.
pub(super) fn refusal_errors(refusal: CatalogRefusal) -> Result<(StatusCode, Errors), PageError> {
    match refusal {
        CatalogRefusal::Invalid(invalid) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, type_errors(&invalid)))
        }
        CatalogRefusal::Conflict(message) => Ok((
            StatusCode::CONFLICT,
            Errors::one(
                if message.contains("name") { "name" } else { "" },
                format!("Not saved: {message}."),
            ),
        )),
        CatalogRefusal::Stale { .. } => Ok((StatusCode::CONFLICT, Errors::one("", CHANGED))),
        other => Err(other.into()),
    }
}

/// What a save against a newer version says.
pub(super) const CHANGED: &str =
    "Not saved: this was changed by someone else — reload to see their change.";

#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    pub done: Option<String>,
}

/// `GET /admin/restaurants/{id}/table-types`.
async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<Done>,
) -> Result<Response, PageError> {
    let restaurant = restaurant_for(&state, &signed_in, &id).await?;
    let fields = TypeFields {
        currency: "EUR".into(),
        seats_min: "1".into(),
        seats_max: "4".into(),
        tables: "0".into(),
        ..TypeFields::default()
    };
    let notice = match query.done.as_deref() {
        Some("deleted") => Some("The table type is deleted."),
        _ => None,
    };
    list_page(
        &state,
        &signed_in,
        &restaurant,
        StatusCode::OK,
        &fields,
        &Errors::default(),
        notice,
    )
    .await
}

async fn list_page(
    state: &AppState,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    status: StatusCode,
    fields: &TypeFields,
    errors: &Errors,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let table_types = state.store.table_types(restaurant.id).await?;
    let title = format!("Table types of {}", restaurant.name);
    let body = layout::page(
        &title,
        signed_in,
        html! {
            p { a href="/admin" { "← Restaurants" } }
            h1 { "Table types of " (restaurant.name) }
            @if let Some(notice) = notice { p.notice.ok role="status" { (notice) } }
            @if table_types.is_empty() {
                p.muted { "No table type yet: add the first one below." }
            } @else {
                div.scroll {
                    table.list {
                        caption.visually-hidden { "Table types" }
                        thead { tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Seats" }
                            th scope="col" { "Base price" }
                            th scope="col" { "Tables in service" }
                            th scope="col" { "Rates" }
                        } }
                        tbody {
                            @for table_type in &table_types {
                                tr {
                                    th scope="row" {
                                        a href=(type_path(restaurant.id, table_type.id)) { (table_type.name) }
                                    }
                                    td { (seats(table_type)) }
                                    td { (format::money(table_type.base_price_cents, &table_type.currency)) }
                                    td { (table_type.tables) }
                                    td {
                                        a href=(format!("{}/rates", type_path(restaurant.id, table_type.id))) {
                                            "Rates" span.visually-hidden { " of " (table_type.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 #add-heading { "Add a table type" }
            form.stack.card method="post" action=(types_path(restaurant.id)) data-once novalidate
                aria-labelledby="add-heading" {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                (form_error(errors))
                (field("new", "name", "Name", "text", &fields.name, Some("For example: Window table for two."), errors, html! {}))
                (field("new", "seatsMin", "Fewest seats", "number", &fields.seats_min, None, errors, html! {}))
                (field("new", "seatsMax", "Most seats", "number", &fields.seats_max, None, errors, html! {}))
                (field("new", "basePrice", "Base price per table", "text", &fields.base_price,
                    Some("On dates without a rate, for example 30.00."), errors, html! {}))
                (field("new", "currency", "Currency", "text", &fields.currency,
                    Some("Three letters, for example EUR."), errors, html! {}))
                (field("new", "tables", "Number of tables", "number", &fields.tables,
                    Some("Created in service, labelled T1, T2, …"), errors, html! {}))
                div.actions { button type="submit" { "Add table type" } }
            }
        },
    );
    Ok(respond(status, body))
}

pub(super) fn seats(table_type: &TableType) -> String {
    if table_type.seats_min == table_type.seats_max {
        format!("{}", table_type.seats_max)
    } else {
        format!("{} to {}", table_type.seats_min, table_type.seats_max)
    }
}

/// `POST /admin/restaurants/{id}/table-types`: the same creation as
/// `POST /v1/restaurants/{id}/table-types`.
async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<TypeFields>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&fields.csrf)?;
    let restaurant = restaurant_for(&state, &signed_in, &id).await?;
    let parsed = fields
        .form(FormMode::Create)
        .and_then(|form| form.parse(FormMode::Create));
    let (draft, tables) = match parsed {
        Ok(parsed) => parsed,
        Err(invalid) => {
            return list_page(
                &state,
                &signed_in,
                &restaurant,
                StatusCode::UNPROCESSABLE_ENTITY,
                &fields,
                &type_errors(&invalid),
                None,
            )
            .await
        }
    };
    let type_id = Uuid::new_v4();
    match state
        .store
        .create_table_type(restaurant.id, type_id, &draft, &tables)
        .await?
    {
        Ok(created) => {
            tracing::info!(restaurant_id = %restaurant.id, table_type_id = %created.id,
                staff = %signed_in.actor(), "table type created in the admin panel");
            Ok(done(&type_path(restaurant.id, created.id), "created"))
        }
        Err(refusal) => {
            let (status, errors) = refusal_errors(refusal)?;
            list_page(
                &state,
                &signed_in,
                &restaurant,
                status,
                &fields,
                &errors,
                None,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_typed_in_the_main_unit() {
        assert_eq!(parse_money("45"), Ok(4500));
        assert_eq!(parse_money(" 45.5 "), Ok(4550));
        assert_eq!(parse_money("45,05"), Ok(4505));
        assert_eq!(parse_money("0.99"), Ok(99));
        for bad in [
            "",
            "-1",
            "4.555",
            "abc",
            ".5",
            "1e3",
            "99999999999999999999",
        ] {
            assert!(parse_money(bad).is_err(), "{bad}");
        }
        assert_eq!(money_input(4505), "45.05");
    }
}
