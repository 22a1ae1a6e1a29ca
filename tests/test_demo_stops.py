"""The demo's stops: Ruter's stop points (NSR quays) imported as scripts/start.sh does, after
the demo OSM import, give a newcomer real matches and real problems, and only for the part
of Ruter's region the OSM extract covers."""

from __future__ import annotations

import json
import re

from tests.conftest import OSLO_PBF, ROOT
from tests.osm_helpers import gen_pipeline, run_inline, run_worker
from tests.stops_helpers import gen_stops_pipeline


def start_sh_stops_config() -> tuple[str, dict]:
    """The source and configuration scripts/start.sh gives the demo stops pipeline."""
    script = (ROOT / "scripts" / "start.sh").read_text()
    block = script[script.index("pipeline create oslo-demo-stops"):]
    source = re.search(r'--source "\$ROOT/([^"]+)"', block).group(1)
    config = json.loads(re.search(r"--config '([^']+)'", block).group(1))
    return source, config


def run_pending(env: dict) -> None:
    run_worker(env).run_pending()


def test_demo_registry_is_matched_after_the_demo_osm_import(settings_env, db_conn, app):
    source, config = start_sh_stops_config()
    osm = gen_pipeline(db_conn, "oslo-demo", str(OSLO_PBF))
    gen_stops_pipeline(db_conn, "oslo-demo-stops", ROOT / source, **config)
    cli = app.test_cli_runner()
    early = cli.invoke(args=["pipeline", "run", "oslo-demo-stops", "--after", "oslo-demo",
                             "--timeout", "0"])
    assert early.exit_code != 0
    assert "oslo-demo has not succeeded within 0s (never run" in early.output
    assert run_inline(settings_env, osm)["status"] == "succeeded"

    queued = cli.invoke(args=["pipeline", "run", "oslo-demo-stops", "--after", "oslo-demo"])
    assert queued.exit_code == 0, queued.output
    run_pending(settings_env)

    with db_conn.cursor() as cur:
        cur.execute("SELECT status, message, counts FROM pipeline_runs r JOIN pipelines p "
                    "ON p.id = r.pipeline_id WHERE p.name = 'oslo-demo-stops'")
        status, message, counts = cur.fetchone()
        assert status == "succeeded", message
        # Ruter's 7,317 quays cover the whole region; east Oslo's OSM data about 700 of them
        assert counts["official_read"] == 7317
        assert 500 < counts["official_in_scope"] < 1000
        assert counts["left_out_outside_osm_area"] == 7317 - counts["official_in_scope"]
        cur.execute("SELECT count(*) FROM stop_matches WHERE official_name = osm_name")
        assert cur.fetchone()[0] > 50  # real pairs, named alike on both sides
        cur.execute("SELECT count(*) FROM stop_matches")
        assert cur.fetchone()[0] > counts["official_in_scope"] / 3
        cur.execute("SELECT DISTINCT type FROM stop_problems")
        assert {"unmatched_official", "unmatched_osm"} <= {t for (t,) in cur.fetchall()}
    db_conn.commit()
