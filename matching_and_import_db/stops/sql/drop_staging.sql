DROP TABLE {official}, {matches}, {problems};
