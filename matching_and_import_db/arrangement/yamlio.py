"""Arrangements as YAML files (LautrerWissen seeds its map configuration from YAML): export
writes the document, import reads it back with errors that name the line and the key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from matching_and_import_db.arrangement.model import (
    Arrangement,
    ArrangementError,
    LayerFacts,
    read_document,
)

MAX_BYTES = 1024 * 1024
HEADER = ("# The map's arrangement (Mobility Data Portal, /admin/map). Import it there to\n"
          "# restore it; keys: see matching_and_import_db/arrangement/model.py.\n")


def dump(arrangement: Arrangement) -> str:
    return HEADER + yaml.safe_dump(arrangement.to_document(), sort_keys=False,
                                   allow_unicode=True, default_flow_style=None, width=100)


def load(text: str | bytes, facts: Mapping[str, LayerFacts],
         basemaps: Sequence[str] = ()) -> Arrangement:
    """The arrangement in a YAML file, or ArrangementError saying at which line what is
    wrong (the line of the key it names, counted from 1)."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise ArrangementError(f"the file is larger than {MAX_BYTES // 1024} KiB")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ArrangementError(f"the file is not UTF-8 text (byte {e.start})") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or "not valid YAML"
        raise ArrangementError(f"{where}{problem}") from None
    try:
        return read_document(doc, facts, basemaps)
    except ArrangementError as e:
        line = line_of(root, e.path)
        if line is None:
            raise
        raise ArrangementError(f"line {line}: {e.message}", e.path) from None


def line_of(node, path: Sequence[str | int]) -> int | None:
    """The line (from 1) of the deepest node along path: a mapping's key, a list's item."""
    line = None if node is None else node.start_mark.line + 1
    for step in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(step):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line
