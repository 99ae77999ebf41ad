-- The waitlist: diners whose slot is sold out wait, in join order, for a table to come back.
-- The restaurant's serial worker offers freed capacity to the first entry that fits: the offer
-- is a reservation of its own (`held`, with the usual timer, or `confirmed` where no prepayment
-- is taken), made by the same decision as any booking.
CREATE TABLE waitlist_entry (
    id            uuid PRIMARY KEY,  -- the client's waitlistId, also the idempotency key
    restaurant_id uuid NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    service_date  date NOT NULL,
    -- The start times the diner would take, local wall-clock time, both included.
    window_from   time NOT NULL,
    window_until  time NOT NULL,
    party_size    integer NOT NULL,
    guest_name    text NOT NULL,
    guest_email   text NOT NULL,     -- lower-case
    guest_phone   text,
    callback_url  text,
    status        text NOT NULL DEFAULT 'waiting',
    -- The reservation offered (no foreign key: it is recorded just after the entry says so,
    -- and an offer whose reservation never came to be goes back to waiting).
    offer_id      uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT waitlist_status_known
        CHECK (status IN ('waiting', 'offered', 'booked', 'lapsed', 'left')),
    CONSTRAINT waitlist_window_in_order CHECK (window_from <= window_until),
    CONSTRAINT waitlist_party_size_range CHECK (party_size BETWEEN 1 AND 500),
    CONSTRAINT waitlist_offer_when_offered CHECK (status <> 'offered' OR offer_id IS NOT NULL)
);
-- The queue of a restaurant, in join order.
CREATE INDEX waitlist_entry_queue ON waitlist_entry (restaurant_id, created_at, id)
    WHERE status IN ('waiting', 'offered');
-- One place per diner and restaurant and date: a second join is a retry or a 409.
CREATE UNIQUE INDEX waitlist_one_place_per_guest ON waitlist_entry (restaurant_id, service_date, guest_email)
    WHERE status IN ('waiting', 'offered');
