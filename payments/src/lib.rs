//! The payment gateway port, and a simulated gateway.
//!
//! Layout:
//! - this file: the [`PaymentGateway`] trait and its request and answer types;
//! - [`simulated`]: a gateway that follows card-test conventions (`tok_visa` approves,
//!   `tok_chargeDeclined` declines, `tok_timeout` times out), with configurable latency and a
//!   ledger in PostgreSQL so idempotency keys hold across processes.
//!
//! Every request carries an idempotency key: a gateway must answer a repeated key with the
//! first answer and never move money twice. That is what makes a redelivered payment job safe.

pub mod simulated;

use futures_util::future::BoxFuture;
use uuid::Uuid;

pub use simulated::SimulatedGateway;

/// Charge a card token in full.
#[derive(Debug, Clone)]
pub struct ChargeRequest {
    pub idempotency_key: Uuid,
    pub amount_cents: i64,
    pub currency: String,
    pub token: String,
    /// Shown on the card statement and in the gateway's dashboard.
    pub description: String,
}

/// Refund a captured charge in full.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub idempotency_key: Uuid,
    /// The gateway's reference of the charge.
    pub charge_reference: String,
    pub amount_cents: i64,
    pub currency: String,
}

/// The gateway's final answer to a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Captured { reference: String },
    Declined { reason: String },
}

/// The gateway's final answer to a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded { reference: String },
    Failed { reason: String },
}

/// No answer: the request may or may not have been carried out. Retrying with the same
/// idempotency key is safe.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("the gateway did not answer in time")]
    Timeout,
    #[error("the gateway is unavailable: {0}")]
    Unavailable(String),
}

/// A payment service provider.
pub trait PaymentGateway: Send + Sync {
    /// The name recorded on every payment, for reconciliation.
    fn name(&self) -> &str;

    /// Charges a token.
    ///
    /// # Errors
    /// When the outcome is unknown; retry with the same idempotency key.
    fn charge<'a>(
        &'a self,
        request: &'a ChargeRequest,
    ) -> BoxFuture<'a, Result<ChargeOutcome, GatewayError>>;

    /// Refunds a charge.
    ///
    /// # Errors
    /// When the outcome is unknown; retry with the same idempotency key.
    fn refund<'a>(
        &'a self,
        request: &'a RefundRequest,
    ) -> BoxFuture<'a, Result<RefundOutcome, GatewayError>>;
}
