//! The reservation domain of maitred and its PostgreSQL store. No HTTP, no AMQP.
//!
//! Layout:
//! - [`catalog`]: restaurants, opening hours and table types, as read models.
//! - [`schedule`]: opening hours and slots in a restaurant's local time (pure functions).
//! - [`request`]: a diner's booking request, parsed field by field and checked against the
//!   restaurant's cheap facts (hours, horizon, party size).
//! - [`reservation`]: the reservation, its states and the legal transitions between them.
//! - [`store`]: the PostgreSQL store: catalog reads, durable intake with its outbox, and the
//!   serial decision that reserves inventory.

pub mod catalog;
pub mod request;
pub mod reservation;
pub mod schedule;
pub mod store;

pub use catalog::{OpeningInterval, Restaurant, TableType};
pub use request::{BookingRequest, GuestDetails, Invalid};
pub use reservation::{RejectReason, Reservation, Status};
pub use store::{is_unavailable, Decision, OutboxClaim, Recorded, Store};

/// The database schema, embedded so every binary and test migrates the same way.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
