-- Unlogged: staging lives inside the run's one transaction and is dropped before it
-- commits, so WAL for it would be wasted work.
DROP TABLE IF EXISTS {official}, {matches}, {problems};
-- the columns are stops.columns.OFFICIAL_COLUMNS
CREATE UNLOGGED TABLE {official} ({official_ddl});
CREATE UNLOGGED TABLE {matches} (
    official_id text NOT NULL,
    osm_key text NOT NULL,
    method text NOT NULL,
    stage text NOT NULL,
    score float8 NOT NULL,
    distance_m float8 NOT NULL,
    official_name text,
    osm_name text,
    evidence jsonb NOT NULL,
    profile_version text NOT NULL,
    geom geometry(LineString, 4326) NOT NULL
);
CREATE UNLOGGED TABLE {problems} (
    type text NOT NULL,
    priority smallint NOT NULL,
    official_id text,
    osm_key text,
    area text NOT NULL,
    evidence jsonb NOT NULL,
    decision_id integer,
    geom geometry(Point, 4326)
);
