UPDATE tracks SET public = %(public)s WHERE id = %(track_id)s
