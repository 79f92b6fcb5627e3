-- Why an image has no thumbnails: recorded when a thumbnail could not be made (refused by
-- the limits, corrupt, truncated, too slow), so the reason can be shown and the work is not
-- retried on every request. Cleared when thumbnails are regenerated or forgotten.
CREATE TABLE thumbnail_failures (
    file_id BIGINT PRIMARY KEY NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
