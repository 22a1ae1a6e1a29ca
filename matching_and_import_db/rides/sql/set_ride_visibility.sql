UPDATE rides SET public = %(public)s WHERE id = %(ride_id)s
