SELECT osm_id, name, highway, oneway, maxspeed, zone_traffic FROM osm_roads
WHERE osm_id = %(id)s;
