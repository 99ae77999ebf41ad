-- Seating: the physical tables a party sits at. A diner books a table type; staff assign the
-- tables when the party arrives (confirmed -> seated), as a hotel assigns the room at check-in.
-- The database refuses two parties at one table at overlapping times, whatever the code does.

-- btree_gist lets one exclusion constraint compare a uuid with = beside a range with &&
-- (it ships with PostgreSQL's contrib, which Debian's postgresql package includes; trusted,
-- so the database owner may create it).
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE reservation DROP CONSTRAINT reservation_status_check;
ALTER TABLE reservation ADD CONSTRAINT reservation_status_known
    CHECK (status IN ('pending', 'held', 'confirmed', 'rejected', 'expired', 'canceled',
                      'refunded', 'seated', 'completed', 'no_show'));

-- A walk-in: a party staff seat without a booking. Its inventory is taken on the serial lane
-- like any booking's, and it is confirmed without a hold (it pays at the table).
ALTER TABLE reservation ADD COLUMN walk_in boolean NOT NULL DEFAULT false;

CREATE TABLE seating (
    reservation_id uuid NOT NULL REFERENCES reservation (id) ON DELETE CASCADE,
    table_id       uuid NOT NULL REFERENCES dining_table (id) ON DELETE CASCADE,
    -- Local wall-clock time, as inventory slots: from when the party sat to the booking's end;
    -- cut short when the party leaves early.
    during         tsrange NOT NULL,
    seated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reservation_id, table_id),
    CONSTRAINT seating_not_empty CHECK (NOT isempty(during)),
    CONSTRAINT seating_table_taken EXCLUDE USING gist (table_id WITH =, during WITH &&)
);
