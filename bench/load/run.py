#!/usr/bin/env python3
"""Load and fault benchmark: concurrent harvesters against two vitrine instances on one
PostgreSQL database behind a round-robin nginx, first undisturbed, then while the
database's connections are terminated in storms and the database refuses connections for a
few seconds. Every response is parsed as XML; every harvest must finish with the tokens it
had; 503 must carry Retry-After.

See bench/load/README.md. Needs `requests`, `psql`, nginx (Debian's nginx-light) and a
PostgreSQL server.
"""

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scale"))
import cluster  # noqa: E402  (bench/scale/cluster.py)

hb, log, DOMAIN, REPO = cluster.hb, cluster.log, cluster.DOMAIN, cluster.REPO
OAI = "{http://www.openarchives.org/OAI/2.0/}"
KINDS = [("ListRecords", "mets"), ("ListRecords", "oai_dc"), ("ListIdentifiers", "mets"), ("GetRecord", "mets")]


class Stats:
    """What the clients of one phase saw; every update under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []  # seconds of every 200 response
        self.requests = 0
        self.items = 0
        self.bytes = 0
        self.sessions = {"started": 0, "finished": 0}
        self.unavailable = []  # (time, Retry-After, body start, seconds) of every 503
        self.errors = []  # (time, what)
        self.cpu_s = 0.0

    def error(self, what):
        with self.lock:
            self.errors.append((time.monotonic(), what))

    def figures(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "lock"}

    def add(self, figures: dict):
        """Adds the figures of another process's clients."""
        self.latencies += figures["latencies"]
        self.unavailable += figures["unavailable"]
        self.errors += figures["errors"]
        for k in ("requests", "items", "bytes", "cpu_s"):
            setattr(self, k, getattr(self, k) + figures[k])
        for k in self.sessions:
            self.sessions[k] += figures["sessions"][k]


def client_process(numbers, url, identifiers, args, deadline, hard_deadline) -> dict:
    """Runs the clients `numbers` as threads of one process (several processes keep the
    client's XML parsing off one interpreter lock); returns what they saw."""
    stats = Stats()
    cpu0 = time.process_time()
    threads = [threading.Thread(target=Client(i, url, identifiers, stats, args).run, args=(deadline, hard_deadline))
               for i in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats.cpu_s = time.process_time() - cpu0
    return stats.figures()


TOKEN = re.compile(rb"<resumptionToken[^>]*?(?:/>|>([^<]*)</resumptionToken>)")
ERROR = re.compile(rb'<error code="([^"]+)"[^>]*>([^<]*)')
ITEM = {"ListRecords": re.compile(rb"<record>"), "ListIdentifiers": re.compile(rb"<header[ >]"),
        "GetRecord": re.compile(rb"<record>")}


def well_formed(body: bytes):
    """Raises xml.parsers.expat.ExpatError unless the body is well-formed XML with
    well-formed namespaces (expat builds no tree: a 4 MB page costs about 0.1 s)."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.Parse(body, True)


def parse(body: bytes):
    """The response as an ElementTree (small documents only)."""
    return ET.fromstring(body)


class Client:
    def __init__(self, i, url, identifiers, stats, args):
        self.i, self.url, self.ids, self.stats, self.args = i, url, identifiers, stats, args
        self.rng = random.Random(i)
        self.http = requests.Session()
        self.http.headers["Accept-Encoding"] = "gzip" if i % 4 == 0 else "identity"

    def get(self, params, hard_deadline):
        """One OAI-PMH request: retried after each 503 as its Retry-After says (capped);
        the parsed document, or None after an error (recorded)."""
        while time.monotonic() < hard_deadline:
            t0 = time.perf_counter()
            try:
                r = self.http.get(self.url, params=params, timeout=120)
                body = r.content
            except requests.RequestException as e:
                self.stats.error(f"{type(e).__name__}: {e}"[:300])
                return None
            seconds = time.perf_counter() - t0
            if r.status_code == 503:
                retry = r.headers.get("Retry-After", "")
                with self.stats.lock:
                    self.stats.unavailable.append((time.monotonic(), retry, body[:80].decode("utf-8", "replace"),
                                                   seconds))
                if not retry.isdigit():
                    self.stats.error(f"503 without a Retry-After in seconds ({retry!r})")
                    return None
                time.sleep(min(int(retry), self.args.retry_cap))
                continue
            if r.status_code != 200:
                self.stats.error(f"HTTP {r.status_code} for {params}: {body[:200]!r}")
                return None
            try:
                well_formed(body)
            except xml.parsers.expat.ExpatError as e:
                self.stats.error(f"malformed XML ({e}) for {params}: {len(body)} bytes")
                return None
            err = ERROR.search(body)
            if err is not None:
                self.stats.error(f"OAI-PMH error {err.group(1).decode()} for {params}: {err.group(2)[:200]!r}")
                return None
            with self.stats.lock:
                self.stats.latencies.append(seconds)
                self.stats.requests += 1
                self.stats.bytes += len(body)
            return body
        self.stats.error(f"gave up retrying {params} at the deadline")
        return None

    def session(self, verb, prefix, hard_deadline):
        """A harvest: GetRecord of a random record, or a list followed by its tokens (to its
        end, or --pages pages)."""
        with self.stats.lock:
            self.stats.sessions["started"] += 1
        if verb == "GetRecord":
            params = {"verb": verb, "metadataPrefix": prefix, "identifier": self.rng.choice(self.ids)}
            body = self.get(params, hard_deadline)
            if body is None:
                return
            items = len(ITEM[verb].findall(body))
        else:
            params, pages, items = {"verb": verb, "metadataPrefix": prefix}, 0, 0
            while True:
                body = self.get(params, hard_deadline)
                if body is None:
                    return
                pages += 1
                items += len(ITEM[verb].findall(body))
                m = TOKEN.search(body, max(0, len(body) - 4096))
                token = (m.group(1) or b"").strip().decode() if m else ""
                if not token or (self.args.pages and pages >= self.args.pages):
                    break
                params = {"verb": verb, "resumptionToken": token}
        with self.stats.lock:
            self.stats.items += items
            self.stats.sessions["finished"] += 1

    def run(self, deadline, hard_deadline):
        while time.monotonic() < deadline:
            verb, prefix = KINDS[self.rng.randrange(len(KINDS))]
            self.session(verb, prefix, hard_deadline)
        self.http.close()


# ------------------------------------------------------------------------------------------
# disturbing PostgreSQL
# ------------------------------------------------------------------------------------------
def terminate_all(admin, dbname) -> int:
    out = cluster.psql(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              f"WHERE datname = '{dbname}' AND pid <> pg_backend_pid()")
    return int(out or 0)


def disturb(admin, dbname, t0, duration, args, events, stop):
    """A storm of pg_terminate_backend on the database's connections from 25 % of the
    phase on, then a gap in which the database accepts no connection at all."""
    def wait_until(at):
        while not stop.is_set() and time.monotonic() < t0 + at:
            stop.wait(0.05)
        return not stop.is_set()

    storm = min(args.storm_seconds, duration / 4)
    if not wait_until(duration * 0.25):
        return
    events["storm_start"] = time.monotonic() - t0
    killed = 0
    while time.monotonic() < t0 + duration * 0.25 + storm and not stop.is_set():
        killed += terminate_all(admin, dbname)
        stop.wait(args.storm_every)
    events["storm_end"] = time.monotonic() - t0
    events["storm_terminated"] = killed
    if not args.gap_seconds or not wait_until(duration * 0.6):
        return
    try:
        cluster.psql(admin, f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        events["gap_start"] = time.monotonic() - t0
        events["gap_terminated"] = terminate_all(admin, dbname)
        stop.wait(args.gap_seconds)
    finally:
        cluster.psql(admin, f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        events["gap_end"] = time.monotonic() - t0


# ------------------------------------------------------------------------------------------
# one phase
# ------------------------------------------------------------------------------------------
def phase(name, c, identifiers, args, faults, admin, dbname):
    stats = Stats()
    events = {}
    stop = threading.Event()
    peak = [0.0] * len(c.pids())

    def sample():
        while not stop.is_set():
            for k, pid in enumerate(c.pids()):
                peak[k] = max(peak[k], hb.proc_status(pid, "VmRSS"))
            stop.wait(0.2)

    duration = args.duration
    cpu0 = [hb.proc_cpu(pid) for pid in c.pids()]
    processes = max(1, min(args.processes, args.clients))
    groups = [list(range(args.clients))[k::processes] for k in range(processes)]
    log(f"[{name}] {args.clients} clients in {processes} processes for {duration:.0f} s"
        + (" with faults" if faults else ""))
    t0 = time.monotonic()
    deadline, hard = t0 + duration, t0 + duration + args.grace
    # the client processes are forked before this process starts any thread
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pending = [pool.apply_async(client_process, (g, c.url, identifiers, args, deadline, hard)) for g in groups]
        helpers = [threading.Thread(target=sample, daemon=True)]
        if faults:
            helpers.append(threading.Thread(target=disturb, args=(admin, dbname, t0, duration, args, events, stop),
                                            daemon=True))
        for t in helpers:
            t.start()
        for r in pending:
            stats.add(r.get())
    seconds = time.monotonic() - t0
    stop.set()
    for t in helpers:
        t.join()
    lat = sorted(stats.latencies)
    pct = (lambda p: hb.percentile(lat, p) * 1000) if lat else (lambda p: float("nan"))
    in_gap = 0
    if "gap_start" in events:
        lo, hi = t0 + events["gap_start"], t0 + events["gap_end"] + 1
        in_gap = sum(1 for at, _, _, _ in stats.unavailable if lo <= at <= hi)
    memory = c.memory()
    cpu = {"instances_s": [hb.proc_cpu(pid) - c0 for pid, c0 in zip(c.pids(), cpu0)], "client_s": stats.cpu_s}
    for m, p in zip(memory, peak):
        m["rss_sampled_peak_mb"] = p
    result = {
        "phase": name, "faults": faults, "clients": args.clients, "seconds": seconds,
        "requests": stats.requests, "requests_per_s": stats.requests / seconds, "items": stats.items,
        "mb_per_s": stats.bytes / 1e6 / seconds, "p50_ms": pct(50), "p99_ms": pct(99),
        "sessions": stats.sessions, "unavailable_503": len(stats.unavailable), "unavailable_503_in_gap": in_gap,
        "unavailable_reasons": sorted({b for _, _, b, _ in stats.unavailable}),
        "unavailable_slowest_ms": max((s for _, _, _, s in stats.unavailable), default=0) * 1000,
        "errors": len(stats.errors), "error_examples": [w for _, w in stats.errors[:10]],
        "events": events, "instances": memory, "instances_alive": c.alive(), "cpu": cpu,
    }
    problems = []
    if stats.errors:
        problems.append(f"{len(stats.errors)} errors, e.g. {stats.errors[0][1]}")
    if stats.sessions["finished"] != stats.sessions["started"]:
        problems.append(f"{stats.sessions['started'] - stats.sessions['finished']} harvests did not finish")
    if not result["instances_alive"]:
        problems.append("an instance or nginx died")
    if faults and "gap_start" in events and in_gap == 0:
        problems.append("no 503 while the database refused connections")
    if stats.requests == 0:
        problems.append("no request succeeded")
    result["problems"] = problems
    log(f"[{name}] {result['requests_per_s']:,.1f} requests/s, p50 {result['p50_ms']:.0f} ms, p99 "
        f"{result['p99_ms']:.0f} ms, {len(stats.unavailable)} x 503 ({in_gap} in the gap), {len(stats.errors)} errors, "
        f"harvests {stats.sessions['finished']}/{stats.sessions['started']}")
    return result


def sample_identifiers(url, n=500):
    doc = parse(requests.get(url, params={"verb": "ListIdentifiers", "metadataPrefix": "mets"}, timeout=120).content)
    ids = [e.text for e in doc.iter(f"{OAI}identifier")][:n]
    if not ids:
        sys.exit("the database holds no records to harvest")
    return ids


def table(r) -> str:
    rows = []
    for p in r["phases"]:
        rows.append((p["phase"], f"{p['requests_per_s']:,.1f} requests/s ({p['mb_per_s']:.1f} MB/s), "
                                 f"p50 {p['p50_ms']:.0f} ms, p99 {p['p99_ms']:.0f} ms",
                     "ok" if not p["problems"] else "FAILED"))
        rows.append(("  harvests", f"{p['sessions']['finished']}/{p['sessions']['started']} finished, "
                                   f"{p['errors']} errors, {p['unavailable_503']} x 503 "
                                   f"({p['unavailable_503_in_gap']} in the gap, slowest "
                                   f"{p['unavailable_slowest_ms']:.0f} ms)", ""))
        if p["faults"]:
            e = p["events"]
            rows.append(("  faults", f"storm {e.get('storm_start', 0):.0f}-{e.get('storm_end', 0):.0f} s "
                                     f"({e.get('storm_terminated', 0)} connections terminated), gap "
                                     f"{e.get('gap_start', 0):.0f}-{e.get('gap_end', 0):.0f} s", ""))
        rows.append(("  memory", ", ".join(f"{m['vmhwm_mb']:.0f} MB" for m in p["instances"]) + " VmHWM", ""))
        rows.append(("  cpu", "instances " + " + ".join(f"{s:.0f}" for s in p["cpu"]["instances_s"])
                               + f" s, client {p['cpu']['client_s']:.0f} s", ""))
    head = (f"load benchmark, {r['clients']} clients x {r['duration']:.0f} s per phase, "
            f"{r['records']:,} records, 2 instances behind nginx")
    w1 = max(len(a) for a, _, _ in rows)
    w2 = max(len(b) for _, b, _ in rows)
    return "\n".join([head, "-" * len(head)] + [f"{a:<{w1}}  {b:<{w2}}  {c}".rstrip() for a, b, c in rows])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database", help="a populated PostgreSQL database (domain 'bench') to use as it is; "
                                      "default: a fresh one with --count records, dropped afterwards")
    p.add_argument("--count", type=int, default=20000, help="records for a fresh database (default 20000)")
    p.add_argument("--records", type=Path, help="records already generated (bench/generate.py) to import")
    p.add_argument("--min-kb", type=float, default=20)
    p.add_argument("--max-kb", type=float, default=60)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                   help="client processes the clients are spread over (default: one per CPU)")
    p.add_argument("--duration", type=float, default=300, help="seconds per phase (default 300)")
    p.add_argument("--pages", type=int, default=20,
                   help="pages a list harvest follows before it counts as done (0: to the end of the list)")
    p.add_argument("--grace", type=float, default=180,
                   help="seconds after a phase for the harvests under way to finish")
    p.add_argument("--retry-cap", type=float, default=10, help="longest wait after a 503 (default: Retry-After)")
    p.add_argument("--storm-seconds", type=float, default=30, help="length of the termination storm")
    p.add_argument("--storm-every", type=float, default=0.25, help="seconds between terminations in the storm")
    p.add_argument("--gap-seconds", type=float, default=5, help="seconds the database refuses connections (0: no gap)")
    p.add_argument("--phases", default="steady,faults", help="steady, faults or both (default)")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--workdir", type=Path)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--bin", type=Path, default=Path(os.environ.get("VITRINE_BIN", REPO / "target/release/vitrine")))
    p.add_argument("--postgres-url", default=os.environ.get("VITRINE_BENCH_POSTGRES_URL",
                                                            "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = p.parse_args()
    args.bin = args.bin.resolve()
    if not args.bin.is_file():
        sys.exit(f"no vitrine binary at {args.bin}; build it with `cargo build --release --bin vitrine`")
    phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    if not phases or set(phases) - {"steady", "faults"}:
        sys.exit("--phases takes steady, faults or steady,faults")
    cluster.nginx_binary()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pg_name, database = None, args.database
    try:
        if database is None:
            records = args.records
            if records is None:
                records = workdir / f"records-{args.count}-seed{args.seed}-{args.min_kb:g}-{args.max_kb:g}kb"
                if not (records / ".complete").exists():
                    log(f"generating {args.count} records in {records}")
                    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), "--count", str(args.count),
                                    "--out", str(records), "--seed", str(args.seed), "--min-kb", str(args.min_kb),
                                    "--max-kb", str(args.max_kb), "--multivolume", "40",
                                    "--jobs", str(os.cpu_count() or 1), "--quiet"], check=True)
                    (records / ".complete").touch()
            pg_name, database = hb.create_postgres(args.postgres_url)
            v = hb.Vitrine(args.bin, database, workdir, args.page_size, {})
            v.run("domain", "add", DOMAIN, "--name", "Load benchmark")
            log(f"importing {records} into {pg_name}")
            log(v.run("import", "--domain", DOMAIN, "--release", records).strip())
        dbname = cluster.database_name(database)
        admin = cluster.admin_url(database, cluster.database_name(args.postgres_url) or "postgres")
        records_n = int(cluster.psql(database, "SELECT count(*) FROM record"))
        result = {"clients": args.clients, "duration": args.duration, "pages_per_harvest": args.pages,
                  "records": records_n, "phases": [],
                  "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count()}
        with cluster.Cluster(args.bin, database, workdir, args.page_size, instances=2) as c:
            ids = sample_identifiers(c.url)
            for name in phases:
                result["phases"].append(phase(name, c, ids, args, name == "faults", admin, dbname))
    finally:
        if pg_name and not args.keep:
            hb.drop_postgres(args.postgres_url, pg_name)
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "load.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"(written {out})", flush=True)
    failed = [(p["phase"], p["problems"]) for p in result["phases"] if p["problems"]]
    if failed:
        sys.exit("load benchmark failed: " + "; ".join(f"{n}: {', '.join(pr)}" for n, pr in failed))


if __name__ == "__main__":
    main()
