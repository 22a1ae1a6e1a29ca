INSERT INTO map_arrangement_versions (document, summary, created_by)
VALUES (%(document)s, %(summary)s, %(created_by)s)
RETURNING id
