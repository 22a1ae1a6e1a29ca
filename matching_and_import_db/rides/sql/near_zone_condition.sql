-- requeue_rides.sql's condition when a privacy zone (%(lon)s, %(lat)s, %(radius)s metres)
-- is added: the owner's rides showing anything inside it (recorded or snapped line, or an
-- event), and any being processed now (which may have read the zones before this one).
user_id = %(uid)s AND (status = 'processing' OR (status = 'complete' AND (
    ST_DWithin(rides.geom_raw::geography,
               ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius)s)
    OR ST_DWithin(rides.geom::geography,
                  ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius)s)
    OR EXISTS (SELECT 1 FROM ride_events e WHERE e.ride_id = rides.id AND
               ST_DWithin(e.geom::geography,
                          ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                          %(radius)s)))))
