"""Fixtures of the harvester suite.

The suite builds nothing. It drives the binary at ``$VITRINE_BIN`` (default
``target/release/vitrine``): a fresh database in a temporary folder (SQLite, or a uniquely
named PostgreSQL database when ``VITRINE_TEST_POSTGRES_URL`` is set, dropped at the end),
three domains (``lib`` the root, ``full`` and ``incr`` below it), synthetic records from
``bench/generate.py`` imported with ``vitrine import --release``, and one
``vitrine serve --bind 127.0.0.1:0`` for the whole run.
"""

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytest.register_assert_rewrite("oaicheck")

import oaicheck  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("VITRINE_TEST_CORPUS", REPO.parent / "shared" / "corpus"))
PAGE_SIZE = 100
FULL_COUNT = 774
INCR_COUNT = 230
DOMAINS = ("lib", "full", "incr")  # lib is the root; full and incr are served at /{dname}/oai


def _binary() -> Path:
    given = os.environ.get("VITRINE_BIN", "target/release/vitrine")
    path = Path(given)
    if not path.is_absolute():
        path = (Path.cwd() / path) if (Path.cwd() / path).exists() else (REPO / path)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"vitrine binary not found at {path} (VITRINE_BIN={given!r}); build it first with "
            "`cargo build --release` or point VITRINE_BIN at it",
            pytrace=False,
        )
    return path.resolve()


class Vitrine:
    """Runs the vitrine command line against the suite's database."""

    def __init__(self, binary: Path, database: str, workdir: Path):
        self.binary = binary
        self.database = database
        self.workdir = workdir
        env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINE_")}
        env["VITRINE_LOG"] = "warn"
        for dname in DOMAINS:
            env[f"VITRINE_DOMAINS__{dname.upper()}__PAGE_SIZE"] = str(PAGE_SIZE)
        self.env = env

    def command(self, *args):
        return [str(self.binary), "--database", self.database, *map(str, args)]

    def run(self, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            self.command(*args),
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"`vitrine {' '.join(map(str, args[:4]))}…` exited {proc.returncode}\n"
                f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}",
                pytrace=False,
            )
        return proc


class Server:
    """`vitrine serve --bind 127.0.0.1:0`, its port read from the one line it prints."""

    def __init__(self, vitrine: Vitrine):
        self.log_path = vitrine.workdir / "serve.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            vitrine.command("serve", "--bind", "127.0.0.1:0"),
            cwd=vitrine.workdir,
            env=vitrine.env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        line = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(60)
        first = line[0].strip() if line else ""
        prefix = "listening on http://"
        if not first.startswith(prefix):
            self.stop()
            pytest.fail(
                f"`vitrine serve` did not announce its address (got {first!r}, exit "
                f"{self.proc.returncode}); log:\n{self.log_tail()}",
                pytrace=False,
            )
        self.base = "http://" + first[len(prefix):]

    def endpoint(self, dname: str) -> str:
        return f"{self.base}/oai" if dname == DOMAINS[0] else f"{self.base}/{dname}/oai"

    def log_tail(self, n=4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture(scope="session")
def schemas(tmp_path_factory):
    try:
        return oaicheck.Schemas(CORPUS, tmp_path_factory.mktemp("xsd"))
    except oaicheck.CorpusMissing as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """A fresh database URL: SQLite in the temporary folder, or a new PostgreSQL database
    (dropped at the end) when VITRINE_TEST_POSTGRES_URL is set."""
    admin_url = os.environ.get("VITRINE_TEST_POSTGRES_URL")
    if not admin_url:
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'vitrine.db'}"
        return
    import psycopg  # only needed for PostgreSQL runs

    name = f"vitrine_harvest_{os.getpid()}_{int(time.time())}_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True)
    except psycopg.Error as e:
        pytest.fail(f"PostgreSQL at {admin_url} is not reachable: {e}", pytrace=False)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _generate(out: Path, count: int, prefix: str, seed: int) -> list:
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "generate.py"), "--count", str(count), "--out", str(out),
         "--seed", str(seed), "--prefix", prefix, "--min-kb", "20", "--max-kb", "60", "--jobs", "2", "--quiet"],
        check=True,
    )
    files = sorted(out.rglob("*.xml"))
    assert len(files) == count, f"bench/generate.py wrote {len(files)} files, expected {count}"
    return files


class Collection:
    """A domain and the records imported into it."""

    def __init__(self, dname: str, files: list):
        self.dname = dname
        self.files = {f.stem: f for f in files}  # local id -> file

    @property
    def identifiers(self) -> set:
        return {f"oai:vitrine.localhost:{local_id}" for local_id in self.files}


@pytest.fixture(scope="session")
def vitrine(database, tmp_path_factory):
    work = tmp_path_factory.mktemp("vitrine")
    v = Vitrine(_binary(), database, work)
    v.run("domain", "add", DOMAINS[0], "--name", "Harvest test library")
    for dname in DOMAINS[1:]:
        v.run("domain", "add", dname, "--parent", DOMAINS[0], "--name", f"Harvest test {dname}")
    return v


def _import(vitrine: Vitrine, dname: str, folder: Path, count: int):
    proc = vitrine.run("import", "--domain", dname, "--release", folder)
    assert f"{count} files: {count} created" in proc.stdout, f"import summary: {proc.stdout!r}"


@pytest.fixture(scope="session")
def full(vitrine, tmp_path_factory):
    """Domain `full`: 774 released records, never changed by any test."""
    folder = tmp_path_factory.mktemp("gen-full")
    files = _generate(folder, FULL_COUNT, "synth", 11)
    _import(vitrine, "full", folder, FULL_COUNT)
    return Collection("full", files)


@pytest.fixture(scope="session")
def incr(vitrine, tmp_path_factory):
    """Domain `incr`: 230 released records, changed by the incremental-harvest tests."""
    folder = tmp_path_factory.mktemp("gen-incr")
    files = _generate(folder, INCR_COUNT, "incr", 23)
    _import(vitrine, "incr", folder, INCR_COUNT)
    return Collection("incr", files)


@pytest.fixture(scope="session")
def server(vitrine):
    s = Server(vitrine)
    yield s
    s.stop()
