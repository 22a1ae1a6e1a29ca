"""Container healthcheck for the scheduler role: exit 0 while this host's heartbeat is fresh.

    python -m scheduler.healthcheck
"""

from __future__ import annotations

import socket
import sys
import time

import redis as redis_lib

from matching_and_import_db.settings import Settings
from matching_and_import_db.workers import latest_heartbeat


def main() -> int:
    settings = Settings.from_env(overrides={"secret_key": "unused-by-the-healthcheck"})
    client = redis_lib.Redis.from_url(settings.redis_url, socket_timeout=3)
    beat = latest_heartbeat(client, f"{socket.gethostname()}:")
    if beat is not None and time.time() - beat["at"] <= settings.heartbeat_max_age_seconds:
        return 0
    print("no fresh heartbeat from this host's scheduler", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
