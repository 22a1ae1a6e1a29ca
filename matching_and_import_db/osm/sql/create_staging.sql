-- Unlogged: staging lives inside the run's one transaction and is dropped before it commits,
-- so WAL for it would be wasted work.
DROP TABLE IF EXISTS {roads};
DROP TABLE IF EXISTS {stops};
DROP TABLE IF EXISTS {stop_areas};
CREATE UNLOGGED TABLE {roads} (
    osm_id bigint NOT NULL,
    highway text NOT NULL,
    name text,
    oneway text,
    maxspeed text,
    surface text,
    zone_traffic text,
    cycleway jsonb NOT NULL,
    access jsonb NOT NULL,
    geom geometry NOT NULL
);
CREATE UNLOGGED TABLE {stops} (
    osm_type char(1) NOT NULL,
    osm_id bigint NOT NULL,
    kind text NOT NULL,
    name text,
    ref text,
    uic_ref text,
    ref_ifopt text,
    ref_sloid text,
    local_ref text,
    operator text,
    tags jsonb NOT NULL,
    geom geometry NOT NULL
);
-- stop_area relations by member; publish turns them into osm_stops.stop_areas
CREATE UNLOGGED TABLE {stop_areas} (
    relation_id bigint NOT NULL,
    osm_type char(1) NOT NULL,
    osm_id bigint NOT NULL
);
