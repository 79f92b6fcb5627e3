-- The download audit: every delivery of a private file's bytes and every refusal of one.
-- Rows name users, tokens, shares, files and folders by id without foreign keys, with the
-- names as they were: an entry outlives what it names. Written in batches once a second.
CREATE TABLE download_audit (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    user_id BIGINT,
    username TEXT,
    token_id BIGINT,
    share_id BIGINT,
    file_id BIGINT,
    folder_id BIGINT,
    file_name TEXT NOT NULL,
    via TEXT NOT NULL,
    size BIGINT NOT NULL,
    byte_range TEXT,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    backend TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
-- What the audit is read by: time (and pruning), file, user, share link. Partial indexes
-- where most rows hold NULL; a folder's tree is found through the file's folder at the time,
-- read newest first without an index of its own. Fewer indexes keep the once-a-second
-- batch cheap.
CREATE INDEX download_audit_at ON download_audit(at);
CREATE INDEX download_audit_file ON download_audit(file_id);
CREATE INDEX download_audit_user ON download_audit(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX download_audit_share ON download_audit(share_id) WHERE share_id IS NOT NULL;
