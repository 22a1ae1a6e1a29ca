UPDATE rides SET geom = NULL, geom_raw = NULL, series = NULL, events_count = NULL,
                  length_m = NULL, duration_s = NULL, points_matched = NULL
WHERE id = %(ride_id)s;
