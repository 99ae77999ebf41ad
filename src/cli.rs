//! The subcommands. Their settings are in [`crate::settings`].

use std::net::SocketAddr;

use clap::Parser;
use uuid::Uuid;

use crate::settings::Settings;

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
    /// Staff accounts of the admin panel.
    #[command(subcommand)]
    Staff(StaffCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum StaffCommand {
    /// Create an account and print a one-time link (valid 72 hours) to set its password.
    Add {
        #[arg(long)]
        email: String,
        /// The name the panel and the audit log show.
        #[arg(long)]
        name: String,
        /// A chain-wide administrator: every restaurant, operations, dead letters.
        #[arg(long, conflicts_with = "restaurants")]
        admin: bool,
        /// A restaurant the manager runs (repeat for several).
        #[arg(long = "restaurant", required_unless_present = "admin")]
        restaurants: Vec<Uuid>,
    },
    /// Print a new one-time link to set (or reset) an account's password.
    Link {
        #[arg(long)]
        email: String,
    },
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

impl Subcommand {
    /// Whether it runs the API or the workers, which must not start with unsafe settings.
    pub fn runs_services(&self) -> bool {
        matches!(self, Self::Up { .. } | Self::Serve | Self::Work)
    }
}
