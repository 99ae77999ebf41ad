//! The booking path end to end, against real PostgreSQL and RabbitMQ: intake → partition queue
//! → serial worker → inventory.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use booking::Status;
use common::*;
use futures_util::StreamExt;
use rabbitmq::lapin::options::{BasicConsumeOptions, BasicGetOptions, BasicQosOptions};
use rabbitmq::lapin::types::FieldTable;
use rabbitmq::lapin::BasicProperties;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const DECIDE_TIMEOUT: Duration = Duration::from_secs(60);

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn concurrent_requests_for_one_slot_never_oversell(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 20).await;
    harness.start_worker();

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let app = harness.app.clone();
        let body = booking_body(restaurant, table_type);
        requests.spawn(async move {
            let request = axum::http::Request::post("/v1/reservations")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            send(&app, request).await
        });
    }
    let mut ids = Vec::new();
    while let Some(reply) = requests.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
        assert_eq!(reply.body["status"], "pending");
        ids.push(id_of(&reply.body));
    }
    harness.wait_decided(&ids, DECIDE_TIMEOUT).await;

    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM reservation GROUP BY status ORDER BY status")
            .fetch_all(harness.store.pool())
            .await
            .unwrap();
    // 20 tables with 10% overbooking: floor(20 × 110 / 100) = 22.
    assert_eq!(
        counts,
        vec![("held".to_string(), 22), ("rejected".to_string(), 178)]
    );
    // 90 minutes on a 15-minute grid hold 6 slots, each with 22 reserved.
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![22; 6]
    );
    let no_availability: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservation WHERE status = 'rejected' AND reason = 'no_availability'",
    )
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(no_availability, 178);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_same_request_five_times_books_once_and_a_changed_body_conflicts(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 5).await;
    harness.start_worker();
    let mut body = booking_body(restaurant, table_type);
    body["tableCount"] = json!(2);
    body["partySize"] = json!(6);

    let replies =
        futures_util::future::join_all((0..5).map(|_| harness.post_reservation(&body))).await;
    for reply in &replies {
        assert!(reply.status.is_success(), "{:?}", reply.body);
        assert_eq!(reply.body["reservationId"], body["reservationId"]);
    }
    let id = id_of(&body);
    harness.wait_decided(&[id], DECIDE_TIMEOUT).await;

    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM reservation")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![2; 6]
    );

    // A retry after the decision returns the reservation as it is now.
    let retry = harness.post_reservation(&body).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body["status"], "held");
    assert_eq!(retry.body["priceCents"], 5000);

    let mut changed = body.clone();
    changed["partySize"] = json!(7);
    let conflict = harness.post_reservation(&changed).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.headers["content-type"], "application/problem+json");
    assert!(conflict.body["detail"]
        .as_str()
        .unwrap()
        .contains("reservationId"));
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![2; 6]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_crash_after_commit_before_ack_does_not_book_twice(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    let body = booking_body(restaurant, table_type);
    let id = id_of(&body);
    assert_eq!(
        harness.post_reservation(&body).await.status,
        StatusCode::ACCEPTED
    );

    // A "worker" that decides and commits, then dies before acking: its channel closes with
    // the delivery unacknowledged, so the broker redelivers it.
    let queue = harness
        .topology
        .partition_queue(harness.topology.partition_of(restaurant));
    {
        let connection = rabbitmq::connect(&amqp_url(), "crashing-worker")
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .basic_qos(1, BasicQosOptions::default())
            .await
            .unwrap();
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let delivery = consumer.next().await.unwrap().unwrap();
        let envelope: booking::messages::Envelope = serde_json::from_slice(&delivery.data).unwrap();
        assert_eq!(envelope.command.reservation_id(), Some(id));
        let decision = harness
            .store
            .decide(
                id,
                &booking::DecisionPolicy {
                    hold_for: Duration::from_secs(600),
                    gateway: "simulated".into(),
                    pricing: booking::PricingSteps::default(),
                },
            )
            .await
            .unwrap();
        assert!(matches!(decision, booking::Decision::Held { .. }));
        connection.close(320, "crash".into()).await.unwrap(); // no ack
    }
    assert_eq!(
        harness.queue_depth(&queue).await,
        1,
        "the message must come back"
    );

    harness.start_worker();
    harness.wait_for_depth(&queue, |depth| depth == 0).await;
    let transitions: Vec<String> = sqlx::query_scalar(
        "SELECT to_status FROM reservation_event WHERE reservation_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(transitions, vec!["pending", "held"]);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_poison_message_is_dead_lettered_and_the_partition_moves_on(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    let partition = harness.topology.partition_of(restaurant);
    harness
        .publisher
        .publish(rabbitmq::Outgoing {
            routing_key: &rabbitmq::Topology::routing_key(partition),
            body: b"{ this is not a command",
            properties: BasicProperties::default(),
            delay: Duration::ZERO,
        })
        .await
        .unwrap();
    let body = booking_body(restaurant, table_type);
    assert_eq!(
        harness.post_reservation(&body).await.status,
        StatusCode::ACCEPTED
    );
    harness.start_worker();
    harness.wait_decided(&[id_of(&body)], DECIDE_TIMEOUT).await;
    let status = harness
        .get(&format!("/v1/reservations/{}", id_of(&body)))
        .await;
    assert_eq!(status.body["status"], "held");

    let dlq = harness.topology.dead_letter_queue();
    harness.wait_for_depth(&dlq, |depth| depth > 0).await;
    let connection = rabbitmq::connect(&amqp_url(), "maitred-test")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let dead = channel
        .basic_get(dlq.as_str().into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .expect("a dead letter");
    assert_eq!(dead.delivery.data, b"{ this is not a command");
    // The original routing key is kept, so a replay goes back to the same partition.
    assert_eq!(
        dead.delivery.routing_key.as_str(),
        rabbitmq::Topology::routing_key(partition)
    );
    connection.close(200, "ok".into()).await.unwrap();
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn bad_input_gets_a_problem_naming_the_fault_and_queues_nothing(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    let (other_restaurant, other_type) = seed_restaurant(&harness.store, 3).await;
    let _ = other_restaurant;
    let good = booking_body(restaurant, table_type);
    let with = |key: &str, value: serde_json::Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let mut missing_party = good.clone();
    missing_party.as_object_mut().unwrap().remove("partySize");
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();

    let cases = [
        (missing_party, 422, "partySize"),
        (
            with("restaurantId", json!(Uuid::new_v4())),
            422,
            "restaurantId",
        ),
        (with("tableTypeId", json!(other_type)), 422, "tableTypeId"),
        (with("date", json!(yesterday)), 422, "date"),
        (with("time", json!("16:07")), 422, "time"),
        (with("partySize", json!(0)), 422, "partySize"),
        (with("partySize", json!(9)), 422, "partySize"),
        (with("tableCount", json!(0)), 422, "tableCount"),
        (with("tableCount", json!(1000)), 422, "tableCount"),
        (with("partySize", json!("two")), 422, "partySize"),
        (
            with("reservationId", json!("not-a-uuid")),
            422,
            "reservationId",
        ),
        (
            with("guest", json!({"name": "", "email": "a@b.co"})),
            422,
            "guest.name",
        ),
    ];
    for (body, status, field) in cases {
        let reply = harness.post_reservation(&body).await;
        assert_eq!(reply.status.as_u16(), status, "{field}: {:?}", reply.body);
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(field),
            "detail {detail:?} should name {field}"
        );
    }

    let malformed = harness
        .request(axum::http::Method::POST, "/v1/reservations", None)
        .await;
    assert_eq!(malformed.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let not_json = send(
        &harness.app,
        axum::http::Request::post("/v1/reservations")
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{\"reservationId\":"))
            .unwrap(),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.headers["content-type"], "application/problem+json");

    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM reservation")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(harness.partition_depths().await, 0);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_request_recorded_but_never_published_is_swept_and_decided(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    let id = harness
        .record_without_publishing(&booking_body(restaurant, table_type))
        .await;
    assert_eq!(harness.partition_depths().await, 0);

    harness.start_worker();
    harness.start_sweeper();
    harness.wait_decided(&[id], DECIDE_TIMEOUT).await;
    let reservation = harness.store.reservation(id).await.unwrap().unwrap();
    assert_eq!(reservation.status, Status::Held);
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(outbox, 0);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_full_partition_answers_503_keeps_nothing_and_the_retry_is_decided(pool: PgPool) {
    let mut harness = Harness::with_max_length(pool, 1).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    // Quorum queues apply the bound once the queue has reached it, so it may take a publish
    // or two past max-length before the broker starts refusing.
    let mut accepted = Vec::new();
    let (second, refused) = loop {
        let body = booking_body(restaurant, table_type);
        let reply = harness.post_reservation(&body).await;
        if reply.status != StatusCode::ACCEPTED {
            break (body, reply);
        }
        accepted.push(id_of(&body));
        assert!(accepted.len() < 5, "the partition never refused a publish");
    };
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        refused.body
    );
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    let gone = harness
        .get(&format!("/v1/reservations/{}", id_of(&second)))
        .await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "a 503 must leave nothing behind"
    );

    harness.start_worker();
    harness.wait_decided(&accepted, DECIDE_TIMEOUT).await;
    let retry = harness.post_reservation(&second).await;
    assert_eq!(retry.status, StatusCode::ACCEPTED, "{:?}", retry.body);
    harness
        .wait_decided(&[id_of(&second)], DECIDE_TIMEOUT)
        .await;
    let booked = accepted.len() as i32 + 1;
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![booked; 6]
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_message_that_keeps_failing_is_dead_lettered_after_the_delivery_limit(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, cursed_type) = seed_restaurant(&harness.store, 3).await;
    let healthy_type = booking::TableType {
        id: Uuid::new_v4(),
        restaurant_id: restaurant,
        name: "bar seat".into(),
        seats_min: 1,
        seats_max: 2,
        base_price_cents: 1000,
        currency: "EUR".into(),
        tables: 0,
        version: 1,
    };
    harness
        .store
        .insert_table_type(&healthy_type, 2, "B")
        .await
        .unwrap();
    // Every decision for the cursed type fails inside the database, as a bug would.
    sqlx::raw_sql(&format!(
        "CREATE FUNCTION fail_cursed() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'simulated failure'; END $$;
         CREATE TRIGGER cursed BEFORE INSERT ON inventory FOR EACH ROW
         WHEN (NEW.table_type_id = '{cursed_type}') EXECUTE FUNCTION fail_cursed();"
    ))
    .execute(harness.store.pool())
    .await
    .unwrap();

    let cursed = booking_body(restaurant, cursed_type);
    let healthy = booking_body(restaurant, healthy_type.id);
    assert_eq!(
        harness.post_reservation(&cursed).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        harness.post_reservation(&healthy).await.status,
        StatusCode::ACCEPTED
    );
    harness.start_worker();

    // The request behind the failing one is still decided, after at most a few retries.
    harness
        .wait_decided(&[id_of(&healthy)], DECIDE_TIMEOUT)
        .await;
    let dlq = harness.topology.dead_letter_queue();
    harness.wait_for_depth(&dlq, |depth| depth > 0).await;
    // Dead-lettered, not decided: it waits for ops, still pending and holding nothing.
    let stuck = harness
        .get(&format!("/v1/reservations/{}", id_of(&cursed)))
        .await;
    assert_eq!(stuck.body["status"], "pending");
    assert!(reserved_per_slot(&harness.store, cursed_type)
        .await
        .is_empty());
    assert_eq!(harness.partition_depths().await, 0);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_retry_refused_by_a_full_partition_keeps_the_request_and_it_is_decided(pool: PgPool) {
    let mut harness = Harness::with_max_length(pool, 1).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 3).await;
    // A request that was recorded (and maybe answered 202) but whose publish never settled.
    let body = booking_body(restaurant, table_type);
    let id = harness.record_without_publishing(&body).await;
    // Fill the partition until the broker refuses.
    loop {
        let filler = harness
            .post_reservation(&booking_body(restaurant, table_type))
            .await;
        if filler.status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
    }
    // The retry is refused by the broker too, but someone may already hold a 202 for this
    // request: it must stay, and the answer is 202, never 503.
    let retry = harness.post_reservation(&body).await;
    assert_eq!(retry.status, StatusCode::ACCEPTED, "{:?}", retry.body);
    let pinned: bool = sqlx::query_scalar("SELECT pinned FROM outbox WHERE reservation_id = $1")
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert!(pinned);

    harness.start_worker();
    harness.start_sweeper();
    harness.wait_decided(&[id], DECIDE_TIMEOUT).await;
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_pending_answer_gives_the_place_in_the_queue_and_an_estimated_wait(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 10).await;
    // A worker elsewhere reported 50 ms per command; none runs here, so the queue only grows.
    harness
        .store
        .record_pace(Uuid::new_v4(), Duration::from_millis(50))
        .await
        .unwrap();
    let mut places = Vec::new();
    for _ in 0..3 {
        let reply = harness
            .post_reservation(&booking_body(restaurant, table_type))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        places.push(reply.body["queue"].clone());
        // Past the depth cache, so each answer reads the queue afresh.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        places,
        [
            json!({"position": 1, "estimatedWaitSeconds": 0.1}),
            json!({"position": 2, "estimatedWaitSeconds": 0.1}),
            json!({"position": 3, "estimatedWaitSeconds": 0.2}),
        ]
    );
    harness.finish().await;
}
