-- One rewrite: the geometry to EPSG:4326 and the tile geometry computed from it; then the
-- tile geometry is a plain column (no rewrite), as in every published dataset, so that an
-- upsert writes it like the others.
ALTER TABLE {staging}
    ALTER COLUMN geom TYPE geometry(Geometry, 4326) USING ST_Transform(geom, 4326),
    ADD COLUMN geom_3857 geometry(Geometry, 3857)
        GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED;
ALTER TABLE {staging} ALTER COLUMN geom_3857 DROP EXPRESSION;
