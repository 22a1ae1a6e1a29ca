-- A run's staging table for a source in another CRS: loaded as it is, then reprojected
-- once by reproject_staging.sql (which adds the tile geometry).
CREATE TABLE {staging} (
    fid bigint NOT NULL,
    {columns}
    geom geometry(Geometry, %(srid)s) NOT NULL
)
