-- New features get feature ids after the published ones.
INSERT INTO {published} (fid, {targets})
SELECT (SELECT coalesce(max(fid), 0) FROM {published}) + row_number() OVER (ORDER BY s.fid),
       {values}
FROM {staging} s
WHERE NOT EXISTS (SELECT 1 FROM {published} p WHERE p.{key} = s.{key})
