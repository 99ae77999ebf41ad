#!/usr/bin/env bash
# Shows that `GET /v1/search` reads its candidates through the indexes, not by a full scan:
# loads 30,000 restaurants into a scratch database (random coordinates worldwide, and a crowd in
# a few cities), then prints EXPLAIN ANALYZE of the store's candidate queries (near a point and
# in a city, first page and a page after a cursor), prepared with parameters as the app sends
# them. Needs a PostgreSQL server (scripts/services.sh starts the local one).
set -euo pipefail
cd "$(dirname "$0")/.."
server="${EXPLAIN_SERVER:-postgres://postgres@127.0.0.1:5432}"
scratch="maitred_explain_search_$(pwd | cksum | cut -d" " -f1)"

psql "$server/postgres" -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS $scratch" -c "CREATE DATABASE $scratch"
trap 'psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $scratch"' EXIT
for migration in migrations/*.sql; do
  psql "$server/$scratch" -v ON_ERROR_STOP=1 -q -1 -f "$migration"
done

psql "$server/$scratch" -v ON_ERROR_STOP=1 -q <<'SQL'
SELECT setseed(0.42);
-- 24,000 anywhere on Earth (uniform on the sphere), no city.
INSERT INTO restaurant (id, name, latitude, longitude, time_zone)
SELECT gen_random_uuid(), 'Anywhere ' || n,
       degrees(asin(2 * random() - 1)), 360 * random() - 180, 'UTC'
FROM generate_series(1, 24000) AS n;
-- 1,000 in each of six cities, within about 10 km of the centre.
INSERT INTO restaurant (id, name, city, latitude, longitude, time_zone)
SELECT gen_random_uuid(), c.city || ' ' || n, c.city,
       c.lat + (random() - 0.5) * 0.18, c.lon + (random() - 0.5) * 0.27, c.zone
FROM (VALUES ('Paris', 48.8566, 2.3522, 'Europe/Paris'),
             ('Lyon', 45.7640, 4.8357, 'Europe/Paris'),
             ('London', 51.5074, -0.1278, 'Europe/London'),
             ('Berlin', 52.5200, 13.4050, 'Europe/Berlin'),
             ('New York', 40.7128, -74.0060, 'America/New_York'),
             ('Tokyo', 35.6762, 139.6503, 'Asia/Tokyo')) AS c (city, lat, lon, zone),
     generate_series(1, 1000) AS n;
ANALYZE restaurant;
SQL

psql "$server/$scratch" -v ON_ERROR_STOP=1 -q <<'SQL'
\pset pager off
SELECT count(*) AS restaurants FROM restaurant;

-- The store's statements (booking/src/store/search.rs), word for word.
PREPARE near (float8, float8, float8, float8, float8, float8, float8, float8, uuid, int8) AS
SELECT id, great_circle_km($1, $2, latitude, longitude) AS distance_km
FROM restaurant
WHERE deleted_at IS NULL
  AND point(longitude, latitude) <@ box(point($3, $4), point($5, $6))
  AND great_circle_km($1, $2, latitude, longitude) <= $7
  AND ($8::float8 IS NULL
       OR (great_circle_km($1, $2, latitude, longitude), id) > ($8, $9::uuid))
ORDER BY 2, id
LIMIT $10;

PREPARE in_city (text, text, uuid, int8) AS
SELECT id, name FROM restaurant
WHERE deleted_at IS NULL AND lower(city) = lower($1)
  AND ($2::text IS NULL OR (name, id) > ($2, $3::uuid))
ORDER BY name, id
LIMIT $4;

-- The box of 25 km around central Paris, as booking::search::bounding_box computes it.
SELECT 48.8566 - degrees(25 / 6371.0088) AS min_lat, 48.8566 + degrees(25 / 6371.0088) AS max_lat,
       2.3522 - degrees(asin(sin(25 / 6371.0088) / cos(radians(48.8566)))) AS min_lon,
       2.3522 + degrees(asin(sin(25 / 6371.0088) / cos(radians(48.8566)))) AS max_lon \gset

\echo '== near 48.8566,2.3522 within 25 km, first page of 25 candidates'
EXPLAIN (ANALYZE, COSTS OFF, BUFFERS)
EXECUTE near(48.8566, 2.3522, :min_lon, :min_lat, :max_lon, :max_lat, 25, NULL, NULL, 25);

-- The 25th candidate, where the next batch starts.
SELECT great_circle_km(48.8566, 2.3522, latitude, longitude) AS after_km, id AS after_id
FROM restaurant
WHERE great_circle_km(48.8566, 2.3522, latitude, longitude) <= 25
ORDER BY 1, id OFFSET 24 LIMIT 1 \gset
\echo '== near, the batch after the 25th candidate'
EXPLAIN (ANALYZE, COSTS OFF, BUFFERS)
EXECUTE near(48.8566, 2.3522, :min_lon, :min_lat, :max_lon, :max_lat, 25, :after_km, :'after_id', 25);

\echo '== near, first page, as a generic plan (what a long-lived prepared statement may use)'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, COSTS OFF, BUFFERS)
EXECUTE near(48.8566, 2.3522, :min_lon, :min_lat, :max_lon, :max_lat, 25, NULL, NULL, 25);
RESET plan_cache_mode;

-- 500 km around Madrid: few restaurants, a wide box.
SELECT 40.4168 - degrees(500 / 6371.0088) AS min_lat, 40.4168 + degrees(500 / 6371.0088) AS max_lat,
       -3.7038 - degrees(asin(sin(500 / 6371.0088) / cos(radians(40.4168)))) AS min_lon,
       -3.7038 + degrees(asin(sin(500 / 6371.0088) / cos(radians(40.4168)))) AS max_lon \gset
\echo '== near 40.4168,-3.7038 within 500 km, first page'
EXPLAIN (ANALYZE, COSTS OFF, BUFFERS)
EXECUTE near(40.4168, -3.7038, :min_lon, :min_lat, :max_lon, :max_lat, 500, NULL, NULL, 25);

\echo '== city = paris (any case), first page'
EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) EXECUTE in_city('paris', NULL, NULL, 25);

SELECT name AS after_name, id AS after_id FROM restaurant
WHERE lower(city) = 'paris' ORDER BY name, id OFFSET 24 LIMIT 1 \gset
\echo '== city, the batch after the 25th candidate'
EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) EXECUTE in_city('paris', :'after_name', :'after_id', 25);

\echo '== city, first page, as a generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) EXECUTE in_city('paris', NULL, NULL, 25);
RESET plan_cache_mode;
SQL
