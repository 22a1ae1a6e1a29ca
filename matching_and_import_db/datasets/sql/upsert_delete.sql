DELETE FROM {published} p
WHERE NOT EXISTS (SELECT 1 FROM {staging} s WHERE s.{key} = p.{key})
