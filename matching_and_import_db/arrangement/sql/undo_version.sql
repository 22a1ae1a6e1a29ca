UPDATE map_arrangement_versions SET undone_at = now(), undone_by = %(undone_by)s
 WHERE id = %(id)s AND undone_at IS NULL
