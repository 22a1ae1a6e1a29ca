-- Per dataset of the transaction's workspace: datapoints held and the newest change.
SELECT s.slug, count(d.identifier), max(d.modified_at), max(d.received_at)
FROM workspace_datasets s LEFT JOIN workspace_datapoints d ON d.dataset_id = s.id
GROUP BY s.slug ORDER BY s.slug
