# syntax=docker/dockerfile:1
# Multi-stage: npm assets, the Python virtualenv, then a slim runtime with neither toolchain.
# BASE_IMAGE and NODE_IMAGE let the same file build from local base images where no
# registry is reachable (scripts/podman-stack.sh builds them from Debian packages).
ARG BASE_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir -p vendor/maplibre-gl \
 && cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.css \
       node_modules/maplibre-gl/LICENSE.txt vendor/maplibre-gl/

# The virtualenv is built here, where pip may download and compile, and copied whole into
# the runtime (same base image, so the same interpreter path).
FROM ${BASE_IMAGE} AS venv
WORKDIR /build
COPY requirements.txt requirements-dev.txt ./
# INSTALL_DEV=1 adds the test tools (the compose `test` service); operators' images stay lean
ARG INSTALL_DEV=0
RUN if [ "$INSTALL_DEV" = 1 ]; then req=requirements-dev.txt; else req=requirements.txt; fi \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r "$req"

FROM ${BASE_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    PORTAL_DATA_DIR=/data PORTAL_LOG_FORMAT=json
WORKDIR /app
RUN groupadd --system portal && useradd --system --gid portal --home /app portal \
 && mkdir -p /data && chown portal:portal /data
COPY --from=venv /opt/venv /opt/venv
COPY app ./app
COPY scheduler ./scheduler
COPY migrator ./migrator
COPY matching_and_import_db ./matching_and_import_db
COPY demo ./demo
COPY deploy ./deploy
COPY tests ./tests
COPY pyproject.toml entrypoint.sh ./
COPY --from=assets /build/vendor ./app/static/vendor
USER portal
EXPOSE 5001
# healthchecks differ per role (web: /livez, scheduler: its heartbeat): see docker-compose.yml
ENTRYPOINT ["./entrypoint.sh"]
CMD ["web"]
