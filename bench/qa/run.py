#!/usr/bin/env python3
"""Response time of the QA page (/{dname}/qa/oaivalidator) at N records.

Generates N synthetic METS records (bench/generate.py, seed 7; reused from the work
directory on the next run), imports them released into a fresh SQLite database (or
PostgreSQL), switches zmets and zmods on with institution data, runs the
OaiOutputValidator once (--full) so that every record has findings and the QA aggregates
exist, creates a QA user, starts `vitrine serve`, logs in through the form and requests
the QA page (and its .json) --requests times after a warm-up. Prints p50/p95/max per
page beside the target (p50 < 200 ms on a 2-core machine) and writes
bench/out/qa-<backend>.json.

Usage:
  python3 bench/qa/run.py [--count 100000] [--backend sqlite|postgres] [--workdir DIR]
                          [--requests 50] [--bin target/release/vitrine]
"""
import argparse
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET_MS = 200.0
PASSWORD = "bench password 123"


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def login(base):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)
    data = urllib.parse.urlencode({"username": "bench", "password": PASSWORD, "csrf": csrf, "next": "/"}).encode()
    opener.open(base + "/login", data=data).read()
    return opener


def timed(opener, url, n):
    opener.open(url).read()  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        body = opener.open(url).read()
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": statistics.median(times), "p95_ms": sorted(times)[int(0.95 * (n - 1))],
            "max_ms": max(times), "bytes": len(body), "requests": n}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--workdir", default=None, help="reuse generated records (and the database) here")
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--bin", default=os.environ.get("VITRINE_BIN", os.path.join(ROOT, "target/release/vitrine")))
    p.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} is missing: run `cargo build --release` first")
    work = a.workdir or tempfile.mkdtemp(prefix="vitrine-qa-bench-")
    os.makedirs(work, exist_ok=True)
    records = os.path.join(work, f"records-{a.count}-seed{a.seed}")
    if not os.path.isdir(records):
        print(f"generating {a.count} records in {records}", flush=True)
        sh([sys.executable, os.path.join(ROOT, "bench/generate.py"), "--count", str(a.count),
            "--out", records, "--seed", str(a.seed), "--quiet"])
    dbname = None
    if a.backend == "sqlite":
        db = os.path.join(work, f"qa-{a.count}.db")
        url = f"sqlite://{db}"
        ready = os.path.exists(db)
    else:
        dbname = f"vitrine_bench_qa_{os.getpid()}_{int(time.time())}"
        sh(["psql", a.postgres_url, "-q", "-c", f"CREATE DATABASE {dbname}"])
        url = a.postgres_url.rsplit("/", 1)[0] + "/" + dbname
        ready = False
    v = [a.bin, "--database", url]
    server = None
    try:
        if not ready:
            sh(v + ["domain", "add", "bench"])
            for key, value in [
                ("oai.formats.zmets.on", "true"), ("oai.formats.zmods.on", "true"),
                ("record_identifier_source", "DE-3"), ("institution.name", "Example Library"),
                ("institution.logo", "https://example.org/logo.png"),
                ("institution.site_url", "https://example.org"),
                ("institution.contact", "digital@example.org"),
                ("presentation_url", "https://viewer.example.org/{id}"),
                ("reference_url", "https://opac.example.org/{id}"),
            ]:
                sh(v + ["domain", "set", "bench", key, value])
            t = time.time()
            sh(v + ["import", "--domain", "bench", "--release", records])
            print(f"imported {a.count} records in {time.time() - t:.0f} s", flush=True)
            t = time.time()
            sh(v + ["job", "run", "oai-output-validator", "--mode", "zmets", "--domain", "bench", "--full"])
            print(f"validated them in {time.time() - t:.0f} s", flush=True)
            sh(v + ["user", "add", "bench", "--role", "qa", "--password-stdin"], input=PASSWORD + "\n")
        env = dict(os.environ, VITRINE_LOG="warn")
        server = subprocess.Popen(v + ["serve", "--bind", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True, env=env)
        base = re.search(r"http://[\d.]+:\d+", server.stdout.readline()).group(0)
        opener = login(base)
        result = {"backend": a.backend, "count": a.count, "target_p50_ms": TARGET_MS}
        for name, path in [("qa_page", "/bench/qa/oaivalidator"), ("qa_json", "/bench/qa/oaivalidator.json"),
                           ("qa_page_filtered", "/bench/qa/oaivalidator?class=error&sort=records")]:
            result[name] = timed(opener, base + path, a.requests)
            r = result[name]
            verdict = "ok" if r["p50_ms"] < TARGET_MS else "MISSED"
            print(f"[{a.backend}] {path} at {a.count} records: p50 {r['p50_ms']:.1f} ms, "
                  f"p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms ({verdict}: p50 < {TARGET_MS:.0f} ms)", flush=True)
        os.makedirs(os.path.join(ROOT, "bench/out"), exist_ok=True)
        with open(os.path.join(ROOT, f"bench/out/qa-{a.backend}.json"), "w") as f:
            json.dump(result, f, indent=1)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
        if dbname:
            subprocess.run(["psql", a.postgres_url, "-q", "-c", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"])
    if not a.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
