"""The dry run of a dataset pipeline: fetch and read its source as a run would, and answer
the inferred schema and the first features, without writing anything to the database.
Downloads go through the same source policy and are removed afterwards.

GDAL and Arrow are imported by the first dry run, not with the web app (pipeline.py says
why)."""

from __future__ import annotations

import uuid

from matching_and_import_db.datasets.config import parse
from matching_and_import_db.pipelines.sources import SourcePolicy

PREVIEW_FEATURES = 20


def dry_run(config: dict, policy: SourcePolicy, workdir: str) -> dict:
    from matching_and_import_db.datasets.fetch import Fetcher, fetch
    from matching_and_import_db.datasets.reader import as_utf8, preview

    cfg = parse(config)
    fetcher = Fetcher(policy, workdir, f"preview-{uuid.uuid4().hex[:12]}")
    try:
        files = as_utf8(fetch(cfg, fetcher), fetcher)
        return {"slug": cfg.slug, **preview(cfg, files, PREVIEW_FEATURES)}
    finally:
        fetcher.remove()
