SELECT direction, passes, events, distance_mean, distance_median, distance_min,
       distance_max, below_minimum, legal_minimum, histogram
FROM road_stats WHERE way_id = %(id)s ORDER BY direction DESC;
