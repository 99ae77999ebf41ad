//! One table type: edit it (the same replacement as `PUT …/table-types/{typeId}` with the
//! version the form was read at as `If-Match`), delete it, and its tables (the same writes as
//! `…/tables`: a change to the tables in service reaches the inventory through the
//! restaurant's serial queue).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use booking::catalog_forms::{FormMode, TableForm};
use booking::store::{CatalogRefusal, DiningTable};
use booking::{Restaurant, TableType};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    done, field, form_error, refusal_errors, respond, scope, seats, type_errors, type_path,
    types_path, Done, Errors, TypeFields, CHANGED,
};
use crate::admin::{layout, SignedIn};
use crate::web::{format, PageError};
use crate::AppState;

/// The most tables a page lists.
const MAX_TABLES: i64 = 1000;

/// What the page shows besides the stored table type: the forms as typed, their errors.
struct Shown<'a> {
    status: StatusCode,
    fields: TypeFields,
    errors: Errors,
    table: TableFields,
    table_errors: Errors,
    notice: Option<&'a str>,
}

impl Shown<'_> {
    fn of(table_type: &TableType) -> Self {
        Self {
            status: StatusCode::OK,
            fields: TypeFields::of(table_type),
            errors: Errors::default(),
            table: TableFields {
                active: Some("on".into()),
                ..TableFields::default()
            },
            table_errors: Errors::default(),
            notice: None,
        }
    }
}

/// `GET /admin/restaurants/{id}/table-types/{type_id}`.
pub async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
    Query(query): Query<Done>,
) -> Result<Response, PageError> {
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let mut shown = Shown::of(&table_type);
    shown.notice = match query.done.as_deref() {
        Some("created") => Some("The table type is added."),
        Some("saved") => Some("Saved."),
        Some("table-added") => Some("The table is added."),
        Some("table-out") => Some(
            "The table is out of service; the availability follows once the restaurant's queue \
             has applied it.",
        ),
        Some("table-in") => Some(
            "The table is back in service; the availability follows once the restaurant's \
             queue has applied it.",
        ),
        Some("table-removed") => Some("The table is removed."),
        _ => None,
    };
    render(&state, &signed_in, &restaurant, &table_type, shown).await
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    table_type: &TableType,
    shown: Shown<'_>,
) -> Result<Response, PageError> {
    let mut tables = state
        .store
        .dining_tables(restaurant.id, table_type.id, None, MAX_TABLES)
        .await??;
    tables.sort_by_cached_key(|table| label_order(&table.label));
    let path = type_path(restaurant.id, table_type.id);
    let csrf = signed_in.csrf();
    let (fields, errors) = (&shown.fields, &shown.errors);
    let body = layout::page(
        &format!("{} at {}", table_type.name, restaurant.name),
        signed_in,
        html! {
            p { a href=(types_path(restaurant.id)) { "← Table types of " (restaurant.name) } }
            h1 { (table_type.name) }
            @if let Some(notice) = shown.notice { p.notice.ok role="status" { (notice) } }
            dl.facts.card {
                dt { "Seats" } dd { (seats(table_type)) }
                dt { "Base price" } dd { (format::money(table_type.base_price_cents, &table_type.currency)) " per table" }
                dt { "Tables in service" } dd { (table_type.tables) }
            }
            p.actions {
                a.button href=(format!("{path}/rates")) { "Rates calendar" }
                a.button.secondary href=(format!("{path}/delete")) { "Delete this table type…" }
            }

            h2 #edit-heading { "Edit" }
            form.stack.card method="post" action=(path) data-once novalidate aria-labelledby="edit-heading" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="version" value=(fields.version);
                (form_error(errors))
                @if errors.get("") == Some(CHANGED) {
                    p { a href=(path) { "Reload this table type" } " (what you typed here is not kept)." }
                }
                (field("edit", "name", "Name", "text", &fields.name, None, errors, html! {}))
                (field("edit", "seatsMin", "Fewest seats", "number", &fields.seats_min, None, errors, html! {}))
                (field("edit", "seatsMax", "Most seats", "number", &fields.seats_max, None, errors, html! {}))
                (field("edit", "basePrice", "Base price per table", "text", &fields.base_price,
                    Some("On dates without a rate, for example 30.00."), errors, html! {}))
                (field("edit", "currency", "Currency", "text", &fields.currency,
                    Some("Three letters, for example EUR."), errors, html! {}))
                div.actions { button type="submit" { "Save changes" } }
            }

            h2 #tables-heading { "Tables" }
            @if tables.is_empty() {
                p.muted { "No table yet." }
            } @else {
                div.scroll {
                    table.list aria-labelledby="tables-heading" {
                        thead { tr {
                            th scope="col" { "Label" }
                            th scope="col" { "Area" }
                            th scope="col" { "In service" }
                            th scope="col" { "Actions" }
                        } }
                        tbody {
                            @for table in &tables {
                                (table_row(&path, &csrf, table))
                            }
                        }
                    }
                }
            }
            h3 #add-table-heading { "Add a table" }
            @let (table, table_errors) = (&shown.table, &shown.table_errors);
            form.stack.card method="post" action=(format!("{path}/tables")) data-once novalidate
                aria-labelledby="add-table-heading" {
                input type="hidden" name="csrf" value=(csrf);
                (form_error(table_errors))
                (field("table", "label", "Label", "text", &table.label, Some("Unique within this table type, for example W7."), table_errors, html! {}))
                (field("table", "area", "Area", "text", &table.area, Some("The room or floor; may be left empty."), table_errors, html! {}))
                label.choice for="table-active" {
                    input #table-active type="checkbox" name="active" value="on" checked[table.active.is_some()];
                    "In service"
                }
                div.actions { button type="submit" { "Add table" } }
            }
        },
    );
    Ok(respond(shown.status, body))
}

/// Labels as people count them: T2 before T10.
fn label_order(label: &str) -> (String, u64, String) {
    let digits = label.len() - label.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, number) = label.split_at(label.len() - digits);
    (
        stem.to_lowercase(),
        number.parse().unwrap_or(0),
        label.to_owned(),
    )
}

fn table_row(path: &str, csrf: &str, table: &DiningTable) -> maud::Markup {
    let action = format!("{path}/tables/{}", table.id);
    html! {
        tr {
            th scope="row" { (table.label) }
            td { @if table.area.is_empty() { span.muted { "—" } } @else { (table.area) } }
            td { @if table.active { "Yes" } @else { strong { "Out of service" } } }
            td {
                div.row-actions {
                    form.inline method="post" action=(format!("{action}/service")) data-once {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="version" value=(table.version);
                        input type="hidden" name="active" value=(if table.active { "false" } else { "true" });
                        button.secondary type="submit" {
                            @if table.active { "Take out of service" } @else { "Put back in service" }
                            span.visually-hidden { ": table " (table.label) }
                        }
                    }
                    " "
                    form.inline method="post" action=(format!("{action}/delete")) data-once {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="version" value=(table.version);
                        button.danger type="submit" {
                            "Remove" span.visually-hidden { " table " (table.label) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /admin/restaurants/{id}/table-types/{type_id}`: the same replacement as `PUT`, with
/// the version the form was read at as `If-Match`.
pub async fn save(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
    Form(fields): Form<TypeFields>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&fields.csrf)?;
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let version: i32 = fields
        .version
        .trim()
        .parse()
        .map_err(|_| PageError::bad_request("The form does not say which version it edits."))?;
    let parsed = fields
        .form(FormMode::Replace)
        .and_then(|form| form.parse(FormMode::Replace));
    let refused = |status, errors| Shown {
        status,
        errors,
        ..Shown::of(&table_type)
    };
    let (status, errors) = match parsed {
        Err(invalid) => (StatusCode::UNPROCESSABLE_ENTITY, type_errors(&invalid)),
        Ok((draft, _)) => match state
            .store
            .replace_table_type(restaurant.id, table_type.id, Some(&[version]), &draft)
            .await?
        {
            Ok(_) => {
                tracing::info!(restaurant_id = %restaurant.id, table_type_id = %table_type.id,
                    staff = %signed_in.actor(), "table type changed in the admin panel");
                return Ok(done(&type_path(restaurant.id, table_type.id), "saved"));
            }
            Err(refusal) => refusal_errors(refusal)?,
        },
    };
    // What the person typed stays, with the version they read: saving again is refused
    // again until they reload.
    let shown = Shown {
        fields,
        ..refused(status, errors)
    };
    render(&state, &signed_in, &restaurant, &table_type, shown).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteFields {
    csrf: String,
    version: String,
    force: Option<String>,
}

/// `GET …/delete`: are you sure?
pub async fn confirm_delete(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    Ok(delete_page(
        &signed_in,
        &restaurant,
        &table_type,
        StatusCode::OK,
        None,
        false,
    ))
}

fn delete_page(
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    table_type: &TableType,
    status: StatusCode,
    error: Option<&str>,
    offer_force: bool,
) -> Response {
    let path = type_path(restaurant.id, table_type.id);
    let body = layout::page(
        &format!("Delete {}", table_type.name),
        signed_in,
        html! {
            p { a href=(path) { "← " (table_type.name) } }
            h1 { "Delete " (table_type.name) "?" }
            @if let Some(error) = error { p.notice.error role="alert" { (error) } }
            p {
                "Diners will no longer see it, and its " (table_type.tables)
                " tables and rates go with it. This cannot be undone."
            }
            form.stack.card method="post" action=(format!("{path}/delete")) data-once {
                input type="hidden" name="csrf" value=(signed_in.csrf());
                input type="hidden" name="version" value=(table_type.version);
                @if offer_force {
                    label.choice for="force" {
                        input #force type="checkbox" name="force" value="on";
                        "Cancel its upcoming reservations and refund them in full"
                    }
                }
                div.actions {
                    button.danger type="submit" { "Delete table type" }
                    a href=(path) { "Keep it" }
                }
            }
        },
    );
    respond(status, body)
}

/// `POST …/delete`: the same deletion as `DELETE …/table-types/{typeId}`.
pub async fn delete(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
    Form(form): Form<DeleteFields>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf)?;
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let version: i32 =
        form.version.trim().parse().map_err(|_| {
            PageError::bad_request("The form does not say which version it deletes.")
        })?;
    let force = form.force.is_some();
    match state
        .store
        .delete_table_type(
            restaurant.id,
            table_type.id,
            Some(&[version]),
            force,
            &signed_in.actor(),
        )
        .await?
    {
        Ok(deleted) => {
            if !deleted.canceled.is_empty() {
                tracing::info!(restaurant_id = %restaurant.id, table_type_id = %table_type.id,
                    canceled = deleted.canceled.len(),
                    "table type deleted by force; its upcoming reservations are being canceled");
                state.relay.wake();
            }
            Ok(done(&types_path(restaurant.id), "deleted"))
        }
        Err(CatalogRefusal::StillBooked { count, .. }) => Ok(delete_page(
            &signed_in,
            &restaurant,
            &table_type,
            StatusCode::CONFLICT,
            Some(&format!(
                "Not deleted: {count} upcoming reservation{} of this table type {} held or \
                 confirmed. Tick the box to cancel {} with a full refund, or keep the table type.",
                if count == 1 { "" } else { "s" },
                if count == 1 { "is" } else { "are" },
                if count == 1 { "it" } else { "them" },
            )),
            true,
        )),
        Err(CatalogRefusal::Stale { .. }) => Ok(delete_page(
            &signed_in,
            &restaurant,
            &table_type,
            StatusCode::CONFLICT,
            Some("Not deleted: it was changed by someone else meanwhile. Here it is as it is now; delete again if you still mean to."),
            false,
        )),
        Err(other) => Err(other.into()),
    }
}

/// The add-table form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TableFields {
    csrf: String,
    label: String,
    area: String,
    active: Option<String>,
}

fn table_field_errors(invalid: &booking::Invalid) -> Errors {
    match invalid.field {
        "label" => Errors::one("label", format!("The label {}.", invalid.message)),
        "area" => Errors::one("area", format!("The area {}.", invalid.message)),
        _ => Errors::one("", format!("This table {}.", invalid.message)),
    }
}

/// `POST …/tables`: the same creation as `POST …/tables`.
pub async fn add_table(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id)): Path<(String, String)>,
    Form(table): Form<TableFields>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&table.csrf)?;
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let form = TableForm {
        label: Some(table.label.clone()),
        area: Some(table.area.clone()),
        active: Some(table.active.is_some()),
    };
    let (status, table_errors) = match form.parse(FormMode::Create) {
        Err(invalid) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            table_field_errors(&invalid),
        ),
        Ok(draft) => match state
            .store
            .create_dining_table(restaurant.id, table_type.id, Uuid::new_v4(), &draft)
            .await?
        {
            Ok(_) => {
                state.relay.wake();
                return Ok(done(
                    &type_path(restaurant.id, table_type.id),
                    "table-added",
                ));
            }
            Err(CatalogRefusal::Conflict(_)) => (
                StatusCode::CONFLICT,
                Errors::one(
                    "label",
                    "Another table of this type already has this label.",
                ),
            ),
            Err(CatalogRefusal::Invalid(invalid)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                table_field_errors(&invalid),
            ),
            Err(other) => return Err(other.into()),
        },
    };
    let shown = Shown {
        status,
        table,
        table_errors,
        ..Shown::of(&table_type)
    };
    render(&state, &signed_in, &restaurant, &table_type, shown).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TableChange {
    csrf: String,
    version: String,
    active: String,
}

/// The table a form names, and the version the form read it at.
async fn table_for(
    state: &AppState,
    restaurant: &Restaurant,
    table_type: &TableType,
    table_id: &str,
    version: &str,
) -> Result<(DiningTable, i32), PageError> {
    let not_found = || PageError::not_found(format!("{} has no such table.", table_type.name));
    let table_id = Uuid::parse_str(table_id).map_err(|_| not_found())?;
    let table = state
        .store
        .dining_table(restaurant.id, table_type.id, table_id)
        .await?
        .ok_or_else(not_found)?;
    let version = version
        .trim()
        .parse()
        .map_err(|_| PageError::bad_request("The form does not say which version it changes."))?;
    Ok((table, version))
}

/// A table changed by someone else since the page was read: the page as it is now, saying so.
async fn table_changed(
    state: &AppState,
    signed_in: &SignedIn,
    restaurant: &Restaurant,
    table_type: &TableType,
) -> Result<Response, PageError> {
    let shown = Shown {
        status: StatusCode::CONFLICT,
        table_errors: Errors::one(
            "",
            "Not changed: that table was changed by someone else meanwhile. The list below is \
             as it is now; repeat your change if you still mean it.",
        ),
        ..Shown::of(table_type)
    };
    render(state, signed_in, restaurant, table_type, shown).await
}

/// `POST …/tables/{table_id}/service`: in or out of service, through the same replacement as
/// `PUT …/tables/{tableId}` (the inventory follows through the restaurant's queue).
pub async fn set_in_service(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id, table_id)): Path<(String, String, String)>,
    Form(change): Form<TableChange>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&change.csrf)?;
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let (table, version) =
        table_for(&state, &restaurant, &table_type, &table_id, &change.version).await?;
    let active = match change.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(PageError::bad_request("In service or not?")),
    };
    let draft = TableForm {
        label: Some(table.label.clone()),
        area: Some(table.area.clone()),
        active: Some(active),
    }
    .parse(FormMode::Replace)
    .map_err(|invalid| PageError::bad_request(invalid.message))?;
    match state
        .store
        .replace_dining_table(
            restaurant.id,
            table_type.id,
            table.id,
            Some(&[version]),
            &draft,
        )
        .await?
    {
        Ok(_) => {
            state.relay.wake();
            tracing::info!(restaurant_id = %restaurant.id, table_id = %table.id, active,
                staff = %signed_in.actor(), "table service changed in the admin panel");
            Ok(done(
                &type_path(restaurant.id, table_type.id),
                if active { "table-in" } else { "table-out" },
            ))
        }
        Err(CatalogRefusal::Stale { .. }) => {
            table_changed(&state, &signed_in, &restaurant, &table_type).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST …/tables/{table_id}/delete`: the same removal as `DELETE …/tables/{tableId}`.
pub async fn remove_table(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, type_id, table_id)): Path<(String, String, String)>,
    Form(change): Form<TableChange>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(&change.csrf)?;
    let (restaurant, table_type) = scope(&state, &signed_in, &id, &type_id).await?;
    let (table, version) =
        table_for(&state, &restaurant, &table_type, &table_id, &change.version).await?;
    match state
        .store
        .delete_dining_table(restaurant.id, table_type.id, table.id, Some(&[version]))
        .await?
    {
        Ok(()) => {
            state.relay.wake();
            Ok(done(
                &type_path(restaurant.id, table_type.id),
                "table-removed",
            ))
        }
        Err(CatalogRefusal::Stale { .. }) => {
            table_changed(&state, &signed_in, &restaurant, &table_type).await
        }
        Err(other) => Err(other.into()),
    }
}
