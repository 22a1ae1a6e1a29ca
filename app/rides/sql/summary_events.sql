SELECT count(*) AS events,
       count(*) FILTER (WHERE e.distance_left < e.legal_minimum) AS close
FROM ride_events e JOIN rides t ON t.id = e.ride_id
WHERE {where};
