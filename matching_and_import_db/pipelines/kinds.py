"""The registry of pipeline kinds. A new kind adds one entry here."""

from __future__ import annotations

from matching_and_import_db.datasets.pipeline import DATASET_IMPORT
from matching_and_import_db.errors import InputError
from matching_and_import_db.osm.pipeline import OSM_IMPORT
from matching_and_import_db.pipelines.base import PipelineKind
from matching_and_import_db.stops.pipeline import STOPS_IMPORT

KINDS: dict[str, PipelineKind] = {kind.name: kind for kind in (OSM_IMPORT, STOPS_IMPORT,
                                                         DATASET_IMPORT)}


def get_kind(name: str) -> PipelineKind:
    try:
        return KINDS[name]
    except KeyError:
        raise InputError(
            f"unknown pipeline kind {name!r}; known kinds: {', '.join(sorted(KINDS))}"
        ) from None
