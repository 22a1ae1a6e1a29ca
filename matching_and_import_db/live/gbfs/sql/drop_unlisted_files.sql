-- Files the feed's gbfs.json no longer lists (gbfs and manifest themselves stay).
DELETE FROM gbfs_feed_files
WHERE feed = %(feed)s AND name <> ALL(%(keep)s)
