-- Identities of a pool. A disabled identity stays listed but holds no
-- logins.
CREATE TABLE IF NOT EXISTS identities (
    id         TEXT    PRIMARY KEY,
    pool_id    TEXT    NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    created_ns BIGINT  NOT NULL,
    updated_ns BIGINT  NOT NULL,
    disabled   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX IF NOT EXISTS identities_by_pool ON identities (pool_id, created_ns, id);

-- Which identity a provider's user is linked to. The primary key keeps
-- "one identity per login" true under any concurrency, on any replica.
CREATE TABLE IF NOT EXISTS logins (
    pool_id     TEXT NOT NULL,
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    PRIMARY KEY (pool_id, provider, subject)
);

CREATE INDEX IF NOT EXISTS logins_by_identity ON logins (identity_id);
