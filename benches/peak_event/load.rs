//! The load: the background's open loop for the whole run, and the drop, as clients see them.

use super::*;
use crate::seeding::{booking_request, request_body, zipf_cdf, Chain, Rng, DATES, SLOTS};
use crate::support::book;
use chrono::{Datelike, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Background,
    Drop,
}

/// One request as its client saw it; times since the start of the run.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) id: Uuid,
    pub(crate) kind: Kind,
    pub(crate) sent: Duration,
    /// When the client learned the final state (`None`: never, or not accepted).
    pub(crate) final_at: Option<Duration>,
    /// The first answer's status (0: no answer).
    pub(crate) status: u16,
    pub(crate) confirmed: bool,
}

impl Outcome {
    /// Answered as taken in hand: decided (200), queued (202) or sold out (409).
    pub(crate) fn accepted(&self) -> bool {
        matches!(self.status, 200 | 202 | 409)
    }
}

pub(crate) struct Load {
    pub(crate) outcomes: Vec<Outcome>,
    /// Background requests not sent because `--max-in-flight` were under way.
    pub(crate) shed: u64,
    pub(crate) drop_start: Duration,
    /// When the drop's last request left.
    pub(crate) drop_sent_by: Duration,
    /// When the background stopped sending.
    pub(crate) end: Duration,
}

impl Load {
    pub(crate) fn confirmed_ids(&self) -> Vec<Uuid> {
        self.outcomes
            .iter()
            .filter(|o| o.confirmed)
            .map(|o| o.id)
            .collect()
    }

    /// Accepted requests whose final state the client never learned.
    pub(crate) fn never_final(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.accepted() && o.final_at.is_none())
            .count()
    }
}

/// The first Saturday of the booking window: the popular restaurant's evening that opens.
fn saturday(chain: &Chain) -> NaiveDate {
    (0..DATES)
        .map(|d| chain.first_date + chrono::Duration::days(d))
        .find(|d| d.weekday() == Weekday::Sat)
        .expect("a Saturday within the booking window")
}

/// Runs the whole scene against `target` and returns every request's outcome.
pub(crate) async fn run_load(
    url: String,
    chain: &Chain,
    popular: &Chain,
    args: &Args,
    run: &str,
) -> Load {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.max_in_flight + args.drop_in_flight)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let spawn_one = {
        let outcomes = outcomes.clone();
        let client = client.clone();
        let url = url.clone();
        move |tasks: &mut tokio::task::JoinSet<()>,
              permit: tokio::sync::OwnedSemaphorePermit,
              kind: Kind,
              request: (Uuid, String)| {
            let (outcomes, client, url) = (outcomes.clone(), client.clone(), url.clone());
            tasks.spawn(async move {
                let sent = start.elapsed();
                let id = request.0;
                let answer = book(&client, &url, request, start).await;
                drop(permit);
                outcomes.lock().unwrap().push(Outcome {
                    id,
                    kind,
                    sent,
                    final_at: answer.final_at,
                    status: answer.status,
                    confirmed: answer.confirmed,
                });
            });
        }
    };

    // The drop: evenly spread over --drop-secs, each waiting for one of its clients.
    let drop_start = args.before;
    let drop = {
        let spawn_one = spawn_one.clone();
        let (restaurant, types) = popular.restaurants[0].clone();
        let date = saturday(popular);
        let (n, span, clients) = (args.drop_requests, args.drop_for, args.drop_in_flight);
        let run = run.to_string();
        tokio::spawn(async move {
            let in_flight = Arc::new(tokio::sync::Semaphore::new(clients));
            let mut rng = Rng(0xD1B5_4A32_D192_ED03);
            let mut tasks = tokio::task::JoinSet::new();
            tokio::time::sleep_until((start + drop_start).into()).await;
            for i in 0..n {
                let due = start + drop_start + span.mul_f64(i as f64 / n as f64);
                tokio::time::sleep_until(due.into()).await;
                let permit = in_flight.clone().acquire_owned().await.unwrap();
                let request = booking_request(
                    restaurant,
                    types[rng.below(types.len())],
                    date,
                    SLOTS[rng.below(SLOTS.len())],
                    &format!("drop{i}.{run}"),
                );
                spawn_one(&mut tasks, permit, Kind::Drop, request);
                while tasks.try_join_next().is_some() {}
            }
            let sent_by = start.elapsed();
            while tasks.join_next().await.is_some() {}
            sent_by
        })
    };

    // The background: an open loop at --rate for the whole run; beyond --max-in-flight it sheds.
    let cdf = zipf_cdf(chain.restaurants.len(), args.zipf);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(args.max_in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    let mut shed = 0;
    let tick = Duration::from_millis(10);
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut owed = 0.0;
    let mut i = 0u64;
    while start.elapsed() < args.before + args.drop_for + args.after {
        interval.tick().await;
        owed += f64::from(args.rate) * tick.as_secs_f64();
        while owed >= 1.0 {
            owed -= 1.0;
            i += 1;
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                shed += 1;
                continue;
            };
            let request = request_body(chain, &cdf, &mut rng, i, run);
            spawn_one(&mut tasks, permit, Kind::Background, request);
        }
        while tasks.try_join_next().is_some() {}
    }
    let end = start.elapsed();
    while tasks.join_next().await.is_some() {}
    let drop_sent_by = drop.await.unwrap();
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    Load {
        outcomes,
        shed,
        drop_start,
        drop_sent_by,
        end,
    }
}
