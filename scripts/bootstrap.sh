# Sourced by scripts/start.sh and scripts/test.sh: makes a fresh Debian 12 machine (as root)
# ready to run the portal, and does nothing that is already done, so it can run every time.
#
# - PostgreSQL with PostGIS and Redis: installed and started when missing, unless
#   PORTAL_DATABASE_URL / PORTAL_REDIS_URL (or DATABASE_URL / REDIS_URL) point elsewhere;
#   a local cluster given by URL gets the PostGIS package of its version if it lacks it.
# - a database role and databases of our own, with a password generated once into
#   .env.local (never committed), and a template database that already has PostGIS, so
#   tests can create databases without superuser rights.
# - nginx (in front of gunicorn in start.sh), PgBouncer and redis-server for the tests.
# - .venv with the pinned Python packages; node_modules with the pinned npm assets, copied
#   to app/static/vendor.
# shellcheck shell=bash

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m[portal]\033[0m %s\n' "$*" >&2; }

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]} (run as root, or install them first)"; exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- settings kept between runs -------------------------------------------------------
if [ ! -f .env.local ]; then
  say "generating .env.local (local secrets, not committed)"
  umask 077
  cat > .env.local <<EOF
PORTAL_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORTAL_DB_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
EOF
fi
set -a; . ./.env.local; set +a

: "${PORTAL_DATABASE_URL:=${DATABASE_URL:-}}"
: "${PORTAL_REDIS_URL:=${REDIS_URL:-}}"

apt_install ca-certificates python3 python3-venv postgresql-client redis-tools curl

# --- PostgreSQL + PostGIS ---------------------------------------------------------------
pg_local_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }
pg_admin() { PGOPTIONS='-c client_min_messages=warning' runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"; }

ensure_local_postgres() {
  if [ -z "$(pg_local_version)" ]; then
    apt_install postgresql
  fi
  local ver; ver="$(pg_local_version)"
  apt_install "postgresql-${ver}-postgis-3"
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL ${ver}"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null \
      || pg_ctlcluster "$ver" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}

if [ -z "$PORTAL_DATABASE_URL" ]; then
  ensure_local_postgres
  # our own role and databases; the password comes from .env.local
  pg_admin -d postgres <<SQL
SELECT format('CREATE ROLE portal LOGIN CREATEDB PASSWORD %L', '${PORTAL_DB_PASSWORD}')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal') \gexec
ALTER ROLE portal PASSWORD '${PORTAL_DB_PASSWORD}';
SELECT 'CREATE DATABASE portal OWNER portal'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'portal') \gexec
SELECT 'CREATE DATABASE portal_template OWNER portal IS_TEMPLATE true'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'portal_template') \gexec
SQL
  # PostGIS is not a trusted extension: the superuser creates it once in each database
  for dbname in portal portal_template; do
    pg_admin -d "$dbname" -c "CREATE EXTENSION IF NOT EXISTS postgis"
  done
  export PORTAL_DATABASE_URL="postgresql://portal:${PORTAL_DB_PASSWORD}@127.0.0.1:5432/portal"
  export PORTAL_TEST_TEMPLATE="${PORTAL_TEST_TEMPLATE:-portal_template}"
else
  export PORTAL_DATABASE_URL
  # a local cluster named by URL may still lack the PostGIS package of its version
  if [ -n "$(pg_local_version)" ] && [[ "$PORTAL_DATABASE_URL" =~ @(127\.0\.0\.1|localhost)[:/] ]]; then
    apt_install "postgresql-$(pg_local_version)-postgis-3"
  fi
fi

# --- Redis -------------------------------------------------------------------------------
if [ -z "$PORTAL_REDIS_URL" ]; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    apt_install redis-server
    say "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/portal.log
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  export PORTAL_REDIS_URL="redis://127.0.0.1:6379/0"
else
  export PORTAL_REDIS_URL
fi

# --- Python packages ---------------------------------------------------------------------
stamp=".venv/.requirements.sha"
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages into .venv"
  # an existing virtualenv (or a link to one) is topped up, not made again
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"

# --- npm assets (MapLibre GL, served by the app itself) ------------------------------------
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
vendor="app/static/vendor/maplibre-gl"
want_js="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$vendor/maplibre-gl.js" ] || [ "$(cat "$vendor/.lock.sha" 2>/dev/null)" != "$want_js" ]; then
  say "installing npm assets"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  mkdir -p "$vendor"
  cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.css \
     node_modules/maplibre-gl/LICENSE.txt "$vendor/"
  echo "$want_js" > "$vendor/.lock.sha"
fi

# --- an MQTT broker for the sensors (Mosquitto: MQTT 5, shared subscriptions) -------------
if [ -z "${PORTAL_MQTT_URL:-}" ]; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    apt_install mosquitto
    say "starting Mosquitto on 127.0.0.1:1883"
    mkdir -p var
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' > var/mosquitto.conf
    mosquitto -d -c "$ROOT/var/mosquitto.conf"
    for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.5; done
  fi
  export PORTAL_MQTT_URL="mqtt://127.0.0.1:1883"
fi

# --- nginx in front of gunicorn (scripts/web.sh), PgBouncer and redis-server (the tests
# start their own, on free ports, beside the machine's Redis) ----------------------------
apt_install nginx-light gettext-base pgbouncer redis-server

# --- ogr2ogr, the peer bench/dataset_import measures our dataset import against ----------
apt_install gdal-bin

# --- a browser for the map's tests (Debian's chromium; Playwright only drives it) ---------
if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi

mkdir -p var/data
export PORTAL_DATA_DIR="${PORTAL_DATA_DIR:-$ROOT/var/data}"
