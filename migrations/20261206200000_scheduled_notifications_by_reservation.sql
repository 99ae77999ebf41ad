-- A transition ends its reservation's timed messages that no longer apply. Without this index
-- PostgreSQL found them by scanning every scheduled message of the chain (the `notification_due`
-- index), so each decision cost more as reminders piled up: 8.5 ms a run in the steady bench.
CREATE INDEX notification_scheduled_by_reservation ON notification (reservation_id)
    WHERE status = 'scheduled';
