CREATE TABLE main.download_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX main.download_audit_at ON download_audit(at);
CREATE INDEX main.download_audit_file ON download_audit(file_id);
CREATE INDEX main.download_audit_user ON download_audit(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX main.download_audit_share ON download_audit(share_id) WHERE share_id IS NOT NULL;
INSERT INTO main.download_audit SELECT * FROM audit.download_audit;
DELETE FROM audit.download_audit;
