-- Share links: a file or a folder for people without an account. The token is 256
-- random bits shown once; only its SHA-256 is kept. A link ends with its item or its
-- creator (cascade), and on every use its state and its creator's rights are checked.
CREATE TABLE shares (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    file_id BIGINT REFERENCES files(id) ON DELETE CASCADE,
    folder_id BIGINT REFERENCES folders(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    password_hash TEXT,
    expires_at TIMESTAMP,
    max_downloads BIGINT,
    downloads BIGINT NOT NULL DEFAULT 0,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX shares_file ON shares(file_id);
CREATE INDEX shares_folder ON shares(folder_id);
CREATE INDEX shares_created_by ON shares(created_by);
