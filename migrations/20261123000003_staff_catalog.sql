-- The staff catalog: optimistic concurrency and soft deletion.
--
-- `version` is the ETag of a row: every update bumps it, and an update names the version it
-- read (If-Match), so two staff members cannot silently overwrite each other.
-- Restaurants and table types are referenced by reservations, so they are never removed:
-- `deleted_at` hides them from the catalog and makes new requests for them fail.

ALTER TABLE restaurant ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE restaurant ADD COLUMN deleted_at timestamptz;

ALTER TABLE table_type ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE table_type ADD COLUMN deleted_at timestamptz;
-- A deleted type's name may be used again.
ALTER TABLE table_type DROP CONSTRAINT table_type_restaurant_id_name_key;
CREATE UNIQUE INDEX table_type_live_name ON table_type (restaurant_id, name) WHERE deleted_at IS NULL;

ALTER TABLE dining_table ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE dining_table ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE dining_table ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- A guest's history by email (the guest token names the email), newest first.
CREATE INDEX reservation_guest_email ON reservation (guest_email, created_at DESC, id DESC);
