UPDATE gbfs_feeds SET
  stale = %(stale)s, stale_reason = %(stale_reason)s, warnings = %(warnings)s,
  version = coalesce(%(version)s, version), system_name = coalesce(%(system_name)s, system_name),
  last_attempt_at = %(now)s,
  last_success_at = CASE WHEN %(success)s THEN %(now)s ELSE last_success_at END
WHERE slug = %(feed)s
