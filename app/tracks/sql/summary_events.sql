SELECT count(*) AS events,
       count(*) FILTER (WHERE e.distance_left < e.legal_minimum) AS close
FROM track_events e JOIN tracks t ON t.id = e.track_id
WHERE {where};
