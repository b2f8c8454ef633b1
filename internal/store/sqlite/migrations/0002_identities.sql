-- Identities of a pool. A disabled identity (the loser of a merge, or one
-- whose last login was unlinked) stays listed but holds no logins.
CREATE TABLE identities (
    id         TEXT    PRIMARY KEY,
    pool_id    TEXT    NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- ListIdentities pages through a pool's identities in creation order.
CREATE INDEX identities_by_pool ON identities (pool_id, created_ns, id);

-- Logins: which identity a provider's user (or a developer user) is linked
-- to. The primary key makes "one identity per login" hold under any
-- concurrency: two requests that race to link the same login cannot both
-- succeed.
CREATE TABLE logins (
    pool_id     TEXT NOT NULL,
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    PRIMARY KEY (pool_id, provider, subject)
) WITHOUT ROWID;

CREATE INDEX logins_by_identity ON logins (identity_id);
