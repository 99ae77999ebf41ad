-- The life of a reservation after its decision: payments, hold expiry, cancellation, refunds,
-- webhooks, and the outbox for every message a committed transition must send.

-- The slots a reservation holds, as reserved. Releasing uses exactly these, so a later change
-- of the restaurant's slot length cannot release the wrong slots; NULL once released.
ALTER TABLE reservation ADD COLUMN reserved_slots timestamp[];
-- When the periodic sweep last asked the restaurant's partition to expire this hold, so the
-- sweep does not flood a long queue with the same request.
ALTER TABLE reservation ADD COLUMN expiry_nudged_at timestamptz;
CREATE INDEX reservation_held_expiry ON reservation (hold_expires_at) WHERE status = 'held';

-- Money, recorded apart from the reservation's state. The id is also the idempotency key sent
-- to the gateway, so a redelivered job can never charge twice.
CREATE TABLE payment (
    id                uuid PRIMARY KEY,
    reservation_id    uuid NOT NULL REFERENCES reservation (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('charge', 'refund')),
    amount_cents      bigint NOT NULL CHECK (amount_cents >= 0),
    currency          char(3) NOT NULL,
    status            text NOT NULL CHECK (status IN ('requested', 'captured', 'declined',
                          'refunded', 'failed')),
    gateway           text NOT NULL,
    token             text,            -- the card token of a charge, as the client gave it
    gateway_reference text,            -- the gateway's id of the charge or refund
    failure           text,            -- why it was declined or failed
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- One charge and at most one refund per reservation.
    UNIQUE (reservation_id, kind)
);

-- Endpoints staff register to hear about every reservation of a restaurant.
CREATE TABLE webhook_endpoint (
    id            uuid PRIMARY KEY,
    restaurant_id uuid NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    url           text NOT NULL,
    -- The signing secret ("whsec_..."). HMAC needs the secret itself, so it cannot be hashed.
    secret        text NOT NULL,
    description   text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoint_restaurant ON webhook_endpoint (restaurant_id);

-- The outbox of follow-up messages: written in the same transaction as the change that needs
-- them, deleted once the broker confirms them. Whatever a crash leaves is sent by the sweeper,
-- and every consumer is idempotent, so sending twice is harmless and sending never is impossible.
CREATE TABLE outbound_message (
    id            uuid PRIMARY KEY,  -- the AMQP message id
    destination   text NOT NULL CHECK (destination IN ('partition', 'payments', 'webhooks')),
    restaurant_id uuid,              -- routes a partition command
    delay_ms      bigint NOT NULL DEFAULT 0 CHECK (delay_ms >= 0),
    kind          text NOT NULL,     -- the AMQP type property, for logs and ops
    body          jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (destination <> 'partition' OR restaurant_id IS NOT NULL)
);
CREATE INDEX outbound_message_age ON outbound_message (created_at);

-- The simulated payment gateway's own ledger, as a real gateway keeps one on its side: it makes
-- the idempotency key hold across processes and restarts, and lets tests count charges.
CREATE TABLE simulated_gateway_operation (
    idempotency_key uuid PRIMARY KEY,
    operation       text NOT NULL CHECK (operation IN ('charge', 'refund')),
    amount_cents    bigint NOT NULL,
    currency        char(3) NOT NULL,
    token           text,
    outcome         text NOT NULL,   -- captured | declined | refunded | failed
    reference       text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
