#!/usr/bin/env python3
"""End-to-end benchmark of the OaiOutputValidator job (mode zmets).

Generates N synthetic 20-60 KB METS records (bench/generate.py), imports them released
into a fresh database, switches zmets on with institution data, and times a first (full)
run of `vitrine job run oai-output-validator`: load, repair, validate before and after
repairs, store findings, repairs and zmets/zmods. Prints records/s next to the target
(>= 1,500 records/s on SQLite on a 2-core machine) and writes
bench/out/validate-job-<backend>.json.

Usage:
  python3 bench/validate-job/run.py [--count 100000] [--backend sqlite|postgres|both]
                                    [--workdir DIR] [--bin target/release/vitrine]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = 1500.0


def sh(args, env=None):
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    p.add_argument("--workdir", default=None, help="reuse generated records here")
    p.add_argument("--bin", default=os.environ.get("VITRINE_BIN", os.path.join(ROOT, "target/release/vitrine")))
    p.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} is missing: run `cargo build --release` first")
    work = a.workdir or tempfile.mkdtemp(prefix="vitrine-validate-job-")
    os.makedirs(work, exist_ok=True)
    records = os.path.join(work, f"records-{a.count}-seed{a.seed}")
    if not os.path.isdir(records):
        print(f"generating {a.count} records in {records}", flush=True)
        sh([sys.executable, os.path.join(ROOT, "bench/generate.py"), "--count", str(a.count),
            "--out", records, "--seed", str(a.seed), "--quiet"])
    backends = ["sqlite", "postgres"] if a.backend == "both" else [a.backend]
    os.makedirs(os.path.join(ROOT, "bench/out"), exist_ok=True)
    for backend in backends:
        dbname = None
        if backend == "sqlite":
            db = os.path.join(work, "validate-job.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            url = f"sqlite://{db}"
        else:
            dbname = f"vitrine_bench_job_{os.getpid()}_{int(time.time())}"
            sh(["psql", a.postgres_url, "-q", "-c", f"CREATE DATABASE {dbname}"])
            url = a.postgres_url.rsplit("/", 1)[0] + "/" + dbname
        try:
            v = [a.bin, "--database", url]
            sh(v + ["domain", "add", "bench"])
            for key, value in [
                ("oai.formats.zmets.on", "true"),
                ("oai.formats.zmods.on", "true"),
                ("record_identifier_source", "DE-3"),
                ("institution.name", "Example Library"),
                ("institution.logo", "https://example.org/logo.png"),
                ("institution.site_url", "https://example.org"),
                ("institution.contact", "digital@example.org"),
                ("presentation_url", "https://viewer.example.org/{id}"),
                ("reference_url", "https://opac.example.org/{id}"),
            ]:
                sh(v + ["domain", "set", "bench", key, value])
            t = time.time()
            sh(v + ["import", "--domain", "bench", "--release", records])
            import_s = time.time() - t
            print(f"[{backend}] imported {a.count} records in {import_s:.1f} s", flush=True)
            t = time.time()
            out = sh(v + ["job", "run", "oai-output-validator", "--mode", "zmets", "--domain", "bench", "--full"]).stdout
            wall = time.time() - t
            m = re.search(r"validated (\d+) records in ([\d.]+) s", out)
            validated, job_s = int(m.group(1)), float(m.group(2))
            states = dict(re.findall(r"^(undefined|invalid|valid_warn|valid)\s+\d+\s+(\d+)$", out, re.M))
            rate = validated / job_s
            result = {"backend": backend, "count": a.count, "validated": validated, "job_seconds": job_s,
                      "process_seconds": wall, "records_per_s": rate, "states_after": states,
                      "import_seconds": import_s, "target_records_per_s": TARGET}
            with open(os.path.join(ROOT, f"bench/out/validate-job-{backend}.json"), "w") as f:
                json.dump(result, f, indent=1)
            verdict = "ok" if rate >= TARGET else "MISSED"
            print(f"[{backend}] first run: {validated} records in {job_s:.1f} s = {rate:,.0f} records/s "
                  f"(target >= {TARGET:,.0f}: {verdict}); states after: {states}", flush=True)
        finally:
            if dbname:
                subprocess.run(["psql", a.postgres_url, "-q", "-c", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"])
    if not a.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
