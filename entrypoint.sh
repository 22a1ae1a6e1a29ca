#!/usr/bin/env bash
# One image, one role per container: web | scheduler | migrate | test.
# Each role ends in exec, so the process gets the signals (SIGTERM from docker stop).
set -euo pipefail

role="${1:-web}"
shift || true

case "$role" in
  web)
    # workers, threads and timeouts: deploy/gunicorn.conf.py (WEB_WORKERS, WEB_THREADS)
    exec gunicorn -c deploy/gunicorn.conf.py "app:create_app()" "$@"
    ;;
  scheduler)
    exec python -m scheduler "$@"
    ;;
  migrate)
    exec python -m migrator "$@"
    ;;
  test)
    exec python -m pytest "$@"
    ;;
  *)
    echo "entrypoint.sh: unknown role '$role' (expected: web, scheduler, migrate, test)" >&2
    exit 64
    ;;
esac
