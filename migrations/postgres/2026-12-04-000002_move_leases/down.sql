DROP INDEX storage_garbage_owner;
ALTER TABLE storage_garbage DROP COLUMN lease_expires_at, DROP COLUMN owner;
ALTER TABLE storage_moves DROP COLUMN lease_expires_at, DROP COLUMN owner;
