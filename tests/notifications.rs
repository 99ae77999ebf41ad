//! Emails to diners, end to end: real PostgreSQL, RabbitMQ and a real SMTP server on loopback
//! ([`common::smtp`]).

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use booking::messages::{self, NotificationJob};
use booking::store::NotificationRecord;
use booking::Restaurant;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use common::smtp::SmtpSink;
use common::{booking_body, five_pm_zone, id_of, seed_restaurant_with, test_settings, Harness};
use rabbitmq::{Outgoing, Topology};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);
const PUBLIC_URL: &str = "https://book.example";

/// The settings of these tests: emails through `smtp`, retried on the webhooks' quick test
/// schedule (so the harness deletes the same delay queues), the schedule swept often.
fn settings_with(smtp: &SmtpSink) -> maitred::settings::Settings {
    let mut settings = test_settings(10_000);
    settings.smtp_url = Some(smtp.url());
    settings.mail_from = "Maitred Test <bookings@maitred.test>".into();
    settings.public_url = Some(PUBLIC_URL.into());
    settings.smtp_timeout = Duration::from_secs(5);
    settings.notify_max_attempts = settings.webhook_max_attempts;
    settings.notify_first_backoff = settings.webhook_first_backoff;
    settings.notify_max_backoff = settings.webhook_max_backoff;
    settings.notify_sweep_interval = Duration::from_millis(200);
    settings
}

/// "Le Petit Maître", open around the clock, with four 2-tops at 40 EUR, after `change`.
/// Returns (restaurant, table type).
async fn restaurant(harness: &Harness, change: impl FnOnce(&mut Restaurant)) -> (Uuid, Uuid) {
    let two_tops = ("2-top", 1, 4, 4000, 4);
    let name = "Le Petit Maître";
    let (restaurant, types) = seed_restaurant_with(
        &harness.store,
        name,
        "Paris",
        (48.85, 2.35),
        &[two_tops],
        change,
    )
    .await;
    (restaurant, types[0])
}

/// The restaurant in Paris, taking no prepayment: a booking is confirmed at once.
async fn paris_restaurant(harness: &Harness) -> (Uuid, Uuid) {
    restaurant(harness, |restaurant| {
        restaurant.time_zone = "Europe/Paris".into();
        restaurant.address = "1 rue de Rivoli".into();
        restaurant.prepayment_required = false;
    })
    .await
}

/// The application with `settings`, the Paris restaurant, and a worker running. Returns the
/// harness, the restaurant and its table type.
async fn started(pool: PgPool, settings: maitred::settings::Settings) -> (Harness, Uuid, Uuid) {
    let mut harness = Harness::with_settings(pool, settings).await;
    let (restaurant, table_type) = paris_restaurant(&harness).await;
    harness.start_worker();
    (harness, restaurant, table_type)
}

/// Books (a week ahead at 19:00, Paris time) and waits for the confirmation.
async fn book_confirmed(harness: &Harness, restaurant: Uuid, table_type: Uuid) -> (Uuid, Value) {
    let body = booking_body(restaurant, table_type);
    let reply = harness.post_reservation(&body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    let id = id_of(&body);
    harness.wait_status(id, "confirmed", WAIT).await;
    (id, body)
}

/// The booking's start as an instant: 19:00 in Paris on its date.
fn start_of(body: &Value) -> DateTime<Utc> {
    let date: NaiveDate = body["date"].as_str().unwrap().parse().unwrap();
    let local = date.and_time(NaiveTime::from_hms_opt(19, 0, 0).unwrap());
    chrono_tz::Europe::Paris
        .from_local_datetime(&local)
        .unwrap()
        .with_timezone(&Utc)
}

fn record<'a>(records: &'a [NotificationRecord], kind: &str) -> &'a NotificationRecord {
    records
        .iter()
        .find(|r| r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} notification in {records:#?}"))
}

/// Waits until the reservation's notification of `kind` has `status`, and returns it.
async fn wait_notification(
    harness: &Harness,
    reservation: Uuid,
    kind: &str,
    status: &str,
) -> NotificationRecord {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let records = harness.store.notifications_of(reservation).await.unwrap();
        if let Some(found) = records
            .iter()
            .find(|r| r.kind == kind && r.status == status)
        {
            return found.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {kind} notification {status} after {WAIT:?}: {records:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The messages about one reservation (its id is in every link).
fn about(messages: &[Value], reservation: Uuid) -> Vec<Value> {
    let id = reservation.to_string();
    messages
        .iter()
        .filter(|m| m["text"].as_str().unwrap().contains(&id))
        .cloned()
        .collect()
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_confirmed_booking_is_emailed_once_with_its_link_and_calendar_entry(pool: PgPool) {
    let smtp = SmtpSink::up().await;
    let (harness, restaurant, table_type) = started(pool, settings_with(&smtp)).await;

    let (id, body) = book_confirmed(&harness, restaurant, table_type).await;
    let sent = wait_notification(&harness, id, "confirmed", "sent").await;
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());

    // Marked sent only after the server accepted it: it is in the maildir, once.
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let mail = &messages[0];
    assert_eq!(mail["to"], "Ada Lovelace <ada@example.com>");
    assert!(mail["subject"]
        .as_str()
        .unwrap()
        .starts_with("Your table at Le Petit Maître is confirmed"));
    let link = format!("{PUBLIC_URL}/reservations/{id}");
    assert!(mail["text"].as_str().unwrap().contains(&link), "{mail:#?}");
    assert!(mail["html"]
        .as_str()
        .unwrap()
        .contains(&format!("href=\"{link}\"")));

    // The calendar entry: 19:00 in Paris, as UTC, for the restaurant's 90-minute sitting.
    let attachments = mail["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["filename"], "reservation.ics");
    assert_eq!(attachments[0]["type"], "text/calendar");
    let ics = attachments[0]["text"].as_str().unwrap();
    let start = start_of(&body);
    let end = start + chrono::Duration::minutes(90);
    let format = "%Y%m%dT%H%M%SZ";
    for line in [
        "BEGIN:VCALENDAR".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{id}@maitred"),
        format!("DTSTART:{}", start.format(format)),
        format!("DTEND:{}", end.format(format)),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ] {
        assert!(ics.lines().any(|l| l.trim_end() == line), "{line} in {ics}");
    }

    // The reminders wait in the schedule for their moment: 24 h and 2 h before the start.
    let records = harness.store.notifications_of(id).await.unwrap();
    for (kind, lead) in [("reminder_24h", 24), ("reminder_2h", 2)] {
        let reminder = record(&records, kind);
        assert_eq!(reminder.status, "scheduled");
        assert_eq!(reminder.due_at, start - chrono::Duration::hours(lead));
    }
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn reminders_arrive_once_when_due_and_never_for_a_booking_canceled_before(pool: PgPool) {
    let smtp = SmtpSink::up().await;
    let (harness, restaurant, table_type) = started(pool, settings_with(&smtp)).await;

    let (kept, body) = book_confirmed(&harness, restaurant, table_type).await;
    let (canceled, _) = book_confirmed(&harness, restaurant, table_type).await;
    let cancel = harness
        .guest_request(
            Method::DELETE,
            &format!("/v1/reservations/{canceled}"),
            None,
        )
        .await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{:?}", cancel.body);
    harness.wait_status(canceled, "canceled", WAIT).await;
    wait_notification(&harness, canceled, "canceled", "sent").await;
    // The cancellation ended the canceled booking's reminders in its own transaction.
    for kind in ["reminder_24h", "reminder_2h"] {
        let ended = wait_notification(&harness, canceled, kind, "canceled").await;
        assert_eq!(
            ended.last_error.as_deref(),
            Some("the reservation became canceled")
        );
    }

    // The schedule's clock is the caller's: sweep as if it were a second past each moment.
    let start = start_of(&body);
    for (kind, lead) in [("reminder_24h", 24), ("reminder_2h", 2)] {
        let moment = start - chrono::Duration::hours(lead) + chrono::Duration::seconds(1);
        let queued = harness
            .store
            .queue_due_notifications(moment, 100)
            .await
            .unwrap();
        assert_eq!(queued, 1, "only the kept booking's {kind}");
        harness.relay.wake();
        let sent = wait_notification(&harness, kept, kind, "sent").await;
        assert_eq!(sent.attempts, 1);
        // A second sweep of the same moment finds nothing left to queue.
        let again = harness.store.queue_due_notifications(moment, 100).await;
        assert_eq!(again.unwrap(), 0);
    }

    let messages = smtp.messages();
    let subjects = |reservation| -> Vec<String> {
        about(&messages, reservation)
            .iter()
            .map(|m| m["subject"].as_str().unwrap().to_owned())
            .collect()
    };
    let kept_subjects = subjects(kept);
    assert_eq!(kept_subjects.len(), 3, "{kept_subjects:#?}");
    // The maildir keeps no order: count by subject.
    assert!(kept_subjects.iter().any(|s| s.contains("is confirmed")));
    let reminders = kept_subjects
        .iter()
        .filter(|s| s.starts_with("Reminder: your table at Le Petit Maître"))
        .count();
    assert_eq!(reminders, 2, "{kept_subjects:#?}");
    let canceled_subjects = subjects(canceled);
    assert_eq!(canceled_subjects.len(), 2, "{canceled_subjects:#?}");
    assert!(canceled_subjects.iter().all(|s| !s.starts_with("Reminder")));
    assert!(about(&messages, kept)
        .iter()
        .any(|m| m["text"].as_str().unwrap().contains("2 hours from now")));

    // A reminder already on its way when the booking is canceled is checked when it is sent:
    // put one back in the queue's hands, as a job in flight would be, and it is skipped.
    let in_flight = record(
        &harness.store.notifications_of(canceled).await.unwrap(),
        "reminder_2h",
    )
    .id;
    sqlx::query("UPDATE notification SET status = 'queued' WHERE id = $1")
        .bind(in_flight)
        .execute(harness.store.pool())
        .await
        .unwrap();
    publish_job(&harness, in_flight, canceled, "reminder_2h", 1).await;
    let skipped = wait_notification(&harness, canceled, "reminder_2h", "skipped").await;
    assert_eq!(
        skipped.last_error.as_deref(),
        Some("the reservation is canceled now")
    );
    assert_eq!(skipped.attempts, 0, "never claimed for sending");
    harness.finish().await;
}

/// Publishes a notification job straight to the queue, as a redelivery or a duplicate would
/// arrive.
async fn publish_job(harness: &Harness, id: i64, reservation: Uuid, kind: &str, attempt: u32) {
    let job = NotificationJob {
        notification_id: id,
        reservation_id: reservation,
        kind: kind.into(),
        attempt,
    };
    harness
        .publisher
        .publish(Outgoing {
            routing_key: Topology::NOTIFICATIONS_KEY,
            body: &messages::to_json(&job),
            properties: rabbitmq::correlated_properties(
                &format!("test.{}", Uuid::new_v4()),
                "notification",
                None,
            ),
            delay: Duration::ZERO,
        })
        .await
        .unwrap();
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_redelivered_notification_job_sends_nothing_twice(pool: PgPool) {
    let smtp = SmtpSink::up().await;
    let mut settings = settings_with(&smtp);
    // One job at a time, in queue order: a job queued after the duplicates is handled after
    // them, so its email arriving says they were handled.
    settings.notify_concurrency = 1;
    let (harness, restaurant, table_type) = started(pool, settings).await;

    let (id, _) = book_confirmed(&harness, restaurant, table_type).await;
    let sent = wait_notification(&harness, id, "confirmed", "sent").await;
    smtp.wait_for(1).await;

    // The same job again, as the broker redelivers it, and a later attempt of it.
    for attempt in [1, 1, 2] {
        publish_job(&harness, sent.id, id, "confirmed", attempt).await;
    }
    // Then a message that must go: the cancellation's, queued behind them.
    let cancel = harness
        .guest_request(Method::DELETE, &format!("/v1/reservations/{id}"), None)
        .await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{:?}", cancel.body);
    wait_notification(&harness, id, "canceled", "sent").await;

    let subjects: Vec<Value> = smtp
        .messages()
        .iter()
        .map(|m| m["subject"].clone())
        .collect();
    assert_eq!(subjects.len(), 2, "the confirmation once: {subjects:#?}");
    let after = record(
        &harness.store.notifications_of(id).await.unwrap(),
        "confirmed",
    )
    .clone();
    assert_eq!(after.status, "sent");
    assert_eq!(after.attempts, 1);
    assert_eq!(after.sent_at, sent.sent_at);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn an_smtp_server_that_is_down_makes_the_email_retry_then_dead_letter_for_ops(pool: PgPool) {
    let mut smtp = SmtpSink::down();
    let (harness, restaurant, table_type) = started(pool, settings_with(&smtp)).await;

    let (id, _) = book_confirmed(&harness, restaurant, table_type).await;
    let dead = wait_notification(&harness, id, "confirmed", "dead").await;
    assert_eq!(dead.attempts, 3, "every attempt made: {dead:#?}");
    assert!(dead.last_error.is_some(), "{dead:#?}");
    assert!(dead.sent_at.is_none());
    // Into the dead-letter queue ops already watch, routed back to the emails when replayed.
    let dlq = harness.topology.dead_letter_queue();
    harness.wait_for_depth(&dlq, |depth| depth == 1).await;
    let listed = harness
        .staff_request(Method::GET, "/v1/dead-letters/commands", None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let letter = &listed.body[0];
    assert_eq!(letter["type"], "notification", "{letter}");
    assert_eq!(letter["reservationId"], id.to_string());
    assert_eq!(letter["routingKey"], Topology::NOTIFICATIONS_KEY);

    // The server is back; ops replay the dead letter, and the email goes, once.
    smtp.start().await;
    let replayed = harness
        .staff_request(
            Method::POST,
            "/v1/dead-letters/commands/replay",
            Some(&serde_json::json!({"all": true})),
        )
        .await;
    assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
    assert_eq!(replayed.body["replayed"], 1, "{}", replayed.body);
    let sent = wait_notification(&harness, id, "confirmed", "sent").await;
    assert_eq!(sent.attempts, 4);
    assert_eq!(about(&smtp.wait_for(1).await, id).len(), 1);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn an_smtp_server_that_comes_back_gets_the_email_on_a_retry(pool: PgPool) {
    let mut smtp = SmtpSink::down();
    let mut settings = settings_with(&smtp);
    // Enough attempts to outlast the server's start. The harness deletes the delay queues of
    // its webhook schedule, which the emails' keeps in step with.
    settings.notify_max_attempts = 8;
    settings.webhook_max_attempts = 8;
    let (harness, restaurant, table_type) = started(pool, settings).await;

    let (id, _) = book_confirmed(&harness, restaurant, table_type).await;
    let failed = wait_notification(&harness, id, "confirmed", "failed").await;
    assert!(failed.last_error.is_some());
    smtp.start().await;
    let sent = wait_notification(&harness, id, "confirmed", "sent").await;
    assert!(sent.attempts >= 2, "{sent:#?}");
    assert_eq!(about(&smtp.wait_for(1).await, id).len(), 1);
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_hold_about_to_expire_is_warned_once_and_a_paid_one_is_not(pool: PgPool) {
    let smtp = SmtpSink::up().await;
    let mut harness = Harness::with_settings(pool, settings_with(&smtp)).await;
    // This one takes prepayment: a booking without a card is held, unpaid.
    let (restaurant, table_type) = restaurant(&harness, |restaurant| {
        restaurant.time_zone = "Europe/Paris".into();
    })
    .await;
    harness.start_worker();

    let mut held = Vec::new();
    for _ in 0..2 {
        let body = booking_body(restaurant, table_type);
        let reply = harness.post_reservation(&body).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
        harness.wait_status(id_of(&body), "held", WAIT).await;
        held.push(id_of(&body));
    }
    let (unpaid, paid) = (held[0], held[1]);
    let pay = harness
        .guest_request(
            Method::POST,
            &format!("/v1/reservations/{paid}/payment"),
            Some(&serde_json::json!({"paymentToken": "tok_visa"})),
        )
        .await;
    assert_eq!(pay.status, StatusCode::ACCEPTED, "{:?}", pay.body);
    harness.wait_status(paid, "confirmed", WAIT).await;
    // Paying ended its warning in the same transaction, and scheduled its reminders.
    let ended = wait_notification(&harness, paid, "hold_expiring", "canceled").await;
    assert_eq!(
        ended.last_error.as_deref(),
        Some("the reservation became confirmed")
    );
    wait_notification(&harness, paid, "reminder_2h", "scheduled").await;

    // The warning is due 3 minutes (the default) before the hold expires.
    let expires: DateTime<Utc> =
        sqlx::query_scalar("SELECT hold_expires_at FROM reservation WHERE id = $1")
            .bind(unpaid)
            .fetch_one(harness.store.pool())
            .await
            .unwrap();
    let warning = record(
        &harness.store.notifications_of(unpaid).await.unwrap(),
        "hold_expiring",
    )
    .clone();
    assert_eq!(warning.status, "scheduled");
    assert_eq!(warning.due_at, expires - chrono::Duration::minutes(3));
    let queued = harness
        .store
        .queue_due_notifications(warning.due_at, 100)
        .await
        .unwrap();
    assert_eq!(queued, 1, "only the unpaid hold's warning");
    harness.relay.wake();
    wait_notification(&harness, unpaid, "hold_expiring", "sent").await;

    let about_unpaid = about(&smtp.wait_for(2).await, unpaid);
    assert_eq!(about_unpaid.len(), 1, "{about_unpaid:#?}");
    let until = expires
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%H:%M")
        .to_string();
    assert_eq!(
        about_unpaid[0]["subject"],
        format!("Your table at Le Petit Maître is held until {until}")
    );
    harness.finish().await;
}

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn a_reminder_goes_out_by_the_workers_own_clock_and_a_late_one_is_skipped(pool: PgPool) {
    // A booking a few minutes ahead (a restaurant on 5-minute slots), and a reminder
    // due 5 seconds from now, which the worker's periodic sweep must find by itself. Its 24 h
    // reminder was already late when the booking was confirmed.
    let now = Utc::now();
    let slot = 300;
    let start_secs = ((now.timestamp() + 120) / slot + 1) * slot;
    let start = DateTime::from_timestamp(start_secs, 0).unwrap();
    let lead = Duration::from_secs(u64::try_from((start - now).num_seconds() - 5).unwrap());
    let smtp = SmtpSink::up().await;
    let mut settings = settings_with(&smtp);
    settings.reminders = maitred::settings::Reminders(vec![Duration::from_secs(24 * 3600), lead]);
    let mut harness = Harness::with_settings(pool, settings).await;
    // On 5-minute slots, where it is now between 17:00 and 18:00: a booking minutes ahead
    // ends before the restaurant closes at midnight, whatever the hour of the machine.
    let zone = five_pm_zone();
    let local: chrono_tz::Tz = zone.parse().unwrap();
    let (restaurant, table_type) = restaurant(&harness, |restaurant| {
        restaurant.time_zone = zone.clone();
        restaurant.slot_minutes = 5;
        restaurant.prepayment_required = false;
    })
    .await;
    harness.start_worker();

    let mut body = booking_body(restaurant, table_type);
    let local_start = start.with_timezone(&local);
    body["date"] = serde_json::json!(local_start.date_naive().to_string());
    body["time"] = serde_json::json!(local_start.format("%H:%M").to_string());
    let reply = harness.post_reservation(&body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    let id = id_of(&body);
    harness.wait_status(id, "confirmed", WAIT).await;
    let late = wait_notification(&harness, id, "reminder_24h", "skipped").await;
    assert_eq!(
        late.last_error.as_deref(),
        Some("its time had passed when it was scheduled")
    );

    let kind = booking::NotificationKind::Reminder { lead }.key();
    let sent = wait_notification(&harness, id, &kind, "sent").await;
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.unwrap() >= start - chrono::Duration::from_std(lead).unwrap());
    let subjects: Vec<Value> = about(&smtp.wait_for(2).await, id)
        .iter()
        .map(|m| m["subject"].clone())
        .collect();
    assert_eq!(
        subjects.len(),
        2,
        "the confirmation and one reminder: {subjects:#?}"
    );
    assert!(
        subjects.iter().any(|s| s
            .as_str()
            .unwrap()
            .starts_with("Reminder: your table at Le Petit Maître")),
        "{subjects:#?}"
    );
    harness.finish().await;
}
