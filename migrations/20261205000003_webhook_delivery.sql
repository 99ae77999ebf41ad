-- One row per webhook delivery attempt, written by the worker once the attempt's outcome is
-- known, so staff can see what each receiver answered (the admin panel's reservation detail).
--
-- Retention: one row per attempt, so at most `webhook_max_attempts` rows per message and
-- target (a redelivery after a crash may repeat one). Deferred deliveries (no free slot) make
-- no request and no row.
--
-- No foreign key to reservation: this is a log that must never make a delivery fail, and it
-- may outlive the reservation (a pending one is deleted when its request is withdrawn). No
-- secret is stored: the URL only (the URL policy refuses URLs with credentials).
CREATE TABLE webhook_delivery (
    id             bigserial PRIMARY KEY,
    reservation_id uuid NOT NULL,
    -- The `webhook-id` header, the same on every attempt and target of one event.
    webhook_id     text NOT NULL,
    url            text NOT NULL,
    -- The event's type, e.g. `reservation.confirmed`.
    event          text NOT NULL,
    attempt        integer NOT NULL CONSTRAINT webhook_delivery_attempt CHECK (attempt >= 1),
    -- delivered: a 2xx answer; failed: another attempt is scheduled; gave_up: dead-lettered.
    outcome        text NOT NULL
        CONSTRAINT webhook_delivery_outcome CHECK (outcome IN ('delivered', 'failed', 'gave_up')),
    http_status    integer,
    error          text CONSTRAINT webhook_delivery_error_length CHECK (length(error) <= 500),
    duration_ms    integer NOT NULL CONSTRAINT webhook_delivery_duration CHECK (duration_ms >= 0),
    at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_delivery_reservation ON webhook_delivery (reservation_id, at);
