//! Subcommands and settings. Every setting is a flag and an environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser};
use rabbitmq::Topology;

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
    /// The staff bearer token. Without it, staff routes answer 401.
    #[arg(
        long,
        env = "MAITRED_ADMIN_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// `text` or `json`.
    #[arg(
        long,
        env = "MAITRED_LOG_FORMAT",
        global = true,
        default_value = "text"
    )]
    pub log_format: String,
}

impl Settings {
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
