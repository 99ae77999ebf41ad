-- Staff who sign in to the admin panel: a chain-wide admin, or the manager of listed
-- restaurants. Passwords are argon2id hashes (PHC strings); an account has none until its
-- owner follows the one-time link `maitred staff add` printed.
CREATE TABLE staff_account (
    id            uuid PRIMARY KEY,
    email         text NOT NULL
        CONSTRAINT staff_account_email_length CHECK (length(email) BETWEEN 3 AND 254),
    name          text NOT NULL
        CONSTRAINT staff_account_name_length CHECK (length(name) BETWEEN 1 AND 200),
    password_hash text,
    role          text NOT NULL CONSTRAINT staff_account_role CHECK (role IN ('admin', 'manager')),
    -- The restaurants a manager runs; an admin runs every one, whatever this says.
    restaurants   uuid[] NOT NULL DEFAULT '{}',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_account_email ON staff_account (lower(email));

-- One-time links to set a password: only the SHA-256 of the link's secret is kept.
CREATE TABLE staff_password_link (
    secret_sha256 bytea PRIMARY KEY
        CONSTRAINT staff_password_link_secret_length CHECK (octet_length(secret_sha256) = 32),
    staff_id      uuid NOT NULL REFERENCES staff_account (id) ON DELETE CASCADE,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);

-- Signed-in sessions, by the SHA-256 of the cookie's secret. Sign-out ends one for good.
CREATE TABLE staff_session (
    secret_sha256 bytea PRIMARY KEY
        CONSTRAINT staff_session_secret_length CHECK (octet_length(secret_sha256) = 32),
    staff_id      uuid NOT NULL REFERENCES staff_account (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz
);
CREATE INDEX staff_session_staff ON staff_session (staff_id);
