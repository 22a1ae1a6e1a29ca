-- Publish by swap: the run's table becomes the dataset, in the caller's transaction.
DROP TABLE IF EXISTS {published};
ALTER TABLE {staging} SET SCHEMA datasets;
ALTER TABLE {moved} RENAME TO {slug};
