-- ListIdentities reads a page of a pool's identities and their logins from
-- the indexes alone, without a lookup in the tables per row.
DROP INDEX identities_by_pool;
CREATE INDEX identities_by_pool ON identities (pool_id, created_ns, id, updated_ns, disabled);
DROP INDEX logins_by_identity;
CREATE INDEX logins_by_identity ON logins (identity_id, provider, subject, pool_id);
