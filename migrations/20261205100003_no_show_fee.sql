-- No-show fees. A restaurant that takes no prepayment may charge a fee per guest when a party
-- does not come (and, if it says so, when a booking is canceled inside the refund window):
-- such a booking keeps the diner's card token on file, and the fee is a payment of its own.
ALTER TABLE restaurant ADD COLUMN no_show_fee_cents bigint NOT NULL DEFAULT 0
    CONSTRAINT restaurant_no_show_fee_range CHECK (no_show_fee_cents BETWEEN 0 AND 1000000);
ALTER TABLE restaurant ADD COLUMN late_cancellation_fee boolean NOT NULL DEFAULT false;

ALTER TABLE payment DROP CONSTRAINT payment_kind_check;
ALTER TABLE payment ADD CONSTRAINT payment_kind_known CHECK (kind IN ('charge', 'refund', 'fee'));
