SELECT zone_index FROM gbfs_zones WHERE feed = %(feed)s
