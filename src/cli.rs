//! Subcommands and settings. Every setting is a flag and an environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser};
use rabbitmq::Topology;
use secrecy::SecretString;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    name = "maitred",
    version,
    about = "Restaurant reservations, decided serially per restaurant"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Subcommand,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Migrate, declare the topology, and run the API, the sweeper and the workers in one
    /// process.
    Up {
        /// Load the demo restaurants first (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Run the HTTP API and the outbox sweeper only.
    Serve,
    /// Run the partition workers only.
    Work,
    /// Migrate the database and declare the RabbitMQ topology, then exit.
    Migrate,
    /// Load the demo restaurants, then exit.
    Demo,
    /// Print the webhooks delivered to a local address, checking their signatures: a
    /// receiver for development and the README's walk-through.
    ListenWebhooks {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:9000")]
        addr: SocketAddr,
        /// The secret to verify signatures with ("whsec_..."); defaults to the callback secret.
        #[arg(long, env = "MAITRED_LISTEN_SECRET")]
        secret: Option<String>,
    },
    /// Mint a bearer token, signed with MAITRED_JWT_SECRET, and print it.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect, replay and purge the dead-letter queues.
    #[command(subcommand)]
    Dlq(crate::dlq::DlqCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// A staff token: every restaurant, or only those given with --restaurant.
    Staff {
        /// Who holds it; the audit log names them.
        #[arg(long)]
        name: String,
        /// A restaurant the token may manage (repeat for several). None: every restaurant.
        #[arg(long = "restaurant")]
        restaurants: Vec<Uuid>,
        /// Hours until it expires.
        #[arg(long, default_value_t = 12)]
        hours: u64,
    },
    /// A guest token: the reservations booked with this email, and their history.
    Guest {
        #[arg(long)]
        email: String,
        /// Hours until it expires.
        #[arg(long, default_value_t = 24)]
        hours: u64,
    },
    /// A new random secret for MAITRED_JWT_SECRET.
    Secret,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        default_value = "postgres://postgres:postgres@127.0.0.1:5432/maitred"
    )]
    pub database_url: String,
    #[arg(
        long,
        env = "MAITRED_DB_POOL_SIZE",
        global = true,
        default_value_t = 20
    )]
    pub db_pool_size: u32,
    /// Under `maitred up`, the workers' own pool, so decisions never wait for a connection
    /// behind a crowd at intake (`maitred work` uses `MAITRED_DB_POOL_SIZE`).
    #[arg(
        long,
        env = "MAITRED_WORKER_DB_POOL_SIZE",
        global = true,
        default_value_t = 8
    )]
    pub worker_db_pool_size: u32,
    #[arg(
        long,
        env = "AMQP_URL",
        global = true,
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,
    /// Put before every exchange and queue name.
    #[arg(long, env = "MAITRED_AMQP_PREFIX", global = true, default_value = "")]
    pub amqp_prefix: String,
    /// Partition queues. Fixed per installation: changing it re-routes restaurants.
    #[arg(long, env = "MAITRED_PARTITIONS", global = true, default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=999))]
    pub partitions: u16,
    /// Messages a partition holds before intake answers 503.
    #[arg(
        long,
        env = "MAITRED_MAX_QUEUE_LENGTH",
        global = true,
        default_value_t = 100_000
    )]
    pub max_queue_length: u32,
    /// Failed deliveries before a message is dead-lettered.
    #[arg(
        long,
        env = "MAITRED_DELIVERY_LIMIT",
        global = true,
        default_value_t = 5
    )]
    pub delivery_limit: u32,
    #[arg(
        long,
        env = "MAITRED_HTTP_ADDR",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub http_addr: SocketAddr,
    /// Where a worker-only process (`maitred work`) serves `/metrics` and `/healthz`. The API
    /// serves them on its own address.
    #[arg(long, env = "MAITRED_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
    /// Deliveries in flight per partition (still decided one at a time).
    #[arg(long, env = "MAITRED_PREFETCH", global = true, default_value_t = 32)]
    pub prefetch: u16,
    /// Minutes a held reservation keeps its tables.
    #[arg(
        long,
        env = "MAITRED_HOLD_MINUTES",
        global = true,
        default_value_t = 10
    )]
    pub hold_minutes: u64,
    /// Seconds between outbox sweeps.
    #[arg(
        long,
        env = "MAITRED_SWEEP_INTERVAL_SECS",
        global = true,
        default_value_t = 5
    )]
    pub sweep_interval_secs: u64,
    /// This worker's index among `MAITRED_WORKER_COUNT`, to subscribe its home partitions first.
    #[arg(
        long,
        env = "MAITRED_WORKER_INDEX",
        global = true,
        requires = "worker_count"
    )]
    pub worker_index: Option<u16>,
    #[arg(long, env = "MAITRED_WORKER_COUNT", global = true)]
    pub worker_count: Option<u16>,
    /// The payment gateway. Only `simulated` is built in: `tok_visa` approves,
    /// `tok_chargeDeclined` declines, `tok_timeout` never answers.
    #[arg(long, env = "MAITRED_PAYMENT_GATEWAY", global = true, default_value = "simulated",
          value_parser = ["simulated"])]
    pub payment_gateway: String,
    /// Milliseconds the simulated gateway takes to answer.
    #[arg(
        long,
        env = "MAITRED_GATEWAY_LATENCY_MS",
        global = true,
        default_value_t = 100
    )]
    pub gateway_latency_ms: u64,
    /// Seconds a gateway call may take before its outcome counts as unknown (it is retried
    /// with the same idempotency key).
    #[arg(
        long,
        env = "MAITRED_GATEWAY_TIMEOUT_SECS",
        global = true,
        default_value_t = 10
    )]
    pub gateway_timeout_secs: u64,
    /// Payment jobs each worker handles at once.
    #[arg(
        long,
        env = "MAITRED_PAYMENT_CONCURRENCY",
        global = true,
        default_value_t = 16
    )]
    pub payment_concurrency: u16,
    /// Dynamic pricing: `THRESHOLD:MULTIPLIER` steps over a stay's occupancy before the
    /// booking (`70:1.2,90:1.5` is ×1.2 over 70% full, ×1.5 over 90%). Empty: no surcharge.
    #[arg(
        long,
        env = "MAITRED_PRICING_STEPS",
        global = true,
        default_value = "70:1.2,90:1.5"
    )]
    pub pricing_steps: booking::PricingSteps,
    /// Signs webhooks sent to a reservation's `callbackUrl` ("whsec_" + base64). Without it,
    /// requests with a `callbackUrl` are refused.
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub webhook_secret: Option<String>,
    /// Networks that webhooks may be sent to although they are private or loopback
    /// (comma-separated CIDRs, for example `127.0.0.0/8,::1/128`). Empty: public addresses only.
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_ALLOWED_NETWORKS",
        global = true,
        default_value = ""
    )]
    pub webhook_allowed_networks: String,
    /// Delivery attempts per webhook, the first included; then it is dead-lettered.
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_MAX_ATTEMPTS",
        global = true,
        default_value_t = 8
    )]
    pub webhook_max_attempts: u32,
    /// Seconds before the second attempt; each later wait doubles (up to an hour).
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_FIRST_BACKOFF_SECS",
        global = true,
        default_value_t = 5
    )]
    pub webhook_first_backoff_secs: u64,
    /// Seconds a receiver has to answer.
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_TIMEOUT_SECS",
        global = true,
        default_value_t = 10
    )]
    pub webhook_timeout_secs: u64,
    /// Webhook deliveries each worker makes at once.
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_CONCURRENCY",
        global = true,
        default_value_t = 32
    )]
    pub webhook_concurrency: u16,
    /// Signs and verifies bearer tokens (HS256; at least 32 bytes). Required by the API and
    /// by `maitred token`; `maitred token secret` makes one.
    #[arg(long, env = "MAITRED_JWT_SECRET", global = true, hide_env_values = true,
          value_parser = secret)]
    pub jwt_secret: Option<SecretString>,
    /// A bootstrap staff credential for every restaurant, so a fresh install can be scripted.
    #[arg(long, env = "MAITRED_ADMIN_TOKEN", global = true, hide_env_values = true,
          value_parser = secret)]
    pub admin_token: Option<SecretString>,
    /// `text` or `json`.
    #[arg(
        long,
        env = "MAITRED_LOG_FORMAT",
        global = true,
        default_value = "text"
    )]
    pub log_format: String,
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

impl Settings {
    /// The token authority of the API and of `maitred token`.
    ///
    /// # Errors
    /// When MAITRED_JWT_SECRET is missing or too short, or the admin token is empty.
    pub fn authority(&self) -> anyhow::Result<api::Authority> {
        let secret = self.jwt_secret.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "MAITRED_JWT_SECRET is not set: the API signs and verifies bearer tokens with it. \
                 Make one with `maitred token secret`"
            )
        })?;
        api::Authority::new(secret, self.admin_token.clone())
            .map_err(|e| anyhow::anyhow!("MAITRED_JWT_SECRET / MAITRED_ADMIN_TOKEN: {e}"))
    }

    pub fn topology(&self) -> Topology {
        Topology {
            prefix: self.amqp_prefix.clone(),
            partitions: self.partitions,
            max_length: self.max_queue_length,
            delivery_limit: self.delivery_limit,
        }
    }

    pub fn hold_for(&self) -> Duration {
        Duration::from_secs(self.hold_minutes * 60)
    }

    /// The callback signing secret, if one is configured.
    ///
    /// # Errors
    /// When it is set but is not a usable secret.
    pub fn callback_secret(&self) -> anyhow::Result<Option<webhooks::Secret>> {
        self.webhook_secret
            .as_deref()
            .filter(|secret| !secret.trim().is_empty())
            .map(webhooks::Secret::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("MAITRED_WEBHOOK_SECRET: {e}"))
    }

    /// # Errors
    /// When the allow-list does not parse.
    pub fn url_policy(&self) -> anyhow::Result<webhooks::UrlPolicy> {
        webhooks::UrlPolicy::parse_allow_list(&self.webhook_allowed_networks)
            .map_err(|e| anyhow::anyhow!("MAITRED_WEBHOOK_ALLOWED_NETWORKS: {e}"))
    }

    pub fn home_partitions(&self) -> Option<(u16, u16)> {
        self.worker_index.zip(self.worker_count)
    }
}
