INSERT INTO gbfs_zones (feed, zone_index, name, rules, geom)
VALUES %s
