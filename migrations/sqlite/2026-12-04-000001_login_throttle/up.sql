-- Log-in throttling per (username, address), per address and per username. A row of
-- login_failures is written before the password is checked (a reservation) and deleted
-- again when the password was right, so parallel attempts cannot exceed a limit.
CREATE INDEX login_failures_pair ON login_failures(username, address, failed_at);
-- Addresses a user has logged in from: the per-username back-off does not apply to them.
-- They go with the account (a later account of the same name starts with none).
CREATE TABLE login_known_addresses (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    last_login_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, address)
);
