#!/usr/bin/env python3
"""Harvest benchmark: import throughput, full-harvest throughput, page latency at the start
and at the end of a long list, and the server's memory under concurrent harvests.

See bench/harvest/README.md. Needs `requests` (pip install -r .ci/requirements.txt) and, for
--backend postgres, `psql` and a PostgreSQL server.
"""

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "bench"
TARGETS = {
    "import_records_per_s": (">=", 1000.0),
    "harvest_records_per_s": (">=", 5000.0),
    "last_first_p50_ratio": ("<=", 1.2),
    "peak_rss_mb": ("<=", 150.0),
}
TOKEN = re.compile(rb"<resumptionToken([^>]*?)(?:/>|>([^<]*)</resumptionToken>)")
RECORD = re.compile(rb"<record>|<record ")
HEADER = re.compile(rb"<header>|<header ")
ERROR = re.compile(rb'<error code="([^"]+)"')


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# vitrine
# ------------------------------------------------------------------------------------------
class Vitrine:
    def __init__(self, binary: Path, database: str, workdir: Path, page_size: int, server_env: dict):
        self.binary, self.database, self.workdir = binary, database, workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINE_")}
        self.env["VITRINE_LOG"] = "warn"
        self.env[f"VITRINE_DOMAINS__{DOMAIN.upper()}__PAGE_SIZE"] = str(page_size)
        self.server_env = {**self.env, **server_env}

    def run(self, *args) -> str:
        proc = subprocess.run(
            [str(self.binary), "--database", self.database, *map(str, args)],
            cwd=self.workdir, env=self.env, capture_output=True, text=True,
        )
        if proc.returncode != 0:
            sys.exit(f"vitrine {' '.join(map(str, args[:3]))} exited {proc.returncode}:\n"
                     f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        return proc.stdout

    def serve(self):
        log_file = open(self.workdir / "serve.log", "wb")
        proc = subprocess.Popen(
            [str(self.binary), "--database", self.database, "serve", "--bind", "127.0.0.1:0"],
            cwd=self.workdir, env=self.server_env, stdout=subprocess.PIPE, stderr=log_file, text=True,
        )
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on http://"):
            proc.kill()
            sys.exit(f"vitrine serve did not start ({line!r}); see {self.workdir / 'serve.log'}")
        return proc, line[len("listening on "):]


def proc_status(pid: int, key: str) -> float:
    """A VmRSS/VmHWM line of /proc/PID/status, in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------
# harvesting
# ------------------------------------------------------------------------------------------
def fetch(http, url, params, sizes=None):
    response = http.get(url, params=params, timeout=300, stream=True)
    raw = response.raw.read(decode_content=False)
    if sizes is not None:
        sizes.append(len(raw))  # bytes over the wire (compressed, if it was)
    encoding = response.headers.get("Content-Encoding", "identity")
    if encoding == "gzip":
        body = zlib.decompress(raw, 16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        body = zlib.decompress(raw)
    elif encoding == "identity":
        body = raw
    else:
        raise RuntimeError(f"unexpected Content-Encoding {encoding}")
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code} for {params}: {body[:300]!r}")
    err = ERROR.search(body)
    if err:
        raise RuntimeError(f"OAI-PMH error {err.group(1).decode()} for {params}: {body[:500]!r}")
    return body


def harvest(url, verb, prefix, accept_encoding="identity", on_page=None, headers=None):
    """A full harvest following resumption tokens over one keep-alive connection. Returns
    counts, bytes, time, and the arguments of every request (to re-issue pages later).
    `on_page(body)`, if given, sees every page's XML; `headers` go with every request."""
    http = requests.Session()
    http.headers["Accept-Encoding"] = accept_encoding
    http.headers.update(headers or {})
    params = {"verb": verb, "metadataPrefix": prefix}
    requests_made, items, nbytes, wire, pages = 0, 0, 0, 0, []
    item = RECORD if verb == "ListRecords" else HEADER
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        sizes = []
        body = fetch(http, url, params, sizes)
        wire += sizes[0]
        pages.append({"params": params, "seconds": time.perf_counter() - t0})
        requests_made += 1
        nbytes += len(body)
        items += len(item.findall(body))
        if on_page is not None:
            on_page(body)
        m = TOKEN.search(body, max(0, len(body) - 4096))
        token = (m.group(2) or b"").strip() if m else b""
        if not token:
            break
        params = {"verb": verb, "resumptionToken": token.decode()}
    seconds = time.perf_counter() - started
    http.close()
    return {
        "records": items, "requests": requests_made, "bytes": nbytes, "wire_bytes": wire, "seconds": seconds,
        "records_per_s": items / seconds, "mb_per_s": nbytes / 1e6 / seconds, "pages": pages,
    }


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latencies(url, page_params, repeat):
    http = requests.Session()
    http.headers["Accept-Encoding"] = "identity"
    samples = []
    for _ in range(repeat):
        for params in page_params:
            t0 = time.perf_counter()
            fetch(http, url, params)
            samples.append(time.perf_counter() - t0)
    http.close()
    return {"n": len(samples), "p50_ms": percentile(samples, 50) * 1000, "p99_ms": percentile(samples, 99) * 1000}


def concurrent_harvests(url, pid, n):
    """n full ListRecords/mets harvests at once; samples the server's VmRSS meanwhile."""
    results, errors, peak = [None] * n, [], [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc_status(pid, "VmRSS"))
            stop.wait(0.05)

    def one(i):
        try:
            results[i] = harvest(url, "ListRecords", "mets")
        except Exception as e:  # reported below
            errors.append(repr(e))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu0, t0 = proc_cpu(pid), time.perf_counter()
    workers = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if errors:
        raise RuntimeError(f"concurrent harvest failed: {errors[0]}")
    records = sum(r["records"] for r in results)
    return {
        "harvesters": n, "seconds": seconds, "records": records, "records_per_s": records / seconds,
        "server_cpu_s": proc_cpu(pid) - cpu0, "peak_rss_mb_sampled": peak[0],
        "each_records": [r["records"] for r in results],
    }


# ------------------------------------------------------------------------------------------
# one backend
# ------------------------------------------------------------------------------------------
def create_postgres(admin_url):
    name = f"vitrine_bench_{os.getpid()}_{int(time.time())}"
    subprocess.run(["psql", admin_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"'],
                   check=True)
    return name, urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


def drop_postgres(admin_url, name):
    subprocess.run(["psql", admin_url, "-X", "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                   check=False)


def bench_backend(args, backend, records_dir, count, workdir):
    pg_name = None
    if backend == "sqlite":
        db_file = workdir / f"bench-{backend}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        database = f"sqlite://{db_file}"
    else:
        pg_name, database = create_postgres(args.postgres_url)
        log(f"[{backend}] database {pg_name}")
    try:
        return _bench(args, backend, records_dir, count, workdir, database)
    finally:
        if pg_name and not args.keep:
            drop_postgres(args.postgres_url, pg_name)


def _bench(args, backend, records_dir, count, workdir, database):
    v = Vitrine(args.bin, database, workdir, args.page_size, args.server_env)
    v.run("domain", "add", DOMAIN, "--name", "Harvest benchmark")
    log(f"[{backend}] importing {count} records")
    t0, cpu0 = time.perf_counter(), _children_cpu()
    summary = v.run("import", "--domain", DOMAIN, "--release", records_dir).strip()
    import_s, import_cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    log(f"[{backend}] {summary}")
    if f"{count} created" not in summary:
        sys.exit(f"import did not create {count} records: {summary}")

    proc, base = v.serve()
    url = f"{base}/oai"
    result = {"backend": backend, "count": count, "page_size": args.page_size,
              "server_env": args.server_env,
              "import": {"seconds": import_s, "records_per_s": count / import_s, "cpu_s": import_cpu,
                         "summary": summary}}
    try:
        pid = proc.pid
        log(f"[{backend}] full ListRecords/mets harvest")
        cpu0, ccpu0 = proc_cpu(pid), time.process_time()
        full = harvest(url, "ListRecords", "mets")
        full["server_cpu_s"], full["client_cpu_s"] = proc_cpu(pid) - cpu0, time.process_time() - ccpu0
        if full["records"] != count:
            sys.exit(f"the harvest returned {full['records']} records, expected {count}")
        pages = full.pop("pages")
        full["first_request_ms"] = pages[0]["seconds"] * 1000

        log(f"[{backend}] ListIdentifiers/mets harvest (no record bodies)")
        cpu0, ccpu0 = proc_cpu(pid), time.process_time()
        ids = harvest(url, "ListIdentifiers", "mets")
        ids["server_cpu_s"], ids["client_cpu_s"] = proc_cpu(pid) - cpu0, time.process_time() - ccpu0
        ids.pop("pages")

        log(f"[{backend}] ListRecords/mets harvest with Accept-Encoding: gzip")
        cpu0 = proc_cpu(pid)
        gz = harvest(url, "ListRecords", "mets", accept_encoding="gzip")
        gz["server_cpu_s"] = proc_cpu(pid) - cpu0
        gz.pop("pages")

        full["server_vmhwm_mb"] = proc_status(pid, "VmHWM")  # peak so far: one harvester at a time
        # pages reached by a token: the first request (no token) also counts the list
        tokens = [p["params"] for p in pages[1:]]
        n = min(args.latency_pages, len(tokens) // 2)
        log(f"[{backend}] latency: first {n} and last {n} token pages, {args.latency_repeat} times each")
        first = latencies(url, tokens[:n], args.latency_repeat)
        last = latencies(url, tokens[-n:], args.latency_repeat)
        # peak RSS: the 4-harvester run decides it
        log(f"[{backend}] {args.harvesters} concurrent ListRecords/mets harvests")
        conc = concurrent_harvests(url, pid, args.harvesters)
        conc["vmhwm_mb"] = proc_status(pid, "VmHWM")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    result.update({
        "harvest": full, "list_identifiers": ids, "harvest_gzip": gz,
        "latency": {"pages": n, "repeat": args.latency_repeat, "first": first, "last": last,
                    "last_first_p50_ratio": last["p50_ms"] / first["p50_ms"]},
        "concurrent": conc,
    })
    values = {
        "import_records_per_s": result["import"]["records_per_s"],
        "harvest_records_per_s": full["records_per_s"],
        "last_first_p50_ratio": result["latency"]["last_first_p50_ratio"],
        "peak_rss_mb": max(conc["vmhwm_mb"], conc["peak_rss_mb_sampled"]),
    }
    result["targets"] = {
        k: {"value": values[k], "target": f"{op} {t:g}", "met": values[k] >= t if op == ">=" else values[k] <= t}
        for k, (op, t) in TARGETS.items()
    }
    return result


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------
def verdict(result, key):
    t = result["targets"][key]
    return f"{t['target']:>9}  {'ok' if t['met'] else 'MISSED'}"


def table(result) -> str:
    r, h, li, gz, lat, c = (result["import"], result["harvest"], result["list_identifiers"],
                            result["harvest_gzip"], result["latency"], result["concurrent"])
    rows = [
        ("import", f"{r['records_per_s']:,.0f} records/s ({r['seconds']:.1f} s, cpu {r['cpu_s']:.1f} s)",
         verdict(result, "import_records_per_s")),
        ("ListRecords mets", f"{h['records_per_s']:,.0f} records/s, {h['mb_per_s']:.1f} MB/s "
                             f"({h['seconds']:.1f} s, {h['requests']} requests, {h['bytes'] / 1e6:,.0f} MB)",
         verdict(result, "harvest_records_per_s")),
        ("  cpu server/client", f"{h['server_cpu_s']:.1f} s / {h['client_cpu_s']:.1f} s", ""),
        ("  first request", f"{h['first_request_ms']:.0f} ms (counts the list)", ""),
        ("ListIdentifiers mets", f"{li['records_per_s']:,.0f} records/s ({li['seconds']:.1f} s), "
                                 f"cpu server {li['server_cpu_s']:.1f} s", ""),
        ("ListRecords mets gzip", f"{gz['records_per_s']:,.0f} records/s, {gz['wire_bytes'] / 1e6:,.1f} MB on the wire, "
                                  f"cpu server {gz['server_cpu_s']:.1f} s", ""),
        (f"first {lat['pages']} pages", f"p50 {lat['first']['p50_ms']:.1f} ms, p99 {lat['first']['p99_ms']:.1f} ms", ""),
        (f"last {lat['pages']} pages", f"p50 {lat['last']['p50_ms']:.1f} ms, p99 {lat['last']['p99_ms']:.1f} ms", ""),
        ("  last/first p50", f"{lat['last_first_p50_ratio']:.2f}", verdict(result, "last_first_p50_ratio")),
        (f"{c['harvesters']} concurrent harvests", f"{c['records_per_s']:,.0f} records/s together ({c['seconds']:.1f} s)", ""),
        ("  server peak RSS", f"{max(c['vmhwm_mb'], c['peak_rss_mb_sampled']):.0f} MB "
                              f"(VmHWM {c['vmhwm_mb']:.0f}, sampled VmRSS {c['peak_rss_mb_sampled']:.0f}; "
                              f"{h['server_vmhwm_mb']:.0f} MB with one harvester)",
         verdict(result, "peak_rss_mb")),
    ]
    head = f"harvest benchmark, {result['backend']}, {result['count']:,} records, page size {result['page_size']}"
    if result["server_env"]:
        head += ", server with " + " ".join(f"{k}={v}" for k, v in result["server_env"].items())
    w1 = max(len(a) for a, _, _ in rows)
    w2 = max(len(b) for _, b, _ in rows)
    lines = [head, "-" * len(head)]
    lines += [f"{a:<{w1}}  {b:<{w2}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=100000, help="records to generate and import (default 100000)")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    p.add_argument("--keep", action="store_true",
                   help="keep the generated records, the SQLite file and the PostgreSQL database")
    p.add_argument("--bin", type=Path, default=Path(os.environ.get("VITRINE_BIN", REPO / "target/release/vitrine")))
    p.add_argument("--postgres-url", default=os.environ.get("VITRINE_BENCH_POSTGRES_URL",
                                                            "postgres://postgres@127.0.0.1:5432/postgres"),
                   help="server to create the temporary database on")
    p.add_argument("--workdir", type=Path, help="where records and the SQLite file go (default: a temporary folder)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="generator processes")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--harvesters", type=int, default=4)
    p.add_argument("--latency-pages", type=int, default=20)
    p.add_argument("--latency-repeat", type=int, default=5)
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment of `vitrine serve` only, e.g. VITRINE_DATABASE__MAX_CONNECTIONS=4 "
                        "(repeatable; for experiments)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = p.parse_args()
    args.bin = args.bin.resolve()
    try:
        args.server_env = dict(kv.split("=", 1) for kv in args.server_env)
    except ValueError:
        sys.exit("--server-env takes KEY=VALUE")
    if not args.bin.is_file():
        sys.exit(f"no vitrine binary at {args.bin}; build it with `cargo build --release`")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-harvest-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    records_dir = workdir / f"records-{args.count}-seed{args.seed}"
    try:
        if not (records_dir / ".complete").exists():
            shutil.rmtree(records_dir, ignore_errors=True)
            log(f"generating {args.count} records (20-60 KB) in {records_dir}")
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), "--count", str(args.count),
                            "--out", str(records_dir), "--seed", str(args.seed), "--min-kb", "20", "--max-kb", "60",
                            "--jobs", str(args.jobs), "--quiet"], check=True)
            (records_dir / ".complete").touch()
            log(f"generated in {time.perf_counter() - t0:.0f} s")
        size = sum(f.stat().st_size for f in records_dir.rglob("*.xml"))
        load = os.getloadavg()
        log(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cpus")
        backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
        args.out.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            result = bench_backend(args, backend, records_dir, args.count, workdir)
            result["records_mb"] = size / 1e6
            result["machine"] = {"cpus": os.cpu_count(), "binary": str(args.bin), "loadavg_before": load}
            out = args.out / f"harvest-{backend}.json"
            out.write_text(json.dumps(result, indent=2) + "\n")
            print(table(result))
            print(f"(records: {size / 1e6:,.0f} MB; written {out})\n", flush=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not args.keep:
            shutil.rmtree(records_dir, ignore_errors=True)
            for f in workdir.glob("bench-sqlite.db*"):
                f.unlink()
        else:
            log(f"kept {workdir}")


if __name__ == "__main__":
    main()
