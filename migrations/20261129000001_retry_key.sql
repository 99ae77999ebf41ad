-- A secret the diner's client sent with its first request, hashed (SHA-256): a retry that
-- carries it is handed the reservation's access token again; one that does not, is not (a
-- webhook receiver knows the reservation's details, not this key).
ALTER TABLE reservation ADD COLUMN retry_key_sha256 bytea
    CONSTRAINT reservation_retry_key_sha256_length CHECK (octet_length(retry_key_sha256) = 32);
