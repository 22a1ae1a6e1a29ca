"""SQL has one home and one style: static statements are .sql files beside the code that
runs them, loaded by matching_and_import_db.sqlfiles; dynamic SQL is composed with
psycopg2.sql. A search of the code finds no SQL built with f-strings, str.format, % or +,
and the search itself is shown to catch each of those forms (and not log messages)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from matching_and_import_db.sqlfiles import load_sql
from tests.conftest import ROOT

CODE = ("app", "matching_and_import_db", "scheduler", "migrator")
# Text that reads as SQL: a statement keyword, a clause, or a PostGIS function.
SQL_WORDS = re.compile(
    r"\b(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WHERE|JOIN|COPY|GROUP\s+BY|"
    r"ORDER\s+BY|CREATE\s+(TABLE|INDEX|SCHEMA)|ALTER\s+TABLE|DROP\s+TABLE|AND|OR|ST_\w+)\b")


def _looks_like_sql(node: ast.AST, constants: dict[str, str]) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and SQL_WORDS.search(n.value):
            return True
        if isinstance(n, ast.Name) and SQL_WORDS.search(constants.get(n.id, "")):
            return True
    return False


def _is_composer(call: ast.Call) -> bool:
    """sql.SQL("...").format(...): psycopg2's composition, the one allowed .format."""
    inner = call.func.value
    return isinstance(inner, ast.Call) and (
        getattr(inner.func, "attr", None) == "SQL" or getattr(inner.func, "id", None) == "SQL")


def sql_built_by_hand(source: str) -> list[str]:
    """Where source builds SQL text by string formatting: an f-string, str.format, % or +
    over text that reads as SQL (module-level string constants count by their value)."""
    tree = ast.parse(source)
    constants = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                 for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr):
            form = "f-string" if _looks_like_sql(n, {}) else None
        elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
              and n.func.attr == "format"):
            form = ".format" if not _is_composer(n) and _looks_like_sql(n.func.value, constants) \
                else None
        elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod):
            form = "%" if _looks_like_sql(n.left, constants) else None
        elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            both_constant = all(isinstance(s, ast.Constant) for s in (n.left, n.right))
            form = "+" if not both_constant and (_looks_like_sql(n.left, constants)
                                                 or _looks_like_sql(n.right, constants)) else None
        else:
            form = None
        if form:
            found.append(f"line {n.lineno}: {form}: {ast.unparse(n)[:100]}")
    return found


def _python_files():
    for top in CODE:
        yield from sorted((ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("source", [
    'cur.execute(f"SELECT * FROM {table}")',
    'q = "SELECT * FROM {} WHERE id = 1".format(table)',
    'NEAR = "ST_DWithin({col}, x, 1)"\nq = NEAR.format(col="geom")',
    'cur.execute("DELETE FROM t WHERE id = %s" % ident)',
    'cur.execute("UPDATE rides SET a = 1 WHERE " + where_sql)',
    'clause = "(" + " AND ".join(clauses) + ")"',
    'sql.SQL(f"COPY {table} FROM STDIN")',
])
def test_the_search_finds_sql_built_by_string_formatting(source):
    assert sql_built_by_hand(source)


@pytest.mark.parametrize("source", [
    'log.info("read %d roads and %d stops", roads, stops)',
    'raise InputError(f"{name} holds no usable stops")',
    'message = f"{progress.phase or \'setup\'}: {exc}"',
    'sql.SQL("SELECT {} FROM {}").format(sql.Identifier(c), sql.Identifier(t))',
    'cur.execute(load_sql(PACKAGE, "claim_ride.sql"), {"worker": worker})',
    'text = "select" + "ed"',
])
def test_the_search_leaves_log_messages_and_composition_alone(source):
    assert sql_built_by_hand(source) == []


def test_no_code_builds_sql_by_string_formatting():
    found = {str(path.relative_to(ROOT)): hits for path in _python_files()
             if (hits := sql_built_by_hand(path.read_text()))}
    assert found == {}


def test_sql_files_are_read_by_the_one_loader_only():
    """No second loader: reading a package's sql/ folder happens in sqlfiles.py alone, and
    no SQLAlchemy text() is given anything but a constant."""
    loaders, texts = [], []
    for path in _python_files():
        source = path.read_text()
        if re.search(r"joinpath\(\s*[\"']sql[\"']", source) and path.name != "sqlfiles.py":
            loaders.append(str(path.relative_to(ROOT)))
        for n in ast.walk(ast.parse(source)):
            if (isinstance(n, ast.Call) and getattr(n.func, "id", None) == "text" and n.args
                    and not isinstance(n.args[0], ast.Constant)):
                texts.append(f"{path.relative_to(ROOT)}:{n.lineno}")
    assert loaders == [] and texts == []


def _sql_files() -> list[Path]:
    return sorted(p for top in CODE for p in (ROOT / top).rglob("sql/*.sql"))


def test_every_sql_file_is_run_by_the_code_beside_it():
    """No orphaned statement: each file's name appears in the Python of its package."""
    unused = []
    for path in _sql_files():
        package = path.parent.parent
        code = "".join(p.read_text() for p in package.rglob("*.py"))
        if f'"{path.name}"' not in code:
            unused.append(str(path.relative_to(ROOT)))
    assert unused == []


@pytest.mark.parametrize("path", _sql_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sql_file_composes(path):
    """Each file's {fields} are names (no stray brace from a literal written unescaped);
    filled with placeholders, it composes."""
    text = path.read_text()
    fields = set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", text))
    stray = re.sub(r"\{\{|\}\}|\{\w+\}", "", text)
    assert "{" not in stray and "}" not in stray, "write a literal brace as {{ or }}"
    package = ".".join(path.parent.parent.relative_to(ROOT).parts)
    load_sql(package, path.name, **{f: f"field_{f}" for f in fields})


def test_the_official_stop_columns_are_the_ones_the_published_table_has(db_conn):
    """stops.columns.OFFICIAL_COLUMNS is the one list the staging table, the COPY and the
    merge are made from; the migrated table and the ORM model must hold exactly those
    columns (plus the computed geom_3857), with the same NOT NULLs, or an import would
    drop or refuse a column."""
    from app.models.stops import OfficialStopRecord
    from matching_and_import_db.stops.columns import OFFICIAL_COLUMNS

    declared = {name: "NOT NULL" in ddl for name, ddl in OFFICIAL_COLUMNS}
    with db_conn.cursor() as cur:
        cur.execute("SELECT column_name, is_nullable = 'NO' FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'official_stops' "
                    "AND column_name <> 'geom_3857'")
        migrated = dict(cur.fetchall())
    model = {c.name: not c.nullable for c in OfficialStopRecord.__table__.columns
             if c.name != "geom_3857"}
    assert migrated == declared
    assert model == declared
