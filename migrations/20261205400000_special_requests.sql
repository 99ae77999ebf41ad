-- What a diner tells the restaurant with a booking, and what staff keep about a guest.
ALTER TABLE reservation
    ADD COLUMN special_requests text
        CONSTRAINT reservation_special_requests_length CHECK (char_length(special_requests) <= 500),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}'
        CONSTRAINT reservation_tags_known CHECK (tags <@ ARRAY['allergy', 'birthday',
            'anniversary', 'high_chair', 'accessible_table']::text[]);

-- A note staff keep about a guest (by email) at one restaurant: shown on every booking of that
-- guest there, and only to that restaurant's staff.
CREATE TABLE guest_note (
    id            uuid PRIMARY KEY,
    restaurant_id uuid NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    guest_email   text NOT NULL  -- lower-case
        CONSTRAINT guest_note_email_length CHECK (length(guest_email) BETWEEN 3 AND 254),
    note          text NOT NULL
        CONSTRAINT guest_note_length CHECK (char_length(note) BETWEEN 1 AND 500),
    author        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX guest_note_guest ON guest_note (restaurant_id, guest_email, created_at);
