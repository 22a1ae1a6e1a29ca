"""The scheduler's liveness beat: the liveness key of matching_and_import_db.workers,
renewed every second by a thread of its own so that other workers take back a dead
process's claims within seconds. (The slower heartbeat /readyz reads is the "heartbeat"
job of scheduler/jobs.py; its keys are matching_and_import_db.workers' too.)
"""

from __future__ import annotations

import logging
import threading

from matching_and_import_db import workers

log = logging.getLogger(__name__)


class LivenessBeat(threading.Thread):
    """Keeps this process's liveness key alive until stop(); a process killed outright
    stops with it, and its key expires workers.ALIVE_SECONDS later."""

    def __init__(self, redis, worker: str):
        super().__init__(daemon=True, name="liveness")
        self._redis, self._worker = redis, worker
        self._stopped = threading.Event()
        self._failing = False

    def beat(self) -> None:
        try:
            workers.mark_alive(self._redis, self._worker)
            self._failing = False
        except Exception:  # Redis away: others fall back on our leases, which we renew
            if not self._failing:
                log.warning("cannot write the liveness key of %s", self._worker,
                            exc_info=True)
            self._failing = True

    def run(self) -> None:
        while not self._stopped.wait(workers.BEAT_SECONDS):
            self.beat()

    def stop(self) -> None:
        self._stopped.set()
        self.join()
        try:
            workers.mark_gone(self._redis, self._worker)
        except Exception:
            pass  # the key expires on its own
