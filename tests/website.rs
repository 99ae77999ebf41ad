//! The diners' pages through the whole application (real PostgreSQL and RabbitMQ), as HTTP
//! sees them: forms posted as a browser posts them, cookies sent back as a browser does. The
//! same journeys in a real browser are in tests/browser.rs.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use common::*;
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

const DECIDE_TIMEOUT: Duration = Duration::from_secs(60);

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Page {
    /// The `maitred_receipt=…` pair of the Set-Cookie header, as a browser sends it back.
    fn receipt_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with("maitred_receipt="))
            .map(|value| value.split(';').next().unwrap().to_owned())
    }

    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the form field `name` on the page.
    fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.text.find(&marker).expect(name) + marker.len();
        let end = self.text[start..].find('"').unwrap();
        self.text[start..start + end].to_owned()
    }
}

async fn fetch(
    app: &Router,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Page {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::ACCEPT, "text/html");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    if form.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let body = form.map_or_else(Body::empty, |form| Body::from(form.to_owned()));
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn next_week() -> String {
    (Utc::now().date_naive() + chrono::Duration::days(7)).to_string()
}

/// The booking form's fields for a party of two at 19:00 next week, as the form posts them.
fn booking_form(table_type: Uuid, reservation: Uuid, email: &str, card: &str) -> String {
    format!(
        "reservationId={reservation}&retryKey={}&tableType={table_type}&date={}&time=19%3A00\
         &partySize=2&name=Ann+Lee&email={}&phone=&paymentToken={card}",
        Uuid::new_v4().simple(),
        next_week(),
        email.replace('@', "%40"),
    )
}

fn book_path(restaurant: Uuid) -> String {
    format!("/restaurants/{restaurant}/book")
}

async fn reservations_of(harness: &Harness, email: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM reservation WHERE guest_email = $1")
        .bind(email)
        .fetch_one(harness.store.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_double_submitted_form_books_once_and_both_answers_open_the_booking(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let form = fetch(
        &harness.app,
        Method::GET,
        &format!(
            "/restaurants/{restaurant}/book?tableType={table_type}&date={}&time=19:00&partySize=2",
            next_week()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("€25.00"), "the form shows the price");
    let posted = format!(
        "reservationId={}&retryKey={}&tableType={table_type}&date={}&time=19%3A00&partySize=2\
         &name=Ann+Lee&email=ann%40example.com&phone=&paymentToken=tok_visa",
        form.field("reservationId"),
        form.field("retryKey"),
        next_week()
    );
    let path = book_path(restaurant);
    let (first, second) = tokio::join!(
        fetch(&harness.app, Method::POST, &path, None, Some(&posted)),
        fetch(&harness.app, Method::POST, &path, None, Some(&posted)),
    );
    for answer in [&first, &second] {
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
        assert_eq!(
            answer.location(),
            format!("/reservations/{}", form.field("reservationId"))
        );
        assert!(
            answer.receipt_cookie().is_some(),
            "each answer carries the receipt"
        );
    }
    assert_eq!(reservations_of(&harness, "ann@example.com").await, 1);

    harness.start_worker();
    let id: Uuid = form.field("reservationId").parse().unwrap();
    harness.wait_status(id, "confirmed", DECIDE_TIMEOUT).await;
    let page = fetch(
        &harness.app,
        Method::GET,
        first.location(),
        second.receipt_cookie().as_deref(),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Confirmed"), "{}", page.text);
    assert!(
        page.text.contains("You paid <strong>€25.00</strong>"),
        "{}",
        page.text
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn two_hundred_bookings_for_twenty_tables_show_twenty_two_bookings_and_the_rest_refused(
    pool: PgPool,
) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 20).await;
    harness.follow_inventory().await;
    harness.start_worker();

    let mut posts = tokio::task::JoinSet::new();
    for n in 0..200 {
        let app = harness.app.clone();
        let id = Uuid::new_v4();
        let form = booking_form(table_type, id, &format!("diner{n}@example.com"), "tok_visa");
        posts.spawn(async move {
            let page = fetch(
                &app,
                Method::POST,
                &book_path(restaurant),
                None,
                Some(&form),
            )
            .await;
            (id, page)
        });
    }
    let (mut booked, mut sold_out_pages) = (Vec::new(), 0);
    while let Some(answer) = posts.join_next().await {
        let (id, page) = answer.unwrap();
        match page.status {
            StatusCode::SEE_OTHER => booked.push((id, page.receipt_cookie().unwrap())),
            StatusCode::CONFLICT => {
                assert!(page.text.contains("Sold out."), "{}", page.text);
                // The stay overlaps 17:45 to 20:15; the nearest free times are offered.
                assert!(
                    page.text.contains("These times are free:") && page.text.contains("time=20:30"),
                    "{}",
                    page.text
                );
                sold_out_pages += 1;
            }
            other => panic!("{other}: {}", page.text),
        }
    }
    let ids: Vec<Uuid> = booked.iter().map(|(id, _)| *id).collect();
    harness.wait_decided(&ids, DECIDE_TIMEOUT).await;

    let (mut kept, mut refused) = (0, 0);
    for (id, cookie) in &booked {
        let page = fetch(
            &harness.app,
            Method::GET,
            &format!("/reservations/{id}"),
            Some(cookie),
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        if page.text.contains("Table held") || page.text.contains(">Confirmed<") {
            kept += 1;
        } else {
            assert!(
                page.text.contains("Not booked")
                    && page
                        .text
                        .contains("the last tables of this kind at that time went to other diners"),
                "{}",
                page.text
            );
            refused += 1;
        }
    }
    assert_eq!(kept, 22, "20 tables and 10% overbooking");
    assert_eq!(kept + refused + sold_out_pages, 200);
    assert_eq!(
        reserved_per_slot(&harness.store, table_type)
            .await
            .iter()
            .max(),
        Some(&22)
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_reservation_page_opens_only_with_its_receipt(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
    let mut cookies = Vec::new();
    for (id, email) in [(mine, "me@example.com"), (theirs, "them@example.com")] {
        let form = booking_form(table_type, id, email, "tok_visa");
        let answer = fetch(
            &harness.app,
            Method::POST,
            &book_path(restaurant),
            None,
            Some(&form),
        )
        .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
        let set_cookie = answer
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            set_cookie.contains(&format!("Path=/reservations/{id}")),
            "{set_cookie}"
        );
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
        cookies.push(answer.receipt_cookie().unwrap());
    }
    let page = format!("/reservations/{mine}");

    let anonymous = fetch(&harness.app, Method::GET, &page, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.text.contains("Open it with the link"),
        "plain words, not problem+json"
    );
    assert!(anonymous.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    let wrong = fetch(&harness.app, Method::GET, &page, Some(&cookies[1]), None).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let own = fetch(&harness.app, Method::GET, &page, Some(&cookies[0]), None).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.text
            .contains("You are <span class=\"place\">number 1</span> in the queue"),
        "{}",
        own.text
    );
    assert_eq!(own.headers[header::CACHE_CONTROL], "no-store");

    // The link carries the token; opening it sets the cookie for this reservation only.
    let token = cookies[0].trim_start_matches("maitred_receipt=");
    let linked = fetch(
        &harness.app,
        Method::GET,
        &format!("{page}?token={token}"),
        None,
        None,
    )
    .await;
    assert_eq!(linked.status, StatusCode::OK);
    assert_eq!(
        linked.receipt_cookie().as_deref(),
        Some(cookies[0].as_str())
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn cancelling_takes_the_pages_own_form_and_refunds_a_week_ahead(pool: PgPool) {
    let mut harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    harness.start_worker();
    let id = Uuid::new_v4();
    let form = booking_form(table_type, id, "ann@example.com", "tok_visa");
    let booked = fetch(
        &harness.app,
        Method::POST,
        &book_path(restaurant),
        None,
        Some(&form),
    )
    .await;
    let cookie = booked.receipt_cookie().unwrap();
    harness.wait_status(id, "confirmed", DECIDE_TIMEOUT).await;

    let confirm = fetch(
        &harness.app,
        Method::GET,
        &format!("/reservations/{id}/cancel"),
        Some(&cookie),
        None,
    )
    .await;
    assert!(
        confirm.text.contains("Cancel now: full refund of €25.00"),
        "{}",
        confirm.text
    );
    let cancel = format!("/reservations/{id}/cancel");
    for forged in ["csrf=", "csrf=not-the-token"] {
        let refused = fetch(
            &harness.app,
            Method::POST,
            &cancel,
            Some(&cookie),
            Some(forged),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let no_cookie = format!("csrf={}", confirm.field("csrf"));
    let refused = fetch(&harness.app, Method::POST, &cancel, None, Some(&no_cookie)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    harness.wait_status(id, "confirmed", Duration::ZERO).await;

    let done = fetch(
        &harness.app,
        Method::POST,
        &cancel,
        Some(&cookie),
        Some(&no_cookie),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    harness.wait_status(id, "refunded", DECIDE_TIMEOUT).await;
    let page = fetch(
        &harness.app,
        Method::GET,
        &format!("/reservations/{id}"),
        Some(&cookie),
        None,
    )
    .await;
    assert!(
        page.text.contains("Cancelled and refunded"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("data-final=\"true\""),
        "nothing more will happen"
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_bad_entry_is_named_next_to_its_field_and_books_nothing(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let (restaurant, table_type) = seed_restaurant(&harness.store, 4).await;
    let form = booking_form(table_type, Uuid::new_v4(), "not-an-email", "tok_visa");
    let page = fetch(
        &harness.app,
        Method::POST,
        &book_path(restaurant),
        None,
        Some(&form),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text.contains("<span class=\"field-error\" id=\"email-error\">The email address must be an email address like name@example.com.</span>"),
        "{}",
        page.text
    );
    assert!(page.text.contains("aria-invalid=\"true\""));
    assert!(
        page.text.contains("value=\"not-an-email\""),
        "what was typed is kept"
    );
    assert_eq!(reservations_of(&harness, "not-an-email").await, 0);

    let past = fetch(
        &harness.app,
        Method::GET,
        &format!("/restaurants/{restaurant}?date=2020-01-01&partySize=2"),
        None,
        None,
    )
    .await;
    assert_eq!(past.status, StatusCode::OK);
    assert!(
        past.text.contains("The date is in the past."),
        "{}",
        past.text
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn assets_are_cached_by_etag_and_unknown_pages_are_pages(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let home = fetch(&harness.app, Method::GET, "/", None, None).await;
    let css = home.text.split("href=\"/assets/site.css").nth(1).unwrap();
    let css = format!("/assets/site.css{}", &css[..css.find('"').unwrap()]);
    let first = fetch(&harness.app, Method::GET, &css, None, None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.text.contains(":root"));
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = harness
        .app
        .clone()
        .oneshot(
            Request::get(&css)
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let missing = fetch(&harness.app, Method::GET, "/no-such-page", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text.contains("There is no page at this address."));
    let api = harness
        .request(Method::GET, "/v1/no-such-route", None)
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let restaurant = fetch(
        &harness.app,
        Method::GET,
        &format!("/restaurants/{}", Uuid::new_v4()),
        None,
        None,
    )
    .await;
    assert_eq!(restaurant.status, StatusCode::NOT_FOUND);
    assert!(restaurant
        .text
        .contains("We could not find that restaurant."));
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_find_page_pages_through_every_restaurant_with_room_once(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let four_top = ("4-top", 1, 4, 4000, 2);
    let mut expected = Vec::new();
    for number in 0..13 {
        let name = format!("Berlin {number:02}");
        seed_restaurant_with(
            &harness.store,
            &name,
            "Berlin",
            (52.52, 13.40),
            &[four_top],
            |_| {},
        )
        .await;
        expected.push(name);
    }
    let mut seen = Vec::new();
    let mut path = format!(
        "/?city=berlin&date={}&time=19%3A00&partySize=2",
        next_week()
    );
    for _ in 0..5 {
        let page = fetch(&harness.app, Method::GET, &path, None, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for card in page.text.split("<li class=\"card\"><h3><a href=\"").skip(1) {
            let name_start = card.find("\">").unwrap() + 2;
            let name_end = card[name_start..].find('<').unwrap();
            seen.push(card[name_start..name_start + name_end].to_owned());
        }
        let Some(more) = page.text.split("href=\"/?").nth(1) else {
            break;
        };
        let link = &more[..more.find('"').unwrap()];
        path = format!("/?{}", link.replace("&amp;", "&"));
    }
    assert_eq!(seen, expected, "each restaurant once, in name order");

    // A cursor that is not one is a plain-words error on the page, not a crash.
    let bad = fetch(
        &harness.app,
        Method::GET,
        &format!(
            "/?city=Berlin&date={}&time=19%3A00&partySize=2&cursor=%%%",
            next_week()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let bad = fetch(
        &harness.app,
        Method::GET,
        &format!(
            "/?city=Berlin&date={}&time=19%3A00&partySize=2&cursor=bm9wZQ",
            next_week()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.text.contains("This link"), "{}", bad.text);
    harness.finish().await;
}
