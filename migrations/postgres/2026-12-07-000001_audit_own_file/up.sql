-- On SQLite the download audit moves to its own database file (src/db/audit_file.rs); on
-- PostgreSQL it stays a table of the database. Kept so both backends name the same migrations.
SELECT 1;
