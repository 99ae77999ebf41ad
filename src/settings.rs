//! Settings: every one is a flag and an environment variable. Durations are written as people
//! write them (`10m`, `500ms`, `1h 30m`), parsed by humantime.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};
use rabbitmq::Topology;
use secrecy::SecretString;

/// The values `scripts/up.sh` sets for a developer's machine. Outside development mode maitred
/// refuses to start with them: everyone who has read the script knows them.
pub const DEVELOPMENT_SECRETS: [&str; 3] = [
    "dev-only-jwt-secret-never-use-in-production",
    "dev-staff-token",
    "whsec_ZGV2LW9ubHktY2FsbGJhY2stc2VjcmV0LTEyMzQ=",
];

/// The shortest bootstrap staff token accepted outside development.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// `production` refuses development secrets, short tokens and webhooks to loopback;
    /// `development` (set by `scripts/up.sh`) accepts them.
    #[arg(
        long = "env",
        env = "MAITRED_ENV",
        global = true,
        value_enum,
        default_value_t = Environment::Production
    )]
    pub environment: Environment,
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true,
        hide_default_value = true,
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
    /// The broker: one AMQP URL, or the nodes of a RabbitMQ cluster as several separated by
    /// commas. Every connection goes to the first node that answers, and moves on when it goes.
    #[arg(
        long,
        env = "AMQP_URL",
        global = true,
        hide_env_values = true,
        hide_default_value = true,
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,
    /// On how many RabbitMQ nodes each queue keeps a replica (`x-quorum-initial-group-size`).
    /// Unset: as many as `AMQP_URL` lists nodes, at most 3, when it lists several; the broker's
    /// own default (every node) when it lists one. Fixed once the queues exist: the broker
    /// refuses to redeclare a queue with another size.
    #[arg(long, env = "MAITRED_QUORUM_SIZE", global = true,
          value_parser = clap::value_parser!(u8).range(1..=9))]
    pub quorum_size: Option<u8>,
    /// How long opening a broker connection may take, the AMQP handshake included; a start-up
    /// that runs out of it logs and tries again.
    #[arg(long, env = "MAITRED_AMQP_CONNECT_TIMEOUT", global = true, default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub amqp_connect_timeout: Duration,
    /// How long one publish may take, from finding a connection to the broker's confirm; then
    /// intake answers anyway (`202` if the request is recorded, `503` if not).
    #[arg(long, env = "MAITRED_AMQP_PUBLISH_TIMEOUT", global = true, default_value = "3s",
          value_parser = humantime::parse_duration)]
    pub amqp_publish_timeout: Duration,
    /// The heartbeat asked of the broker (whole seconds); a connection that hears nothing for
    /// two of them is closed and reopened. Unused when `AMQP_URL` sets `heartbeat=`.
    #[arg(long, env = "MAITRED_AMQP_HEARTBEAT", global = true, default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub amqp_heartbeat: Duration,
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
    /// Where the API listens (port 0: any free port).
    #[arg(
        long,
        env = "MAITRED_HTTP_ADDR",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub http_addr: SocketAddr,
    /// How long a client may take to send a request's headers before it is cut off.
    #[arg(long, env = "MAITRED_HTTP_HEADER_TIMEOUT", global = true, default_value = "10s",
          value_parser = humantime::parse_duration)]
    pub http_header_timeout: Duration,
    /// How long a request may take, its body included (then 408).
    #[arg(long, env = "MAITRED_HTTP_REQUEST_TIMEOUT", global = true, default_value = "30s",
          value_parser = humantime::parse_duration)]
    pub http_request_timeout: Duration,
    /// Requests in flight at once; more are answered 503 at once.
    #[arg(long, env = "MAITRED_HTTP_MAX_REQUESTS", global = true, default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub http_max_requests: u32,
    /// The largest request body in bytes, but on bulk staff routes (then 413).
    #[arg(
        long,
        env = "MAITRED_HTTP_BODY_LIMIT",
        global = true,
        default_value_t = 16 * 1024
    )]
    pub http_body_limit: usize,
    /// The largest body of a bulk staff route (rates over a range, dead-letter selections).
    #[arg(
        long,
        env = "MAITRED_HTTP_BULK_BODY_LIMIT",
        global = true,
        default_value_t = 1024 * 1024
    )]
    pub http_bulk_body_limit: usize,
    /// Abuse limits on booking and staff routes (`429` + `Retry-After` past them); `off` for
    /// benchmarks and load tests.
    #[arg(
        long,
        env = "MAITRED_RATE_LIMITS",
        global = true,
        value_enum,
        default_value_t = Switch::On
    )]
    pub rate_limits: Switch,
    /// Bookings a client address may make per minute, on average.
    #[arg(
        long,
        env = "MAITRED_BOOKINGS_PER_MINUTE",
        global = true,
        default_value = "30"
    )]
    pub bookings_per_minute: NonZeroU32,
    /// Bookings a client address may make at once before the per-minute rate applies.
    #[arg(
        long,
        env = "MAITRED_BOOKING_BURST",
        global = true,
        default_value = "60"
    )]
    pub booking_burst: NonZeroU32,
    /// Requests a staff token may make per minute, on average.
    #[arg(
        long,
        env = "MAITRED_STAFF_REQUESTS_PER_MINUTE",
        global = true,
        default_value = "600"
    )]
    pub staff_requests_per_minute: NonZeroU32,
    /// Requests a staff token may make at once before the per-minute rate applies.
    #[arg(
        long,
        env = "MAITRED_STAFF_BURST",
        global = true,
        default_value = "300"
    )]
    pub staff_burst: NonZeroU32,
    /// Active bookings (pending, held, confirmed) one email may hold at one restaurant on one day.
    #[arg(
        long,
        env = "MAITRED_ACTIVE_BOOKINGS_PER_EMAIL",
        global = true,
        default_value = "4"
    )]
    pub active_bookings_per_email: NonZeroU32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (comma-separated CIDRs, for
    /// example `10.0.0.0/8`). Empty: the TCP peer is the client.
    #[arg(
        long,
        env = "MAITRED_TRUSTED_PROXIES",
        global = true,
        default_value = ""
    )]
    pub trusted_proxies: String,
    /// Where a worker-only process (`maitred work`) serves `/metrics` and `/healthz`. The API
    /// serves them on its own address.
    #[arg(long, env = "MAITRED_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
    /// Deliveries in flight per partition, and so the longest run one transaction decides: a
    /// partition with a backlog decides it in runs up to this big, which costs less per booking
    /// (the steady benchmark in BENCHMARKS.md).
    #[arg(long, env = "MAITRED_PREFETCH", global = true, default_value_t = 256)]
    pub prefetch: u16,
    /// How long a held reservation keeps its tables unpaid.
    #[arg(long, env = "MAITRED_HOLD_FOR", global = true, default_value = "10m",
          value_parser = humantime::parse_duration)]
    pub hold_for: Duration,
    /// How often the outbox relay looks for messages nobody woke it for.
    #[arg(long, env = "MAITRED_RELAY_INTERVAL", global = true, default_value = "1s",
          value_parser = humantime::parse_duration)]
    pub relay_interval: Duration,
    /// How often the outbox sweeper looks for requests left unpublished.
    #[arg(long, env = "MAITRED_SWEEP_INTERVAL", global = true, default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub sweep_interval: Duration,
    /// How old an unpublished request must be before the sweeper publishes it (younger ones
    /// are still in their intake's hands).
    #[arg(long, env = "MAITRED_SWEEP_MIN_AGE", global = true, default_value = "15s",
          value_parser = humantime::parse_duration)]
    pub sweep_min_age: Duration,
    /// How long past its expiry a hold may stay before the sweeper queues its expiry again.
    #[arg(long, env = "MAITRED_HOLD_GRACE", global = true, default_value = "30s",
          value_parser = humantime::parse_duration)]
    pub hold_grace: Duration,
    /// How often queue depths are polled into metrics.
    #[arg(long, env = "MAITRED_QUEUE_DEPTH_INTERVAL", global = true, default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub queue_depth_interval: Duration,
    /// How long a stopping process waits for in-flight requests and messages.
    #[arg(long, env = "MAITRED_SHUTDOWN_GRACE", global = true, default_value = "30s",
          value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
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
    /// How long after its home partitions a worker subscribes to the others, as a standby: how
    /// far apart workers may start and still each take their home share on RabbitMQ 3.x.
    #[arg(long, env = "MAITRED_STANDBY_DELAY", global = true, default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub standby_delay: Duration,
    /// The payment gateway.
    #[arg(
        long,
        env = "MAITRED_PAYMENT_GATEWAY",
        global = true,
        value_enum,
        default_value_t = PaymentGateway::Simulated
    )]
    pub payment_gateway: PaymentGateway,
    /// How long the simulated gateway takes to answer.
    #[arg(long, env = "MAITRED_GATEWAY_LATENCY", global = true, default_value = "100ms",
          value_parser = humantime::parse_duration)]
    pub gateway_latency: Duration,
    /// How long a gateway call may take before its outcome counts as unknown (it is retried
    /// with the same idempotency key).
    #[arg(long, env = "MAITRED_GATEWAY_TIMEOUT", global = true, default_value = "10s",
          value_parser = humantime::parse_duration)]
    pub gateway_timeout: Duration,
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
    #[arg(long, env = "MAITRED_WEBHOOK_MAX_ATTEMPTS", global = true, default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub webhook_max_attempts: u32,
    /// The wait before a webhook's second attempt; each later wait doubles.
    #[arg(long, env = "MAITRED_WEBHOOK_FIRST_BACKOFF", global = true, default_value = "5s",
          value_parser = humantime::parse_duration)]
    pub webhook_first_backoff: Duration,
    /// The longest wait between two attempts of a webhook.
    #[arg(long, env = "MAITRED_WEBHOOK_MAX_BACKOFF", global = true, default_value = "1h",
          value_parser = humantime::parse_duration)]
    pub webhook_max_backoff: Duration,
    /// How long a receiver has to answer.
    #[arg(long, env = "MAITRED_WEBHOOK_TIMEOUT", global = true, default_value = "10s",
          value_parser = humantime::parse_duration)]
    pub webhook_timeout: Duration,
    /// Of a worker's webhook deliveries, how many may go to `callbackUrl`s at once (anonymous
    /// clients choose those; a receiver that never answers must not stall the restaurants').
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_CALLBACK_CONCURRENCY",
        global = true,
        default_value_t = 16
    )]
    pub webhook_callback_concurrency: u16,
    /// How many of a worker's webhook deliveries may go to any one host at once.
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_PER_HOST_CONCURRENCY",
        global = true,
        default_value_t = 8
    )]
    pub webhook_per_host_concurrency: u16,
    /// Webhook deliveries each worker makes at once.
    #[arg(
        long,
        env = "MAITRED_WEBHOOK_CONCURRENCY",
        global = true,
        default_value_t = 32
    )]
    pub webhook_concurrency: u16,
    /// Where the website is, as links in emails and staff invitations show it
    /// (`https://book.example.com`). Unset: `http://` and `MAITRED_HTTP_ADDR`.
    #[arg(long, env = "MAITRED_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// The SMTP server emails go through: `smtp://127.0.0.1:25` (plain, for a relay on
    /// loopback), `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtps://host:465`.
    /// Unset: every email is written to the log instead (the development sink).
    #[arg(long, env = "MAITRED_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of emails, `Name <address>`.
    #[arg(
        long,
        env = "MAITRED_MAIL_FROM",
        global = true,
        default_value = "maitred <bookings@localhost>"
    )]
    pub mail_from: String,
    /// How long one email may take to send, connecting included.
    #[arg(long, env = "MAITRED_SMTP_TIMEOUT", global = true, default_value = "10s",
          value_parser = humantime::parse_duration)]
    pub smtp_timeout: Duration,
    /// Reminders before a confirmed booking starts, comma-separated (`24h,2h`); empty: none.
    #[arg(long, env = "MAITRED_REMINDERS", global = true, default_value = "24h,2h",
          value_parser = parse_reminders)]
    pub reminders: Reminders,
    /// How long before a hold expires its diner is warned by email; `0s`: never.
    #[arg(long, env = "MAITRED_HOLD_WARNING", global = true, default_value = "3m",
          value_parser = humantime::parse_duration)]
    pub hold_warning: Duration,
    /// Send attempts per email, the first included; then it is dead-lettered.
    #[arg(long, env = "MAITRED_NOTIFY_MAX_ATTEMPTS", global = true, default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub notify_max_attempts: u32,
    /// The wait before an email's second attempt; each later wait doubles.
    #[arg(long, env = "MAITRED_NOTIFY_FIRST_BACKOFF", global = true, default_value = "30s",
          value_parser = humantime::parse_duration)]
    pub notify_first_backoff: Duration,
    /// The longest wait between two attempts of an email.
    #[arg(long, env = "MAITRED_NOTIFY_MAX_BACKOFF", global = true, default_value = "1h",
          value_parser = humantime::parse_duration)]
    pub notify_max_backoff: Duration,
    /// Emails each worker sends at once.
    #[arg(
        long,
        env = "MAITRED_NOTIFY_CONCURRENCY",
        global = true,
        default_value_t = 8
    )]
    pub notify_concurrency: u16,
    /// How often workers look for reminders and hold warnings that are due.
    #[arg(long, env = "MAITRED_NOTIFY_SWEEP_INTERVAL", global = true, default_value = "10s",
          value_parser = humantime::parse_duration)]
    pub notify_sweep_interval: Duration,
    /// Signs and verifies bearer tokens (HS256; at least 32 bytes). Required by the API and
    /// by `maitred token`; `maitred token secret` makes one.
    #[arg(long, env = "MAITRED_JWT_SECRET", global = true, hide_env_values = true,
          value_parser = secret)]
    pub jwt_secret: Option<SecretString>,
    /// A bootstrap staff credential for every restaurant, so a fresh install can be scripted.
    #[arg(long, env = "MAITRED_ADMIN_TOKEN", global = true, hide_env_values = true,
          value_parser = secret)]
    pub admin_token: Option<SecretString>,
    #[arg(
        long,
        env = "MAITRED_LOG_FORMAT",
        global = true,
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// The payment gateways maitred can charge through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaymentGateway {
    /// Card-test conventions: `tok_visa` approves, `tok_chargeDeclined` declines,
    /// `tok_timeout` never answers.
    Simulated,
}

impl PaymentGateway {
    /// The name recorded on payments.
    pub fn name(self) -> &'static str {
        match self {
            Self::Simulated => "simulated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Production,
    Development,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the current span.
    Json,
}

/// Reminder lead times, longest first as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminders(pub Vec<Duration>);

/// `AMQP_URL`: at least one address, each an AMQP URL. Checked at start-up rather than by
/// clap, whose error would repeat the value and its passwords.
fn check_broker_urls(urls: &str) -> anyhow::Result<()> {
    if rabbitmq::addresses(urls).next().is_none() {
        anyhow::bail!("AMQP_URL names no broker: give at least one amqp:// address");
    }
    for (n, url) in rabbitmq::addresses(urls).enumerate() {
        if url.parse::<rabbitmq::lapin::uri::AMQPUri>().is_err() {
            anyhow::bail!(
                "AMQP_URL: address {} is not an AMQP URL (amqp://user:password@host:port/vhost)",
                n + 1
            );
        }
    }
    Ok(())
}

fn parse_reminders(list: &str) -> Result<Reminders, String> {
    booking::NotificationPlan::parse_reminders(list).map(Reminders)
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// Settings on their own, for programs that are not the CLI (tests, benches).
#[derive(Debug, Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// The defaults, with whatever the environment sets (`DATABASE_URL`, `MAITRED_*`), as
    /// `maitred` would read them with no flags.
    ///
    /// # Errors
    /// When an environment variable does not parse.
    pub fn from_env() -> Result<Self, clap::Error> {
        SettingsOnly::try_parse_from(["maitred"]).map(|only| only.settings)
    }

    /// What the website needs: cookies for HTTPS only outside development, and the simulated
    /// gateway's test cards offered on the payment forms in development.
    pub fn web_settings(&self) -> api::web::WebSettings {
        let development = self.environment == Environment::Development;
        api::web::WebSettings {
            secure_cookies: !development,
            test_cards: development && self.payment_gateway == PaymentGateway::Simulated,
        }
    }

    /// Refuses a broker list that names no usable address, and, outside development, what is
    /// only safe on a developer's machine: the development secrets, a short bootstrap staff
    /// token, webhooks allowed to loopback.
    ///
    /// # Errors
    /// The first such setting, and why, in one line.
    pub fn refuse_unsafe(&self) -> anyhow::Result<()> {
        check_broker_urls(&self.amqp_url)?;
        use secrecy::ExposeSecret;
        if self.environment == Environment::Development {
            return Ok(());
        }
        let outside = "outside development (MAITRED_ENV=development)";
        let secrets = [
            (
                "MAITRED_JWT_SECRET",
                self.jwt_secret.as_ref().map(|s| s.expose_secret()),
            ),
            (
                "MAITRED_ADMIN_TOKEN",
                self.admin_token.as_ref().map(|s| s.expose_secret()),
            ),
            ("MAITRED_WEBHOOK_SECRET", self.webhook_secret.as_deref()),
        ];
        for (name, value) in secrets {
            if value.is_some_and(|value| DEVELOPMENT_SECRETS.contains(&value.trim())) {
                anyhow::bail!(
                    "{name} is a development value from scripts/up.sh: refusing it {outside}"
                );
            }
        }
        if let Some(token) = &self.admin_token {
            if token.expose_secret().trim().chars().count() < MIN_ADMIN_TOKEN_CHARS {
                anyhow::bail!(
                    "MAITRED_ADMIN_TOKEN is shorter than {MIN_ADMIN_TOKEN_CHARS} characters: \
                     refusing it {outside}"
                );
            }
        }
        let policy = self.url_policy()?;
        let loopback = [
            std::net::IpAddr::from([127, 0, 0, 1]),
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ];
        if loopback.into_iter().any(|ip| policy.allows_ip(ip)) {
            anyhow::bail!(
                "MAITRED_WEBHOOK_ALLOWED_NETWORKS lets webhooks reach loopback: refusing it {outside}"
            );
        }
        Ok(())
    }

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
            quorum_size: self.quorum_size.or_else(|| {
                let nodes = rabbitmq::addresses(&self.amqp_url).count();
                (nodes > 1).then(|| u8::try_from(nodes.min(3)).unwrap_or(3))
            }),
        }
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

    /// The HTTP server's bounds.
    pub fn http_limits(&self) -> api::server::HttpLimits {
        api::server::HttpLimits {
            header_read_timeout: self.http_header_timeout,
            request_timeout: self.http_request_timeout,
            max_concurrent_requests: self.http_max_requests as usize,
            body_limit: self.http_body_limit,
            bulk_body_limit: self.http_bulk_body_limit,
        }
    }

    /// The abuse limits.
    ///
    /// # Errors
    /// When `MAITRED_TRUSTED_PROXIES` is not a list of CIDRs.
    pub fn rate_limit_config(&self) -> anyhow::Result<api::rate_limit::RateLimitConfig> {
        let trusted_proxies = self
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|cidr| !cidr.is_empty())
            .map(|cidr| {
                cidr.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "MAITRED_TRUSTED_PROXIES: {cidr:?} is not a network such as 10.0.0.0/8"
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(api::rate_limit::RateLimitConfig {
            enabled: self.rate_limits == Switch::On,
            bookings_per_minute: self.bookings_per_minute,
            booking_burst: self.booking_burst,
            staff_requests_per_minute: self.staff_requests_per_minute,
            staff_burst: self.staff_burst,
            active_bookings_per_email: self.active_bookings_per_email.get(),
            trusted_proxies,
        })
    }

    /// How webhooks are retried.
    ///
    /// # Errors
    /// When the callback secret is set but unusable.
    pub fn webhook_config(&self) -> anyhow::Result<worker::webhooks::WebhookConfig> {
        Ok(worker::webhooks::WebhookConfig {
            callback_secret: self.callback_secret()?,
            max_attempts: self.webhook_max_attempts.max(1),
            first_backoff: self.webhook_first_backoff,
            max_backoff: self.webhook_max_backoff,
            concurrency: self.webhook_concurrency,
            callback_concurrency: self.webhook_callback_concurrency,
            per_host_concurrency: self.webhook_per_host_concurrency,
        })
    }

    /// Where the website is, for links sent by email: `MAITRED_PUBLIC_URL`, else the listen
    /// address.
    pub fn public_url(&self) -> String {
        self.public_url.as_deref().map_or_else(
            || format!("http://{}", self.http_addr),
            |url| url.trim_end_matches('/').to_owned(),
        )
    }

    /// When reminders and hold warnings go out.
    pub fn notification_plan(&self) -> booking::NotificationPlan {
        booking::NotificationPlan {
            reminders: self.reminders.0.clone(),
            hold_warning: self.hold_warning,
        }
    }

    /// Where emails go: the SMTP server of `MAITRED_SMTP_URL`, or the log without it.
    ///
    /// # Errors
    /// When the SMTP URL or the sender address is unusable.
    pub fn notifier(&self) -> anyhow::Result<std::sync::Arc<dyn notify::Notifier>> {
        match self
            .smtp_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
        {
            Some(url) => {
                let smtp = notify::SmtpNotifier::new(url, &self.mail_from, self.smtp_timeout)
                    .map_err(|e| anyhow::anyhow!("MAITRED_SMTP_URL / MAITRED_MAIL_FROM: {e}"))?;
                Ok(std::sync::Arc::new(smtp))
            }
            None => Ok(std::sync::Arc::new(notify::LogNotifier)),
        }
    }

    /// How emails are sent and retried.
    pub fn notification_config(&self) -> worker::notifications::NotificationConfig {
        worker::notifications::NotificationConfig {
            public_url: self.public_url(),
            max_attempts: self.notify_max_attempts.max(1),
            first_backoff: self.notify_first_backoff,
            max_backoff: self.notify_max_backoff,
            concurrency: self.notify_concurrency.max(1),
            send_timeout: self.smtp_timeout,
            sweep_interval: self.notify_sweep_interval,
        }
    }

    /// How this process's workers run.
    ///
    /// # Errors
    /// When the callback secret is set but unusable.
    pub fn worker_config(&self) -> anyhow::Result<worker::WorkerConfig> {
        Ok(worker::WorkerConfig {
            amqp_url: self.amqp_url.clone(),
            topology: self.topology(),
            prefetch: self.prefetch,
            hold_for: self.hold_for,
            pricing: self.pricing_steps.clone(),
            home: self.home_partitions(),
            standby_delay: self.standby_delay,
            payment_concurrency: self.payment_concurrency,
            gateway_timeout: self.gateway_timeout,
            webhooks: self.webhook_config()?,
            notifications: self.notification_config(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_as_people_write_them() {
        let settings = SettingsOnly::try_parse_from([
            "maitred",
            "--hold-for",
            "1h 30m",
            "--gateway-latency",
            "250ms",
        ])
        .unwrap()
        .settings;
        assert_eq!(settings.hold_for, Duration::from_secs(5400));
        assert_eq!(settings.gateway_latency, Duration::from_millis(250));
        assert_eq!(settings.sweep_interval, Duration::from_secs(5));
        let error = SettingsOnly::try_parse_from(["maitred", "--hold-for", "10"]).unwrap_err();
        assert!(error.to_string().contains("hold-for"), "{error}");
    }

    #[test]
    fn rate_limits_are_on_by_default_and_trusted_proxies_are_cidrs() {
        let parse = |args: &[&str]| {
            SettingsOnly::try_parse_from(["maitred"].iter().chain(args))
                .unwrap()
                .settings
                .rate_limit_config()
        };
        let limits = parse(&[]).unwrap();
        assert!(limits.enabled);
        assert_eq!(limits.bookings_per_minute.get(), 30);
        assert_eq!(limits.booking_burst.get(), 60);
        assert_eq!(limits.active_bookings_per_email, 4);
        assert!(limits.trusted_proxies.is_empty());
        assert!(!parse(&["--rate-limits", "off"]).unwrap().enabled);
        let proxied = parse(&["--trusted-proxies", "10.0.0.0/8, fd00::/8"]).unwrap();
        assert_eq!(proxied.trusted_proxies.len(), 2);
        let error = parse(&["--trusted-proxies", "10.0.0.1"]).unwrap_err();
        assert!(
            error.to_string().contains("MAITRED_TRUSTED_PROXIES"),
            "{error}"
        );
    }

    #[test]
    fn a_cluster_of_brokers_replicates_each_queue_on_up_to_three_nodes() {
        let quorum = |args: &[&str]| {
            SettingsOnly::try_parse_from(["maitred"].iter().chain(args))
                .map(|only| only.settings.topology().quorum_size)
        };
        assert_eq!(quorum(&[]).unwrap(), None);
        let node = |port: u16| format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
        let two = format!("{},{}", node(5681), node(5682));
        assert_eq!(quorum(&["--amqp-url", &two]).unwrap(), Some(2));
        let four = (5681..5685).map(node).collect::<Vec<_>>().join(",");
        assert_eq!(quorum(&["--amqp-url", &four]).unwrap(), Some(3));
        assert_eq!(
            quorum(&["--amqp-url", &four, "--quorum-size", "5"]).unwrap(),
            Some(5)
        );
        assert!(quorum(&["--quorum-size", "0"]).is_err());
        let refused = |urls: &str| {
            let settings = SettingsOnly::try_parse_from(["maitred", "--amqp-url", urls])
                .unwrap()
                .settings;
            settings.refuse_unsafe().unwrap_err().to_string()
        };
        assert!(refused(" , ").contains("names no broker"));
        let error = refused("amqp://a/%2f,http://guest:secret@b");
        assert!(error.contains("address 2 is not an AMQP URL"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn emails_default_to_the_log_and_reminders_to_24h_and_2h() {
        let settings = SettingsOnly::try_parse_from(["maitred"]).unwrap().settings;
        assert_eq!(settings.notifier().unwrap().name(), "log");
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(
            settings.notification_plan().reminders,
            [hours(24), hours(2)]
        );
        let settings = SettingsOnly::try_parse_from([
            "maitred",
            "--smtp-url",
            "smtp://127.0.0.1:2525",
            "--reminders",
            "1h, 10m",
            "--public-url",
            "https://book.example/",
        ])
        .unwrap()
        .settings;
        assert_eq!(settings.notifier().unwrap().name(), "smtp");
        assert_eq!(
            settings.notification_plan().reminders,
            [hours(1), Duration::from_secs(600)]
        );
        assert_eq!(settings.public_url(), "https://book.example");
        assert!(SettingsOnly::try_parse_from(["maitred", "--reminders", "soon"]).is_err());
    }

    #[test]
    fn choices_are_a_closed_list() {
        let settings = SettingsOnly::try_parse_from(["maitred", "--log-format", "json"]).unwrap();
        assert_eq!(settings.settings.log_format, LogFormat::Json);
        assert!(SettingsOnly::try_parse_from(["maitred", "--payment-gateway", "stripe"]).is_err());
    }

    fn production(args: &[&str]) -> anyhow::Result<()> {
        let args = ["maitred", "--env", "production"].iter().chain(args);
        SettingsOnly::try_parse_from(args)
            .unwrap()
            .settings
            .refuse_unsafe()
    }

    #[test]
    fn production_refuses_development_secrets_short_tokens_and_loopback_webhooks() {
        let strong = "a-bootstrap-token-of-forty-characters-xx";
        assert!(production(&["--admin-token", strong]).is_ok());
        for (args, says) in [
            (
                &["--jwt-secret", DEVELOPMENT_SECRETS[0]][..],
                "MAITRED_JWT_SECRET is a development value",
            ),
            (
                &["--admin-token", DEVELOPMENT_SECRETS[1]],
                "MAITRED_ADMIN_TOKEN is a development",
            ),
            (
                &["--webhook-secret", DEVELOPMENT_SECRETS[2]],
                "MAITRED_WEBHOOK_SECRET is a dev",
            ),
            (
                &["--admin-token", "short-token"],
                "shorter than 32 characters",
            ),
            (
                &["--webhook-allowed-networks", "127.0.0.0/8"],
                "lets webhooks reach loopback",
            ),
            (&["--webhook-allowed-networks", "::1/128"], "reach loopback"),
        ] {
            let error = production(args).unwrap_err().to_string();
            assert!(error.contains(says), "{args:?}: {error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
        let development = SettingsOnly::try_parse_from([
            "maitred",
            "--env",
            "development",
            "--admin-token",
            "short",
            "--jwt-secret",
            DEVELOPMENT_SECRETS[0],
            "--webhook-allowed-networks",
            "127.0.0.0/8",
        ])
        .unwrap()
        .settings;
        assert!(development.refuse_unsafe().is_ok());
    }

    #[test]
    fn help_never_prints_connection_strings() {
        let help = SettingsOnly::try_parse_from(["maitred", "--help"])
            .unwrap_err()
            .to_string();
        assert!(!help.contains("guest:guest"), "{help}");
        assert!(!help.contains("postgres:postgres"), "{help}");
    }
}
