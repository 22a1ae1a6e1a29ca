# syntax=docker/dockerfile:1
# Multi-stage: npm assets, Python wheels, then a slim runtime with neither toolchain.
# BASE_IMAGE lets the same file build from a local base where no registry is reachable.
ARG BASE_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir -p vendor/maplibre-gl \
 && cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.css \
       node_modules/maplibre-gl/LICENSE.txt vendor/maplibre-gl/

FROM ${BASE_IMAGE} AS wheels
WORKDIR /build
COPY requirements.txt requirements-dev.txt ./
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements-dev.txt

FROM ${BASE_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_DATA_DIR=/data PORTAL_LOG_FORMAT=json
WORKDIR /app
RUN groupadd --system portal && useradd --system --gid portal --home /app portal \
 && mkdir -p /data && chown portal:portal /data
COPY --from=wheels /wheels /wheels
COPY requirements.txt requirements-dev.txt ./
# INSTALL_DEV=1 adds the test tools (the compose `test` service); operators' images stay lean
ARG INSTALL_DEV=0
RUN if [ "$INSTALL_DEV" = 1 ]; then req=requirements-dev.txt; else req=requirements.txt; fi \
 && pip install --no-cache-dir --no-index --find-links /wheels -r "$req" && rm -rf /wheels
COPY app ./app
COPY scheduler ./scheduler
COPY migrator ./migrator
COPY matching_and_import_db ./matching_and_import_db
COPY demo ./demo
COPY tests ./tests
COPY pyproject.toml entrypoint.sh ./
COPY --from=assets /build/vendor ./app/static/vendor
USER portal
EXPOSE 5001
VOLUME ["/data"]
# healthchecks differ per role (web: /livez, scheduler: its heartbeat): see docker-compose.yml
ENTRYPOINT ["./entrypoint.sh"]
CMD ["web"]
