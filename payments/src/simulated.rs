//! A simulated gateway for development, demos and tests. It follows card-test conventions:
//! `tok_visa` and `tok_mastercard` approve, `tok_chargeDeclined` and
//! `tok_chargeDeclinedInsufficientFunds` decline, `tok_timeout` never answers (the caller's timeout ends the wait), and any
//! other token is declined as unknown.
//!
//! Like a real gateway it keeps its own ledger, here a PostgreSQL table: a repeated idempotency
//! key gets the first answer back, from any process, and tests can count what was charged.

use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    ChargeOutcome, ChargeRequest, GatewayError, PaymentGateway, RefundOutcome, RefundRequest,
};

/// The simulated gateway.
#[derive(Debug, Clone)]
pub struct SimulatedGateway {
    pool: PgPool,
    /// How long every answer takes.
    latency: Duration,
}

/// What the simulated card network says of a token.
enum Verdict {
    Approve,
    Decline(&'static str),
    Hang,
}

fn verdict(token: &str) -> Verdict {
    match token {
        "tok_visa" | "tok_mastercard" => Verdict::Approve,
        "tok_chargeDeclined" => Verdict::Decline("card_declined"),
        "tok_chargeDeclinedInsufficientFunds" => Verdict::Decline("insufficient_funds"),
        "tok_timeout" => Verdict::Hang,
        _ => Verdict::Decline("unknown_token"),
    }
}

/// One line of the ledger, as the gateway would write it.
struct Entry<'a> {
    key: Uuid,
    operation: &'a str,
    amount_cents: i64,
    currency: &'a str,
    token: Option<&'a str>,
    outcome: &'a str,
    /// The charge or refund id, or why it was declined or failed.
    reference: &'a str,
}

struct Operation {
    outcome: String,
    reference: String,
}

impl SimulatedGateway {
    pub fn new(pool: PgPool, latency: Duration) -> Self {
        Self { pool, latency }
    }

    /// Records an operation under its idempotency key, or returns the one recorded first.
    async fn record(&self, entry: Entry<'_>) -> Result<Operation, GatewayError> {
        let unavailable = |e: sqlx::Error| GatewayError::Unavailable(e.to_string());
        let inserted = sqlx::query_as!(
            Operation,
            "INSERT INTO simulated_gateway_operation
                 (idempotency_key, operation, amount_cents, currency, token, outcome, reference)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING outcome, reference",
            entry.key,
            entry.operation,
            entry.amount_cents,
            entry.currency,
            entry.token,
            entry.outcome,
            entry.reference,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        match inserted {
            Some(operation) => Ok(operation),
            None => sqlx::query_as!(
                Operation,
                "SELECT outcome, reference FROM simulated_gateway_operation
                 WHERE idempotency_key = $1",
                entry.key,
            )
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable),
        }
    }

    async fn charge_now(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        tokio::time::sleep(self.latency).await;
        let (outcome, reason) = match verdict(&request.token) {
            Verdict::Approve => ("captured", ""),
            Verdict::Decline(reason) => ("declined", reason),
            // Never answers; the caller's timeout decides when to give up.
            Verdict::Hang => return std::future::pending().await,
        };
        let reference = format!("ch_{}", Uuid::new_v4().simple());
        let recorded = self
            .record(Entry {
                key: request.idempotency_key,
                operation: "charge",
                amount_cents: request.amount_cents,
                currency: &request.currency,
                token: Some(&request.token),
                outcome,
                reference: if outcome == "captured" {
                    &reference
                } else {
                    reason
                },
            })
            .await?;
        Ok(if recorded.outcome == "captured" {
            ChargeOutcome::Captured {
                reference: recorded.reference,
            }
        } else {
            ChargeOutcome::Declined {
                reason: recorded.reference,
            }
        })
    }

    async fn refund_now(&self, request: &RefundRequest) -> Result<RefundOutcome, GatewayError> {
        tokio::time::sleep(self.latency).await;
        let charged = sqlx::query_scalar!(
            "SELECT amount_cents FROM simulated_gateway_operation
             WHERE reference = $1 AND operation = 'charge' AND outcome = 'captured'",
            request.charge_reference,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let (outcome, reference) = match charged {
            Some(amount) if amount >= request.amount_cents => {
                ("refunded", format!("re_{}", Uuid::new_v4().simple()))
            }
            Some(_) => ("failed", "amount_exceeds_charge".to_owned()),
            None => ("failed", "no_such_charge".to_owned()),
        };
        let recorded = self
            .record(Entry {
                key: request.idempotency_key,
                operation: "refund",
                amount_cents: request.amount_cents,
                currency: &request.currency,
                token: None,
                outcome,
                reference: &reference,
            })
            .await?;
        Ok(if recorded.outcome == "refunded" {
            RefundOutcome::Refunded {
                reference: recorded.reference,
            }
        } else {
            RefundOutcome::Failed {
                reason: recorded.reference,
            }
        })
    }
}

impl PaymentGateway for SimulatedGateway {
    fn name(&self) -> &str {
        "simulated"
    }

    fn charge<'a>(
        &'a self,
        request: &'a ChargeRequest,
    ) -> BoxFuture<'a, Result<ChargeOutcome, GatewayError>> {
        self.charge_now(request).boxed()
    }

    fn refund<'a>(
        &'a self,
        request: &'a RefundRequest,
    ) -> BoxFuture<'a, Result<RefundOutcome, GatewayError>> {
        self.refund_now(request).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_tokens_follow_card_test_conventions() {
        assert!(matches!(verdict("tok_visa"), Verdict::Approve));
        assert!(matches!(
            verdict("tok_chargeDeclined"),
            Verdict::Decline("card_declined")
        ));
        assert!(matches!(verdict("tok_timeout"), Verdict::Hang));
        assert!(matches!(verdict("tok_nonsense"), Verdict::Decline(_)));
    }
}
