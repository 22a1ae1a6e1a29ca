-- the arrangement the map shows: the newest version not undone
SELECT v.id, v.document, v.summary, v.created_at, coalesce(u.display_name, u.subject) AS created_by
  FROM map_arrangement_versions v LEFT JOIN users u ON u.id = v.created_by
 WHERE v.undone_at IS NULL
 ORDER BY v.id DESC
 LIMIT 1
