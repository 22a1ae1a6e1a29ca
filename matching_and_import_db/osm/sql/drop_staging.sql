DROP TABLE {roads}, {stops}, {stop_areas};
