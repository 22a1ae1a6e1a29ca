"""Pipeline sources: files only from the import directory, downloads only from public
addresses (or allow-listed hosts), checked after DNS and on every redirect; and no failure
ever puts what a file or a server holds into a run's message, its log or the scheduler's."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from matching_and_import_db.pipelines.sources import refusal
from tests.conftest import ROOT, wait_until
from tests.http_helpers import QuietHandler, serve, serve_directory
from tests.osm_helpers import gen_pipeline, run_inline, run_row
from tests.stops_helpers import GOLDEN_ATLAS, gen_stops_pipeline, load_golden_osm

SECRET = "PORTAL_SECRET_KEY=never-shown-9f3c1e"


def _everything_said(run: dict) -> str:
    return (run["message"] or "") + "\n".join(line["msg"] for line in run["log"])


@pytest.fixture
def outside_dir():
    """A directory outside every import directory, holding a secret."""
    path = Path(tempfile.mkdtemp(prefix="portal-outside-"))
    (path / ".env.local").write_text(SECRET + "\nPORTAL_DATABASE_URL=postgresql://x\n")
    yield path
    shutil.rmtree(path)


# --- local files -----------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "{outside}/.env.local",  # the reproduction: the secret file of the deployment
    "/etc/passwd",
    "/proc/self/environ",
    "../../../../../../../../{outside}/.env.local",  # a relative path climbing out
    str(ROOT / ".env.local"),
    "file://{outside}/.env.local",
], ids=["env-local", "etc-passwd", "proc-environ", "dot-dot", "repo-env-local", "file-url"])
def test_a_source_outside_the_import_directory_is_refused_and_nothing_of_it_is_shown(
        settings_env, db_conn, outside_dir, source):
    source = source.format(outside=outside_dir)

    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "snoop", source))

    assert run["status"] == "failed"
    assert "import directory" in run["message"] or "only http(s)" in run["message"]
    said = _everything_said(run)
    assert "never-shown" not in said and "root:x:0" not in said
    assert "test-secret-not-for-production" not in said


def test_a_symlink_in_the_import_directory_leading_out_of_it_is_refused(
        settings_env, db_conn, tmp_path, outside_dir):
    link = tmp_path / "stops.csv"
    link.symlink_to(outside_dir / ".env.local")

    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "link", link, format="csv",
                                                      mapping={"id": "a", "lat": "b",
                                                               "lon": "c"}))

    assert run["status"] == "failed"
    assert "outside the import directory" in run["message"]
    assert "never-shown" not in _everything_said(run)


def test_without_an_import_directory_no_local_file_is_read(settings_env, db_conn):
    env = {**settings_env, "PORTAL_IMPORT_DIR": ""}
    run = run_inline(env, gen_stops_pipeline(db_conn, "atlas", GOLDEN_ATLAS, format="atlas"))
    assert run["status"] == "failed"
    assert "no import directory is configured (PORTAL_IMPORT_DIR)" in run["message"]


def test_a_relative_source_is_read_from_the_import_directory(settings_env, db_conn,
                                                             tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)
    (tmp_path / "atlas.csv").write_bytes(GOLDEN_ATLAS.read_bytes())
    env = {**settings_env, "PORTAL_IMPORT_DIR": str(tmp_path)}

    run = run_inline(env, gen_stops_pipeline(db_conn, "atlas", "atlas.csv"))

    assert run["status"] == "succeeded", run["message"]


def test_proc_environ_as_a_source_writes_no_secret_into_the_scheduler_log(
        start_scheduler, db_conn):
    from matching_and_import_db.pipelines.runner import request_run
    pipeline = gen_pipeline(db_conn, "environ", "/proc/self/environ", kind="stops_import")
    run_id = request_run(db_conn, pipeline)
    scheduler = start_scheduler()
    run = wait_until(lambda: (r := run_row(db_conn, run_id))["status"] == "failed" and r,
                     60, interval=0.2, message="the run to fail")
    assert scheduler.stop() == 0

    assert "outside the import directory" in run["message"]
    for text in (scheduler.log(), _everything_said(run)):
        assert "test-secret-not-for-production" not in text
        assert "PORTAL_DATABASE_URL=" not in text


# --- downloads -------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255",
    "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
])
def test_non_public_addresses_are_refused(address):
    assert refusal(address) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888",
                                     "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert refusal(address) is None


def test_a_loopback_url_not_allow_listed_is_refused_without_showing_its_answer(
        settings_env, db_conn, tmp_path):
    (tmp_path / "config").write_text(SECRET + "\n")
    server = serve_directory(tmp_path)[0]
    env = {**settings_env, "PORTAL_SOURCE_ALLOWED_HOSTS": ""}
    try:
        url = f"http://127.0.0.1:{server.server_port}/config"
        run = run_inline(env, gen_stops_pipeline(db_conn, "internal", url))
        by_name = run_inline(env, gen_stops_pipeline(
            db_conn, "by-name", f"http://localhost:{server.server_port}/config"))
    finally:
        server.shutdown()

    for failed in (run, by_name):
        assert failed["status"] == "failed"
        assert "loopback address" in failed["message"]
        assert "PORTAL_SOURCE_ALLOWED_HOSTS" in failed["message"]
        assert "never-shown" not in _everything_said(failed)


def test_a_redirect_from_an_allowed_host_to_an_internal_one_is_refused(settings_env, db_conn,
                                                                        tmp_path):
    (tmp_path / "config").write_text(SECRET + "\n")
    target = serve_directory(tmp_path)[0]

    class Redirect(QuietHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location",
                             f"http://localhost:{target.server_port}/config")
            self.end_headers()

    redirector, _ = serve(Redirect)
    try:
        run = run_inline(settings_env, gen_stops_pipeline(
            db_conn, "hop", f"http://127.0.0.1:{redirector.server_port}/stops.csv"))
    finally:
        redirector.shutdown()
        target.shutdown()

    assert run["status"] == "failed"
    assert "the host localhost resolves to a loopback address" in run["message"]
    assert "never-shown" not in _everything_said(run)


def test_a_service_that_does_not_speak_http_has_its_answer_kept_out_of_the_run(
        settings_env, db_conn):
    """An internal service reached by URL (Redis, SMTP) answers with a line of its own;
    the run says the answer is not HTTP and nothing more."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer():
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall((SECRET + "\r\n").encode())

    threading.Thread(target=answer, daemon=True).start()
    try:
        run = run_inline(settings_env, gen_stops_pipeline(
            db_conn, "redis", f"http://127.0.0.1:{listener.getsockname()[1]}/"))
    finally:
        listener.close()

    assert run["status"] == "failed"
    assert "not HTTP" in run["message"]
    assert "never-shown" not in _everything_said(run)


def test_an_allow_listed_host_is_downloaded_and_redirects_are_followed(settings_env, db_conn,
                                                                       tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)
    served = tmp_path / "served"
    served.mkdir()
    (served / "stops.csv").write_bytes(GOLDEN_ATLAS.read_bytes())
    server = serve_directory(served)[0]
    try:  # SimpleHTTPRequestHandler redirects a directory without its slash
        os.mkdir(served / "dir")
        (served / "dir" / "index.html").write_bytes(GOLDEN_ATLAS.read_bytes())
        run = run_inline(settings_env, gen_stops_pipeline(
            db_conn, "mirror", f"http://127.0.0.1:{server.server_port}/dir", format="atlas"))
    finally:
        server.shutdown()
    assert run["status"] == "succeeded", run["message"]


class _Endless(QuietHandler):
    """A server that sends no Content-Length and more bytes than a source may have."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        for _ in range(64):
            self.wfile.write(b"x" * 1024)


@pytest.mark.parametrize("length_given", [True, False], ids=["content-length", "streamed"])
def test_a_download_larger_than_the_limit_fails_the_run_and_leaves_no_file(
        settings_env, db_conn, tmp_path, length_given):
    if length_given:
        served = tmp_path / "served"
        served.mkdir()
        (served / "stops.csv").write_bytes(b"x" * 64 * 1024)
        server = serve_directory(served)[0]
    else:
        server, _ = serve(_Endless)
    env = {**settings_env, "PORTAL_SOURCE_MAX_BYTES": str(16 * 1024)}
    downloads = Path(env["PORTAL_DATA_DIR"]) / "downloads"
    before = set(downloads.iterdir()) if downloads.exists() else set()
    try:
        run = run_inline(env, gen_stops_pipeline(
            db_conn, f"too-big-{length_given}",
            f"http://127.0.0.1:{server.server_port}/stops.csv", format="atlas"))
    finally:
        server.shutdown()
    assert run["status"] == "failed"
    assert "larger than the 16,384 bytes a source may have" in run["message"]
    assert set(downloads.iterdir()) == before


# --- broken registry files -------------------------------------------------------------

@pytest.mark.parametrize(("column", "value", "clear_coordinates"), [
    (3, "Bahn\x00hof", False),  # a name: once it reached COPY as a database error
    (0, "ch:1:sloid:\x00", True),  # a skipped row's id: once it made the run's log unwritable
], ids=["name", "skipped-row-id"])
def test_a_nul_byte_in_a_stops_csv_fails_the_run_with_the_real_error(
        settings_env, db_conn, tmp_path, column, value, clear_coordinates):
    load_golden_osm(settings_env, db_conn, tmp_path)
    text = GOLDEN_ATLAS.read_text(encoding="utf-8").splitlines()
    fields = text[2].split(";")
    fields[column] = value
    if clear_coordinates:
        fields[4] = fields[5] = ""
    text[2] = ";".join(fields)
    path = tmp_path / "nul.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")

    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "nul", path, format="atlas"))

    assert run["status"] == "failed"
    assert run["message"] == (f"parse: nul.csv line 3, column {column + 1}: a NUL byte; the "
                              "file is binary or damaged, not CSV text")
