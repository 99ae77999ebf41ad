//! Changing a booking (`PATCH /v1/reservations/{id}`): atomic under concurrency, its price
//! difference charged or refunded once, the restaurant's policy, and the webhook that
//! announces it.

use super::*;

/// Waits until no change of these reservations is under way.
async fn wait_changes_decided(harness: &Harness, ids: &[Uuid]) {
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reservation_change
             WHERE reservation_id = ANY($1) AND status IN ('pending', 'awaiting_payment')",
        )
        .bind(ids)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
        if open == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} changes still under way"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn change(harness: &Harness, id: Uuid, body: Value) -> Reply {
    harness
        .staff_request(
            Method::PATCH,
            &format!("/v1/reservations/{id}"),
            Some(&body),
        )
        .await
}

/// Books `count` parties of two at `time`, confirmed without prepayment, and returns them.
async fn book_many(
    harness: &Harness,
    restaurant: Uuid,
    table_type: Uuid,
    time: &str,
    count: usize,
) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let mut body = booking_body(restaurant, table_type);
        body["time"] = json!(time);
        let reply = harness.post_reservation(&body).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        ids.push(id_of(&reply.body));
    }
    harness.wait_decided(&ids, SETTLE_TIMEOUT).await;
    ids
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn fifty_diners_moving_into_ten_tables_make_exactly_ten_moves(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 60).await;
    set_prepayment(&harness, restaurant, false).await;
    sqlx::query("UPDATE restaurant SET overbooking_pct = 0 WHERE id = $1")
        .bind(restaurant)
        .execute(harness.store.pool())
        .await
        .unwrap();
    harness.start_worker();
    let movers = book_many(&harness, restaurant, table_type, "19:00", 50).await;
    let stayers = book_many(&harness, restaurant, table_type, "21:00", 50).await;
    let confirmed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reservation WHERE status = 'confirmed'")
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(confirmed, 100);

    // All 50 at once ask for 21:00, where 10 of 60 tables are left.
    let replies = futures_util::future::join_all(
        movers
            .iter()
            .map(|id| change(&harness, *id, json!({ "time": "21:00" }))),
    )
    .await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        assert_eq!(reply.body["status"], "pending");
    }
    wait_changes_decided(&harness, &movers).await;

    let outcomes: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, reason, count(*) FROM reservation_change GROUP BY status, reason
         ORDER BY status",
    )
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(
        outcomes,
        vec![
            ("applied".into(), None, 10),
            ("rejected".into(), Some("no_availability".into()), 40),
        ]
    );
    // Every booking holds exactly the slots of its time: the 10 moved ones 21:00's, the 40
    // others still 19:00's, and no one both or neither.
    let held: Vec<(String, i64)> = sqlx::query_as(
        "SELECT to_char(start_time, 'HH24:MI'), count(*) FROM reservation
         WHERE status = 'confirmed' AND reserved_slots[1] = service_date + start_time
           AND cardinality(reserved_slots) = 6
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(held, vec![("19:00".into(), 40), ("21:00".into(), 60)]);
    let reserved = reserved_per_slot(&harness.store, table_type).await;
    assert_eq!(reserved, [vec![40; 6], vec![60; 6]].concat());
    // The audit log of a mover that lost says why.
    let lost: Uuid = sqlx::query_scalar(
        "SELECT reservation_id FROM reservation_change WHERE status = 'rejected' LIMIT 1",
    )
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    assert!(transitions_of(&harness, lost)
        .await
        .contains(&"confirmed:modification_rejected: no_availability".to_owned()));
    drop(stayers);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_price_difference_is_charged_or_refunded_once_and_announced(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 20).await;
    harness.start_worker();
    let receiver = Receiver::start(0).await;
    let mut body = booking_body(restaurant, table_type);
    body["paymentToken"] = json!("tok_visa");
    body["callbackUrl"] = json!(receiver.url);
    let id = id_of(&harness.post_reservation(&body).await.body);
    harness.wait_status(id, "confirmed", SETTLE_TIMEOUT).await;

    // Six people at two tables instead of two at one: 25.00 EUR more, charged before the
    // change applies.
    let bigger = json!({ "tableCount": 2, "partySize": 6 });
    let asked = change(&harness, id, bigger.clone()).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    let location = asked
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    // Asking again for the change under way is the same change.
    let again = change(&harness, id, bigger).await;
    assert_eq!(
        again.body["changeId"], asked.body["changeId"],
        "{}",
        again.body
    );
    wait_changes_decided(&harness, &[id]).await;
    let decided = harness.get(&location).await;
    assert_eq!(decided.body["status"], "applied", "{}", decided.body);
    assert_eq!(decided.body["oldPriceCents"], 2500);
    assert_eq!(decided.body["newPriceCents"], 5000);
    let reservation = harness.get(&format!("/v1/reservations/{id}")).await.body;
    assert_eq!(reservation["tableCount"], 2);
    assert_eq!(reservation["priceCents"], 5000);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![2; 6]
    );

    // Back to one table: 25.00 EUR refunded.
    let back = change(&harness, id, json!({ "tableCount": 1, "partySize": 2 })).await;
    assert_eq!(back.status, StatusCode::ACCEPTED, "{}", back.body);
    wait_changes_decided(&harness, &[id]).await;
    let amounts = || async {
        sqlx::query_as::<_, (String, String, i64, bool)>(
            "SELECT kind, status, amount_cents, change_id IS NOT NULL FROM payment
             WHERE reservation_id = $1 ORDER BY created_at",
        )
        .bind(id)
        .fetch_all(harness.store.pool())
        .await
        .unwrap()
    };
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    while amounts()
        .await
        .iter()
        .any(|(_, status, _, _)| status == "requested")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            amounts().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expected = vec![
        ("charge".to_owned(), "captured".to_owned(), 2500, false),
        ("charge".to_owned(), "captured".to_owned(), 2500, true),
        ("refund".to_owned(), "refunded".to_owned(), 2500, true),
    ];
    assert_eq!(amounts().await, expected);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );

    // Deciding the changes again, as a redelivery would, moves no money and no table.
    let change_ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM reservation_change WHERE reservation_id = $1")
            .bind(id)
            .fetch_all(harness.store.pool())
            .await
            .unwrap();
    let policy = booking::DecisionPolicy {
        hold_for: Duration::from_secs(600),
        gateway: "simulated".into(),
        pricing: booking::PricingSteps::default(),
    };
    for change_id in change_ids {
        let outcome = harness
            .store
            .modify(id, change_id, &policy, Utc::now())
            .await
            .unwrap();
        assert_eq!(outcome, booking::store::ChangeOutcome::AlreadyDecided);
    }
    let payments: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM payment WHERE reservation_id = $1")
            .bind(id)
            .fetch_all(harness.store.pool())
            .await
            .unwrap();
    for payment in payments {
        harness.store.settle(id, payment).await.unwrap();
    }
    assert_eq!(amounts().await, expected);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type).await,
        vec![1; 6]
    );
    let gateway_operations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM simulated_gateway_operation")
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    assert_eq!(gateway_operations, 3);

    // Each change was announced with what the booking was before.
    let seen = receiver
        .wait_for(|seen| {
            seen.iter()
                .filter(|r| event_type(r) == "reservation.modified")
                .count()
                == 2
        })
        .await;
    let first: Value = serde_json::from_str(
        &seen
            .iter()
            .find(|r| event_type(r) == "reservation.modified")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(first["previous"]["tableCount"], 1);
    assert_eq!(first["previous"]["priceCents"], 2500);
    assert_eq!(first["data"]["tableCount"], 2);
    let emails: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM notification WHERE reservation_id = $1 AND kind LIKE 'modified%'
         ORDER BY kind",
    )
    .bind(id)
    .fetch_all(harness.store.pool())
    .await
    .unwrap();
    assert_eq!(emails, vec!["modified_1", "modified_2"]);

    // Canceled afterwards, the booking gets back exactly what it paid, net.
    let canceled = harness
        .staff_request(Method::DELETE, &format!("/v1/reservations/{id}"), None)
        .await;
    assert!(canceled.status.is_success());
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let refunded: Option<i64> = sqlx::query_scalar(
            "SELECT sum(amount_cents)::int8 FROM payment
             WHERE reservation_id = $1 AND kind = 'refund' AND status = 'refunded'",
        )
        .bind(id)
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
        // 25.00 refunded by the change, and the 25.00 still paid by the cancellation.
        if refunded == Some(5000) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            amounts().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_restaurants_policy_bounds_changes(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 5).await;
    set_prepayment(&harness, restaurant, false).await;
    let rules = |cutoff: i64| {
        json!({
            "pacing": [], "turnTimes": [],
            "modificationCutoffMinutes": cutoff, "maxModifications": 1,
        })
    };
    let set = harness
        .staff_request(
            Method::PUT,
            &format!("/v1/restaurants/{restaurant}/booking-rules"),
            Some(&rules(60)),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    harness.start_worker();
    let id = book_many(&harness, restaurant, table_type, "19:00", 1).await[0];

    // A change that changes nothing, and one to a time the restaurant is not open, are named.
    let same = change(&harness, id, json!({ "time": "19:00" })).await;
    assert_eq!(
        same.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        same.body
    );
    let off_grid = change(&harness, id, json!({ "time": "19:07" })).await;
    assert_eq!(off_grid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(off_grid.body["field"], "time");

    let first = change(&harness, id, json!({ "partySize": 3 })).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    wait_changes_decided(&harness, &[id]).await;
    assert_eq!(
        harness.get(&format!("/v1/reservations/{id}")).await.body["partySize"],
        3
    );
    // One change is all this restaurant allows.
    let second = change(&harness, id, json!({ "partySize": 4 })).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.body);
    assert!(second.body["detail"]
        .as_str()
        .unwrap()
        .contains("changed 1 times"));

    // Inside the cut-off (a month, for a booking a week away) nothing changes.
    harness
        .staff_request(
            Method::PUT,
            &format!("/v1/restaurants/{restaurant}/booking-rules"),
            Some(&json!({
                "pacing": [], "turnTimes": [],
                "modificationCutoffMinutes": 43200, "maxModifications": 5,
            })),
        )
        .await;
    let late = change(&harness, id, json!({ "partySize": 4 })).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert!(late.body["detail"]
        .as_str()
        .unwrap()
        .contains("minutes before the start"));
    // A canceled booking cannot change.
    harness
        .staff_request(Method::DELETE, &format!("/v1/reservations/{id}"), None)
        .await;
    harness.wait_status(id, "canceled", SETTLE_TIMEOUT).await;
    let gone = change(&harness, id, json!({ "partySize": 2 })).await;
    assert_eq!(gone.status, StatusCode::CONFLICT, "{}", gone.body);
    harness.finish().await;
}
