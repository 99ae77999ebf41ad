-- Pacing and turn times (issue 18). A restaurant's booking rules are one JSON document, checked
-- by the application (see booking/src/booking_rules.rs): pacing by period of the day, turn times
-- by party size, and its policy for changing a booking.
ALTER TABLE restaurant ADD COLUMN booking_rules jsonb NOT NULL
    DEFAULT '{"pacing": [], "turnTimes": [], "modificationCutoffMinutes": 120, "maxModifications": 3}'
    CONSTRAINT restaurant_booking_rules_is_an_object CHECK (jsonb_typeof(booking_rules) = 'object');

-- The covers (people) starting in each slot of a restaurant, and the most that may: the pacing
-- ledger. The decision counts every booking's party in its first slot, in the same transaction
-- as its inventory, and the CHECK refuses exceeding a limit whatever the code does. The limit
-- is refreshed from the rules by each decision that touches the row; a limit lowered below what
-- is already booked becomes exactly what is booked, so nothing more starts there.
CREATE TABLE slot_covers (
    restaurant_id  uuid NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    slot_start     timestamp NOT NULL,
    covers_started integer NOT NULL DEFAULT 0 CONSTRAINT slot_covers_not_negative CHECK (covers_started >= 0),
    covers_limit   integer CONSTRAINT slot_covers_limit_not_negative CHECK (covers_limit >= 0),
    PRIMARY KEY (restaurant_id, slot_start),
    CONSTRAINT slot_covers_within_pacing CHECK (covers_limit IS NULL OR covers_started <= covers_limit)
);

-- The slot whose covers count this reservation, while it holds its tables: released with them.
ALTER TABLE reservation ADD COLUMN paced_slot timestamp;

-- The bookings that hold tables today are counted from the start.
INSERT INTO slot_covers (restaurant_id, slot_start, covers_started)
SELECT restaurant_id, reserved_slots[1], sum(party_size)
FROM reservation
WHERE reserved_slots IS NOT NULL AND cardinality(reserved_slots) > 0 AND NOT walk_in
GROUP BY restaurant_id, reserved_slots[1];
UPDATE reservation SET paced_slot = reserved_slots[1]
WHERE reserved_slots IS NOT NULL AND cardinality(reserved_slots) > 0 AND NOT walk_in;

-- How many times the diner changed the booking (the policy caps it).
ALTER TABLE reservation ADD COLUMN modifications integer NOT NULL DEFAULT 0
    CONSTRAINT reservation_modifications_not_negative CHECK (modifications >= 0);
