//! maitred: a restaurant reservation backend. The root package wires the crates into one binary
//! with subcommands.
//!
//! Layout:
//! - [`cli`]: subcommands and settings (flags and environment);
//! - [`startup`]: connecting, migrating, declaring the topology, and running the API, the
//!   sweeper and the workers until a shutdown signal;
//! - [`demo`]: a few demo restaurants;
//! - [`dlq`]: `maitred dlq`, the dead-letter tooling;
//! - [`listen`]: a webhook receiver for development;
//! - [`telemetry`]: logging, as text or JSON.

pub mod cli;
pub mod demo;
pub mod dlq;
pub mod listen;
pub mod startup;
pub mod telemetry;

use std::time::Duration;

use base64::Engine;
use cli::{Cli, Subcommand, TokenCommand};

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
        Subcommand::Dlq(command) => dlq::run(&settings, command).await,
        Subcommand::Token(command) => {
            println!("{}", mint_token(&settings, command)?);
            Ok(())
        }
    }
}

fn mint_token(settings: &cli::Settings, command: TokenCommand) -> anyhow::Result<String> {
    let hours = |h: u64| Duration::from_secs(h.saturating_mul(3600));
    Ok(match command {
        TokenCommand::Secret => {
            let mut bytes = [0u8; 48];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            base64::engine::general_purpose::STANDARD.encode(bytes)
        }
        TokenCommand::Staff {
            name,
            restaurants,
            hours: h,
        } => {
            let restaurants = (!restaurants.is_empty()).then_some(restaurants);
            settings
                .authority()?
                .staff_token(&name, restaurants, hours(h))
        }
        TokenCommand::Guest { email, hours: h } => {
            let email = booking::GuestDetails::parse(&booking::request::GuestForm {
                name: "guest".into(),
                email,
                phone: None,
            })?
            .email;
            settings.authority()?.guest_token(&email, hours(h))
        }
    })
}
