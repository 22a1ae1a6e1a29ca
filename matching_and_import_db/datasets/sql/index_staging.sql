ALTER TABLE {staging} ADD PRIMARY KEY (fid);
CREATE INDEX ON {staging} USING gist (geom_3857);
