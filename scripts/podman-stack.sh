#!/usr/bin/env bash
# The operator path without Docker: build the images and run the project's own
# docker-compose.yml with podman (Debian's podman 4.3, runc, podman-compose 1.0.3).
#
#   scripts/podman-stack.sh images   build the local base, PostGIS, Redis, nginx, PgBouncer and portal images
#   scripts/podman-stack.sh up       images (if needed), then the stack, waiting until healthy
#   scripts/podman-stack.sh down     stop and remove the containers (volumes are kept)
#   scripts/podman-stack.sh destroy  the same, and remove the volumes
#   scripts/podman-stack.sh ps|logs  what compose would show
#
# No image is pulled from a registry: the base is made with debootstrap and everything else
# is built from Debian packages on it (cached between runs; PORTAL_REBUILD_BASE=1 remakes
# them). The portal image is built from the project's Dockerfile with BASE_IMAGE/NODE_IMAGE
# pointed at those local images. Settings live in var/podman/.env (generated once).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/var/podman"
PROJECT="${PODMAN_PROJECT:-mobility-portal}"
export PORTAL_PORT="${PORTAL_PORT:-5801}"
# the host's CA bundle, for a registry reached through a proxy with its own CA
CA_BUNDLE="${PORTAL_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

say() { printf '\033[1m[podman-stack]\033[0m %s\n' "$*" >&2; }
now() { date +%s; }

need_root_packages() {
  local missing=()
  for pkg in podman podman-compose runc debootstrap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { say "needs root to install ${missing[*]}"; exit 1; }
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # What this machine's podman needs to run containers at all: no default ulimits or pid
  # limit (the sandbox refuses them) and runc (crun fails here with a cgroups error).
  local conf=/etc/containers/containers.conf
  if ! grep -q "portal-podman-stack" "$conf" 2>/dev/null; then
    say "configuring $conf (runc, no default ulimits, no pids limit)"
    mkdir -p /etc/containers
    cat > "$conf" <<'CONF'
# written by scripts/podman-stack.sh (portal-podman-stack)
[containers]
default_ulimits = []
pids_limit = 0

[engine]
runtime = "runc"
CONF
  fi
}

build_flags() {
  # build steps reach PyPI and npm through the host's trust store
  local flags=(--network host --layers)
  if [ -f "$CA_BUNDLE" ]; then
    mkdir -p "$WORK/build"
    printf '[global]\ncert = /etc/ssl/certs/host-ca.crt\n' > "$WORK/build/pip.conf"
    printf 'cafile=/etc/ssl/certs/host-ca.crt\n' > "$WORK/build/npmrc"
    flags+=(-v "$CA_BUNDLE:/etc/ssl/certs/host-ca.crt:ro"
            -v "$WORK/build/pip.conf:/etc/pip.conf:ro"
            -v "$WORK/build/npmrc:/root/.npmrc:ro")
  fi
  printf '%s\n' "${flags[@]}"
}

image_exists() { podman image exists "$1"; }

build_base_images() {
  local started; started=$(now)
  if [ "${PORTAL_REBUILD_BASE:-0}" = 1 ] || ! image_exists localhost/debian:bookworm; then
    say "making the Debian base image with debootstrap"
    local rootfs="$WORK/rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
    tar -C "$rootfs" -c . | podman import --quiet - localhost/debian:bookworm >/dev/null
    rm -rf "$rootfs"
  fi
  mapfile -t flags < <(build_flags)
  local name
  for name in python node postgis redis nginx pgbouncer; do
    local tag="localhost/portal-$name:bookworm" want have
    # rebuilt when its Containerfile or the scripts it copies change
    want="$(cat "scripts/podman/Containerfile.$name" scripts/podman/*.sh | sha256sum | cut -c1-16)"
    have="$(podman image inspect "$tag" --format '{{ index .Labels "portal.source" }}' 2>/dev/null || true)"
    if [ "${PORTAL_REBUILD_BASE:-0}" = 1 ] || [ "$want" != "$have" ]; then
      say "building $tag"
      podman build "${flags[@]}" --label "portal.source=$want" \
        -f "scripts/podman/Containerfile.$name" -t "$tag" scripts/podman >/dev/null
    fi
  done
  BASE_SECONDS=$(( $(now) - started ))
}

build_portal_image() {
  local started; started=$(now)
  mapfile -t flags < <(build_flags)
  say "building localhost/portal:local from the project's Dockerfile"
  podman build "${flags[@]}" \
    --build-arg BASE_IMAGE=localhost/portal-python:bookworm \
    --build-arg NODE_IMAGE=localhost/portal-node:bookworm \
    -t localhost/portal:local -f Dockerfile . >/dev/null
  PORTAL_SECONDS=$(( $(now) - started ))
}

write_env() {
  mkdir -p "$WORK"
  if [ ! -f "$WORK/.env" ]; then
    umask 077
    cat > "$WORK/.env" <<EOF
POSTGRES_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORTAL_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
EOF
  fi
  set -a; . "$WORK/.env"; set +a
  export PORTAL_IMAGE=localhost/portal PORTAL_TAG=local
  export POSTGIS_IMAGE=localhost/portal-postgis:bookworm REDIS_IMAGE=localhost/portal-redis:bookworm
  export NGINX_IMAGE=localhost/portal-nginx:bookworm PGBOUNCER_IMAGE=localhost/portal-pgbouncer:bookworm
  export PORTAL_PUBLIC_URL="${PORTAL_PUBLIC_URL:-http://127.0.0.1:$PORTAL_PORT}"
}

compose() {
  # only the operators' file: the override is for development with Docker
  podman-compose --project-name "$PROJECT" -f "$ROOT/docker-compose.yml" "$@"
}

compose_quiet() {
  # podman complains on every start that there is no systemd to schedule healthchecks
  # (this script runs them itself): keep that out of sight, but keep it
  if ! compose "$@" >>"$WORK/compose.log" 2>&1; then
    say "podman-compose $* failed:"; tail -20 "$WORK/compose.log" >&2; return 1
  fi
}

container() { echo "${PROJECT}_$1_1"; }

healthy() {
  # podman runs healthchecks from systemd timers, which this machine does not have:
  # run the compose file's healthcheck by hand
  podman healthcheck run "$(container "$1")" >/dev/null 2>&1
}

ready_through_proxy() {
  curl -fsS -m 10 -o /dev/null "http://127.0.0.1:$PORTAL_PORT/readyz" 2>/dev/null
}

wait_for() {
  local what="$1" seconds="$2"; shift 2
  local deadline=$(( $(now) + seconds ))
  until "$@"; do
    if [ "$(now)" -ge "$deadline" ]; then say "timed out waiting for $what"; return 1; fi
    sleep 1
  done
}

migrator_exit_code() {
  podman inspect "$(container migrator)" --format '{{.State.ExitCode}} {{.State.Status}}' 2>/dev/null
}

migrator_done() { [[ "$(migrator_exit_code)" == *" exited" ]]; }

up() {
  local started; started=$(now)
  write_env
  if ! image_exists localhost/portal:local || [ "${PORTAL_REBUILD:-1}" = 1 ]; then
    build_base_images
    build_portal_image
  fi
  local up_started; up_started=$(now)
  say "starting db and redis"
  : > "$WORK/compose.log"
  compose_quiet up -d db redis
  wait_for "db to be healthy" 120 healthy db
  wait_for "redis to be healthy" 60 healthy redis
  say "starting pgbouncer"
  compose_quiet up -d --no-deps pgbouncer
  wait_for "pgbouncer to be healthy" 60 healthy pgbouncer
  # podman-compose 1.0.3 does not wait for depends_on conditions: the script does, in the
  # order the compose file states (migrator completed successfully, then app and scheduler)
  say "running the migrator"
  podman rm -f "$(container migrator)" >/dev/null 2>&1 || true
  compose_quiet up -d --no-deps migrator
  wait_for "the migrator to finish" 180 migrator_done
  local code; code="$(migrator_exit_code)"
  if [ "${code%% *}" != 0 ]; then
    say "the migrator failed (exit ${code%% *}):"; podman logs "$(container migrator)" | tail -20
    return 1
  fi
  say "starting app, scheduler and the live stream"
  compose_quiet up -d --no-deps app scheduler stream
  wait_for "the app to be healthy" 120 healthy app
  wait_for "the scheduler to be healthy" 120 healthy scheduler
  say "starting the proxy"
  compose_quiet up -d --no-deps proxy
  wait_for "the proxy to be healthy" 60 healthy proxy
  # what a user sees: the proxy passing a request through to the app, which can reach
  # PostgreSQL through pgbouncer, Redis and the scheduler's heartbeat (the first request of
  # each gunicorn worker also opens its pool)
  wait_for "the portal to be ready through the proxy" 120 ready_through_proxy
  local total=$(( $(now) - started )) to_healthy=$(( $(now) - up_started ))
  say "stack healthy on http://127.0.0.1:$PORTAL_PORT/"
  printf '{"base_images_s": %s, "portal_image_s": %s, "stack_healthy_s": %s, "total_s": %s}\n' \
    "${BASE_SECONDS:-0}" "${PORTAL_SECONDS:-0}" "$to_healthy" "$total"
}

main() {
  local cmd="${1:-up}"
  shift || true
  need_root_packages
  case "$cmd" in
    images) write_env; build_base_images; build_portal_image
            printf '{"base_images_s": %s, "portal_image_s": %s}\n' "$BASE_SECONDS" "$PORTAL_SECONDS" ;;
    up) up ;;
    down) write_env; compose_quiet down ;;
    destroy) write_env; compose_quiet down -v ;;
    ps) write_env; compose ps ;;
    logs) write_env; compose logs "$@" ;;
    *) echo "usage: $0 images|up|down|destroy|ps|logs" >&2; exit 64 ;;
  esac
}

main "$@"
