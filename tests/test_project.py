"""The project's own promises: settings, README, migrations, compose files and roles."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
import yaml

from matching_and_import_db.settings import REQUIRED, VARIABLES, Settings, SettingsError
from tests.conftest import ROOT, empty_every_table, make_app


def test_a_missing_secret_stops_the_process_naming_the_variable():
    with pytest.raises(SettingsError, match="PORTAL_SECRET_KEY is not set"):
        Settings.from_env(environ={})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORTAL_RUN_LEASE_SECONDS": "soon"}, "PORTAL_RUN_LEASE_SECONDS must be a whole number"),
        ({"PORTAL_CHECK_SCHEMA": "maybe"}, "PORTAL_CHECK_SCHEMA must be true or false"),
        ({"PORTAL_LOG_FORMAT": "xml"}, "PORTAL_LOG_FORMAT must be text or json"),
        ({"PORTAL_DATABASE_URL": "mysql://x/y"}, "must be a postgresql:// URL"),
        ({"PORTAL_PUBLIC_URL": "portal.example.org"}, "must start with http"),
        ({"PORTAL_MQTT_URL": "http://broker:1883"}, "PORTAL_MQTT_URL must be mqtt://host:port"),
        ({"PORTAL_MQTT_TOPICS": "$SYS/#"}, "PORTAL_MQTT_TOPICS: '$SYS/#' is not a topic filter"),
        ({"PORTAL_MQTT_TOPICS": "city/#=lorawan"}, "names format 'lorawan', which is neither"),
        ({"PORTAL_MQTT_TOPICS": "city/#=m", "PORTAL_MQTT_MAPPINGS": "{"},
         "PORTAL_MQTT_MAPPINGS is not JSON"),
    ],
)
def test_malformed_settings_are_refused_naming_the_variable(env, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env(environ={"PORTAL_SECRET_KEY": "x", **env})


def test_every_variable_is_read_with_its_declared_type():
    settings = Settings.from_env(environ={
        "PORTAL_SECRET_KEY": "x", "PORTAL_RIDE_MAX_HOURS": "2.5", "PORTAL_CHECK_SCHEMA": "off",
        "PORTAL_TILE_MAX_FEATURES": "7", "PORTAL_LOG_LEVEL": "",
        "PORTAL_MQTT_TOPICS": " "})
    assert (settings.ride_max_hours, settings.check_schema, settings.tile_max_features) == (
        2.5, False, 7)
    assert settings.log_level == "INFO"  # an empty variable is an unset one: the default
    # a blank one too (the compose file's defaults for optional settings are blanks)
    assert settings.mqtt_topics == ""
    assert {var.kind for var in VARIABLES} == {str, int, float, bool}


def test_secrets_never_show_in_the_settings_repr():
    settings = Settings.from_env(environ={"PORTAL_SECRET_KEY": "sekrit-key-value",
                                          "PORTAL_OIDC_CLIENT_SECRET": "sekrit-client-value"})
    assert {var.name for var in VARIABLES if var.secret} == {"secret_key", "oidc_client_secret"}
    assert "sekrit" not in repr(settings)
    assert "tile_max_features=20000" in repr(settings)


def test_an_override_naming_no_setting_is_refused():
    with pytest.raises(SettingsError, match="no such settings: tile_max_feature"):
        Settings.from_env(environ={"PORTAL_SECRET_KEY": "x"}, overrides={"tile_max_feature": 3})


def test_the_scheduler_and_its_healthcheck_import_neither_flask_nor_the_app():
    probe = ("import sys, scheduler.__main__, scheduler.healthcheck\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'app')))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_web_worker_loads_neither_gdal_arrow_nor_scipy_until_it_needs_them(settings_env):
    # each costs 40-90 MB in every gunicorn worker; only a dataset preview or import (GDAL,
    # Arrow) and a stop match (SciPy) use them, and those import them when they run
    probe = ("import sys, app\napp.create_app()\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'pyogrio', 'pyarrow', 'scipy'}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=settings_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_scheduler_process_exits_naming_a_missing_secret():
    result = subprocess.run([sys.executable, "-m", "scheduler"], env={"PATH": "/usr/bin"},
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PORTAL_SECRET_KEY is not set" in result.stderr


def test_readme_lists_every_setting_with_its_default():
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(PORTAL_[A-Z_]+)` \| ([^|]+) \|", readme, re.M))
    assert set(rows) == {v.env for v in VARIABLES}
    for var in VARIABLES:
        shown = rows[var.env].strip()
        if var.default is REQUIRED:
            assert shown == "(required)"
        elif var.default == "":
            assert shown == "(empty)"
        else:
            assert shown == f"`{var.default}`", var.env


def test_every_table_is_emptied_between_tests_including_one_no_list_names(db_conn,
                                                                          settings_env):
    with db_conn.cursor() as cur:  # as a new migration would add it
        cur.execute("CREATE TABLE scratch_added_later (id serial PRIMARY KEY, note text)")
        cur.execute("INSERT INTO scratch_added_later (note) VALUES ('left by a test')")
        cur.execute("INSERT INTO pipelines (name, kind, config, enabled) "
                    "VALUES ('p', 'osm_import', '{}', true)")
    db_conn.commit()
    try:
        empty_every_table(settings_env["PORTAL_DATABASE_URL"])
        with db_conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM scratch_added_later), "
                        "(SELECT count(*) FROM pipelines), (SELECT count(*) FROM spatial_ref_sys)")
            scratch, pipelines, srs = cur.fetchone()
        db_conn.commit()
        assert (scratch, pipelines) == (0, 0)
        assert srs > 0  # PostGIS's own table is left alone
    finally:
        with db_conn.cursor() as cur:
            cur.execute("DROP TABLE scratch_added_later")
        db_conn.commit()


def test_migrations_have_one_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrator" / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _schema(url):
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' ORDER BY 1, 2")
        columns = cur.fetchall()
        cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
        indexes = cur.fetchall()
        cur.execute("SELECT version_num FROM alembic_version")
        version = cur.fetchall()
    conn.close()
    return columns, indexes, version


def test_running_the_migrator_again_changes_nothing(settings_env):
    before = _schema(settings_env["PORTAL_DATABASE_URL"])
    result = subprocess.run([sys.executable, "-m", "migrator"], env=settings_env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "schema at head" in result.stderr
    assert _schema(settings_env["PORTAL_DATABASE_URL"]) == before


def test_migrator_gives_up_on_an_unreachable_database_with_a_message(settings_env):
    env = {**settings_env, "PORTAL_DATABASE_URL": "postgresql://portal@127.0.0.1:1/portal",
           "PORTAL_MIGRATOR_ATTEMPTS": "2"}
    result = subprocess.run([sys.executable, "-m", "migrator"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "gave up after 2 attempts to reach the database" in result.stderr


def _entrypoint_roles() -> set[str]:
    script = (ROOT / "entrypoint.sh").read_text()
    return set(re.findall(r"^  ([a-z]+)\)$", script, re.M))


def _compose(name):
    return yaml.safe_load((ROOT / name).read_text())


def test_entrypoint_has_the_six_roles():
    assert _entrypoint_roles() == {"web", "stream", "scheduler", "sensors", "migrate", "test"}


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.override.yml"])
def test_compose_files_parse_and_only_use_entrypoint_roles(name):
    roles = _entrypoint_roles()
    services = _compose(name)["services"]
    ours = {n: s for n, s in services.items()
            if "build" in s or s.get("image", "").startswith(("${PORTAL_IMAGE", "mobility-portal"))}
    assert {"migrator", "app", "scheduler"} <= set(ours)
    for service in ours.values():
        if "command" in service:
            assert service["command"][0] in roles


def test_app_and_scheduler_start_only_after_the_migrator_succeeded():
    services = _compose("docker-compose.yml")["services"]
    assert services["migrator"]["command"] == ["migrate"]
    for name in ("app", "scheduler"):
        assert services[name]["depends_on"]["migrator"] == {
            "condition": "service_completed_successfully"}
        assert "healthcheck" in services[name]
    assert services["app"]["image"].startswith("${PORTAL_IMAGE:-ghcr.io/")


def test_only_the_buffering_proxy_is_published_and_the_app_uses_pgbouncer():
    services = _compose("docker-compose.yml")["services"]
    assert services["proxy"]["ports"] == ["${PORTAL_PORT:-5001}:80"]
    assert "ports" not in services["app"] and "ports" not in services["scheduler"]
    assert services["proxy"]["environment"]["PORTAL_UPSTREAM"] == "app:5001"
    # the live stream behind the same proxy, never published itself
    assert services["proxy"]["environment"]["PORTAL_STREAM_UPSTREAM"] == "stream:5002"
    assert services["stream"]["command"] == ["stream"] and "ports" not in services["stream"]
    for name in ("app", "scheduler"):
        assert "@pgbouncer:5432/" in services[name]["environment"]["PORTAL_DATABASE_URL"]
        assert services[name]["depends_on"]["pgbouncer"] == {"condition": "service_healthy"}
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    # schema changes go to PostgreSQL itself
    assert "@db:5432/" in services["migrator"]["environment"]["PORTAL_DATABASE_URL"]


def test_entrypoint_refuses_an_unknown_role():
    result = subprocess.run(["bash", str(ROOT / "entrypoint.sh"), "dance"], capture_output=True,
                            text=True, timeout=10)
    assert result.returncode == 64
    assert "unknown role 'dance'" in result.stderr


@pytest.fixture
def unmigrated_database_url(settings_env):
    """An empty database beside the test database: PostGIS-less, never migrated."""
    url = settings_env["PORTAL_DATABASE_URL"].rsplit("/", 1)[0] + "/portal_test_unmigrated"
    admin = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS portal_test_unmigrated WITH (FORCE)")
        cur.execute("CREATE DATABASE portal_test_unmigrated")
    yield url
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE portal_test_unmigrated WITH (FORCE)")
    admin.close()


def test_the_scheduler_refuses_a_database_the_migrator_has_not_run_on(
        settings_env, unmigrated_database_url):
    result = subprocess.run([sys.executable, "-m", "scheduler"], cwd=ROOT,
                            env={**settings_env, "PORTAL_DATABASE_URL": unmigrated_database_url},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "database schema is at nothing" in result.stderr
    assert "run the migrator first" in result.stderr


def test_the_web_app_refuses_a_schema_behind_the_code(settings_env, unmigrated_database_url):
    from matching_and_import_db.schema import SchemaBehind, migration_heads
    conn = psycopg2.connect(unmigrated_database_url)
    with conn.cursor() as cur:  # as if an older migration were the last one applied
        cur.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        cur.execute("INSERT INTO alembic_version VALUES ('e62cbb801a93')")
    conn.commit()
    conn.close()
    assert "e62cbb801a93" not in migration_heads()
    with pytest.raises(SchemaBehind, match=r"schema is at \['e62cbb801a93'\], the code needs"):
        make_app({**settings_env, "PORTAL_DATABASE_URL": unmigrated_database_url})


def test_migrator_refuses_a_database_that_is_not_utf8(settings_env):

    url = settings_env["PORTAL_DATABASE_URL"].rsplit("/", 1)[0] + "/portal_test_ascii"
    admin = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS portal_test_ascii")
        cur.execute("CREATE DATABASE portal_test_ascii ENCODING 'SQL_ASCII' "
                    "LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        result = subprocess.run([sys.executable, "-m", "migrator"],
                                env={**settings_env, "PORTAL_DATABASE_URL": url}, cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert "the database encoding is SQL_ASCII; the portal needs UTF8" in result.stderr
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE portal_test_ascii")
        admin.close()



# --- the project stands alone: a clone of the repository is all a user has ------------------

def _ignored_folders() -> set[str]:
    """The folders .gitignore keeps out of a clone (`name/`, `/path/` and `/path` lines; a
    `/path` line names a folder when the checkout has one there, or a link to one)."""
    lines = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()]
    return {line.strip("/") for line in lines
            if line.endswith("/") or (line.startswith("/") and (ROOT / line[1:]).is_dir())}


def _repository_files():
    """Every file a clone has: what .gitignore keeps out and git's own folder are skipped."""
    ignored = _ignored_folders()
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for path in sorted(folder.iterdir()):
            rel = path.relative_to(ROOT).as_posix()
            if path.name == ".git" or path.name in ignored or rel in ignored:
                continue
            if path.is_dir():
                stack.append(path)
            elif path.is_file():
                yield path


# a machine's layout, or the sibling folder the project once read its design and data from
MACHINE_PATH = re.compile(r"/work/|\.\./shared\b")
RELATIVE_PATH = re.compile(r"(?<![\w./])((?:\.\./)+)[\w-]")
PARENT_OF_ROOT = re.compile(r"\bROOT\.parent\b")
PARENTS_INDEX = re.compile(r"Path\(__file__\)\.resolve\(\)\.parents\[(\d+)\]")


def _outside_references(rel: Path, text: str) -> list[str]:
    """What text, the content of the file at rel (relative to the root), names outside the
    repository."""
    found = [m.group(0) for m in MACHINE_PATH.finditer(text)]
    for m in RELATIVE_PATH.finditer(text):
        # resolved from the file's own folder, as a Markdown link or a script beside it is
        target = (ROOT / rel.parent / m.group(1)).resolve()
        if not target.is_relative_to(ROOT):
            found.append(m.group(0))
    if rel.suffix == ".py":
        found += [m.group(0) for m in PARENT_OF_ROOT.finditer(text)]
        # parents[len(rel.parts) - 1] is the root itself
        found += [m.group(0) for m in PARENTS_INDEX.finditer(text)
                  if int(m.group(1)) >= len(rel.parts)]
    return [f"{rel}: {ref}" for ref in found]


def test_nothing_in_the_repository_reads_a_path_outside_it():
    this_file = Path(__file__).resolve()  # it spells out the patterns it looks for
    found = []
    for path in _repository_files():
        if path.resolve() == this_file:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # binary data: an OSM extract, a gzip file
        found += _outside_references(path.relative_to(ROOT), text)
    assert found == []


# the folder beside the repository that a clone does not have, spelled in pieces so that
# no line of the repository names it
_OUTSIDE = "/".join(("..", "shared"))


@pytest.mark.parametrize("text", [
    'SHARED = ROOT.parent / "shared" / "bench"',
    f"See `{_OUTSIDE}/DESIGN.md` for the whole picture.",
    f"taken from the shared data folder (`/work/{_OUTSIDE[3:]}/data/rides`)",
    'DATA = Path(__file__).resolve().parents[2] / "data"',
    "[design](../../DESIGN.md)",
])
def test_a_reference_outside_the_repository_is_found(text):
    assert _outside_references(Path("bench/serving.py"), text) != []


def test_references_inside_the_repository_pass():
    text = ('. "$(dirname "$0")/../scripts/bootstrap.sh"\n'
            "ROOT = Path(__file__).resolve().parents[1]\n"
            "see [the fixtures](../tests/fixtures/ATTRIBUTION.md)\n")
    assert _outside_references(Path("bench/serving.py"), text) == []


def _module_map() -> set[str]:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    section = doc.split("\n## Module map\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)/` \|", section, re.M))


def _package_folders() -> set[str]:
    """Every top-level folder of a clone and every package under app/ and the domain."""
    ignored = _ignored_folders()
    folders = {p.name for p in ROOT.iterdir()
               if p.is_dir() and not p.name.startswith(".") and p.name not in ignored}
    for top in ("app", "matching_and_import_db"):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT)
            if not ignored & set(rel.parts):
                folders.add(rel.as_posix())
    return folders


def test_the_architecture_page_names_every_package_folder_and_only_real_ones():
    named = _module_map()
    assert sorted(_package_folders() - named) == [], "folders missing from docs/architecture.md"
    assert sorted(n for n in named if not (ROOT / n).is_dir()) == [], \
        "docs/architecture.md names folders that do not exist"


def _imported_packages(top: str) -> dict[str, set[str]]:
    """Per module under `top`: the top-level packages it imports (anywhere in it)."""
    out = {}
    for path in (ROOT / top).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        out[path.relative_to(ROOT).as_posix()] = names
    return out


@pytest.mark.parametrize(("top", "forbidden"), [
    ("matching_and_import_db", {"flask", "app", "scheduler", "migrator"}),
    ("app", {"scheduler", "migrator"}),  # the web app never imports the worker process
])
def test_the_layers_import_only_downwards(top, forbidden):
    offending = {module: sorted(names & forbidden)
                 for module, names in _imported_packages(top).items() if names & forbidden}
    assert offending == {}


# --- tests: factories and helpers in one place ---------------------------------------------

def _imported_test_modules(source: str) -> set[str]:
    """The test modules (tests/test_*.py) a Python source imports, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ("tests" if node.level else "") + ("." if node.level and node.module else "")
            module = base + (node.module or "")
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if re.fullmatch(r"tests\.test_\w+", name)}
    return found


@pytest.mark.parametrize(("source", "imported"), [
    ("from tests.test_layers import STREET", {"tests.test_layers"}),
    ("import tests.test_layers", {"tests.test_layers"}),
    ("from .test_layers import STREET", {"tests.test_layers"}),
    ("from . import test_layers", {"tests.test_layers"}),
    ("def f():\n    from tests import test_layers", {"tests.test_layers"}),
    ("from tests.osm_helpers import tile_of\nfrom tests.conftest import ROOT", set()),
])
def test_an_import_of_a_test_module_is_found(source, imported):
    assert _imported_test_modules(source) == imported


def test_no_test_module_imports_another_test_module():
    """What tests share (factories, fixtures, recorded cases) lives in tests/*_helpers.py and
    tests/*_fixtures.py: importing a test module also collects its tests twice over."""
    found = {path.name: sorted(modules) for path in sorted((ROOT / "tests").glob("*.py"))
             if (modules := _imported_test_modules(path.read_text()))}
    assert found == {}


def _imported_modules(source: str) -> set[str]:
    """The tests.* modules a Python source imports, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.startswith("tests.")}


def test_shared_test_code_is_a_helpers_module_or_a_registered_fixtures_module():
    """One convention: `*_helpers.py` holds what tests import (factories, constants);
    `*_fixtures.py` holds pytest fixtures, registered in conftest.py and never imported."""
    from tests import conftest
    shared = {path.stem for path in (ROOT / "tests").glob("*.py")
              if not path.stem.startswith("test_") and path.stem not in ("conftest", "__init__")}
    assert sorted(n for n in shared if not n.endswith(("_helpers", "_fixtures"))) == []
    fixtures = {f"tests.{n}" for n in shared if n.endswith("_fixtures")}
    assert set(conftest.pytest_plugins) == fixtures
    importers = {path.name: sorted(_imported_modules(path.read_text()) & fixtures)
                 for path in sorted((ROOT / "tests").glob("*.py"))}
    assert {name: found for name, found in importers.items() if found} == {}
