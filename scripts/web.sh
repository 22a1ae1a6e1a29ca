#!/usr/bin/env bash
# The web process as scripts/start.sh runs it: nginx on $PORT in front of gunicorn on a
# loopback port. nginx reads every request whole before gunicorn sees it, so clients that
# send slowly (or never finish) cost an nginx connection, not one of gunicorn's threads.
# Ends (and takes the other down) when either exits; SIGTERM/SIGINT stop both.
#
#   PORT              where the portal answers (default 5001)
#   WEB_UPSTREAM_PORT where gunicorn listens on 127.0.0.1 (default: a free port)
#   WEB_WORKERS, WEB_THREADS  gunicorn's workers and threads (deploy/gunicorn.conf.py)
#   WEB_STREAM_PORT   where the live stream server (app/live/stream.py) listens on
#                     127.0.0.1 (default: a free port); nginx sends /api/live/stream there
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-5001}"
UPSTREAM_PORT="${WEB_UPSTREAM_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
STREAM_PORT="${WEB_STREAM_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/portal-web.XXXXXX")"
mkdir -p "$RUN_DIR/tmp"
NGINX_USER=""
if [ "$(id -u)" = 0 ]; then  # nginx's workers drop to nobody; they write request bodies here
  chown -R nobody:nogroup "$RUN_DIR/tmp"
  NGINX_USER="user nobody nogroup;"
fi

# gunicorn is at an address, not a name: the resolver is never asked
PORTAL_UPSTREAM="127.0.0.1:${UPSTREAM_PORT}" PORTAL_STREAM_UPSTREAM="127.0.0.1:${STREAM_PORT}" \
  NGINX_PORT="$PORT" NGINX_LOCAL_RESOLVERS=127.0.0.1 \
  envsubst '${PORTAL_UPSTREAM} ${PORTAL_STREAM_UPSTREAM} ${NGINX_PORT} ${NGINX_LOCAL_RESOLVERS}' \
  < deploy/nginx/portal.conf.template > "$RUN_DIR/portal.conf"
cat > "$RUN_DIR/nginx.conf" <<CONF
${NGINX_USER}
daemon off;
worker_processes 1;
pid ${RUN_DIR}/nginx.pid;
error_log stderr warn;
worker_rlimit_nofile 65536;
events { worker_connections 32768; }  # an open live stream holds two (browser, upstream)
http {
    access_log off;  # gunicorn logs every request
    client_body_temp_path ${RUN_DIR}/tmp/body;
    proxy_temp_path ${RUN_DIR}/tmp/proxy;
    fastcgi_temp_path ${RUN_DIR}/tmp/fastcgi;
    uwsgi_temp_path ${RUN_DIR}/tmp/uwsgi;
    scgi_temp_path ${RUN_DIR}/tmp/scgi;
    include ${RUN_DIR}/portal.conf;
}
CONF

pids=()
stop() {
  trap - TERM INT EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap stop TERM INT EXIT

# each start its own Prometheus multiprocess directory (deploy/gunicorn.conf.py empties it)
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$RUN_DIR/metrics}"
GUNICORN_BIND="127.0.0.1:${UPSTREAM_PORT}" gunicorn -c deploy/gunicorn.conf.py 'app:create_app()' &
pids+=($!)
python -m app.live.stream --host 127.0.0.1 --port "$STREAM_PORT" &
pids+=($!)
nginx -e stderr -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" &
pids+=($!)
# whichever ends first ends the web process
wait -n
