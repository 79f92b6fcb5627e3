-- The download audit moves to its own database file, attached as `audit` (see
-- src/db/audit_file.rs, which creates its table before the migrations run): its rows come
-- along, and the main file's table goes.
INSERT INTO audit.download_audit SELECT * FROM main.download_audit;
DROP TABLE main.download_audit;
