SELECT v.id, v.summary, v.created_at, coalesce(c.display_name, c.subject) AS created_by, v.undone_at,
       coalesce(d.display_name, d.subject) AS undone_by
  FROM map_arrangement_versions v
  LEFT JOIN users c ON c.id = v.created_by
  LEFT JOIN users d ON d.id = v.undone_by
 ORDER BY v.id DESC
 LIMIT %(limit)s
