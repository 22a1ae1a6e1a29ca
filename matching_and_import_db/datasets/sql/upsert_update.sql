-- Only rows that changed are written. {targets}, {values} and {old}: the columns with geom.
UPDATE {published} p SET ({targets}) = ROW({values})
FROM {staging} s
WHERE s.{key} = p.{key} AND ROW({old}) IS DISTINCT FROM ROW({values})
