-- Signing keys of the OpenID tokens. The private key is sealed with the
-- server secret; retires_ns is NULL while the key may sign, then the time
-- it stops (rotation sets it once, compare-and-swap on it being NULL).
CREATE TABLE signing_keys (
    id         TEXT    PRIMARY KEY,
    sealed     BLOB    NOT NULL,
    created_ns INTEGER NOT NULL,
    retires_ns INTEGER
) WITHOUT ROWID;
