-- Identity pools. The configuration is one JSON document, always read and
-- written whole; version is its compare-and-swap token.
CREATE TABLE IF NOT EXISTS pools (
    id         TEXT   PRIMARY KEY,
    account    TEXT   NOT NULL,
    region     TEXT   NOT NULL,
    created_ns BIGINT NOT NULL,
    updated_ns BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    config     TEXT   NOT NULL
);

-- ListIdentityPools pages through one account's pools in creation order.
CREATE INDEX IF NOT EXISTS pools_by_owner ON pools (account, region, created_ns, id);
CREATE INDEX IF NOT EXISTS pools_by_account ON pools (account, created_ns, id);
