//! Load generation: C clients sending N booking requests.

use super::*;
use crate::scene::Scene;
use crate::support::follow;

#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub(crate) id: Uuid,
    /// Since the start of the run.
    pub(crate) sent: Duration,
    pub(crate) answered: Duration,
    /// 202 for maitred; for peers "confirmed" / "rejected"; or the error.
    pub(crate) outcome: Outcome,
    /// When its client learned the final state: at the answer, or for a 202 by following it
    /// (`support::follow`); `None`: never.
    pub(crate) final_at: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accepted,
    Confirmed,
    Rejected,
    GaveUp,
    Error(String),
}

fn booking_body(scene: &Scene, i: usize, run: &str) -> (Uuid, String) {
    let id = Uuid::new_v4();
    let body = json!({
        "reservationId": id,
        "restaurantId": scene.restaurant_id,
        "tableTypeId": scene.table_types[i % scene.table_types.len()],
        "partySize": 2,
        "date": scene.date.to_string(),
        "time": scene.time.format("%H:%M").to_string(),
        "guest": {"name": "Bench Diner", "email": format!("diner{i}.{run}@example.com")},
    });
    (id, body.to_string())
}

/// C clients, each taking the next request number until N are sent. A 503 from maitred is
/// retried with the same id (it promises that nothing happened). A 202 is followed to its
/// decision by a task of its own, as a diner's app waits for it, while the client goes on.
pub(crate) async fn drive(
    url: String,
    scene: &Scene,
    args: &Args,
    run: &str,
    start: Instant,
) -> Vec<Sent> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let followers = Arc::new(std::sync::Mutex::new(tokio::task::JoinSet::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let followers = followers.clone();
        let client = client.clone();
        let next = next.clone();
        let url = url.clone();
        let scene = scene.clone();
        let n = args.requests;
        let run = run.to_string();
        tasks.spawn(async move {
            let mut sent = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let (id, body) = booking_body(&scene, i, &run);
                let sent_at = start.elapsed();
                let mut outcome = Outcome::Error("never answered".into());
                let mut token = None;
                for _attempt in 0..100 {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match response {
                        Ok(r) => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            outcome = match status.as_u16() {
                                202 => {
                                    let receipt: Value =
                                        serde_json::from_str(&text).unwrap_or_default();
                                    token = receipt["accessToken"].as_str().map(str::to_owned);
                                    Outcome::Accepted
                                }
                                200 if text.contains("confirmed") => Outcome::Confirmed,
                                200 => Outcome::Rejected,
                                // maitred's sold-out answer: final, nothing recorded.
                                409 if text.contains("sold-out") => Outcome::Rejected,
                                503 if text.contains("optimistic") => Outcome::GaveUp,
                                503 => {
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                    continue;
                                }
                                other => Outcome::Error(format!("{other}: {text}")),
                            };
                        }
                        Err(error) => outcome = Outcome::Error(error.to_string()),
                    }
                    break;
                }
                let answered = start.elapsed();
                let decided = matches!(outcome, Outcome::Confirmed | Outcome::Rejected);
                if let Some(token) = token {
                    let (client, url) = (client.clone(), url.clone());
                    followers
                        .lock()
                        .unwrap()
                        .spawn(async move { (id, follow(&client, &url, id, &token, start).await) });
                }
                sent.push(Sent {
                    id,
                    sent: sent_at,
                    answered,
                    outcome,
                    final_at: decided.then_some(answered),
                });
            }
            sent
        });
    }
    let mut all = Vec::with_capacity(args.requests);
    while let Some(part) = tasks.join_next().await {
        all.extend(part.unwrap());
    }
    let mut followers = std::mem::take(&mut *followers.lock().unwrap());
    let mut followed = HashMap::new();
    while let Some(done) = followers.join_next().await {
        let (id, learned) = done.unwrap();
        followed.insert(id, learned);
    }
    for s in &mut all {
        if let Some(Some((at, _confirmed))) = followed.remove(&s.id) {
            s.final_at = Some(at);
        }
    }
    all
}
