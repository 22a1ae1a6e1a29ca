#!/usr/bin/env bash
# One image, one role per container: web | stream | scheduler | sensors | migrate | test.
# Each role ends in exec, so the process gets the signals (SIGTERM from docker stop).
set -euo pipefail

role="${1:-web}"
shift || true

case "$role" in
  web)
    # workers, threads and timeouts: deploy/gunicorn.conf.py (WEB_WORKERS, WEB_THREADS)
    exec gunicorn -c deploy/gunicorn.conf.py "app:create_app()" "$@"
    ;;
  stream)
    # the live stream (SSE): asyncio, thousands of idle streams in one process
    exec python -m app.live.stream --host 0.0.0.0 --port "${STREAM_PORT:-5002}" "$@"
    ;;
  scheduler)
    exec python -m scheduler "$@"
    ;;
  sensors)
    # the MQTT sensor subscriber (PORTAL_MQTT_TOPICS), a process of its own: README "Live data"
    exec python -m scheduler.sensors "$@"
    ;;
  migrate)
    exec python -m migrator "$@"
    ;;
  test)
    exec python -m pytest "$@"
    ;;
  *)
    echo "entrypoint.sh: unknown role '$role' (expected: web, stream, scheduler, sensors, migrate, test)" >&2
    exit 64
    ;;
esac
