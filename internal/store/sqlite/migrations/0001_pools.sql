-- Identity pools. The configuration is one JSON document: it is always read
-- and written whole, and version is its compare-and-swap token.
CREATE TABLE pools (
    id         TEXT    PRIMARY KEY,
    account    TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    config     TEXT    NOT NULL
) WITHOUT ROWID;

-- ListIdentityPools pages through one account's pools in creation order.
CREATE INDEX pools_by_owner ON pools (account, region, created_ns, id);
CREATE INDEX pools_by_account ON pools (account, created_ns, id);
