-- Emails to diners. One row per reservation and kind of message: the row is the message's
-- idempotency key (UNIQUE (reservation_id, kind)), its schedule and its record. A transition
-- writes the rows it causes in its own transaction: an immediate one (`confirmed`, `rejected`,
-- `canceled`, `refunded`) goes into the outbox at once, a timed one (a reminder, the hold's
-- warning) waits as `scheduled` until the worker's sweep moves it to the outbox when `due_at`
-- comes. The sender flips the row to `sent` once the SMTP server accepted the message, so a
-- redelivered job finds it sent and sends nothing.
CREATE TABLE notification (
    id              bigserial PRIMARY KEY,
    reservation_id  uuid NOT NULL REFERENCES reservation (id) ON DELETE CASCADE,
    -- `confirmed`, `rejected`, `hold_expiring`, `reminder_24h`, `canceled`, `refunded`,
    -- later `waitlist_offer`: one of each per reservation.
    kind            text NOT NULL
        CONSTRAINT notification_kind_format CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
    -- scheduled: waits for due_at; queued: in the outbox or the queue; sending: an attempt is
    -- under way (since claimed_at); failed: the last attempt failed, another one is scheduled;
    -- sent: the SMTP server accepted it; skipped: it no longer applied when it was due (the
    -- booking was canceled, the hold paid, its time had passed); canceled: the reservation
    -- left the status it needed before it was due; dead: the last attempt failed.
    status          text NOT NULL
        CONSTRAINT notification_status CHECK (status IN
            ('scheduled', 'queued', 'sending', 'failed', 'sent', 'skipped', 'canceled', 'dead')),
    -- The reservation's status the message needs when it is sent (`confirmed` for a reminder,
    -- `held` for the hold's warning); NULL: it applies whatever happens next.
    required_status text,
    due_at          timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0
        CONSTRAINT notification_attempts CHECK (attempts >= 0),
    last_error      text CONSTRAINT notification_last_error_length CHECK (length(last_error) <= 500),
    claimed_at      timestamptz,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_once_per_kind UNIQUE (reservation_id, kind),
    CONSTRAINT notification_sent_at CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
-- The sweep's scan: only the rows still waiting, oldest due first.
CREATE INDEX notification_due ON notification (due_at) WHERE status = 'scheduled';

-- The outbox carries notification jobs to their queue too.
ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_destination_check;
ALTER TABLE outbound_message ADD CONSTRAINT outbound_message_destination
    CHECK (destination IN ('partition', 'payments', 'webhooks', 'notifications'));
