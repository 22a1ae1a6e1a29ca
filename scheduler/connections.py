"""The scheduler's database connections, at most PORTAL_SCHEDULER_DB_CONNECTIONS at once.

Jobs open a connection when they start and close it when done (a pipeline run holds three:
its claim, its work and its lease renewal). Past the budget a job waits for a connection
to be closed, so a deployment's total is known in advance (README "A connection budget").
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg2
import psycopg2.extensions

WAIT_SECONDS = 120


class ConnectionBudgetExhausted(RuntimeError):
    """Every connection of the budget stayed in use for WAIT_SECONDS."""


def budgeted_connect(dsn: str, budget: int) -> Callable[[], psycopg2.extensions.connection]:
    slots = threading.BoundedSemaphore(budget)

    class BudgetedConnection(psycopg2.extensions.connection):
        """A psycopg2 connection that gives its slot back when closed (or collected)."""

        _slot_held = False

        def _give_back(self) -> None:
            if self._slot_held:
                self._slot_held = False
                slots.release()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._give_back()

        def __del__(self) -> None:
            self._give_back()

    def connect() -> psycopg2.extensions.connection:
        if not slots.acquire(timeout=WAIT_SECONDS):
            raise ConnectionBudgetExhausted(
                f"all {budget} database connections of this scheduler stayed in use for "
                f"{WAIT_SECONDS}s (PORTAL_SCHEDULER_DB_CONNECTIONS)")
        try:
            conn = psycopg2.connect(dsn, connection_factory=BudgetedConnection)
        except BaseException:
            slots.release()
            raise
        conn._slot_held = True
        return conn

    return connect
