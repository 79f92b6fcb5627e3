-- Failed log-in attempts, kept for the throttling window: too many for one username or from
-- one address and further attempts are refused for a while. Old rows are purged as new
-- ones arrive; a successful log-in clears its username's rows.
CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_username ON login_failures(username, failed_at);
CREATE INDEX login_failures_address ON login_failures(address, failed_at);
