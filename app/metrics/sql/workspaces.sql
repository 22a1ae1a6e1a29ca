-- every workspace's id: its ingest metrics are read from Redis by id
SELECT id FROM workspaces ORDER BY id
