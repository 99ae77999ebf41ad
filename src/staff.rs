//! `maitred staff`: accounts of the admin panel. An account starts without a password; the
//! command prints a one-time link where its owner sets one.

use anyhow::Context;
use booking::staff::{NewStaff, StaffRole};
use booking::Store;

use crate::cli::StaffCommand;
use crate::settings::Settings;

pub async fn run(store: &Store, settings: &Settings, command: StaffCommand) -> anyhow::Result<()> {
    match command {
        StaffCommand::Add {
            email,
            name,
            admin,
            restaurants,
        } => {
            for id in &restaurants {
                store
                    .restaurant(*id)
                    .await?
                    .with_context(|| format!("no restaurant has the id {id}"))?;
            }
            let role = if admin {
                StaffRole::Admin
            } else {
                StaffRole::Manager(restaurants)
            };
            let staff = NewStaff {
                email: email.trim().to_lowercase(),
                name: name.trim().to_owned(),
                role,
            };
            let account = store
                .insert_staff(&staff)
                .await?
                .with_context(|| format!("{} has an account already", staff.email))?;
            let link = api::admin::session::password_link(store, account.id).await?;
            println!("created {} ({})", account.email, account.name);
            println!(
                "set the password within 72 hours at {}{link}",
                settings.public_url()
            );
        }
        StaffCommand::Link { email } => {
            let found = store
                .staff_for_sign_in(&email)
                .await?
                .with_context(|| format!("no account has the email {email}"))?;
            let link = api::admin::session::password_link(store, found.account.id).await?;
            println!(
                "set the password within 72 hours at {}{link}",
                settings.public_url()
            );
        }
    }
    Ok(())
}
