"""Live data: GBFS bike-share feeds and MQTT sensors, their latest state in Redis, their
history in PostGIS, and the change events the web app streams to open maps."""
