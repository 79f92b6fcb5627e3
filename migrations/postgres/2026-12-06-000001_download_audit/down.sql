DROP TABLE download_audit;
