-- One rewrite: the geometry to EPSG:4326 and the tile geometry computed from it.
ALTER TABLE {staging}
    ALTER COLUMN geom TYPE geometry(Geometry, 4326) USING ST_Transform(geom, 4326),
    ADD COLUMN geom_3857 geometry(Geometry, 3857)
        GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
