-- Signing keys of the OpenID tokens, sealed with the server secret.
-- retires_ns is NULL while the key may sign; rotation sets it once.
CREATE TABLE IF NOT EXISTS signing_keys (
    id         TEXT   PRIMARY KEY,
    sealed     BYTEA  NOT NULL,
    created_ns BIGINT NOT NULL,
    retires_ns BIGINT
);
