//! The dead-letter tooling end to end, against real PostgreSQL and RabbitMQ: real dead letters
//! (a command that refers to nothing, a webhook nobody accepts), listed, shown, replayed,
//! purged and dry-run through the staff routes.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use booking::messages::{self, Command, Envelope};
use common::*;
use rabbitmq::lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use rabbitmq::lapin::types::FieldTable;
use rabbitmq::{Outgoing, Topology};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Publishes `decide` for `reservation_id` to the restaurant's partition, as intake would.
async fn publish_decide(harness: &Harness, restaurant_id: Uuid, reservation_id: Uuid) {
    let envelope = Envelope {
        restaurant_id,
        command: Command::Decide { reservation_id },
    };
    let partition = harness.topology.partition_of(restaurant_id);
    harness
        .publisher
        .publish(Outgoing {
            routing_key: &Topology::routing_key(partition),
            body: &messages::to_json(&envelope),
            properties: rabbitmq::properties(&reservation_id.to_string(), "decide"),
            delay: Duration::ZERO,
        })
        .await
        .unwrap();
}

/// `decide` commands for reservations that do not exist yet: the worker dead-letters each
/// (it refers to nothing). Returns their ids.
async fn dead_decides(harness: &Harness, restaurant_id: Uuid, count: usize) -> Vec<Uuid> {
    let dlq = harness.topology.dead_letter_queue();
    let before = harness.queue_depth(&dlq).await;
    let mut ids = Vec::new();
    for _ in 0..count {
        let id = Uuid::new_v4();
        publish_decide(harness, restaurant_id, id).await;
        ids.push(id);
    }
    let want = before + count as u32;
    harness.wait_for_depth(&dlq, |depth| depth == want).await;
    ids
}

async fn list(harness: &Harness, query: &str) -> Vec<Value> {
    let reply = harness
        .staff_request(Method::GET, &format!("/v1/dead-letters/{query}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body.as_array().unwrap().clone()
}

async fn post(harness: &Harness, path: &str, body: Value) -> Reply {
    harness.staff_request(Method::POST, path, Some(&body)).await
}

fn ids_of(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn transitions(harness: &Harness, id: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT to_status FROM reservation_event WHERE reservation_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(harness.store.pool())
    .await
    .unwrap()
}

/// Waits until every partition is drained and the worker has settled what it took.
async fn wait_partitions_empty(harness: &Harness) {
    harness.wait_settled(&harness.partition_queues()).await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_command_that_failed_is_fixed_replayed_and_decided_exactly_once(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    harness.start_worker();
    let dlq = harness.topology.dead_letter_queue();

    // The decide arrives before its reservation exists: it refers to nothing, so the worker
    // dead-letters it.
    let body = booking_body(restaurant, table_type);
    let id = id_of(&body);
    publish_decide(&harness, restaurant, id).await;
    harness.wait_for_depth(&dlq, |depth| depth == 1).await;

    // Browsing many times loses nothing, and never counts a delivery against the message.
    for _ in 0..25 {
        assert_eq!(list(&harness, "commands").await.len(), 1);
    }
    let items = list(&harness, "commands").await;
    let item = &items[0];
    assert_eq!(item["id"], id.to_string());
    assert_eq!(item["type"], "decide");
    assert_eq!(item["queue"], "commands");
    assert_eq!(item["reason"], "rejected");
    assert_eq!(item["deathCount"], 1);
    assert_eq!(item["restaurantId"], restaurant.to_string());
    assert_eq!(item["reservationId"], id.to_string());
    let partition = harness.topology.partition_of(restaurant);
    assert_eq!(item["routingKey"], Topology::routing_key(partition));
    assert_eq!(
        item["diedIn"],
        harness.topology.partition_queue(partition).as_str()
    );
    assert!(item["firstDeathAt"].is_string(), "{item}");

    let shown = harness
        .staff_request(
            Method::GET,
            &format!("/v1/dead-letters/commands/{id}"),
            None,
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["body"]["command"]["type"], "decide");
    assert_eq!(shown.body["bodyEncoding"], "json");
    assert_eq!(shown.body["properties"]["messageId"], id.to_string());
    assert_eq!(shown.body["headers"]["x-death"][0]["reason"], "rejected");
    // (RabbitMQ 3.10 shows the count as a header; 0 or absent both mean "never returned".)
    let returned = shown.body["headers"]["x-delivery-count"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        returned, 0,
        "a browse must never hand a message back: {}",
        shown.body["headers"]
    );
    assert_eq!(harness.queue_depth(&dlq).await, 1);

    // The fix: the reservation is now recorded (pending; its own publish "crashed").
    assert_eq!(harness.record_without_publishing(&body).await, id);

    // A dry run reports the replay and changes nothing.
    let dry = post(
        &harness,
        "/v1/dead-letters/commands/replay",
        json!({"ids": [id], "dryRun": true}),
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["dryRun"], true);
    assert_eq!(dry.body["matched"], 1);
    assert_eq!(dry.body["replayed"], 0);
    assert_eq!(dry.body["messages"][0]["outcome"], "would_replay");
    // A replay takes the message off the dead-letter queue before it answers.
    assert_eq!(harness.queue_depth(&dlq).await, 1);
    assert_eq!(harness.partition_depths().await, 0);
    assert_eq!(transitions(&harness, id).await, ["pending"]);

    // The replay goes back to the partition and is decided like any other command.
    let replayed = post(
        &harness,
        "/v1/dead-letters/commands/replay",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
    assert_eq!(replayed.body["replayed"], 1);
    assert_eq!(replayed.body["failed"], 0);
    assert_eq!(replayed.body["messages"][0]["outcome"], "replayed");
    assert_eq!(harness.queue_depth(&dlq).await, 0, "acked once confirmed");
    harness.wait_status(id, "held", TIMEOUT).await;
    assert_eq!(transitions(&harness, id).await, ["pending", "held"]);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );

    // Replaying it again finds nothing.
    let again = post(
        &harness,
        "/v1/dead-letters/commands/replay",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["replayed"], 0);
    assert_eq!(again.body["notFound"], json!([id]));

    // A duplicate of the dead letter (a crash between a replay's confirm and its ack leaves
    // one), replayed too, changes nothing: the worker sees the reservation is decided.
    let connection = rabbitmq::connect(&amqp_url(), "maitred-test")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let envelope = Envelope {
        restaurant_id: restaurant,
        command: Command::Decide { reservation_id: id },
    };
    channel
        .basic_publish(
            harness.topology.dead_letter_exchange().into(),
            Topology::routing_key(partition).into(),
            BasicPublishOptions::default(),
            &messages::to_json(&envelope),
            rabbitmq::properties(&id.to_string(), "decide"),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    connection.close(200, "ok".into()).await.unwrap();
    harness.wait_for_depth(&dlq, |depth| depth == 1).await;
    let duplicate = post(
        &harness,
        "/v1/dead-letters/commands/replay",
        json!({"all": true}),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::OK, "{}", duplicate.body);
    assert_eq!(duplicate.body["replayed"], 1);
    wait_partitions_empty(&harness).await;
    assert_eq!(harness.queue_depth(&dlq).await, 0);
    assert_eq!(transitions(&harness, id).await, ["pending", "held"]);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_decision_that_breaks_an_invariant_is_dead_lettered_at_once(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    let dlq = harness.topology.dead_letter_queue();
    // The inventory "changes under the decision's row locks": every update of it is lost, so
    // the conditional update that must match every slot matches none. Retrying cannot help.
    sqlx::raw_sql(
        "CREATE FUNCTION lose_the_update() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN RETURN NULL; END $$;
         CREATE TRIGGER lost_update BEFORE UPDATE ON inventory
             FOR EACH ROW EXECUTE FUNCTION lose_the_update();",
    )
    .execute(harness.store.pool())
    .await
    .unwrap();
    harness.start_worker();
    let body = booking_body(restaurant, table_type);
    let id = harness.record_without_publishing(&body).await;
    publish_decide(&harness, restaurant, id).await;
    harness.wait_for_depth(&dlq, |depth| depth == 1).await;

    // Rejected by the worker on its first delivery, not worn out by the delivery limit.
    let items = list(&harness, "commands").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.to_string());
    assert_eq!(items[0]["reason"], "rejected");
    assert_eq!(items[0]["deathCount"], 1);
    let shown = harness
        .staff_request(
            Method::GET,
            &format!("/v1/dead-letters/commands/{id}"),
            None,
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let redelivered = shown.body["headers"]["x-delivery-count"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(redelivered, 0, "retried: {}", shown.body["headers"]);
    // Nothing was committed: the reservation waits, and no table was taken.
    assert_eq!(transitions(&harness, id).await, ["pending"]);
    assert!(reserved_per_slot(&harness.store, table_type)
        .await
        .iter()
        .all(|reserved| *reserved == 0));
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn dry_runs_change_nothing_and_a_purge_needs_confirm_and_takes_only_what_it_names(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (here, _) = seed_restaurant(&harness.store, 3).await;
    let (there, _) = seed_restaurant(&harness.store, 3).await;
    harness.start_worker();
    let dlq = harness.topology.dead_letter_queue();
    let ours = dead_decides(&harness, here, 3).await;
    let theirs = dead_decides(&harness, there, 2).await;
    // A poison message without a message id: it is named by a digest.
    harness
        .publisher
        .publish(Outgoing {
            routing_key: &Topology::routing_key(harness.topology.partition_of(here)),
            body: b"{ not a command",
            properties: rabbitmq::lapin::BasicProperties::default(),
            delay: Duration::ZERO,
        })
        .await
        .unwrap();
    harness.wait_for_depth(&dlq, |depth| depth == 6).await;

    let everything = list(&harness, "commands").await;
    assert_eq!(everything.len(), 6);
    let poison = everything
        .iter()
        .find(|item| item["id"].as_str().unwrap().starts_with("anon-"))
        .expect("the poison message, named by a digest");
    let poison_id = poison["id"].as_str().unwrap().to_owned();
    assert!(poison["restaurantId"].is_null());

    // Filters: restaurant, reason, age.
    let mine = list(&harness, &format!("commands?restaurantId={here}")).await;
    let mut expected: Vec<String> = ours.iter().map(Uuid::to_string).collect();
    expected.sort();
    assert_eq!(ids_of(&mine), expected);
    assert_eq!(list(&harness, "commands?reason=rejected").await.len(), 6);
    assert!(list(&harness, "commands?reason=delivery_limit")
        .await
        .is_empty());
    assert!(list(&harness, "commands?minAgeSeconds=3600")
        .await
        .is_empty());
    assert_eq!(list(&harness, "commands?minAgeSeconds=0").await.len(), 6);
    let bad_reason = harness
        .staff_request(Method::GET, "/v1/dead-letters/commands?reason=bored", None)
        .await;
    assert_eq!(bad_reason.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Dry runs of everything change nothing.
    let dry_replay = post(
        &harness,
        "/v1/dead-letters/commands/replay",
        json!({"all": true, "dryRun": true}),
    )
    .await;
    assert_eq!(dry_replay.status, StatusCode::OK, "{}", dry_replay.body);
    assert_eq!(dry_replay.body["matched"], 6);
    let dry_purge = post(
        &harness,
        "/v1/dead-letters/commands/purge",
        json!({"all": true, "dryRun": true}),
    )
    .await;
    assert_eq!(dry_purge.status, StatusCode::OK, "{}", dry_purge.body);
    assert_eq!(dry_purge.body["matched"], 6);
    assert_eq!(dry_purge.body["purged"], 0);
    assert!(dry_purge.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["outcome"] == "would_purge"));
    assert_eq!(harness.queue_depth(&dlq).await, 6);
    assert_eq!(harness.partition_depths().await, 0);

    // A purge without confirm is refused, and so is one that names nothing.
    let unconfirmed = post(
        &harness,
        "/v1/dead-letters/commands/purge",
        json!({"ids": [ours[0]]}),
    )
    .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unconfirmed.body["field"], "confirm");
    let unnamed = post(
        &harness,
        "/v1/dead-letters/commands/purge",
        json!({"confirm": true}),
    )
    .await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A misspelt flag is an error, never a silent real run.
    let misspelt = post(
        &harness,
        "/v1/dead-letters/commands/purge",
        json!({"all": true, "confirm": true, "dryrun": true}),
    )
    .await;
    assert_eq!(misspelt.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(harness.queue_depth(&dlq).await, 6);

    // With confirm, exactly the named messages go.
    let purged = post(
        &harness,
        "/v1/dead-letters/commands/purge",
        json!({"ids": [ours[0], poison_id], "confirm": true}),
    )
    .await;
    assert_eq!(purged.status, StatusCode::OK, "{}", purged.body);
    assert_eq!(purged.body["purged"], 2);
    assert_eq!(purged.body["skipped"], 4);
    let left = ids_of(&list(&harness, "commands").await);
    let mut expected: Vec<String> = ours[1..]
        .iter()
        .chain(&theirs)
        .map(Uuid::to_string)
        .collect();
    expected.sort();
    assert_eq!(left, expected);

    // "All" with a filter takes only what passes it.
    let theirs_purged = post(
        &harness,
        "/v1/dead-letters/commands/purge",
        json!({"all": true, "restaurantId": there, "confirm": true}),
    )
    .await;
    assert_eq!(
        theirs_purged.status,
        StatusCode::OK,
        "{}",
        theirs_purged.body
    );
    assert_eq!(theirs_purged.body["purged"], 2);
    let mut expected: Vec<String> = ours[1..].iter().map(Uuid::to_string).collect();
    expected.sort();
    assert_eq!(ids_of(&list(&harness, "commands").await), expected);
    assert_eq!(harness.queue_depth(&dlq).await, 2);

    // Unknown queues and messages are 404; a restaurant's staff may not touch dead letters.
    let unknown = harness
        .staff_request(Method::GET, "/v1/dead-letters/payments", None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let missing = harness
        .staff_request(Method::GET, "/v1/dead-letters/commands/nope", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let scoped = harness
        .scoped_staff_request(&[here], Method::GET, "/v1/dead-letters/commands", None)
        .await;
    assert_eq!(scoped.status, StatusCode::FORBIDDEN);
    let anonymous = harness
        .request(Method::GET, "/v1/dead-letters/commands", None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // One operation per queue at a time: while another connection holds the lock, 409.
    let connection = rabbitmq::connect(&amqp_url(), "maitred-test")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_declare(
            format!("{dlq}.lock").as_str().into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let busy = harness
        .staff_request(Method::GET, "/v1/dead-letters/commands", None)
        .await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{}", busy.body);
    connection.close(200, "ok".into()).await.unwrap();
    assert_eq!(list(&harness, "commands").await.len(), 2);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_webhook_dead_letter_is_listed_and_replayed_once_the_receiver_is_fixed(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    sqlx::query("UPDATE restaurant SET prepayment_required = false WHERE id = $1")
        .bind(restaurant)
        .execute(harness.store.pool())
        .await
        .unwrap();
    let receiver = FlakyReceiver::start().await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    body["callbackUrl"] = json!(receiver.url);
    let id = id_of(&body);
    assert_eq!(
        harness.post_reservation(&body).await.status,
        StatusCode::ACCEPTED
    );
    harness.wait_status(id, "confirmed", TIMEOUT).await;
    let dlq = harness.topology.webhooks_dead_letter_queue();
    harness.wait_for_depth(&dlq, |depth| depth == 1).await;
    let attempts = harness.webhooks.max_attempts as usize;
    assert_eq!(receiver.seen().len(), attempts);

    let items = list(&harness, "webhooks").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["queue"], "webhooks");
    assert_eq!(item["type"], "webhook");
    assert_eq!(item["routingKey"], Topology::WEBHOOKS_KEY);
    assert_eq!(item["reason"], "rejected");
    assert_eq!(
        item["diedIn"],
        harness.topology.webhooks_queue().as_str(),
        "the retries' passes through delay queues are timers, not deaths"
    );
    assert_eq!(item["deathCount"], 1);
    assert_eq!(item["restaurantId"], restaurant.to_string());
    assert_eq!(item["reservationId"], id.to_string());
    // The commands dead letters are another queue.
    assert!(list(&harness, "commands").await.is_empty());
    let filtered = list(
        &harness,
        &format!("webhooks?restaurantId={}", Uuid::new_v4()),
    )
    .await;
    assert!(filtered.is_empty());

    receiver.fix();
    let replayed = post(
        &harness,
        "/v1/dead-letters/webhooks/replay",
        json!({"all": true, "restaurantId": restaurant}),
    )
    .await;
    assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
    assert_eq!(replayed.body["replayed"], 1);
    let seen = receiver.wait_for(attempts + 1).await;
    let last = seen.last().unwrap();
    assert!(last.1, "the replayed delivery succeeded");
    assert!(
        seen.iter().all(|(webhook_id, _)| *webhook_id == seen[0].0),
        "the same webhook-id every time: {seen:?}"
    );
    harness.wait_settled(&harness.webhook_queues()).await;
    assert_eq!(receiver.seen().len(), attempts + 1, "delivered once more");
    assert_eq!(harness.queue_depth(&dlq).await, 0);
    harness.finish().await;
}

/// A webhook receiver that fails every delivery until it is fixed. Records (webhook-id,
/// succeeded) for each.
struct FlakyReceiver {
    url: String,
    broken: Arc<AtomicBool>,
    seen: Arc<std::sync::Mutex<Vec<(String, bool)>>>,
}

impl FlakyReceiver {
    async fn start() -> Self {
        let broken = Arc::new(AtomicBool::new(true));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (is_broken, recorded) = (broken.clone(), seen.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let (is_broken, recorded) = (is_broken.clone(), recorded.clone());
                async move {
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let ok = !is_broken.load(Ordering::SeqCst);
                    recorded.lock().unwrap().push((id, ok));
                    if ok {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, broken, seen }
    }

    fn fix(&self) {
        self.broken.store(false, Ordering::SeqCst);
    }

    fn seen(&self) -> Vec<(String, bool)> {
        self.seen.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize) -> Vec<(String, bool)> {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let seen = self.seen();
            if seen.len() >= count {
                return seen;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver saw only {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The queues every partition feeds are bounded too: past ten partitions' worth, the payments
/// and webhooks queues refuse a publish (the outbox keeps the message and tries again) instead
/// of growing until the broker runs out of memory.
#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_payments_and_webhooks_queues_are_bounded(pool: PgPool) {
    let harness = Harness::with_max_length(pool, 2).await;
    let bound = harness.topology.shared_max_length();
    assert_eq!(bound, 20);
    for routing_key in [Topology::PAYMENTS_KEY, Topology::WEBHOOKS_KEY] {
        // Quorum queues apply the bound once they have reached it, so a publish or two past
        // it may still be taken before the refusals start.
        let mut taken = 0;
        loop {
            let id = format!("{routing_key}-{taken}");
            let published = harness
                .publisher
                .publish(Outgoing {
                    routing_key,
                    body: b"{}",
                    properties: rabbitmq::properties(&id, "bound-test"),
                    delay: Duration::ZERO,
                })
                .await;
            if published.is_err() {
                break;
            }
            taken += 1;
            assert!(
                taken <= bound + 2,
                "{routing_key}: never refused past {bound}"
            );
        }
        assert!(
            taken >= bound,
            "{routing_key}: refused at {taken}, before the bound"
        );
    }
    harness.finish().await;
}
