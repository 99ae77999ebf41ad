//! `maitred dlq list|show|replay|purge`: the dead-letter tooling for ops, on the same
//! mechanics and filters as the `/v1/dead-letters` routes.
//!
//! Long operations draw a progress bar on stderr (when it is a terminal) and end with a
//! summary line on stdout: `replayed 3, skipped 10, failed 0`. `--dry-run` changes nothing:
//! for `replay` and `purge` it reports what would be done; for `list` and `show`, which read
//! every message and put it back, it only says how many messages would be read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use dead_letters::{self as letters, DeadLetterSummary, Filter, Resolver, Selection, SweepReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rabbitmq::dead_letters::{Action, Progress};
use rabbitmq::{DeadLetterQueue, DeadLetters};
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::settings::Settings;

#[derive(Debug, clap::Subcommand)]
pub enum DlqCommand {
    /// List dead letters: a table, or JSON with --json.
    List {
        #[command(flatten)]
        filters: DlqFilters,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Say how many messages would be read, and read none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show one dead letter in full, as JSON.
    Show {
        #[arg(long, value_enum, default_value_t = QueueArg::Commands)]
        queue: QueueArg,
        /// The message id, as listed.
        #[arg(long)]
        id: String,
        /// Say how many messages would be read, and read none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Replay dead letters to the partition (or payments or webhooks queue) they came from.
    /// Each leaves the dead-letter queue only once its replay is confirmed.
    Replay {
        #[command(flatten)]
        filters: DlqFilters,
        #[command(flatten)]
        selection: DlqSelection,
        /// Report what would be replayed, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove dead letters for good (needs --yes).
    Purge {
        #[command(flatten)]
        filters: DlqFilters,
        #[command(flatten)]
        selection: DlqSelection,
        /// Report what would be purged, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Yes, purge them: it cannot be undone.
        #[arg(long)]
        yes: bool,
        /// The report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueueArg {
    /// Partition commands and payment jobs (`maitred.dlq`).
    Commands,
    /// Webhook deliveries (`maitred.webhooks.dlq`).
    Webhooks,
}

impl From<QueueArg> for DeadLetterQueue {
    fn from(queue: QueueArg) -> Self {
        match queue {
            QueueArg::Commands => DeadLetterQueue::Commands,
            QueueArg::Webhooks => DeadLetterQueue::Webhooks,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct DlqFilters {
    /// Which dead-letter queue.
    #[arg(long, value_enum, default_value_t = QueueArg::Commands)]
    pub queue: QueueArg,
    /// Only messages dead-lettered for this reason.
    #[arg(long, value_parser = ["rejected", "delivery_limit", "expired", "maxlen"])]
    pub reason: Option<String>,
    /// Only messages about this restaurant (payment jobs are looked up in the database).
    #[arg(long)]
    pub restaurant: Option<Uuid>,
    /// Only messages dead for at least this long: `90s`, `15m`, `2h`, `3d`, `1h 30m`.
    #[arg(long, value_parser = age)]
    pub min_age: Option<Duration>,
}

#[derive(Debug, Clone, Args)]
pub struct DlqSelection {
    /// A message id, as listed (repeat for several).
    #[arg(long = "id", required_unless_present = "all", conflicts_with = "all")]
    pub ids: Vec<String>,
    /// Every message that passes the filters.
    #[arg(long)]
    pub all: bool,
}

fn age(text: &str) -> Result<Duration, String> {
    letters::parse_age(text).map_err(|invalid| invalid.message)
}

/// Runs a `maitred dlq` command.
///
/// # Errors
/// When a server cannot be reached, the queue is busy, or a replay failed (after the summary).
pub async fn run(settings: &Settings, command: DlqCommand) -> anyhow::Result<()> {
    let dead_letters = DeadLetters::new(&settings.amqp_url, settings.topology());
    match command {
        DlqCommand::List {
            filters,
            json,
            dry_run,
        } => {
            let queue = DeadLetterQueue::from(filters.queue);
            if dry_run {
                return would_read(&dead_letters, queue, "list").await;
            }
            let filter = filter_of(&filters)?;
            let resolver = resolver(settings, queue, &filter).await?;
            let bar = Bar::new("reading");
            let items = letters::list(&dead_letters, queue, &filter, &resolver, &bar.callback())
                .await
                .map_err(anyhow::Error::from);
            bar.finish();
            let items = items?;
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                print_table(&items);
                println!("{} dead letters in {queue}", items.len());
            }
            Ok(())
        }
        DlqCommand::Show { queue, id, dry_run } => {
            let queue = DeadLetterQueue::from(queue);
            if dry_run {
                return would_read(&dead_letters, queue, "show").await;
            }
            let resolver = resolver(settings, queue, &Filter::default()).await?;
            let detail = letters::show(&dead_letters, queue, &id, &resolver)
                .await?
                .with_context(|| format!("no message {id:?} in the {queue} dead letters"))?;
            println!("{}", serde_json::to_string_pretty(&detail)?);
            Ok(())
        }
        DlqCommand::Replay {
            filters,
            selection,
            dry_run,
            json,
        } => {
            sweep(
                settings,
                &dead_letters,
                Action::Replay,
                &filters,
                selection,
                dry_run,
                json,
            )
            .await
        }
        DlqCommand::Purge {
            filters,
            selection,
            dry_run,
            yes,
            json,
        } => {
            if !yes && !dry_run {
                anyhow::bail!(
                    "purging cannot be undone: add --yes (or --dry-run to see what would go)"
                );
            }
            sweep(
                settings,
                &dead_letters,
                Action::Purge,
                &filters,
                selection,
                dry_run,
                json,
            )
            .await
        }
    }
}

async fn sweep(
    settings: &Settings,
    dead_letters: &DeadLetters,
    action: Action,
    filters: &DlqFilters,
    selection: DlqSelection,
    dry_run: bool,
    json: bool,
) -> anyhow::Result<()> {
    let queue = DeadLetterQueue::from(filters.queue);
    let filter = filter_of(filters)?;
    let selection = Selection::new(selection.ids, selection.all, filter.clone())
        .map_err(|invalid| anyhow::anyhow!("{}: {}", invalid.field, invalid.message))?;
    let resolver = resolver(settings, queue, &filter).await?;
    let verb = match (action, dry_run) {
        (_, true) => "checking",
        (Action::Purge, false) => "purging",
        _ => "replaying",
    };
    let bar = Bar::new(verb);
    let report = letters::sweep(
        dead_letters,
        queue,
        action,
        &selection,
        dry_run,
        &resolver,
        &bar.callback(),
    )
    .await;
    bar.finish();
    let report = report?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    println!("{}", report.summary_line());
    if report.failed > 0 {
        anyhow::bail!(
            "{} replays failed; those messages are still in the {queue} dead letters",
            report.failed
        );
    }
    Ok(())
}

/// A dry run of a read: how many messages it would read, and nothing else.
async fn would_read(
    dead_letters: &DeadLetters,
    queue: DeadLetterQueue,
    what: &str,
) -> anyhow::Result<()> {
    let depth = dead_letters.depth(queue).await?;
    println!(
        "dry run: {what} would read (and put back) the {depth} messages in {}",
        queue.queue(dead_letters.topology())
    );
    Ok(())
}

fn filter_of(filters: &DlqFilters) -> anyhow::Result<Filter> {
    Filter::new(
        filters.reason.as_deref(),
        filters.restaurant,
        filters.min_age,
    )
    .map_err(|invalid| anyhow::anyhow!("{}: {}", invalid.field, invalid.message))
}

/// Payment jobs name only their payment: their restaurant is in the database. Connect to it
/// for the commands queue (the only one with payment jobs); without it they show no
/// restaurant, which is an error only when filtering by restaurant.
async fn resolver(
    settings: &Settings,
    queue: DeadLetterQueue,
    filter: &Filter,
) -> anyhow::Result<Resolver> {
    if queue != DeadLetterQueue::Commands {
        return Ok(Resolver::new(None));
    }
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&settings.database_url)
        .await;
    match pool {
        Ok(pool) => Ok(Resolver::new(Some(booking::Store::new(pool)))),
        Err(error) if filter.restaurant_id.is_some() => Err(anyhow::Error::new(error).context(
            "connecting to PostgreSQL (DATABASE_URL) to find the restaurants of payment jobs",
        )),
        Err(error) => {
            eprintln!("note: PostgreSQL is unreachable ({error}); payment jobs show no restaurant");
            Ok(Resolver::new(None))
        }
    }
}

/// A progress bar on stderr, drawn only on a terminal, from the first report of a sweep (which
/// says how many messages it will read).
struct Bar {
    bar: ProgressBar,
    started: Arc<AtomicBool>,
}

impl Bar {
    fn new(message: &'static str) -> Self {
        let style = ProgressStyle::with_template(
            "{msg:>10} [{elapsed_precise}] [{wide_bar}] {pos}/{len} (eta {eta})",
        )
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::hidden()
            .with_style(style)
            .with_message(message);
        Self {
            bar,
            started: Arc::new(AtomicBool::new(false)),
        }
    }

    fn callback(&self) -> impl Fn(Progress) + Send + Sync + 'static {
        let (bar, started) = (self.bar.clone(), self.started.clone());
        move |progress: Progress| {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
            if !started.swap(true, Ordering::Relaxed) {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn print_table(items: &[DeadLetterSummary]) {
    let rows: Vec<[String; 8]> = items.iter().map(row).collect();
    print_rows(
        [
            "ID",
            "TYPE",
            "ROUTE",
            "REASON",
            "DEATHS",
            "AGE",
            "RESTAURANT",
            "RESERVATION",
        ],
        &rows,
    );
}

fn print_report(report: &SweepReport) {
    let rows: Vec<[String; 5]> = report
        .messages
        .iter()
        .map(|item| {
            let [id, kind, route, reason, ..] = row(&item.summary);
            let outcome = match &item.error {
                Some(error) => format!("{}: {error}", item.outcome),
                None => item.outcome.replace('_', " "),
            };
            [id, kind, route, reason, outcome]
        })
        .collect();
    if !rows.is_empty() {
        print_rows(["ID", "TYPE", "ROUTE", "REASON", "OUTCOME"], &rows);
    }
    for id in &report.not_found {
        println!("not found: {id}");
    }
}

fn row(item: &DeadLetterSummary) -> [String; 8] {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    [
        item.id.clone(),
        or_dash(item.kind.clone()),
        item.routing_key.clone(),
        or_dash(item.reason.clone()),
        item.death_count.to_string(),
        or_dash(item.age_seconds.map(human_age)),
        or_dash(item.restaurant_id.map(|id| id.to_string())),
        or_dash(item.reservation_id.map(|id| id.to_string())),
    ]
}

fn print_rows<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header);
    for row in rows {
        line(std::array::from_fn(|i| row[i].as_str()));
    }
}

/// `45s`, `12m`, `3h05m`, `2d04h`.
fn human_age(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{}d{:02}h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn ages_read_like_people_write_them() {
        assert_eq!(human_age(42), "42s");
        assert_eq!(human_age(12 * 60 + 5), "12m");
        assert_eq!(human_age(3 * 3600 + 5 * 60), "3h05m");
        assert_eq!(human_age(2 * 86_400 + 4 * 3600), "2d04h");
    }

    #[test]
    fn replay_and_purge_need_ids_or_all_and_purge_parses_its_flags() {
        #[derive(Debug, clap::Parser)]
        struct Dlq {
            #[command(subcommand)]
            command: DlqCommand,
        }
        let parse = |args: &[&str]| Dlq::try_parse_from(args);
        assert!(parse(&["dlq", "replay"]).is_err());
        assert!(parse(&["dlq", "replay", "--id", "a", "--all"]).is_err());
        assert!(parse(&["dlq", "list", "--reason", "bored"]).is_err());
        let dlq = parse(&[
            "dlq",
            "purge",
            "--queue",
            "webhooks",
            "--id",
            "a",
            "--id",
            "b",
            "--min-age",
            "15m",
            "--yes",
        ])
        .unwrap();
        let DlqCommand::Purge {
            filters,
            selection,
            yes,
            dry_run,
            ..
        } = dlq.command
        else {
            panic!("not a purge");
        };
        assert_eq!(filters.queue, QueueArg::Webhooks);
        assert_eq!(filters.min_age, Some(Duration::from_secs(900)));
        assert_eq!(selection.ids, ["a", "b"]);
        assert!(yes && !dry_run);
    }
}
