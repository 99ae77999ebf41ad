-- A pending reservation's place in its restaurant's queue is the number of pending requests of
-- that restaurant recorded before it (the reservation page shows it during a flash crowd). The
-- partial index keeps that count to the pending rows of one restaurant.
CREATE INDEX reservation_pending_order ON reservation (restaurant_id, created_at, id)
    WHERE status = 'pending';
