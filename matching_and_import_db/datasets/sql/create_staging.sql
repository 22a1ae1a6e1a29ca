-- A run's staging table for a longitude/latitude source: COPY fills geom and the tile
-- geometry beside it (the reader computes both). {columns} is the source's columns, each
-- followed by a comma.
CREATE TABLE {staging} (
    fid bigint NOT NULL,
    {columns}
    geom geometry(Geometry, 4326) NOT NULL,
    geom_3857 geometry(Geometry, 3857) NOT NULL
)
