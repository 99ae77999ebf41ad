//! Dead letters as the staff see them, shared by `maitred dlq` and the `/v1/dead-letters`
//! routes: what a message is about (its restaurant and reservation), the filters, the
//! selection, and the JSON views. The mechanics (reading without losing, replaying with
//! confirms) are [`rabbitmq::dead_letters`].
//!
//! The restaurant of a message:
//! - a partition command is an [`Envelope`], which names it;
//! - a webhook job carries the event's payload, whose `data` is the reservation;
//! - a payment job names only its payment: the restaurant is looked up in the database when
//!   a [`Store`] is at hand (the API always has one), and is unknown otherwise, so such a
//!   message then never matches a restaurant filter;
//! - anything else (a malformed message) has none.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use base64::Engine;
use booking::messages::{Envelope, PaymentJob, WebhookJob};
use booking::{Invalid, Store};
use chrono::{DateTime, Utc};
use rabbitmq::dead_letters::{Action, DeadLetter, Outcome, Progress, Selector, Sweep};
use rabbitmq::{DeadLetterError, DeadLetterQueue, DeadLetters};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;
use uuid::Uuid;

/// The reasons RabbitMQ dead-letters a message for.
pub const REASONS: [&str; 4] = ["rejected", "delivery_limit", "expired", "maxlen"];

/// Which dead letters to consider. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Why it was dead-lettered (one of [`REASONS`]).
    pub reason: Option<String>,
    pub restaurant_id: Option<Uuid>,
    /// Dead for at least this long (a message whose death time is unknown never matches).
    pub min_age: Option<Duration>,
}

impl Filter {
    /// # Errors
    /// An unknown reason, naming `reason`.
    pub fn new(
        reason: Option<&str>,
        restaurant_id: Option<Uuid>,
        min_age: Option<Duration>,
    ) -> Result<Self, Invalid> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(reason) = reason {
            if !REASONS.contains(&reason) {
                return Err(Invalid::new(
                    "reason",
                    format!("must be one of {}", REASONS.join(", ")),
                ));
            }
        }
        Ok(Self {
            reason: reason.map(str::to_owned),
            restaurant_id,
            min_age,
        })
    }

    fn matches(&self, letter: &DeadLetter, subject: &Subject, now: DateTime<Utc>) -> bool {
        let reason = self
            .reason
            .as_deref()
            .is_none_or(|reason| letter.reason() == Some(reason));
        let restaurant = self
            .restaurant_id
            .is_none_or(|id| subject.restaurant_id == Some(id));
        let age = self
            .min_age
            .is_none_or(|min| letter.age(now).is_some_and(|age| age >= min));
        reason && restaurant && age
    }
}

/// The messages a replay or purge acts on: the ones named, or every one; either way only
/// those that pass the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Message ids (see [`DeadLetter::id`]); empty with `all`.
    pub ids: BTreeSet<String>,
    pub all: bool,
    pub filter: Filter,
}

impl Selection {
    /// # Errors
    /// Neither ids nor `all`, or both.
    pub fn new(ids: Vec<String>, all: bool, filter: Filter) -> Result<Self, Invalid> {
        let ids: BTreeSet<String> = ids
            .into_iter()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .collect();
        match (ids.is_empty(), all) {
            (true, false) => Err(Invalid::new(
                "ids",
                "name the messages by id, or choose all of them (with the filters) explicitly",
            )),
            (false, true) => Err(Invalid::new(
                "all",
                "either name the messages by id or choose all, not both",
            )),
            _ => Ok(Self { ids, all, filter }),
        }
    }

    /// Every message that passes `filter`.
    pub fn matching(filter: Filter) -> Self {
        Self {
            ids: BTreeSet::new(),
            all: true,
            filter,
        }
    }

    /// The message named `id` (all of its copies), whatever it is.
    pub fn one(id: &str) -> Self {
        Self {
            ids: BTreeSet::from([id.to_owned()]),
            all: false,
            filter: Filter::default(),
        }
    }
}

/// What a message is about, from its body (and the database, for payment jobs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub restaurant_id: Option<Uuid>,
    pub reservation_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    /// The command or job: `decide`, `charge`, `webhook`, …; `None` for a body that is not a
    /// maitred message.
    pub command: Option<&'static str>,
}

impl Subject {
    /// Reads a body, without the database.
    pub fn of(body: &[u8]) -> Self {
        if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
            return Self {
                restaurant_id: Some(envelope.restaurant_id),
                reservation_id: envelope.command.reservation_id(),
                payment_id: match envelope.command {
                    booking::messages::Command::Settle { payment_id, .. } => Some(payment_id),
                    _ => None,
                },
                command: Some(envelope.command.kind()),
            };
        }
        if let Ok(job) = serde_json::from_slice::<WebhookJob>(body) {
            let event: Option<Value> = serde_json::from_str(&job.payload).ok();
            let restaurant_id = event
                .as_ref()
                .and_then(|event| event["data"]["restaurantId"].as_str())
                .and_then(|id| id.parse().ok());
            return Self {
                restaurant_id,
                reservation_id: Some(job.reservation_id),
                payment_id: None,
                command: Some("webhook"),
            };
        }
        if let Ok(job) = serde_json::from_slice::<PaymentJob>(body) {
            return Self {
                restaurant_id: None,
                reservation_id: None,
                payment_id: Some(job.payment_id()),
                command: Some(job.kind()),
            };
        }
        Self::default()
    }
}

/// Finds what messages are about, looking payment jobs up in the database when it has one
/// (each payment once).
pub struct Resolver {
    store: Option<Store>,
    payments: Mutex<HashMap<Uuid, Option<(Uuid, Uuid)>>>,
}

impl Resolver {
    pub fn new(store: Option<Store>) -> Self {
        Self {
            store,
            payments: Mutex::new(HashMap::new()),
        }
    }

    pub async fn subject(&self, letter: &DeadLetter) -> Subject {
        let mut subject = Subject::of(&letter.body);
        if subject.restaurant_id.is_none() {
            if let (Some(payment_id), Some(store)) = (subject.payment_id, &self.store) {
                let mut known = self.payments.lock().await;
                let found = match known.get(&payment_id) {
                    Some(found) => *found,
                    None => {
                        let found = match store.payment(payment_id).await {
                            Ok(payment) => payment.map(|p| (p.restaurant_id, p.reservation_id)),
                            Err(error) => {
                                tracing::warn!(%error, %payment_id, "could not look the payment up");
                                None
                            }
                        };
                        known.insert(payment_id, found);
                        found
                    }
                };
                if let Some((restaurant_id, reservation_id)) = found {
                    subject.restaurant_id = Some(restaurant_id);
                    subject.reservation_id = Some(reservation_id);
                }
            }
        }
        subject
    }
}

/// A [`Selection`] as the mechanics' [`Selector`].
struct Selecting<'a> {
    selection: &'a Selection,
    resolver: &'a Resolver,
    now: DateTime<Utc>,
}

impl Selector for Selecting<'_> {
    async fn select(&self, letter: &DeadLetter) -> bool {
        if !self.selection.all && !self.selection.ids.contains(&letter.id) {
            return false;
        }
        let subject = self.resolver.subject(letter).await;
        self.selection.filter.matches(letter, &subject, self.now)
    }
}

/// One dead letter, in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterSummary {
    /// The AMQP message id, or `anon-…` for a message published without one. Select
    /// messages with it.
    pub id: String,
    /// Which dead-letter queue: `commands` or `webhooks`.
    pub queue: String,
    /// The AMQP `type`: `decide`, `settle`, `expire_hold`, `cancel`, `sync_inventory`,
    /// `charge`, `refund`, `webhook`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Where a replay goes: the partition `p.NNN`, `payments` or `webhooks`.
    pub routing_key: String,
    /// Why it was dead-lettered: `rejected` (the consumer gave up on it), `delivery_limit`
    /// (it failed too often), `expired`, `maxlen`; null when the broker did not say.
    pub reason: Option<String>,
    /// The queue it died in.
    pub died_in: Option<String>,
    /// How many times it died (more than 1 after a replay that failed again).
    pub death_count: u64,
    pub first_death_at: Option<DateTime<Utc>>,
    pub age_seconds: Option<u64>,
    pub restaurant_id: Option<Uuid>,
    pub reservation_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
}

/// One dead letter in full.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterDetail {
    #[serde(flatten)]
    pub summary: DeadLetterSummary,
    /// The `x-death` entries, most recent first (passes through delay queues are timers).
    #[schema(value_type = Vec<Object>)]
    pub deaths: Vec<rabbitmq::dead_letters::Death>,
    /// The AMQP properties other than the headers.
    #[schema(value_type = Object)]
    pub properties: Value,
    #[schema(value_type = Object)]
    pub headers: Value,
    /// The body: JSON as is, other text as a string, other bytes in base64.
    #[schema(value_type = Object)]
    pub body: Value,
    /// `json`, `text` or `base64`.
    pub body_encoding: &'static str,
}

/// What a replay or purge did (or, in a dry run, would do) to one message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SweepItem {
    #[serde(flatten)]
    pub summary: DeadLetterSummary,
    /// `replayed`, `purged`, `would_replay`, `would_purge` or `failed` (still in the queue).
    pub outcome: String,
    pub error: Option<String>,
}

/// The result of a replay or a purge.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// `replay` or `purge`.
    pub action: String,
    pub queue: String,
    /// Nothing was changed.
    pub dry_run: bool,
    /// Messages read.
    pub scanned: u64,
    /// Messages selected (by id or all) that passed the filters.
    pub matched: u64,
    pub replayed: u64,
    pub purged: u64,
    /// Messages read but not selected: left in place.
    pub skipped: u64,
    /// Selected messages whose replay the broker refused: still in the queue.
    pub failed: u64,
    /// Requested ids that are not in the queue (or did not pass the filters).
    pub not_found: Vec<String>,
    pub messages: Vec<SweepItem>,
}

impl SweepReport {
    /// `replayed 3, skipped 10, failed 0` (or `would replay …` for a dry run).
    pub fn summary_line(&self) -> String {
        let (done, count) = match (self.action.as_str(), self.dry_run) {
            ("replay", false) => ("replayed", self.replayed),
            ("replay", true) => ("would replay", self.matched),
            (_, false) => ("purged", self.purged),
            (_, true) => ("would purge", self.matched),
        };
        let mut line = format!(
            "{done} {count}, skipped {}, failed {}",
            self.skipped, self.failed
        );
        if !self.not_found.is_empty() {
            line.push_str(&format!(", not found {}", self.not_found.len()));
        }
        line
    }
}

/// Reads the whole queue and returns the dead letters that pass `filter`, leaving them all.
///
/// # Errors
/// See [`DeadLetterError`].
pub async fn list(
    dead_letters: &DeadLetters,
    queue: DeadLetterQueue,
    filter: &Filter,
    resolver: &Resolver,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Vec<DeadLetterSummary>, DeadLetterError> {
    let selection = Selection::matching(filter.clone());
    let now = Utc::now();
    let selector = Selecting {
        selection: &selection,
        resolver,
        now,
    };
    let sweep = dead_letters.browse(queue, &selector, progress).await?;
    let mut items = Vec::with_capacity(sweep.chosen.len());
    for handled in &sweep.chosen {
        items.push(summarize(queue, &handled.letter, resolver, now).await);
    }
    Ok(items)
}

/// The dead letter `id` in full (the first copy, if a crash left two), leaving it.
///
/// # Errors
/// See [`DeadLetterError`].
pub async fn show(
    dead_letters: &DeadLetters,
    queue: DeadLetterQueue,
    id: &str,
    resolver: &Resolver,
) -> Result<Option<DeadLetterDetail>, DeadLetterError> {
    let selection = Selection::one(id);
    let now = Utc::now();
    let selector = Selecting {
        selection: &selection,
        resolver,
        now,
    };
    let sweep = dead_letters.browse(queue, &selector, &|_| {}).await?;
    let Some(handled) = sweep.chosen.first() else {
        return Ok(None);
    };
    let letter = &handled.letter;
    let (body, body_encoding) = body_view(&letter.body);
    Ok(Some(DeadLetterDetail {
        summary: summarize(queue, letter, resolver, now).await,
        deaths: letter.deaths.clone(),
        properties: properties_view(&letter.properties),
        headers: letter.headers_json(),
        body,
        body_encoding,
    }))
}

/// Replays or purges the selected dead letters; a dry run only reports them.
///
/// # Errors
/// See [`DeadLetterError`].
pub async fn sweep(
    dead_letters: &DeadLetters,
    queue: DeadLetterQueue,
    action: Action,
    selection: &Selection,
    dry_run: bool,
    resolver: &Resolver,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<SweepReport, DeadLetterError> {
    let now = Utc::now();
    let selector = Selecting {
        selection,
        resolver,
        now,
    };
    let sweep: Sweep = match action {
        Action::Replay => {
            dead_letters
                .replay(queue, &selector, dry_run, progress)
                .await?
        }
        Action::Purge => {
            dead_letters
                .purge(queue, &selector, dry_run, progress)
                .await?
        }
        Action::Browse => dead_letters.browse(queue, &selector, progress).await?,
    };
    let mut messages = Vec::with_capacity(sweep.chosen.len());
    for handled in &sweep.chosen {
        let (outcome, error) = match (&handled.outcome, action) {
            (Outcome::Replayed, _) => ("replayed", None),
            (Outcome::Purged, _) => ("purged", None),
            (Outcome::Failed(why), _) => ("failed", Some(why.clone())),
            (Outcome::Kept, Action::Purge) => ("would_purge", None),
            (Outcome::Kept, _) => ("would_replay", None),
        };
        messages.push(SweepItem {
            summary: summarize(queue, &handled.letter, resolver, now).await,
            outcome: outcome.into(),
            error,
        });
    }
    let seen: BTreeSet<&str> = sweep.chosen.iter().map(|h| h.letter.id.as_str()).collect();
    Ok(SweepReport {
        action: match action {
            Action::Replay => "replay",
            Action::Purge => "purge",
            Action::Browse => "browse",
        }
        .into(),
        queue: queue.to_string(),
        dry_run,
        scanned: sweep.scanned,
        matched: sweep.chosen.len() as u64,
        replayed: sweep.replayed(),
        purged: sweep.purged(),
        skipped: sweep.skipped,
        failed: sweep.failed(),
        not_found: selection
            .ids
            .iter()
            .filter(|id| !seen.contains(id.as_str()))
            .cloned()
            .collect(),
        messages,
    })
}

async fn summarize(
    queue: DeadLetterQueue,
    letter: &DeadLetter,
    resolver: &Resolver,
    now: DateTime<Utc>,
) -> DeadLetterSummary {
    let subject = resolver.subject(letter).await;
    DeadLetterSummary {
        id: letter.id.clone(),
        queue: queue.to_string(),
        kind: letter
            .kind
            .clone()
            .or_else(|| subject.command.map(str::to_owned)),
        routing_key: letter.routing_key.clone(),
        reason: letter.reason().map(str::to_owned),
        died_in: letter.died_in().map(str::to_owned),
        death_count: letter.death_count(),
        first_death_at: letter.first_death_at(),
        age_seconds: letter.age(now).map(|age| age.as_secs()),
        restaurant_id: subject.restaurant_id,
        reservation_id: subject.reservation_id,
        payment_id: subject.payment_id,
    }
}

fn body_view(body: &[u8]) -> (Value, &'static str) {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        (json, "json")
    } else if let Ok(text) = std::str::from_utf8(body) {
        (Value::String(text.to_owned()), "text")
    } else {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            "base64",
        )
    }
}

fn properties_view(properties: &rabbitmq::lapin::BasicProperties) -> Value {
    let text = |s: &Option<rabbitmq::lapin::types::ShortString>| {
        s.as_ref().map(|s| Value::String(s.as_str().to_owned()))
    };
    let fields = [
        ("messageId", text(properties.message_id())),
        ("type", text(properties.kind())),
        ("contentType", text(properties.content_type())),
        ("contentEncoding", text(properties.content_encoding())),
        ("correlationId", text(properties.correlation_id())),
        ("replyTo", text(properties.reply_to())),
        ("expiration", text(properties.expiration())),
        ("userId", text(properties.user_id())),
        ("appId", text(properties.app_id())),
        (
            "deliveryMode",
            properties.delivery_mode().map(|mode| mode.into()),
        ),
        ("priority", properties.priority().map(|p| p.into())),
        (
            "timestamp",
            properties
                .timestamp()
                .and_then(|t| DateTime::from_timestamp(i64::try_from(t).ok()?, 0))
                .map(|t| Value::String(t.to_rfc3339())),
        ),
    ];
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
            .collect(),
    )
}

/// Reads an age: `90s`, `15m`, `2h`, `3d`, or plain seconds.
///
/// # Errors
/// Anything else, naming `minAge`.
pub fn parse_age(text: &str) -> Result<Duration, Invalid> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|n| n.checked_mul(scale))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Invalid::new(
                "minAge",
                "must be a number of seconds, or a number followed by s, m, h or d",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking::messages::{Command, WebhookTarget};
    use rabbitmq::lapin::types::{AMQPValue, FieldArray, FieldTable, LongString};
    use rabbitmq::lapin::BasicProperties;
    use rabbitmq::Topology;

    fn topology() -> Topology {
        Topology {
            prefix: String::new(),
            partitions: 4,
            max_length: 10,
            delivery_limit: 3,
        }
    }

    /// A dead letter rejected by `p.001` `seconds_ago` seconds ago.
    fn letter(id: &str, body: Vec<u8>, reason: &str, seconds_ago: i64) -> DeadLetter {
        let text = |s: &str| AMQPValue::LongString(LongString::from(s));
        let mut death = FieldTable::default();
        death.insert("queue".into(), text("maitred.p.001"));
        death.insert("reason".into(), text(reason));
        death.insert("count".into(), AMQPValue::LongLongInt(1));
        let at = (Utc::now() - chrono::Duration::seconds(seconds_ago)).timestamp();
        death.insert("time".into(), AMQPValue::Timestamp(at as u64));
        let mut headers = FieldTable::default();
        headers.insert(
            "x-death".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
        );
        let properties = rabbitmq::properties(id, "decide").with_headers(headers);
        DeadLetter::new(&topology(), "p.001", properties, body)
    }

    fn decide(restaurant_id: Uuid) -> Vec<u8> {
        booking::messages::to_json(&Envelope {
            restaurant_id,
            command: Command::Decide {
                reservation_id: Uuid::nil(),
            },
        })
    }

    #[test]
    fn subjects_come_from_envelopes_webhook_payloads_and_payment_jobs() {
        let restaurant = Uuid::new_v4();
        let subject = Subject::of(&decide(restaurant));
        assert_eq!(subject.restaurant_id, Some(restaurant));
        assert_eq!(subject.reservation_id, Some(Uuid::nil()));
        assert_eq!(subject.command, Some("decide"));

        let reservation = Uuid::new_v4();
        let job = WebhookJob {
            webhook_id: "evt_1".into(),
            reservation_id: reservation,
            attempt: 3,
            target: WebhookTarget::Callback {
                url: "https://example.com/hook".into(),
            },
            payload: serde_json::json!({
                "type": "reservation.held",
                "data": {"reservationId": reservation, "restaurantId": restaurant},
            })
            .to_string(),
        };
        let subject = Subject::of(&booking::messages::to_json(&job));
        assert_eq!(subject.restaurant_id, Some(restaurant));
        assert_eq!(subject.reservation_id, Some(reservation));
        assert_eq!(subject.command, Some("webhook"));

        let payment = Uuid::new_v4();
        let subject = Subject::of(&booking::messages::to_json(&PaymentJob::Charge {
            payment_id: payment,
        }));
        assert_eq!(subject.payment_id, Some(payment));
        assert_eq!(subject.restaurant_id, None, "needs the database");
        assert_eq!(Subject::of(b"{ not json"), Subject::default());
    }

    #[test]
    fn filters_combine_reason_restaurant_and_age() {
        let restaurant = Uuid::new_v4();
        let old = letter("a", decide(restaurant), "rejected", 3600);
        let young = letter("b", decide(restaurant), "delivery_limit", 10);
        let elsewhere = letter("c", decide(Uuid::new_v4()), "rejected", 3600);
        let ageless = DeadLetter::new(
            &topology(),
            "p.001",
            BasicProperties::default(),
            decide(restaurant),
        );
        let now = Utc::now();
        let check = |filter: &Filter, letter: &DeadLetter| {
            filter.matches(letter, &Subject::of(&letter.body), now)
        };

        let everything = Filter::default();
        assert!([&old, &young, &elsewhere, &ageless]
            .iter()
            .all(|l| check(&everything, l)));
        let rejected = Filter::new(Some("rejected"), None, None).unwrap();
        assert!(check(&rejected, &old) && !check(&rejected, &young));
        assert!(!check(&rejected, &ageless), "no x-death, no reason");
        let here = Filter::new(None, Some(restaurant), None).unwrap();
        assert!(check(&here, &old) && check(&here, &young) && !check(&here, &elsewhere));
        let an_hour = Filter::new(None, None, Some(Duration::from_secs(1800))).unwrap();
        assert!(check(&an_hour, &old) && !check(&an_hour, &young));
        assert!(
            !check(&an_hour, &ageless),
            "an unknown age is not old enough"
        );
        let all_three = Filter::new(
            Some("rejected"),
            Some(restaurant),
            Some(Duration::from_secs(60)),
        )
        .unwrap();
        assert!(check(&all_three, &old));
        assert!(!check(&all_three, &young) && !check(&all_three, &elsewhere));

        assert_eq!(
            Filter::new(Some("bored"), None, None).unwrap_err().field,
            "reason"
        );
    }

    #[test]
    fn a_selection_names_ids_or_all_never_both_nor_neither() {
        let filter = Filter::default();
        assert_eq!(
            Selection::new(vec![], false, filter.clone())
                .unwrap_err()
                .field,
            "ids"
        );
        assert_eq!(
            Selection::new(vec!["a".into()], true, filter.clone())
                .unwrap_err()
                .field,
            "all"
        );
        let named =
            Selection::new(vec![" a ".into(), "b".into(), "".into()], false, filter).unwrap();
        assert_eq!(named.ids, BTreeSet::from(["a".into(), "b".into()]));

        let resolver = Resolver::new(None);
        let selecting = Selecting {
            selection: &named,
            resolver: &resolver,
            now: Utc::now(),
        };
        let pick = |l: &DeadLetter| futures_executor_lite(selecting.select(l));
        assert!(pick(&letter("a", decide(Uuid::nil()), "rejected", 5)));
        assert!(!pick(&letter("z", decide(Uuid::nil()), "rejected", 5)));
    }

    /// Runs a future that never waits (no database is involved).
    fn futures_executor_lite<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the future waited"),
        }
    }

    #[test]
    fn ages_read_units_and_bodies_show_as_json_text_or_base64() {
        assert_eq!(parse_age("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_age("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_age("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_age("1d").unwrap(), Duration::from_secs(86_400));
        for bad in ["", "m", "1w", "-5", "1.5h"] {
            assert_eq!(parse_age(bad).unwrap_err().field, "minAge", "{bad:?}");
        }
        assert_eq!(
            body_view(br#"{"a":1}"#),
            (serde_json::json!({"a": 1}), "json")
        );
        assert_eq!(
            body_view(b"{ oops"),
            (Value::String("{ oops".into()), "text")
        );
        assert_eq!(body_view(&[0xff, 0x00]).1, "base64");
    }

    #[test]
    fn the_summary_line_says_what_was_done() {
        let report = SweepReport {
            action: "replay".into(),
            queue: "commands".into(),
            dry_run: false,
            scanned: 5,
            matched: 3,
            replayed: 2,
            purged: 0,
            skipped: 2,
            failed: 1,
            not_found: vec!["x".into()],
            messages: vec![],
        };
        assert_eq!(
            report.summary_line(),
            "replayed 2, skipped 2, failed 1, not found 1"
        );
        let dry = SweepReport {
            dry_run: true,
            action: "purge".into(),
            not_found: vec![],
            ..report
        };
        assert_eq!(dry.summary_line(), "would purge 3, skipped 2, failed 1");
    }
}
