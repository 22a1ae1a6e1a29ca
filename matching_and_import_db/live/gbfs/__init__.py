"""GBFS bike-share feeds: discovery, conditional fetching, validation against the official
schemas, the published stations/vehicles/zones with their history, and our own re-published
GBFS 2.3 and 3.0. Flask-free: takes DB-API connections, a Redis client and plain data."""
