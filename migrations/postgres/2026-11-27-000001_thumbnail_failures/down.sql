DROP TABLE thumbnail_failures;
