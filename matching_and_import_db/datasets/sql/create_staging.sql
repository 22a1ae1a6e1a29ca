-- A run's staging table, in longitude/latitude: COPY fills geom, PostgreSQL the tile
-- geometry beside it. {columns} is the source's columns, each followed by a comma.
CREATE TABLE {staging} (
    fid bigint NOT NULL,
    {columns}
    geom geometry(Geometry, 4326) NOT NULL,
    geom_3857 geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
)
