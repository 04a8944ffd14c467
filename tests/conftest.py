"""Shared pytest fixtures of PCN desk (generic: any test may use them).

Databases
  ``database_url``  an EMPTY database, parametrized over SQLite (a temporary
                    file) and PostgreSQL (a fresh database on 127.0.0.1:5432,
                    dropped afterwards). PostgreSQL tests are skipped when the
                    server is unreachable, unless ``CI`` is set: then they fail.
                    Admin URL override: ``PCN_TEST_PG_ADMIN_URL``.
  ``migrated_db``   ``database_url`` upgraded to Alembic head, exported as
                    ``PCN_DATABASE_URL`` for the test (repositories use it).
  ``sqlite_url``    an empty SQLite database only (no parametrization).
  ``spool_dir``     a temporary ``PCN_SPOOL_DIR``.

Isolation (autouse)
  Every test runs with its own migrated SQLite database and spool folder in
  ``PCN_DATABASE_URL`` / ``PCN_SPOOL_DIR`` (a fixture above may replace them),
  so no test can reach the running desk's ``data/``. The session fails if
  ``data/`` changed anyway (a subprocess, a hard-coded path…).
"""
from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Iterator, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# A test that sets no spool folder must not write the desk's data/spool (the enquiry log's
# journal is written by a background thread, possibly after the test's own monkeypatch is undone).
os.environ.setdefault("PCN_SPOOL_DIR", tempfile.mkdtemp(prefix="pcn-test-spool-"))

PG_ADMIN_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
    "postgresql://postgres@127.0.0.1:5432/postgres",
)


DATA_DIR = REPO_ROOT / "data"
pytest_plugins = ("tests.mailservers",)  # the real SMTP sink and Dovecot fixtures, for any test


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server on 127.0.0.1:5432")


def _data_snapshot() -> dict:
    """{path: (size, mtime)} of everything under data/ (empty when it does not exist)."""
    if not DATA_DIR.exists():
        return {}
    return {str(p.relative_to(REPO_ROOT)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(DATA_DIR.rglob("*")) if p.is_file()}


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config._pcn_data_before = _data_snapshot()  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = getattr(session.config, "_pcn_data_before", None)
    if before is None:
        return
    after = _data_snapshot()
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "tests touched the running desk's data/: " + ", ".join(changed)
        if reporter:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]):
    """Writes queued by a test land in that test's database, before its fixtures are torn
    down (a PostgreSQL test database is dropped then), never in the next test's."""
    enquiry_log = sys.modules.get("actions.enquiry_log")
    if enquiry_log is not None:
        enquiry_log.drain(30)
    yield


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    from db import migrate
    from db.session import dispose_engine

    path = tmp_path_factory.mktemp("pcn-template") / "pcn.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    dispose_engine(url)
    return path


@pytest.fixture(autouse=True)
def _isolated_data(_migrated_template: Path, tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import shutil

    folder = tmp_path_factory.mktemp("pcn-isolated")
    shutil.copyfile(_migrated_template, folder / "pcn.db")
    url = f"sqlite:///{folder / 'pcn.db'}"
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    monkeypatch.setenv("PCN_SPOOL_DIR", str(folder / "spool"))
    yield
    from db.session import dispose_engine

    dispose_engine(url)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _reachable_admin_url() -> tuple[Optional[str], str]:
    import sqlalchemy as sa

    candidates = [os.environ["PCN_TEST_PG_ADMIN_URL"]] if os.environ.get("PCN_TEST_PG_ADMIN_URL") else list(PG_ADMIN_CANDIDATES)
    errors = []
    for url in candidates:
        engine = sa.create_engine(url, future=True, connect_args={"connect_timeout": 2}, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return url, ""
        except Exception as error:  # noqa: BLE001
            errors.append(f"{url}: {str(error).splitlines()[0]}")
        finally:
            engine.dispose()
    return None, "; ".join(errors)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A URL of the PostgreSQL server allowed to CREATE DATABASE (skip/fail if down)."""
    url, why = _reachable_admin_url()
    if url is None:
        message = f"PostgreSQL unreachable ({why})"
        if _in_ci():
            pytest.fail(message + " and CI is set", pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'pcn-test.db'}"
    yield url
    from db.session import dispose_engine

    dispose_engine(url)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"pcn_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, future=True, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from db.session import dispose_engine

        dispose_engine(url)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database: SQLite file, then PostgreSQL."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param])


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "spool"
    monkeypatch.setenv("PCN_SPOOL_DIR", str(path))
    return path


@pytest.fixture
def migrated_db(database_url: str, spool_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``database_url`` at Alembic head, set as PCN_DATABASE_URL (spool in a temp dir)."""
    from db import migrate

    migrate.upgrade(database_url)
    monkeypatch.setenv("PCN_DATABASE_URL", database_url)
    return database_url


@pytest.fixture(scope="session")
def desk():
    """One real desk (action server, Rasa, web page) for a whole test session."""
    from tests.servers import start_desk

    running = start_desk(many_people=True)
    yield running
    running.stop()
