"""The demo's third kind of data: the dataset pipeline scripts/start.sh configures (bicycle
parking in central Oslo, from OpenStreetMap) is created through the same CLI, runs, and
its layer appears in its group on the map of the demo area."""

from __future__ import annotations

import re

from tests.conftest import ROOT, wait_until
from tests.dataset_helpers import PARKING_COUNT, run_dataset


def start_sh_dataset_command() -> list[str]:
    """The arguments start.sh gives `flask pipeline create` for the demo dataset."""
    script = (ROOT / "scripts" / "start.sh").read_text()
    block = script[script.index("pipeline create oslo-demo-bicycle-parking"):]
    block = block[:block.index("\nflask")]
    kind = re.search(r"--kind (\S+)", block).group(1)
    source = re.search(r'--source "\$ROOT/([^"]+)"', block).group(1)
    config = re.search(r"--config '([^']+)'", block).group(1)
    return ["pipeline", "create", "oslo-demo-bicycle-parking", "--if-missing", "--kind", kind,
            "--source", str(ROOT / source), "--config", config]


def test_the_demo_dataset_shows_in_its_group_over_the_demo_area(settings_env, app, client):
    cli = app.test_cli_runner()
    created = cli.invoke(args=start_sh_dataset_command())
    assert created.exit_code == 0, created.output
    with app.app_context():
        from app.pipelines.service import get_pipeline_by_name
        pipeline = get_pipeline_by_name("oslo-demo-bicycle-parking")
        pipeline_id = pipeline.id
    run = run_dataset(settings_env, pipeline_id)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["features_published"] == PARKING_COUNT

    def groups():
        return {g["title"]: [la["id"] for la in g["layers"]]
                for g in client.get("/api/layers").get_json()["groups"]}
    wait_until(lambda: "bicycle_parking" in groups().get("Open data", []), 10,
               message="the demo dataset in its layer group")
    # most of the parkings lie inside the area the demo's OSM extract (and so the map)
    # covers: its ways span lon 10.708-10.829, lat 59.860-59.938
    x0, y0, x1, y1 = 10.708, 59.860, 10.829, 59.938
    inside = client.get(f"/api/geo/bicycle_parking?bbox={x0},{y0},{x1},{y1}&limit=1000")
    assert len(inside.get_json()["features"]) > PARKING_COUNT * 0.9
