"""Watching the portal run: the health of every component, the errors every process logs
(collected in Redis), and daily counts of what is used, without personal data. Free of
Flask: the web app's admin page and any process call these with plain inputs."""
