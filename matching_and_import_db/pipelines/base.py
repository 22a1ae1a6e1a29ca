"""What a pipeline kind is: named phases run in order over one RunContext."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from matching_and_import_db.errors import DomainError
from matching_and_import_db.pipelines import sources
from matching_and_import_db.pipelines.sources import SourcePolicy
from matching_and_import_db.tilecache import TileInvalidator


class RunAborted(DomainError):
    """The run lost its lock (its lease ran out); it must not publish anything."""


@dataclass
class RunContext:
    run_id: int
    pipeline: str
    config: dict[str, Any]
    conn: Any  # psycopg2 connection for the phases' own transactions
    data_dir: str
    reporter: Any  # ProgressReporter
    redis: Any = None  # the scheduler's Redis client, for kinds that keep state there
    tiles: TileInvalidator | None = None  # told after a publish what the map shows anew
    lock_lost: Callable[[], bool] = lambda: False
    sources: SourcePolicy = SourcePolicy()  # where a source may be read
    counts: dict[str, int] = field(default_factory=dict)
    log_lines: list[dict] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # handed from phase to phase

    def progress(self, done: int, total: int | None = None) -> None:
        self.reporter.items(done, total)

    def log(self, message: str, *args: Any, level: int = logging.INFO) -> None:
        text = message % args if args else message
        logging.getLogger(f"pipeline.{self.pipeline}").log(level, "run %s: %s", self.run_id, text)
        self.log_lines.append({"t": round(time.time(), 3), "level": logging.getLevelName(level),
                               "msg": text})

    def map_changed(self, data: str) -> None:
        """After the publish commits: the cached tiles of the layers drawn from `data`
        (tilecache.OSM, STOPS, …) are retired at once (an import changes too much for
        tile-by-tile invalidation)."""
        if self.tiles is not None:
            self.tiles.changed_everywhere(data)

    def ensure_lock(self) -> None:
        """Call before publishing: a run whose lock expired may overlap another run."""
        if self.lock_lost():
            raise RunAborted("the run lost its pipeline lock (lease expired); nothing published")


def fetch_source(ctx: RunContext, what: str, default_name: str) -> str:
    """The fetch phase of kinds that read one file: a local path must lie in an import
    directory, an http(s) URL is downloaded into the data directory from a public address
    (with progress; discard_uncommitted removes it). Returns the path and keeps it in
    ctx.state["path"]."""
    source = ctx.config["source"]
    if not sources.is_url(source):
        path = ctx.state["path"] = sources.local_file(ctx.sources, source, what)
        return path
    target_dir = os.path.join(ctx.data_dir, "downloads")
    os.makedirs(target_dir, exist_ok=True)
    name = os.path.basename(urlparse(source).path) or default_name
    path = ctx.state["downloaded"] = os.path.join(target_dir, f"run{ctx.run_id}-{name}")
    done = sources.download(ctx.sources, source, path, ctx.progress)
    ctx.log("downloaded %s (%d bytes)", source, done)
    ctx.state["path"] = path
    return path


def discard_uncommitted(ctx: RunContext) -> None:
    """The cleanup of kinds that stage and publish in one transaction and may download
    their source: what was not committed (staging tables included) goes with the rollback,
    and a downloaded file goes too."""
    ctx.conn.rollback()
    downloaded = ctx.state.get("downloaded")
    if downloaded and os.path.exists(downloaded):
        os.remove(downloaded)


@dataclass(frozen=True)
class Phase:
    name: str
    run: Callable[[RunContext], None]


@dataclass(frozen=True)
class PipelineKind:
    name: str
    title: str
    phases: tuple[Phase, ...]
    validate_config: Callable[[dict], dict]
    # always called after the phases, failed or not: drop staging tables, temp files
    cleanup: Callable[[RunContext], None] = lambda ctx: None
    # "pipeline": runs of one pipeline never overlap; "kind": no two runs of this kind
    # overlap, for kinds whose pipelines all publish into the same tables
    lock_scope: str = "pipeline"

    def lock_name(self, pipeline: str) -> str:
        if self.lock_scope == "kind":
            return f"lock:pipeline-kind:{self.name}"
        return f"lock:pipeline:{pipeline}"

    @property
    def phase_names(self) -> list[str]:
        return [p.name for p in self.phases]
