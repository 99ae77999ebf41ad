-- Changing a booking (issue 18). A diner's change is a row of its own, decided on the
-- restaurant's serial lane like every change of inventory: the new slots are taken and the old
-- ones given back in one transaction, or nothing changes and the change is rejected with why.
-- A change that costs more is charged first (`awaiting_payment`) and applied once captured.
CREATE TABLE reservation_change (
    id               uuid PRIMARY KEY,
    reservation_id   uuid NOT NULL REFERENCES reservation (id) ON DELETE CASCADE,
    status           text NOT NULL CONSTRAINT reservation_change_status_known
                         CHECK (status IN ('pending', 'awaiting_payment', 'applied', 'rejected')),
    reason           text,  -- why it was rejected
    -- What the booking becomes.
    table_type_id    uuid NOT NULL REFERENCES table_type (id),
    table_count      integer NOT NULL CHECK (table_count >= 1),
    party_size       integer NOT NULL CHECK (party_size >= 1),
    service_date     date NOT NULL,
    start_time       time NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
    -- What it was, once decided, for the audit log, the webhook and the email.
    old_table_type_id    uuid,
    old_table_count      integer,
    old_party_size       integer,
    old_service_date     date,
    old_start_time       time,
    old_duration_minutes integer,
    old_price_cents      bigint,
    new_price_cents      bigint CHECK (new_price_cents >= 0),
    payment_token    text,  -- the card that pays a higher price, when the diner gave one
    actor            text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz
);
-- One change under way per booking at a time.
CREATE UNIQUE INDEX reservation_change_one_open ON reservation_change (reservation_id)
    WHERE status IN ('pending', 'awaiting_payment');
CREATE INDEX reservation_change_reservation ON reservation_change (reservation_id, created_at DESC);

-- A change's price difference is a payment of its own: a charge of the difference, or refunds
-- of it. `refund_of` names the charge a refund gives back, and no refund exceeds what is left
-- on its charge: a lower price is refunded from the latest charges first, and a canceled
-- booking gets back what is left on each. The booking's own charge, refund and fee stay one of
-- each; a change has at most one charge, and one refund per charge it gives back from.
ALTER TABLE payment ADD COLUMN change_id uuid REFERENCES reservation_change (id);
ALTER TABLE payment ADD COLUMN refund_of uuid REFERENCES payment (id);
ALTER TABLE payment DROP CONSTRAINT payment_reservation_id_kind_key;
CREATE UNIQUE INDEX payment_one_of_each_kind ON payment (reservation_id, kind) WHERE change_id IS NULL;
CREATE UNIQUE INDEX payment_one_charge_per_change ON payment (change_id)
    WHERE change_id IS NOT NULL AND kind = 'charge';
CREATE UNIQUE INDEX payment_one_refund_per_change_and_charge ON payment (change_id, refund_of)
    WHERE change_id IS NOT NULL AND kind = 'refund';
