//! maitred: a restaurant reservation backend. The root package wires the crates into one binary
//! with subcommands.
//!
//! Layout:
//! - [`cli`]: subcommands and settings (flags and environment);
//! - [`startup`]: connecting, migrating, declaring the topology, and running the API, the
//!   sweeper and the workers until a shutdown signal;
//! - [`demo`]: a few demo restaurants;
//! - [`listen`]: a webhook receiver for development;
//! - [`telemetry`]: logging, as text or JSON.

pub mod cli;
pub mod demo;
pub mod listen;
pub mod startup;
pub mod telemetry;

use cli::{Cli, Subcommand};

/// Runs a subcommand to completion.
///
/// # Errors
/// When start-up fails (a server cannot be reached, a migration fails, the port is taken).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command {
        Subcommand::Up { demo } => {
            let store = startup::prepare(&settings).await?;
            if demo {
                demo::load(&store).await?;
            }
            startup::run(&settings, store, startup::Roles::all()).await
        }
        Subcommand::Serve => {
            let store = startup::connect_store(&settings).await?;
            startup::run(&settings, store, startup::Roles::api()).await
        }
        Subcommand::Work => {
            let store = startup::connect_store(&settings).await?;
            startup::run(&settings, store, startup::Roles::worker()).await
        }
        Subcommand::Migrate => {
            startup::prepare(&settings).await?;
            startup::declare_topology(&settings).await?;
            tracing::info!("database migrated and topology declared");
            Ok(())
        }
        Subcommand::Demo => {
            let store = startup::prepare(&settings).await?;
            demo::load(&store).await
        }
        Subcommand::ListenWebhooks { addr, secret } => {
            let secret = match secret {
                Some(secret) => Some(webhooks::Secret::parse(&secret)?),
                None => settings.callback_secret()?,
            };
            let shutdown = tokio_util::sync::CancellationToken::new();
            tokio::spawn(startup::cancel_on_signal(shutdown.clone()));
            listen::listen(addr, secret, shutdown).await
        }
    }
}
