DELETE FROM gbfs_zones WHERE feed = %(feed)s
