-- ListIdentities reads a page of a pool's identities and their logins from
-- the indexes alone (index-only scans), without visiting the tables.
DROP INDEX IF EXISTS identities_by_pool;
CREATE INDEX IF NOT EXISTS identities_by_pool ON identities (pool_id, created_ns, id) INCLUDE (updated_ns, disabled);
DROP INDEX IF EXISTS logins_by_identity;
CREATE INDEX IF NOT EXISTS logins_by_identity ON logins (identity_id) INCLUDE (provider, subject, pool_id);
