#!/usr/bin/env python3
"""Ingest API benchmark: records per second through PUT /api/v1/domains/{d}/records/{id}
with several concurrent clients (background validation), and the latency of a PUT with
validate=sync (the request repairs and validates the record before it answers).

Starts `vitrine serve` on a fresh database (SQLite in a temporary folder, or a new
PostgreSQL database), creates a domain and an ingest token, and sends copies of the
largest demo record (about 50 KB of METS), each with its own local id. See README.md.
"""

import argparse
import http.client
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE_ID = "demo_mono_0012"


def vitrine(binary, config, *args):
    env = dict(os.environ, VITRINE_CONFIG=str(config), VITRINE_LOG="warn")
    return subprocess.run([binary, *args], env=env, check=True, capture_output=True, text=True).stdout


def records(template, prefix, count):
    return [(f"{prefix}_{i:06d}", template.replace(TEMPLATE_ID, f"{prefix}_{i:06d}").encode()) for i in range(count)]


def put_all(port, token, items, clients, query=""):
    """PUTs items from `clients` threads, each with one keep-alive connection; returns
    (seconds, per-request latencies, statuses)."""
    latencies, statuses, lock = [], {}, threading.Lock()
    chunks = [items[i::clients] for i in range(clients)]

    def client(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, seen = [], {}
        for local_id, body in chunk:
            started = time.perf_counter()
            conn.request("PUT", f"/api/v1/domains/bench/records/{local_id}{query}", body=body,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            seen[response.status] = seen.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, statuses


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000, help="records PUT in the throughput run")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--sync-count", type=int, default=200, help="records PUT one by one with validate=sync")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("VITRINE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--bin", default=os.environ.get("VITRINE_BIN", str(ROOT / "target/release/vitrine")))
    parser.add_argument("--out", default=str(ROOT / "bench/out"))
    args = parser.parse_args()

    template = (ROOT / "fixtures/demo/main" / f"{TEMPLATE_ID}.xml").read_text()
    work = pathlib.Path(tempfile.mkdtemp(prefix="vitrine-bench-ingest-"))
    database = f"sqlite://{work}/vitrine.db"
    pg_db = None
    if args.backend == "postgres":
        pg_db = f"vitrine_bench_ingest_{os.getpid()}_{int(time.time())}"
        subprocess.run(["psql", args.postgres_url, "-qc", f'CREATE DATABASE "{pg_db}"'], check=True)
        database = args.postgres_url.rsplit("/", 1)[0] + "/" + pg_db
    config = work / "vitrine.toml"
    config.write_text(f'[database]\nurl = "{database}"\n')
    server = None
    try:
        vitrine(args.bin, config, "domain", "add", "bench")
        token = vitrine(args.bin, config, "token", "create", "--domain", "bench", "--scope", "ingest").strip()
        env = dict(os.environ, VITRINE_CONFIG=str(config), VITRINE_LOG="warn")
        server = subprocess.Popen([args.bin, "serve", "--bind", "127.0.0.1:0"], env=env,
                                  stdout=subprocess.PIPE, text=True)
        port = int(re.search(r":(\d+)$", server.stdout.readline().strip()).group(1))

        items = records(template, "put", args.count)
        size = sum(len(b) for _, b in items) / len(items)
        seconds, latencies, statuses = put_all(port, token, items, args.clients)
        throughput = {
            "records": args.count, "clients": args.clients, "mean_bytes": round(size),
            "seconds": round(seconds, 2), "records_per_second": round(args.count / seconds, 1),
            "p50_ms": round(1000 * percentile(latencies, 50), 2), "p99_ms": round(1000 * percentile(latencies, 99), 2),
            "statuses": statuses,
        }
        sync_items = records(template, "sync", args.sync_count)
        _, sync_latencies, sync_statuses = put_all(port, token, sync_items, 1, "?validate=sync")
        sync = {
            "records": args.sync_count, "statuses": sync_statuses,
            "p50_ms": round(1000 * statistics.median(sync_latencies), 2),
            "p90_ms": round(1000 * percentile(sync_latencies, 90), 2),
            "p99_ms": round(1000 * percentile(sync_latencies, 99), 2),
        }
        result = {"backend": args.backend, "cpus": os.cpu_count(), "put": throughput, "validate_sync": sync}
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"ingest-{args.backend}.json").write_text(json.dumps(result, indent=2))
        print(f"backend {args.backend}, {os.cpu_count()} CPUs, records of {size / 1024:.0f} KB")
        print(f"{'figure':<40} {'measured':>14} {'target':>12}")
        print(f"{f'PUT, {args.clients} clients (background)':<40} {throughput['records_per_second']:>10.0f} r/s {'>= 500 r/s':>12}")
        print(f"{'PUT latency p50 / p99':<40} {throughput['p50_ms']:>6.1f}/{throughput['p99_ms']:.1f} ms")
        print(f"{'PUT validate=sync p50':<40} {sync['p50_ms']:>11.1f} ms {'<= 10 ms':>12}")
        print(f"{'PUT validate=sync p90 / p99':<40} {sync['p90_ms']:>6.1f}/{sync['p99_ms']:.1f} ms")
        print(f"statuses: PUT {statuses}, sync {sync_statuses}")
        if set(statuses) - {201} or set(sync_statuses) - {201}:
            sys.exit("some PUTs were not answered 201")
    finally:
        if server:
            server.terminate()
            server.wait()
        if pg_db:
            subprocess.run(["psql", args.postgres_url, "-qc", f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
