-- Coffer schema (SQLite). Keep in step with ../../postgres/ (same names and order).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    is_staff BOOLEAN NOT NULL DEFAULT 0,
    is_superuser BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE folders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id BIGINT REFERENCES folders(id) ON DELETE CASCADE,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX folders_sibling_name ON folders(COALESCE(parent_id, 0), name);
CREATE INDEX folders_parent ON folders(parent_id);

CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id BIGINT REFERENCES folders(id) ON DELETE CASCADE,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    original_filename TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    is_public BOOLEAN NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL
);
CREATE INDEX files_folder ON files(folder_id);
CREATE INDEX files_owner ON files(owner_id);

CREATE TABLE images (
    file_id BIGINT PRIMARY KEY NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    orientation SMALLINT NOT NULL DEFAULT 1,
    subject_location TEXT,
    alt_text TEXT NOT NULL DEFAULT '',
    caption TEXT NOT NULL DEFAULT '',
    date_taken TIMESTAMP
);

CREATE TABLE folder_permissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id BIGINT REFERENCES folders(id) ON DELETE CASCADE,
    scope TEXT NOT NULL CHECK (scope IN ('all', 'this', 'children')),
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES groups(id) ON DELETE CASCADE,
    everybody BOOLEAN NOT NULL DEFAULT 0,
    can_read BOOLEAN,
    can_edit BOOLEAN,
    can_add_children BOOLEAN,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX folder_permissions_folder ON folder_permissions(folder_id);

CREATE TABLE thumbnails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id BIGINT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    spec TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    mime_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (file_id, spec)
);

CREATE TABLE storage_moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id BIGINT NOT NULL,
    to_public BOOLEAN NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
    items TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- One move per file at a time: the journal row doubles as the lock.
CREATE UNIQUE INDEX storage_moves_file ON storage_moves(file_id);

CREATE TABLE storage_garbage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    storage TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE permission_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO permission_generation (id, generation) VALUES (1, 1);
