#!/usr/bin/env bash
# Start the whole portal with demo data: database, Redis, migrator, the Oslo demo import,
# the web app, the scheduler and (unless PORTAL_OIDC_ISSUER is set) a local OIDC provider
# with three demo users. Ctrl-C stops everything.
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh"

PORT="${PORT:-5001}"
export PORTAL_PUBLIC_URL="${PORTAL_PUBLIC_URL:-http://127.0.0.1:${PORT}}"
export PORTAL_LOG_FORMAT="${PORTAL_LOG_FORMAT:-text}"
# pipelines read local files only from here: the demo extract and var/import
export PORTAL_IMPORT_DIR="${PORTAL_IMPORT_DIR:-$ROOT/var/import:$ROOT/demo}"
mkdir -p "$ROOT/var/import"
DEV_OIDC=0
if [ -z "${PORTAL_OIDC_ISSUER:-}" ]; then
  DEV_OIDC=1
  export PORTAL_OIDC_ISSUER="http://127.0.0.1:9400"
  export PORTAL_OIDC_CLIENT_ID="portal-dev"
  # the local test provider accepts any secret for a client it does not know; a fresh one
  export PORTAL_OIDC_CLIENT_SECRET="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
DEV_CLIENTS=0
if [ -z "${PORTAL_CLIENT_ISSUER:-}" ] && [ "$DEV_OIDC" = 1 ]; then
  # machine clients' tokens: oidc-provider-mock has no client credentials grant, so a
  # second local provider (scripts/oidc-clients.mjs) issues them, Keycloak-shaped
  DEV_CLIENTS=1
  export PORTAL_CLIENT_ISSUER="http://127.0.0.1:9401"
  DEMO_CLIENT_SECRET="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  mkdir -p "$ROOT/var"
  cat > "$ROOT/var/oidc-clients.json" <<JSON
{"audience": "${PORTAL_CLIENT_AUDIENCE:-portal}", "clients": [{"client_id": "demo-sync",
 "client_secret": "${DEMO_CLIENT_SECRET}", "roles": ["${PORTAL_CLIENT_ROLE:-portal_client}"],
 "workspace": "demo"}]}
JSON
fi

say "migrating the database"
python -m migrator

say "configuring the demo pipeline (Oslo east, OpenStreetMap)"
flask --app app:create_app pipeline create oslo-demo --if-missing \
  --source "$ROOT/demo/oslo-east-filtered.osm.pbf" --schedule "0 3 * * *"
# the scheduler picks this run up as soon as it starts: watch the banner on the map page
flask --app app:create_app pipeline run oslo-demo

say "configuring the demo stops (Ruter's stop points with their NSR quay ids, matched with OSM)"
flask --app app:create_app pipeline create oslo-demo-stops --if-missing --kind stops_import \
  --source "$ROOT/demo/ruter2021_quays_nsr.csv" \
  --config '{"format": "csv", "mapping": {"id": "quay_id", "name": "name", "lat": "lat", "lon": "lon"}}'
# queued once the OSM import has published: only the quays inside the area the OSM data
# covers are matched (the registry is all of Ruter's region); runs beside the portal
flask --app app:create_app pipeline run oslo-demo-stops --after oslo-demo --timeout 900 \
  >/dev/null &

say "configuring the demo dataset (bicycle parking in central Oslo, from OpenStreetMap)"
flask --app app:create_app pipeline create oslo-demo-bicycle-parking --if-missing \
  --kind dataset --source "$ROOT/demo/oslo-bicycle-parking.geojson" \
  --config '{"slug": "bicycle_parking", "title": "Bicycle parking", "group": "Open data", "colour": "#1f78b4", "description": "Bicycle parking in central Oslo (OpenStreetMap, June 2025), brought in by a dataset pipeline."}'
flask --app app:create_app pipeline run oslo-demo-bicycle-parking
# the Oslo city bikes, live: a local replay server (demo/gbfs_replay.py, on an address of
# its own so that only it is allowed beside the public ones) steps through recorded
# snapshots, and the scheduler polls it as it would Oslo Bysykkel's own feed
GBFS_REPLAY="${GBFS_REPLAY:-127.0.0.2:8765}"
export PORTAL_SOURCE_ALLOWED_HOSTS="${PORTAL_SOURCE_ALLOWED_HOSTS:+$PORTAL_SOURCE_ALLOWED_HOSTS,}${GBFS_REPLAY%:*}"
say "configuring the demo bike-share feed (Oslo Bysykkel, replayed locally)"
flask --app app:create_app gbfs add oslobysykkel "http://${GBFS_REPLAY}/oslobysykkel/gbfs.json" \
  --header "Client-Identifier: mobility-portal-demo" --if-missing

if [ "$DEV_OIDC" = 1 ]; then
  # three demo rides for the demo user "cyclist", queued once the Oslo roads are published
  # (so they are snapped to them); runs beside the portal and ends by itself
  say "queueing the demo rides of the cyclist user once the Oslo streets are imported"
  flask --app app:create_app rides import --subject cyclist --public --wait-for-roads 600 \
    "$ROOT"/demo/rides/*.obsdata.csv.gz >/dev/null &
fi

if [ "$DEV_CLIENTS" = 1 ]; then
  say "configuring the demo workspace and its machine client (demo-sync)"
  flask --app app:create_app workspace create demo --name "Demo workspace" --if-missing
  flask --app app:create_app workspace client demo demo-sync --if-missing
  # a survey of the demo city's real stops, pushed by the client once they are imported,
  # and its public map (/w/demo/maps/stop-survey/); runs beside the portal
  python scripts/demo_workspace.py --portal "http://127.0.0.1:${PORT}" \
    --issuer "$PORTAL_CLIENT_ISSUER" --client demo-sync --secret "$DEMO_CLIENT_SECRET" &
fi
say "the demo sensors: recorded LoRaWAN uplinks replayed into the local MQTT broker"
export PORTAL_MQTT_TOPICS="${PORTAL_MQTT_TOPICS:-demo/helium/+=campusiot_helium,demo/chirpstack/+=campusiot_chirpstack}"
export PORTAL_MQTT_MAPPINGS="${PORTAL_MQTT_MAPPINGS:-$(cat "$ROOT/demo/sensors/mappings.json")}"

procfile="$(mktemp)"
trap 'rm -f "$procfile"' EXIT
cat > "$procfile" <<PROCS
web: env PORT=${PORT} PORTAL_TRUSTED_PROXIES=1 bash scripts/web.sh
scheduler: python -m scheduler
gbfs-replay: python demo/gbfs_replay.py --host ${GBFS_REPLAY%:*} --port ${GBFS_REPLAY##*:} --step 15
sensors: python -m scheduler.sensors
sensor-replay: python demo/sensor_replay.py --interval 5
PROCS
if [ "$DEV_OIDC" = 1 ]; then
  cat >> "$procfile" <<'PROCS'
oidc: oidc-provider-mock --port 9400 --user-claims '{"sub": "admin", "name": "Ada Admin", "email": "admin@example.org", "realm_access": {"roles": ["admin"]}}' --user-claims '{"sub": "operator", "name": "Otto Operator", "email": "operator@example.org", "realm_access": {"roles": ["operator"]}}' --user-claims '{"sub": "cyclist", "name": "Cleo Cyclist", "email": "cyclist@example.org", "realm_access": {"roles": ["user"]}}'
PROCS
fi

if [ "$DEV_CLIENTS" = 1 ]; then
  cat >> "$procfile" <<'PROCS'
clients: node scripts/oidc-clients.mjs --port 9401 --config var/oidc-clients.json
PROCS
fi

say "starting: open ${PORTAL_PUBLIC_URL}/  (log in as admin, operator or cyclist with the local test provider)"
exec honcho --procfile "$procfile" --app-root "$ROOT" start
