//! The reservation domain of maitred and its PostgreSQL store. No HTTP, no AMQP.
//!
//! Layout:
//! - [`catalog`]: restaurants, opening hours and table types, as read models.
//! - [`schedule`]: opening hours and slots in a restaurant's local time (pure functions).
//! - [`request`]: a diner's booking request, parsed field by field and checked against the
//!   restaurant's cheap facts (hours, horizon, party size).
//! - [`reservation`]: the reservation, its states and the legal transitions between them.
//! - [`pricing`]: dynamic pricing, a surcharge by step of the stay's expected occupancy.
//! - [`availability`]: the bookable start times of a date with tables left and prices (pure).
//! - [`search`]: find a table near a point or in a city around a time (types, and the offers).
//! - [`messages`]: the commands, payment jobs and webhook deliveries that travel through
//!   RabbitMQ, as JSON.
//! - [`notification`]: which emails a change of state causes and when the timed ones go out.
//! - [`error`]: the store's [`Error`]: the database failed, or an invariant broke.
//! - [`store`]: the PostgreSQL store: catalog reads, durable intake with its outbox, the
//!   serial decision that reserves inventory, and the rest of a reservation's life.
//! - `wire_time`: times of day as `HH:MM` on the wire.

pub mod availability;
pub mod booking_rules;
pub mod catalog;
pub mod catalog_forms;
pub mod error;
pub mod messages;
pub mod notification;
pub mod pricing;
pub mod request;
pub mod reservation;
pub mod schedule;
pub mod search;
pub mod special_requests;
pub mod staff;
pub mod store;
pub mod waitlist;
mod wire_time;

pub use catalog::{OpeningInterval, Restaurant, TableType};
pub use error::{is_unavailable, Error, Result};
pub use notification::{NotificationFacts, NotificationKind, NotificationPlan, PreviousDetails};
pub use pricing::PricingSteps;
pub use request::{BookingRequest, GuestDetails, Invalid};
pub use reservation::{RejectReason, Reservation, Status};
pub use store::{
    DecidedBatch, Decision, DecisionPolicy, Destination, GuestBookings, InventorySync,
    OutboundClaim, OutboundMessage, OutboxClaim, Payment, PaymentKind, PaymentOutcome,
    PaymentStatus, Recorded, Refusal, ReservationEvent, Settled, Store, WebhookEndpoint,
    CATALOG_FRESH_FOR,
};

/// The database schema, embedded so every binary and test migrates the same way.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
