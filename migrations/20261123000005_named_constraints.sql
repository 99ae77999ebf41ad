-- Explicit names for the constraints the staff API turns into refusals (a 409 or a 422 naming
-- the field), instead of the names PostgreSQL generated. The code matches on these names, so a
-- rename here must go with a change in booking/src/store/catalog_writes/refusal.rs.

ALTER TABLE restaurant RENAME CONSTRAINT restaurant_name_check TO restaurant_name_length;
ALTER TABLE restaurant RENAME CONSTRAINT restaurant_latitude_check TO restaurant_latitude_range;
ALTER TABLE restaurant RENAME CONSTRAINT restaurant_longitude_check TO restaurant_longitude_range;
ALTER TABLE restaurant RENAME CONSTRAINT restaurant_slot_minutes_check TO restaurant_slot_minutes_divide_the_day;
ALTER TABLE restaurant RENAME CONSTRAINT restaurant_default_duration_minutes_check TO restaurant_default_duration_range;
ALTER TABLE restaurant RENAME CONSTRAINT restaurant_overbooking_pct_check TO restaurant_overbooking_pct_range;
ALTER TABLE restaurant RENAME CONSTRAINT restaurant_booking_horizon_days_check TO restaurant_booking_horizon_range;
ALTER TABLE restaurant RENAME CONSTRAINT restaurant_refund_window_hours_check TO restaurant_refund_window_range;

ALTER TABLE opening_hours RENAME CONSTRAINT opening_hours_weekday_check TO opening_hours_iso_weekday;
-- Two intervals of one weekday may not open at the same time.
ALTER TABLE opening_hours RENAME CONSTRAINT opening_hours_pkey TO opening_hours_one_opening_at_a_time;

ALTER TABLE table_type RENAME CONSTRAINT table_type_name_check TO table_type_name_length;
ALTER TABLE table_type RENAME CONSTRAINT table_type_seats_min_check TO table_type_seats_min_positive;
-- PostgreSQL named this one table_type_check: it reads two columns.
ALTER TABLE table_type RENAME CONSTRAINT table_type_check TO table_type_seats_max_range;
ALTER TABLE table_type RENAME CONSTRAINT table_type_base_price_cents_check TO table_type_base_price_not_negative;
ALTER TABLE table_type RENAME CONSTRAINT table_type_currency_check TO table_type_currency_iso_code;
-- A unique index rather than a constraint (it is partial), so ALTER INDEX.
ALTER INDEX table_type_live_name RENAME TO table_type_unique_live_name;

ALTER TABLE dining_table RENAME CONSTRAINT dining_table_label_check TO dining_table_label_length;
ALTER TABLE dining_table RENAME CONSTRAINT dining_table_table_type_id_label_key TO dining_table_unique_label;

ALTER TABLE rate RENAME CONSTRAINT rate_price_cents_check TO rate_price_not_negative;
