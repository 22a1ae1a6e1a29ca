UPDATE rides SET status = 'complete', status_message = %(message)s,
       lease_until = NULL, processed_at = now(),
       processing_seconds = %(processing_seconds)s,
       file_format = %(file_format)s, device_id = %(device_id)s,
       firmware = %(firmware)s, recorded_at = %(recorded_at)s,
       recorded_until = %(recorded_until)s, duration_s = %(duration_s)s,
       length_m = %(length_m)s, points_total = %(points_total)s,
       points_valid = %(points_valid)s, points_private = %(points_private)s,
       points_matched = %(points_matched)s, events_count = %(events_count)s,
       geom_raw = ST_GeomFromWKB(%(geom_raw)s, 4326),
       geom = ST_GeomFromWKB(%(geom)s, 4326),
       series = %(series)s,
       title = coalesce(title, %(default_title)s)
WHERE id = %(ride_id)s;
