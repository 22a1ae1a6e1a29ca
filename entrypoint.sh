#!/usr/bin/env bash
# One image, one role per container: web | scheduler | migrate | test.
# Each role ends in exec, so the process gets the signals (SIGTERM from docker stop).
set -euo pipefail

role="${1:-web}"
shift || true

case "$role" in
  web)
    exec gunicorn --bind "0.0.0.0:${PORT:-5001}" \
      --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-4}" \
      --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      "app:create_app()" "$@"
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
