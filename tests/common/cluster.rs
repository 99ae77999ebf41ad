//! The three-node RabbitMQ cluster of `scripts/rabbitmq-cluster.sh`, which the test command
//! starts before the ignored tests: its addresses, its `rabbitmqctl`, and who consumes what.

use std::process::Command;

/// The cluster's nodes as `AMQP_URL` lists them.
pub fn cluster_urls() -> String {
    cluster(&["urls"]).trim().to_owned()
}

/// `scripts/rabbitmq-cluster.sh` with `args`; its output.
pub fn cluster(args: &[&str]) -> String {
    let output = Command::new("scripts/rabbitmq-cluster.sh")
        .args(args)
        .output()
        .expect("scripts/rabbitmq-cluster.sh runs");
    assert!(
        output.status.success(),
        "rabbitmq-cluster.sh {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// [`cluster`] off the test's runtime, which keeps serving meanwhile.
pub async fn cluster_async(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        cluster(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap()
}

/// `rabbitmqctl` on node `node` (1..3) with `args`, its JSON rows (`list_queues`,
/// `list_consumers`, …).
pub async fn rabbitmqctl_rows(node: u8, args: &[&str]) -> Vec<serde_json::Value> {
    let node = node.to_string();
    let args: Vec<&str> = ["ctl", node.as_str()]
        .into_iter()
        .chain(args.iter().copied())
        .chain(["--formatter", "json"])
        .collect();
    serde_json::from_str(&cluster_async(&args).await).unwrap()
}

/// A subscription to a queue, as `rabbitmqctl list_consumers` shows it.
#[derive(Debug)]
pub struct Consumer {
    pub queue: String,
    /// The worker process: workers tag their partition subscriptions `pid-{pid}.…`.
    pub pid: u32,
    /// Whether it is the single active consumer of its queue.
    pub active: bool,
}

/// The workers' subscriptions to queues whose names start with `prefix`, as node `node`
/// (1..3) sees them.
pub async fn consumers(node: u8, prefix: &str) -> Vec<Consumer> {
    let listed = rabbitmqctl_rows(
        node,
        &["list_consumers", "queue_name", "consumer_tag", "active"],
    )
    .await;
    listed
        .iter()
        .filter_map(|consumer| {
            let queue = consumer["queue_name"].as_str()?;
            let pid = consumer["consumer_tag"]
                .as_str()?
                .strip_prefix("pid-")?
                .split('.')
                .next()?
                .parse()
                .ok()?;
            queue.starts_with(prefix).then(|| Consumer {
                queue: queue.to_owned(),
                pid,
                active: consumer["active"] == true,
            })
        })
        .collect()
}
