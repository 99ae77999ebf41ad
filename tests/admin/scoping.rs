//! Who may write what: staff scoped to a restaurant, and roles that may not write at all.

use super::*;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn staff_of_one_restaurant_cannot_write_to_another_and_others_cannot_write_at_all(
    pool: PgPool,
) {
    let harness = Harness::new(pool).await;
    let (mine, my_type) = seed_restaurant(&harness.store, 2).await;
    let (theirs, their_type) = seed_restaurant(&harness.store, 2).await;
    let their_table: Uuid = sqlx::query_scalar(
        "SELECT id FROM dining_table WHERE table_type_id = $1 ORDER BY label LIMIT 1",
    )
    .bind(their_type)
    .fetch_one(harness.store.pool())
    .await
    .unwrap();
    let their_restaurant = format!("/v1/restaurants/{theirs}");
    let their_type_path = format!("{their_restaurant}/table-types/{their_type}");
    let rates_body = json!({"from": "2027-01-01", "to": "2027-01-02", "priceCents": 1});
    let writes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/v1/restaurants".into(),
            Some(restaurant_body("New")),
        ),
        (
            Method::PUT,
            their_restaurant.clone(),
            Some(full_restaurant_body("Mine now")),
        ),
        (
            Method::DELETE,
            format!("{their_restaurant}?force=true"),
            None,
        ),
        (
            Method::POST,
            format!("{their_restaurant}/table-types"),
            Some(table_type_body("Sneaky")),
        ),
        (
            Method::PUT,
            their_type_path.clone(),
            Some(table_type_body("Sneaky")),
        ),
        (Method::DELETE, their_type_path.clone(), None),
        (Method::GET, format!("{their_type_path}/tables"), None),
        (
            Method::POST,
            format!("{their_type_path}/tables"),
            Some(json!({"label": "Z"})),
        ),
        (
            Method::GET,
            format!("{their_type_path}/tables/{their_table}"),
            None,
        ),
        (
            Method::PUT,
            format!("{their_type_path}/tables/{their_table}"),
            Some(json!({"label": "Z", "area": "", "active": false})),
        ),
        (
            Method::DELETE,
            format!("{their_type_path}/tables/{their_table}"),
            None,
        ),
        (
            Method::PUT,
            format!("{their_type_path}/rates"),
            Some(rates_body.clone()),
        ),
        (
            Method::GET,
            format!("{their_type_path}/rates?from=2027-01-01&to=2027-01-02"),
            None,
        ),
        (
            Method::DELETE,
            format!("{their_type_path}/rates?from=2027-01-01&to=2027-01-02"),
            None,
        ),
    ];
    for (method, path, body) in &writes {
        let scoped = harness
            .scoped_staff_request(&[mine], method.clone(), path, body.as_ref())
            .await;
        assert_eq!(scoped.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(scoped.headers["content-type"], "application/problem+json");
        let anonymous = harness.request(method.clone(), path, body.as_ref()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
        let guest = harness
            .guest_request(method.clone(), path, body.as_ref())
            .await;
        assert_eq!(guest.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let forged = harness
        .send_as(
            Method::DELETE,
            &their_restaurant,
            None,
            Some("not-a-valid-token"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    // Nothing of theirs changed.
    let page = harness.get(&their_restaurant).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(etag(&page), "\"1\"");
    assert_eq!(page.body["name"], "Test Bistro");
    assert_eq!(page.body["tableTypes"][0]["tables"], 2);
    let rates: i64 = sqlx::query_scalar("SELECT count(*) FROM rate")
        .fetch_one(harness.store.pool())
        .await
        .unwrap();
    assert_eq!(rates, 0);

    // The same token does manage its own restaurant.
    let own = harness
        .scoped_staff_request(
            &[mine],
            Method::PUT,
            &format!("/v1/restaurants/{mine}/table-types/{my_type}/rates"),
            Some(&rates_body),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let own_table = harness
        .scoped_staff_request(
            &[mine],
            Method::POST,
            &format!("/v1/restaurants/{mine}/table-types/{my_type}/tables"),
            Some(&json!({"label": "Z"})),
        )
        .await;
    assert_eq!(own_table.status, StatusCode::CREATED, "{}", own_table.body);
    harness.finish().await;
}
