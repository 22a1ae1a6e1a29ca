"""What every download shares: the response (download, csv_download, geojson_download:
every export and raw file goes out through them), its Content-Disposition, built safely
from any file name, and CSV text whose cells a spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import quote

import orjson
from flask import Response

# RFC 5987 attr-char besides letters and digits: what filename* may carry unencoded
ATTR_CHARS = "!#$&+-.^_`|~"
# a spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection");
# tab and CR too, since some strip them first
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def attachment(filename: str, fallback: str = "download") -> str:
    """Content-Disposition for filename as a download (RFC 6266): a plain ASCII filename
    for old clients and, when that is not the exact name, filename* in UTF-8 (RFC 5987).
    Control characters (CR, LF, NUL) are dropped and quotes replaced, so an uploaded
    name can neither break the header nor add one."""
    name = "".join(ch for ch in filename if ch.isprintable()).strip() or fallback
    letters = (ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    plain = "".join("_" if ch in '"\\/' or not ch.isascii() else ch for ch in letters)
    value = f'attachment; filename="{plain}"'  # no quote, backslash or control char is left
    if plain != name:
        value += "; filename*=UTF-8''" + quote(name, safe=ATTR_CHARS)
    return value


def download(body, filename: str, mimetype: str) -> Response:
    """body as a file named filename to save (export, raw upload)."""
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": attachment(filename)})


def csv_download(rows: Iterable[Mapping], filename: str,
                 columns: Iterable[str] | None = None) -> Response:
    """rows as a CSV file (csv_text: formula-safe cells)."""
    return download(csv_text(rows, columns), filename, "text/csv")


def geojson_download(features: list, filename: str) -> Response:
    """features as a GeoJSON FeatureCollection file."""
    return download(orjson.dumps({"type": "FeatureCollection", "features": features}),
                    filename, "application/geo+json")


def safe_cell(value):
    """A text cell that a spreadsheet would take for a formula gets a leading quote
    (numbers stay numbers: -3.5 is a value, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping], columns: Iterable[str] | None = None) -> str:
    """CSV of rows (a header line first), every text cell through safe_cell. columns: the
    columns in order (others are left out); None: the first row's keys."""
    out = io.StringIO()
    writer = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(columns or row), lineterminator="\n",
                                    extrasaction="ignore")
            writer.writeheader()
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    if writer is None and columns is not None:
        csv.writer(out, lineterminator="\n").writerow(columns)
    return out.getvalue()
