//! Open-loop load: requests leave on a schedule, whatever the answers do, and each client
//! follows its booking to the final state ([`book`]).

use super::*;
use crate::seeding::{request_body, zipf_cdf, Chain, Rng};
use crate::support::book;

#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub(crate) id: Uuid,
    pub(crate) step: usize,
    pub(crate) sent_wall: DateTime<Utc>,
    pub(crate) sent: Duration,
    /// When the client learned the final state (`None`: never).
    pub(crate) final_at: Option<Duration>,
    /// The first answer's status.
    pub(crate) status: u16,
    pub(crate) confirmed: bool,
}

pub(crate) struct Load {
    pub(crate) sent: Vec<Sent>,
    pub(crate) shed: Vec<u64>,
    /// Per step: (start, end) since the start of the run.
    pub(crate) windows: Vec<(Duration, Duration)>,
}

/// Sends the steps' requests to `urls` in turn (one server, or each API process).
pub(crate) async fn open_loop(
    urls: &[String],
    chain: &Chain,
    args: &Args,
    run: &str,
    start: Instant,
) -> Load {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.max_in_flight)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let cdf = zipf_cdf(chain.restaurants.len(), args.zipf);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let results = Arc::new(Mutex::new(Vec::new()));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(args.max_in_flight));
    let mut counter = 0u64;
    let mut shed = Vec::new();
    let mut windows = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (step, rate) in args.rates.iter().enumerate() {
        let step_start = start.elapsed();
        let mut step_shed = 0;
        let tick = Duration::from_millis(10);
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut owed = 0.0;
        while start.elapsed() - step_start < args.step {
            interval.tick().await;
            owed += f64::from(*rate) * tick.as_secs_f64();
            while owed >= 1.0 {
                owed -= 1.0;
                let i = counter;
                counter += 1;
                let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                    step_shed += 1;
                    continue;
                };
                let (id, body) = request_body(chain, &cdf, &mut rng, i, run);
                let client = client.clone();
                let url = urls[i as usize % urls.len()].clone();
                let results = results.clone();
                tasks.spawn(async move {
                    let sent_wall = Utc::now();
                    let sent = start.elapsed();
                    let answer = book(&client, &url, (id, body), start).await;
                    drop(permit);
                    results.lock().unwrap().push(Sent {
                        id,
                        step,
                        sent_wall,
                        sent,
                        final_at: answer.final_at,
                        status: answer.status,
                        confirmed: answer.confirmed,
                    });
                });
            }
            while tasks.try_join_next().is_some() {}
        }
        shed.push(step_shed);
        windows.push((step_start, start.elapsed()));
    }
    while tasks.join_next().await.is_some() {}
    let sent = std::mem::take(&mut *results.lock().unwrap());
    Load {
        sent,
        shed,
        windows,
    }
}
