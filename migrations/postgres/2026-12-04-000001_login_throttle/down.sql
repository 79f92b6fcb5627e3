DROP TABLE login_known_addresses;
DROP INDEX login_failures_pair;
