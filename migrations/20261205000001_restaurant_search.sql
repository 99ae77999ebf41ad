-- Find a table: restaurants by city, or near a point, without a full scan and without an
-- extension (no PostGIS, no earthdistance): a B-tree on the city and a GiST index on the
-- built-in point type.

ALTER TABLE restaurant ADD COLUMN city text NOT NULL DEFAULT ''
    CONSTRAINT restaurant_city_length CHECK (length(city) <= 100);

-- City search: lower(city) = lower($1) ORDER BY name, id, read in keyset pages.
CREATE INDEX restaurant_city ON restaurant (lower(city), name, id) WHERE deleted_at IS NULL;

-- Near search: a bounding box (point(longitude, latitude) <@ box(...)) narrows the candidates
-- through this index; great_circle_km then orders them by exact distance.
CREATE INDEX restaurant_location ON restaurant USING gist (point(longitude, latitude))
    WHERE deleted_at IS NULL;

-- The haversine distance in kilometres on a sphere of the Earth's mean radius. IMMUTABLE so it
-- may appear in an index expression or be folded by the planner.
CREATE FUNCTION great_circle_km(lat1 double precision, lon1 double precision,
                                lat2 double precision, lon2 double precision)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT 2 * 6371.0088 * asin(least(1.0, sqrt(
        sin(radians(lat2 - lat1) / 2) ^ 2
        + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)))
$$;
