"""Schemathesis against the OGC API's own OpenAPI document (/ogc/api), served live
(issue 10, finding 13): for a bounded number of cases per operation, valid and invalid,
no server error, and status codes, content types, headers and bodies as documented;
requests that break the document refused with 400, other methods 405 with Allow.

Not checked: that every schema-valid request is accepted (positive_data_acceptance).
JSON Schema cannot say that a bbox's minimum lies below its maximum, that 2024-02-30 is
no date, or that an interval's start comes before its end; the server refuses those with a
400 naming the problem, which the document lists (tests/test_ogc.py checks valid queries)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.browser_helpers import live_server
from tests.ride_helpers import load_oslo_roads

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance",
          "negative_data_rejection", "unsupported_method",
          "allow_header_conformance"]
EXAMPLES_PER_OPERATION = 25  # ~1,900 cases over the 24 operations, under a minute


def run_schemathesis(api_url: str, report_dir: Path) -> tuple[int, str]:
    cli = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [str(cli), "run", api_url, "--checks", ",".join(CHECKS),
         "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "10", "--workers", "1",
         "--phases", "examples,coverage,fuzzing", "--request-timeout", "30",
         "--report", "ndjson", "--report-dir", str(report_dir), "--output-truncate", "true",
         "--warnings", "off", "--generation-database", "none"],
        capture_output=True, text=True, timeout=240, cwd=report_dir)  # under pytest-timeout
    return result.returncode, result.stdout + result.stderr


def test_schemathesis_finds_no_server_error_and_no_deviation_from_the_document(
        settings_env, golden, db_conn, tmp_path):
    load_oslo_roads(db_conn)
    # a limit no run reaches: every case gets the API's real answer, not a 429
    with live_server(settings_env, ratelimit_default="1000000 per minute") as server:
        code, output = run_schemathesis(f"{server}/ogc/api", tmp_path)
    events = [json.loads(line) for f in tmp_path.rglob("*.ndjson")
              for line in f.read_text().splitlines() if line]
    assert events, output
    (tmp_path / "output.txt").write_text(output)
    assert code == 0, output[-20000:]
    generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", output).groups())
    assert generated == passed > 1000, output[-3000:]
