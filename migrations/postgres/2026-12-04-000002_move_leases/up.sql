-- Leases on the crash-safety journals. Each row names the instance that works on it and
-- until when; the owner renews the lease while it works, and recovery takes over only rows
-- whose lease expired (its owner is gone), claiming each with one conditional UPDATE.
-- Rows left by earlier versions start expired.
ALTER TABLE storage_moves
    ADD COLUMN owner TEXT NOT NULL DEFAULT '',
    ADD COLUMN lease_expires_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE storage_garbage
    ADD COLUMN owner TEXT NOT NULL DEFAULT '',
    ADD COLUMN lease_expires_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
CREATE INDEX storage_garbage_owner ON storage_garbage(owner);
