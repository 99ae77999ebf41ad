-- Diners sign in to the website's history (/me) with a link sent by email. Only digests of the
-- secrets are kept: a copy of the database opens no one's history.
--
-- A link is single-use and short-lived: `used_at` is set by the one statement that signs in
-- with it, and a link past `expires_at` opens nothing.
CREATE TABLE guest_sign_in (
    token_sha256 bytea PRIMARY KEY
        CONSTRAINT guest_sign_in_token_length CHECK (octet_length(token_sha256) = 32),
    email        text NOT NULL  -- lower-case
        CONSTRAINT guest_sign_in_email_length CHECK (length(email) BETWEEN 3 AND 254),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
-- Old links are cleared a few at a time as new ones are made.
CREATE INDEX guest_sign_in_expiry ON guest_sign_in (expires_at);

-- A signed-in diner's session: the cookie's secret, by digest. Sign-out ends it on the server.
CREATE TABLE guest_session (
    secret_sha256 bytea PRIMARY KEY
        CONSTRAINT guest_session_secret_length CHECK (octet_length(secret_sha256) = 32),
    email         text NOT NULL,  -- lower-case
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz
);
CREATE INDEX guest_session_expiry ON guest_session (expires_at);

