DROP TABLE {roads}, {stops};
