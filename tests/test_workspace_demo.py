"""The demo workspace as start.sh makes it: scripts/demo_workspace.py, as a machine client
with a real client-credentials token, pushes a survey placed at the real stops of the demo
city (imported from demo/oslo-east-filtered.osm.pbf) and defines a public map; the map page
shows those points in a real Chromium."""

from __future__ import annotations

import subprocess
import sys

import psycopg2

from tests.browser_helpers import live_server, wait_for_js, watch_for_errors
from tests.conftest import OSLO_PBF, ROOT
from tests.osm_helpers import gen_pipeline, run_inline


def test_the_demo_script_pushes_stops_and_the_public_map_shows_them(
        settings_env, db_conn, client_provider, browser):
    run = run_inline(settings_env, gen_pipeline(db_conn, "oslo", str(OSLO_PBF)))
    assert run["status"] == "succeeded", run["message"]
    with db_conn.cursor() as cur:
        cur.execute("INSERT INTO workspaces (slug, name) VALUES ('alpha', 'Alpha')")
        cur.execute("INSERT INTO workspace_clients (workspace_id, client_id, name) "
                    "SELECT id, 'alpha-sync', 'sync' FROM workspaces")
    db_conn.commit()
    with live_server(settings_env, client_issuer=client_provider.url) as url:
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "demo_workspace.py"), "--portal", url,
             "--issuer", client_provider.url, "--client", "alpha-sync",
             "--secret", "alpha-sync-secret", "--workspace", "alpha", "--timeout", "30"],
            env=settings_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "datapoints at real stops" in done.stdout

        conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_config('portal.workspace_id', id::text, true) "
                        "FROM workspaces WHERE slug = 'alpha'")
            # every datapoint sits on a stop of the demo city and says it is demo data
            cur.execute("SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "
                        "osm_stops s WHERE ST_Equals(s.geom, d.geom))), "
                        "count(*) FILTER (WHERE d.properties ->> 'demo' LIKE 'demo data%%') "
                        "FROM workspace_datapoints d")
            total, on_stops, labelled = cur.fetchone()
        conn.close()
        assert total > 50 and on_stops == total and labelled == total

        page = browser.new_page(viewport={"width": 900, "height": 700})
        errors = watch_for_errors(page)
        page.goto(f"{url}/w/alpha/maps/stop-survey/#12.5/59.915/10.78")
        wait_for_js(page, "document.getElementById('map').dataset.ready === '1'")
        wait_for_js(page, "window.workspaceMap.queryRenderedFeatures("
                          "{layers: window.workspaceLayers}).length > 10", timeout=60)
        assert "Stop survey (demo data)" in page.locator("#workspace-map-caption").inner_text()
        assert not errors, errors
