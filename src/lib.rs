//! maitred: a restaurant reservation backend. The root package wires the crates into one binary
//! with subcommands.
//!
//! Layout:
//! - [`cli`]: the subcommands;
//! - [`settings`]: every setting, as a flag and an environment variable;
//! - [`application`]: the one builder of a running maitred (API, relay, sweeper, workers),
//!   which `main`, the tests and the benches share, and its supervised tasks;
//! - [`demo`]: a few demo restaurants, and the demo staff;
//! - [`staff`]: `maitred staff`, accounts of the admin panel;
//! - [`dlq`]: `maitred dlq`, the dead-letter tooling;
//! - [`listen`]: a webhook receiver for development;
//! - [`telemetry`]: logging, as text or JSON.

pub mod application;
pub mod cli;
pub mod demo;
pub mod dlq;
pub mod listen;
pub mod settings;
pub mod staff;
pub mod telemetry;

use std::time::Duration;

use application::{Application, Databases, Roles};
use base64::Engine;
use cli::{Cli, Subcommand, TokenCommand};
use settings::Settings;

/// Runs a subcommand to completion.
///
/// # Errors
/// When start-up fails (a server cannot be reached, a migration fails, the port is taken).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    if cli.command.runs_services() {
        settings.refuse_unsafe()?;
    }
    match cli.command {
        Subcommand::Up { demo } => {
            let store = application::migrate(&settings).await?;
            if demo {
                demo::load(&store).await?;
                demo::staff(&store).await?;
            }
            store.pool().close().await;
            run_roles(settings, Roles::ALL).await
        }
        Subcommand::Serve => run_roles(settings, Roles::API).await,
        Subcommand::Work => run_roles(settings, Roles::WORKER).await,
        Subcommand::Migrate => {
            application::migrate(&settings).await?;
            application::declare_topology(&settings, &stopped_by_signal()).await?;
            tracing::info!("database migrated and topology declared");
            Ok(())
        }
        Subcommand::Demo => {
            let store = application::migrate(&settings).await?;
            demo::load(&store).await
        }
        Subcommand::ListenWebhooks { addr, secret } => {
            let secret = match secret {
                Some(secret) => Some(webhooks::Secret::parse(&secret)?),
                None => settings.callback_secret()?,
            };
            listen::listen(addr, secret, stopped_by_signal()).await
        }
        Subcommand::Dlq(command) => dlq::run(&settings, command).await,
        Subcommand::Token(command) => {
            println!("{}", mint_token(&settings, command)?);
            Ok(())
        }
        Subcommand::Staff(command) => {
            let store = application::migrate(&settings).await?;
            staff::run(&store, &settings, command).await
        }
    }
}

/// A token cancelled by SIGINT or SIGTERM.
fn stopped_by_signal() -> tokio_util::sync::CancellationToken {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        application::signal().await;
        cancel.cancel();
    });
    shutdown
}

/// Runs `roles` until a signal, or until one of its tasks fails.
async fn run_roles(settings: Settings, roles: Roles) -> anyhow::Result<()> {
    let databases = Databases::connect(&settings, roles).await?;
    // A signal while the broker is still being waited for stops start-up too.
    let shutdown = stopped_by_signal();
    let built =
        Application::build_until(settings, roles, databases.clone(), shutdown.clone()).await;
    let mut app = match built {
        Ok(app) => app,
        Err(error) if error.is::<application::StartupCancelled>() => {
            tracing::info!("stopped before start-up finished");
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    let ran = match app.start().await {
        Ok(()) => app.run_until(shutdown.cancelled_owned()).await,
        Err(error) => {
            let _ = app.stop().await;
            Err(error)
        }
    };
    databases.intake.pool().close().await;
    databases.worker.pool().close().await;
    ran
}

fn mint_token(settings: &Settings, command: TokenCommand) -> anyhow::Result<String> {
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
