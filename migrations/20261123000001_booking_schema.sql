-- The booking schema. The database is the last guard: the CHECK on inventory refuses overselling
-- past the overbooking limit, and the reservation's primary key (the client's reservationId)
-- refuses a second booking for one id, whatever the application code does.

CREATE TABLE restaurant (
    id                       uuid PRIMARY KEY,
    name                     text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    address                  text NOT NULL DEFAULT '',
    latitude                 double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude                double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    time_zone                text NOT NULL,
    slot_minutes             integer NOT NULL DEFAULT 15 CHECK (slot_minutes BETWEEN 5 AND 240 AND 1440 % slot_minutes = 0),
    default_duration_minutes integer NOT NULL DEFAULT 90 CHECK (default_duration_minutes BETWEEN 15 AND 720),
    overbooking_pct          integer NOT NULL DEFAULT 10 CHECK (overbooking_pct BETWEEN 0 AND 100),
    booking_horizon_days     integer NOT NULL DEFAULT 90 CHECK (booking_horizon_days BETWEEN 1 AND 730),
    refund_window_hours      integer NOT NULL DEFAULT 24 CHECK (refund_window_hours BETWEEN 0 AND 720),
    prepayment_required      boolean NOT NULL DEFAULT true,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- Opening hours in the restaurant's local time. An interval whose close is not after its open
-- crosses midnight (18:00-02:00). A day may have several intervals (lunch and dinner).
CREATE TABLE opening_hours (
    restaurant_id uuid NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    weekday       smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7), -- ISO 8601: 1 = Monday
    opens_at      time NOT NULL,
    closes_at     time NOT NULL,
    PRIMARY KEY (restaurant_id, weekday, opens_at)
);

CREATE TABLE table_type (
    id               uuid PRIMARY KEY,
    restaurant_id    uuid NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    seats_min        integer NOT NULL CHECK (seats_min >= 1),
    seats_max        integer NOT NULL CHECK (seats_max >= seats_min AND seats_max <= 50),
    base_price_cents bigint NOT NULL CHECK (base_price_cents >= 0),
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (restaurant_id, name)
);
CREATE INDEX table_type_restaurant ON table_type (restaurant_id);

-- "table" is a reserved word; a physical table is a dining_table.
CREATE TABLE dining_table (
    id            uuid PRIMARY KEY,
    table_type_id uuid NOT NULL REFERENCES table_type (id) ON DELETE CASCADE,
    label         text NOT NULL CHECK (length(btrim(label)) BETWEEN 1 AND 50),
    area          text NOT NULL DEFAULT '',
    active        boolean NOT NULL DEFAULT true,
    UNIQUE (table_type_id, label)
);

-- One row per table type and slot, created the first time a decision needs it, from the count of
-- the type's active tables. slot_start is local wall-clock time, so a service that runs past
-- midnight simply has slots on the next calendar day. overbooking_pct is copied in so the CHECK
-- can see it (a CHECK cannot read another table).
CREATE TABLE inventory (
    table_type_id   uuid NOT NULL REFERENCES table_type (id) ON DELETE CASCADE,
    slot_start      timestamp NOT NULL,
    total_inventory integer NOT NULL CHECK (total_inventory >= 0),
    total_reserved  integer NOT NULL DEFAULT 0 CHECK (total_reserved >= 0),
    overbooking_pct integer NOT NULL CHECK (overbooking_pct BETWEEN 0 AND 100),
    PRIMARY KEY (table_type_id, slot_start),
    CONSTRAINT inventory_within_overbooking_limit
        CHECK (total_reserved <= total_inventory * (100 + overbooking_pct) / 100)
);

-- The price of a table type on a date; without a row the type's base price applies.
CREATE TABLE rate (
    table_type_id uuid NOT NULL REFERENCES table_type (id) ON DELETE CASCADE,
    service_date  date NOT NULL,
    price_cents   bigint NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (table_type_id, service_date)
);

CREATE TABLE guest (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    email      text NOT NULL UNIQUE, -- stored lower-case
    phone      text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation (
    id               uuid PRIMARY KEY, -- the client's reservationId, also the idempotency key
    restaurant_id    uuid NOT NULL REFERENCES restaurant (id),
    table_type_id    uuid NOT NULL REFERENCES table_type (id),
    guest_id         uuid NOT NULL REFERENCES guest (id),
    -- The guest's details as given in this request: the idempotency check compares against
    -- them, and a later booking that updates the guest must not make this request look changed.
    guest_name       text NOT NULL,
    guest_email      text NOT NULL,
    guest_phone      text,
    table_count      integer NOT NULL CHECK (table_count >= 1),
    party_size       integer NOT NULL CHECK (party_size >= 1),
    service_date     date NOT NULL,
    start_time       time NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
    status           text NOT NULL CHECK (status IN ('pending', 'held', 'confirmed', 'rejected',
                         'expired', 'canceled', 'refunded', 'completed', 'no_show')),
    reason           text,  -- why it was rejected (no_availability, closed, ...)
    price_cents      bigint CHECK (price_cents >= 0), -- fixed when the worker decides
    currency         char(3),
    hold_expires_at  timestamptz,
    callback_url     text,
    payment_token    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservation_guest ON reservation (guest_id, created_at DESC);
CREATE INDEX reservation_restaurant_date ON reservation (restaurant_id, service_date);

-- Append-only audit log: every transition, with why and by whom.
CREATE TABLE reservation_event (
    id             bigserial PRIMARY KEY,
    reservation_id uuid NOT NULL REFERENCES reservation (id) ON DELETE CASCADE,
    from_status    text,
    to_status      text NOT NULL,
    reason         text,
    actor          text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservation_event_reservation ON reservation_event (reservation_id, id);

-- The transactional outbox: a row here means "the command for this reservation has not been
-- confirmed by the broker yet". Intake deletes it once the publish is confirmed; the sweeper
-- re-publishes what is left behind by a crash or a lost broker. `pinned` is set once the request
-- must never be withdrawn: a publish may have reached the broker, or a client was told 202.
CREATE TABLE outbox (
    reservation_id uuid PRIMARY KEY REFERENCES reservation (id) ON DELETE CASCADE,
    pinned         boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);
