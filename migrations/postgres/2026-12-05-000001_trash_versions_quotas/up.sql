-- The trash: a deleted file or folder keeps its rows (marked with the trash entry that
-- took them) and its bytes until it is restored or purged. Every query for live items
-- filters on trash_id IS NULL.
CREATE TABLE trash (
    id BIGSERIAL PRIMARY KEY,
    file_id BIGINT,
    folder_id BIGINT,
    name TEXT NOT NULL,
    -- The folder the item was in (NULL: the top level); not a foreign key, it may go.
    original_folder_id BIGINT,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    trashed_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    trashed_at TIMESTAMP NOT NULL,
    -- Bytes held: files, their versions (and, for a folder, everything in it).
    size BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX trash_trashed_at ON trash(trashed_at);
CREATE INDEX trash_owner ON trash(owner_id);
CREATE INDEX trash_trashed_by ON trash(trashed_by);

ALTER TABLE files ADD COLUMN trash_id BIGINT REFERENCES trash(id);
-- Whether a trashed file was public (trashing moves it to private storage; restoring
-- makes it public again).
ALTER TABLE files ADD COLUMN public_before_trash BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE folders ADD COLUMN trash_id BIGINT REFERENCES trash(id);
CREATE INDEX files_trash ON files(trash_id);
CREATE INDEX folders_trash ON folders(trash_id);
-- A trashed folder does not hold its name: a new one may take it.
DROP INDEX folders_sibling_name;
CREATE UNIQUE INDEX folders_sibling_name ON folders(COALESCE(parent_id, 0), name) WHERE trash_id IS NULL;

-- Earlier contents of a file, kept when it is replaced; in the file's storage, moved with
-- it, at most versions.keep per file.
CREATE TABLE file_versions (
    id BIGSERIAL PRIMARY KEY,
    file_id BIGINT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    storage_key TEXT NOT NULL UNIQUE,
    original_filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    -- When these bytes became the file's content.
    created_at TIMESTAMP NOT NULL,
    -- When and by whom they were replaced.
    replaced_at TIMESTAMP NOT NULL,
    replaced_by BIGINT REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX file_versions_file ON file_versions(file_id);

-- An optional limit on the bytes a user's files (with versions and trash) may hold.
ALTER TABLE users ADD COLUMN quota_bytes BIGINT;
