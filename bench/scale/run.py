#!/usr/bin/env python3
"""Scale benchmark: a large collection on PostgreSQL served by two vitrine instances behind
a round-robin nginx. Import rate, database size per record, full `mets` and `oai_dc`
harvests through the proxy (tokens crossing instances), first/middle/last page latency, the
first OaiOutputValidator run shared by two instances and its speed-up over one, an
incremental run after 1 % of the records changed, and each instance's peak memory.

See bench/scale/README.md. Needs `requests`, `psql`, nginx (Debian's nginx-light) and a
PostgreSQL server.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cluster  # noqa: E402  (beside this file)

hb, log, DOMAIN, REPO = cluster.hb, cluster.log, cluster.DOMAIN, cluster.REPO

IDENTIFIER = re.compile(rb"<header(?: [^>]*)?>\s*<identifier>([^<]+)</identifier>")
TITLE_END = b"</mods:title>"
# (op, value) per goal; the harvest and validator goals scale with the count (the issue
# states them for a million records: 10 and 15 minutes).
GOALS = {
    "import_records_per_s": (">=", 1500.0),
    "mets_harvest_records_per_s": (">=", 1_000_000 / 600),
    "last_first_p50_ratio": ("<=", 1.2),
    "validator_two_records_per_s": (">=", 1_000_000 / 900),
    "incremental_proportional": ("<=", 1.0),
}
DOMAIN_SETTINGS = [
    ("oai.formats.zmets.on", "true"),
    ("oai.formats.zmods.on", "true"),
    # no scheduled runs in the serving instances: the benchmark starts every run itself
    ("jobs.oai_output_validator.schedule", ""),
    ("record_identifier_source", "DE-3"),
    ("institution.name", "Example Library"),
    ("institution.logo", "https://example.org/logo.png"),
    ("institution.site_url", "https://example.org"),
    ("institution.contact", "digital@example.org"),
    ("presentation_url", "https://viewer.example.org/{id}"),
    ("reference_url", "https://opac.example.org/{id}"),
]


# ------------------------------------------------------------------------------------------
# records
# ------------------------------------------------------------------------------------------
def generate(args, workdir: Path) -> Path:
    """The records (reused when a complete set of the same parameters is there already)."""
    name = f"records-{args.count}-seed{args.seed}-mv{args.multivolume}-{args.min_kb:g}-{args.max_kb:g}kb"
    records = args.records or workdir / name
    if (records / ".complete").exists() or (args.records and records.is_dir()):
        log(f"reusing {records}")
        return records
    shutil.rmtree(records, ignore_errors=True)
    log(f"generating {args.count} records ({args.min_kb:g}-{args.max_kb:g} KB, every {args.multivolume}th "
        f"number starts a multi-volume work or newspaper) in {records}")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), "--count", str(args.count),
                    "--out", str(records), "--seed", str(args.seed), "--min-kb", str(args.min_kb),
                    "--max-kb", str(args.max_kb), "--multivolume", str(args.multivolume),
                    "--jobs", str(args.jobs), "--quiet"], check=True)
    (records / ".complete").touch()
    log(f"generated in {time.perf_counter() - t0:.0f} s")
    return records


def changed_copy(records: Path, share: float, out: Path) -> int:
    """Writes a changed copy of every (1/share)-th record (a revised title) to `out`."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = sorted(records.rglob("*.xml"))
    step = max(1, round(1 / share))
    n = 0
    for f in files[step - 1::step]:
        data = f.read_bytes()
        if TITLE_END not in data:
            raise RuntimeError(f"{f} has no mods:title to revise")
        (out / f.name).write_bytes(data.replace(TITLE_END, b" (revised)" + TITLE_END, 1))
        n += 1
    return n


# ------------------------------------------------------------------------------------------
# harvest through the proxy
# ------------------------------------------------------------------------------------------
def proxied_harvest(c: cluster.Cluster, prefix: str, count: int):
    """A full ListRecords harvest through nginx: complete (count records, no duplicate),
    every page served with 200, pages spread over the instances, tokens crossing them."""
    seen = set()
    duplicates = [0]

    def page(body):
        for m in IDENTIFIER.finditer(body):
            if m.group(1) in seen:
                duplicates[0] += 1
            seen.add(m.group(1))

    mark = c.access_log_mark()
    cpu0 = [hb.proc_cpu(p) for p in c.pids()]
    # The tag tells this harvest's requests from any other line nginx writes meanwhile
    # (it logs a request only after the response has gone out).
    tag = f"{prefix}-{os.getpid()}-{time.time_ns()}"
    result = hb.harvest(c.url, "ListRecords", prefix, on_page=page, headers={"X-Bench-Harvest": tag})
    result["server_cpu_s"] = [hb.proc_cpu(p) - c0 for p, c0 in zip(c.pids(), cpu0)]
    pages = result.pop("pages")
    served = c.access_log(mark, tag=tag, expect=result["requests"])
    upstreams = [e["upstream"] for e in served]
    per_instance = {b: sum(1 for u in upstreams if u == b.split("//", 1)[1]) for b in c.bases}
    crossings = sum(1 for a, b in zip(upstreams, upstreams[1:]) if a != b)
    result.update({
        "prefix": prefix, "distinct": len(seen), "duplicates": duplicates[0],
        "requests_logged": len(served), "non_200": sum(1 for e in served if e["status"] != 200),
        "requests_per_instance": per_instance, "token_crossings": crossings,
        "first_request_ms": pages[0]["seconds"] * 1000,
    })
    problems = []
    if result["records"] != count or len(seen) != count:
        problems.append(f"{result['records']} records ({len(seen)} distinct), expected {count}")
    if duplicates[0]:
        problems.append(f"{duplicates[0]} duplicates")
    if len(served) != result["requests"] or result["non_200"]:
        problems.append(f"nginx logged {len(served)} requests ({result['non_200']} not 200) "
                        f"for {result['requests']} pages")
    if len(c.bases) > 1 and result["requests"] > 2 and (min(per_instance.values()) == 0 or crossings == 0):
        problems.append(f"the pages did not cross instances: {per_instance}")
    if problems:
        sys.exit(f"{prefix} harvest through nginx failed: " + "; ".join(problems))
    return result, [p["params"] for p in pages[1:]]


def page_latency(c: cluster.Cluster, tokens, n, repeat):
    """p50/p99 of re-issued token pages at the start, the middle and the end of the list."""
    n = max(1, min(n, len(tokens) // 3))
    mid = len(tokens) // 2 - n // 2
    groups = {"first": tokens[:n], "middle": tokens[mid:mid + n], "last": tokens[-n:]}
    out = {name: hb.latencies(c.url, params, repeat) for name, params in groups.items()}
    out["pages"], out["repeat"] = n, repeat
    out["last_first_p50_ratio"] = out["last"]["p50_ms"] / out["first"]["p50_ms"]
    return out


# ------------------------------------------------------------------------------------------
# the OaiOutputValidator
# ------------------------------------------------------------------------------------------
RUN_LINE = re.compile(r"^run (\d+): ", re.M)
VALIDATED = re.compile(r"validated (\d+) records in ([\d.]+) s")
JOINED = re.compile(r"joined run (\d+) .*?: validated (\d+) records in ([\d.]+) s")
INSTANCE_LINE = re.compile(r"^\s+(coordinator|worker) (\S+): (\d+) validated, \d+ changed meanwhile", re.M)


def cpu_sets(pin: bool, instances: int):
    """Disjoint CPU sets, one per instance, or None (no pinning)."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return [None] * instances
    per = max(1, len(cpus) // 2)
    return [set(cpus[i * per:(i + 1) * per]) or set(cpus) for i in range(instances)]


def validator_run(v, instances: int, pin: bool, full: bool):
    """`vitrine job run oai-output-validator` from `instances` processes started together:
    one gets the job's lock and coordinates, the others join as workers. Returns the wall
    time, the run's figures and each process's peak memory."""
    cmd = [str(v.binary), "--database", v.database, "job", "run", "oai-output-validator",
           "--mode", "zmets", "--domain", DOMAIN] + (["--full"] if full else [])
    procs = []
    t0 = time.perf_counter()
    for i, cpus in enumerate(cpu_sets(pin, 2)[:instances] if instances <= 2 else [None] * instances):
        out = open(v.workdir / f"job-{int(time.time())}-{i}.out", "w+")
        procs.append((subprocess.Popen(cmd, cwd=v.workdir, env=v.env, stdout=out, stderr=subprocess.STDOUT,
                                       preexec_fn=(lambda c=cpus: os.sched_setaffinity(0, c)) if cpus else None),
                      out, cpus))
    results = []
    for proc, out, cpus in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
        out.close()
        if proc.returncode != 0:
            sys.exit(f"vitrine job run exited {proc.returncode}:\n{text[-3000:]}")
        results.append({"output": text, "peak_rss_mb": usage.ru_maxrss / 1024,
                        "cpus": sorted(cpus) if cpus else None})
    wall = time.perf_counter() - t0
    coordinator = [r for r in results if RUN_LINE.search(r["output"])]
    if len(coordinator) != 1:
        sys.exit("expected exactly one coordinator:\n" + "\n---\n".join(r["output"][-1500:] for r in results))
    co = coordinator[0]
    run_id = int(RUN_LINE.search(co["output"]).group(1))
    validated, job_s = VALIDATED.search(co["output"]).groups()
    shown = v.run("job", "show", str(run_id))
    shares = [{"role": role, "instance": inst, "validated": int(n)} for role, inst, n in INSTANCE_LINE.findall(shown)]
    for r in results:
        m = JOINED.search(r["output"])
        r["role"] = "coordinator" if r is co else ("worker" if m else "worker (ended before it could join)")
        r.pop("output")
    return {"run_id": run_id, "instances": instances, "wall_s": wall, "job_s": float(job_s),
            "validated": int(validated), "records_per_s": int(validated) / wall, "shares": shares,
            "processes": results}


# ------------------------------------------------------------------------------------------
# the benchmark
# ------------------------------------------------------------------------------------------
def db_size(url) -> int:
    return int(cluster.psql(url, "SELECT pg_database_size(current_database())"))


def bench(args, records: Path, database: str, workdir: Path):
    n = args.count
    v = hb.Vitrine(args.bin, database, workdir, args.page_size, {})
    v.run("domain", "add", DOMAIN, "--name", "Scale benchmark")
    for key, value in DOMAIN_SETTINGS:
        v.run("domain", "set", DOMAIN, key, value)
    result = {"count": n, "page_size": args.page_size, "multivolume_every": args.multivolume,
              "size_kb": [args.min_kb, args.max_kb], "pinned": args.pin}

    log(f"importing {n} records")
    t0, cpu0 = time.perf_counter(), hb._children_cpu()
    summary = v.run("import", "--domain", DOMAIN, "--release", records).strip()
    seconds = time.perf_counter() - t0
    if f"{n} created" not in summary:
        sys.exit(f"import did not create {n} records: {summary}")
    size = db_size(database)
    result["import"] = {"seconds": seconds, "records_per_s": n / seconds, "cpu_s": hb._children_cpu() - cpu0,
                        "summary": summary}
    result["database"] = {"bytes_after_import": size, "bytes_per_record_after_import": size / n}
    log(f"imported in {seconds:.1f} s ({n / seconds:,.0f} records/s); database {size / 1e6:,.0f} MB")

    with cluster.Cluster(args.bin, database, workdir, args.page_size, instances=2) as c:
        result["instances_before_harvest"] = c.memory()
        for prefix in ("mets", "oai_dc"):
            log(f"full ListRecords/{prefix} harvest through nginx")
            h, tokens = proxied_harvest(c, prefix, n)
            result[f"harvest_{prefix}"] = h
            log(f"  {h['records_per_s']:,.0f} records/s, {h['requests']} pages, "
                f"per instance {list(h['requests_per_instance'].values())}, {h['token_crossings']} crossings")
            if prefix == "mets":
                log(f"latency of re-issued pages: first, middle, last {args.latency_pages}, "
                    f"{args.latency_repeat} times each")
                result["latency"] = page_latency(c, tokens, args.latency_pages, args.latency_repeat)
        result["instances"] = c.memory()

    log("first OaiOutputValidator run, two instances")
    first = validator_run(v, 2, args.pin, full=False)
    log(f"  {first['validated']} records in {first['wall_s']:.1f} s ({first['records_per_s']:,.0f} records/s), "
        f"shares {[s['validated'] for s in first['shares']]}")
    if len(first["shares"]) < 2 or min(s["validated"] for s in first["shares"]) == 0:
        sys.exit(f"the two instances did not share the first run: {first['shares']}")
    if first["validated"] != n:
        sys.exit(f"the first run validated {first['validated']} records, expected {n}")
    if args.skip_one_instance:
        log("no full run with one instance (--skip-one-instance)")
        one = None
    else:
        log("the same (a full run) with one instance")
        one = validator_run(v, 1, args.pin, full=True)
        log(f"  {one['validated']} records in {one['wall_s']:.1f} s ({one['records_per_s']:,.0f} records/s)")

    changed_dir = workdir / "changed"
    changed = changed_copy(records, args.changed, changed_dir)
    log(f"re-importing {changed} changed records")
    t0 = time.perf_counter()
    summary = v.run("import", "--domain", DOMAIN, "--release", changed_dir).strip()
    reimport_s = time.perf_counter() - t0
    if f"{changed} replaced" not in summary:
        sys.exit(f"the re-import did not replace {changed} records: {summary}")
    log("incremental OaiOutputValidator run, two instances")
    inc = validator_run(v, 2, args.pin, full=False)
    # proportional: the time per record validated is no worse than twice the first run's,
    # with 5 s for starting the processes and counting the states
    budget = 2 * first["wall_s"] * inc["validated"] / first["validated"] + 5
    inc.update({"changed": changed, "reimport_s": reimport_s, "reimport_summary": summary,
                "budget_s": budget, "proportional": inc["wall_s"] / budget})
    log(f"  {inc['validated']} records ({changed} changed, with parents and children) in {inc['wall_s']:.1f} s")
    size = db_size(database)
    result["database"].update({"bytes_after_validation": size, "bytes_per_record_after_validation": size / n})
    result["validator"] = {"first_two_instances": first, "one_instance": one, "incremental": inc,
                           "speed_up": first["records_per_s"] / one["records_per_s"] if one else None}
    values = {
        "import_records_per_s": result["import"]["records_per_s"],
        "mets_harvest_records_per_s": result["harvest_mets"]["records_per_s"],
        "last_first_p50_ratio": result["latency"]["last_first_p50_ratio"],
        "validator_two_records_per_s": first["records_per_s"],
        "incremental_proportional": inc["proportional"],
    }
    result["goals"] = {k: {"value": values[k], "goal": f"{op} {g:g}",
                           "met": values[k] >= g if op == ">=" else values[k] <= g}
                       for k, (op, g) in GOALS.items()}
    return result


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------
def table(r) -> str:
    def goal(key, text):
        g = r["goals"][key]
        return f"{text:>13}  {'ok' if g['met'] else 'MISSED'}"

    n = r["count"]
    per_million = lambda rate: 1_000_000 / rate / 60  # noqa: E731
    imp, db, m, dc, lat, val = (r["import"], r["database"], r["harvest_mets"], r["harvest_oai_dc"], r["latency"],
                                r["validator"])
    first, one, inc = val["first_two_instances"], val["one_instance"], val["incremental"]
    rows = [
        ("import", f"{imp['records_per_s']:,.0f} records/s ({imp['seconds']:.1f} s)",
         goal("import_records_per_s", ">= 1,500/s")),
        ("database per record", f"{db['bytes_per_record_after_import'] / 1024:,.1f} KB after import, "
                                f"{db['bytes_per_record_after_validation'] / 1024:,.1f} KB after validation", ""),
        ("mets harvest (nginx, 2 inst.)", f"{m['records_per_s']:,.0f} records/s ({m['seconds']:.1f} s, "
                                          f"{m['requests']} pages, {m['token_crossings']} crossings; "
                                          f"{per_million(m['records_per_s']):.1f} min per million)",
         goal("mets_harvest_records_per_s", "< 10 min/1M")),
        ("oai_dc harvest", f"{dc['records_per_s']:,.0f} records/s ({dc['seconds']:.1f} s, "
                           f"{per_million(dc['records_per_s']):.1f} min per million)", ""),
        ("page p50 first/middle/last", f"{lat['first']['p50_ms']:.1f} / {lat['middle']['p50_ms']:.1f} / "
                                       f"{lat['last']['p50_ms']:.1f} ms (p99 last {lat['last']['p99_ms']:.1f})", ""),
        ("  last/first", f"{lat['last_first_p50_ratio']:.2f}", goal("last_first_p50_ratio", "<= 1.2")),
        ("validator, 2 instances", f"{first['records_per_s']:,.0f} records/s ({first['wall_s']:.1f} s, "
                                   f"shares {'/'.join(str(s['validated']) for s in first['shares'])}; "
                                   f"{per_million(first['records_per_s']):.1f} min per million)",
         goal("validator_two_records_per_s", "< 15 min/1M")),
        ("validator, 1 instance", f"{one['records_per_s']:,.0f} records/s ({one['wall_s']:.1f} s); "
                                  f"speed-up {val['speed_up']:.2f}" if one else "not run (--skip-one-instance)", ""),
        ("incremental (1 % changed)", f"{inc['validated']} records in {inc['wall_s']:.1f} s "
                                      f"(budget {inc['budget_s']:.1f} s); re-import {inc['reimport_s']:.1f} s",
         goal("incremental_proportional", "<= budget")),
        ("instance peak memory", ", ".join(f"{i['vmhwm_mb']:.0f} MB" for i in r["instances"]) + " (VmHWM, serving)", ""),
        ("validator peak memory", ", ".join(f"{p['peak_rss_mb']:.0f} MB" for p in first["processes"]), ""),
    ]
    head = (f"scale benchmark, PostgreSQL, {n:,} records ({r['records_mb']:,.0f} MB), page size {r['page_size']}, "
            f"2 instances behind nginx")
    w1 = max(len(a) for a, _, _ in rows)
    w2 = max(len(b) for _, b, _ in rows)
    lines = [head, "-" * len(head)] + [f"{a:<{w1}}  {b:<{w2}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=1_000_000, help="records (default 1,000,000)")
    p.add_argument("--workdir", type=Path, help="where records, logs and nginx go (default: a temporary folder)")
    p.add_argument("--records", type=Path, help="a folder of records already generated (bench/generate.py)")
    p.add_argument("--keep", action="store_true", help="keep the records, the work folder and the database")
    p.add_argument("--keep-database", action="store_true",
                   help="keep the database (for bench/load/run.py --database); its URL is in the JSON")
    p.add_argument("--bin", type=Path, default=Path(os.environ.get("VITRINE_BIN", REPO / "target/release/vitrine")))
    p.add_argument("--postgres-url", default=os.environ.get("VITRINE_BENCH_POSTGRES_URL",
                                                            "postgres://postgres@127.0.0.1:5432/postgres"),
                   help="server to create the temporary database on")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="generator processes")
    p.add_argument("--min-kb", type=float, default=20)
    p.add_argument("--max-kb", type=float, default=60)
    p.add_argument("--multivolume", type=int, default=40,
                   help="every K-th record starts an anchor and 3 volumes (40: a tenth of the records)")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--latency-pages", type=int, default=20)
    p.add_argument("--latency-repeat", type=int, default=5)
    p.add_argument("--skip-one-instance", action="store_true",
                   help="leave out the full validator run with one instance (and so the speed-up)")
    p.add_argument("--changed", type=float, default=0.01, help="share of records changed for the incremental run")
    p.add_argument("--no-pin", dest="pin", action="store_false",
                   help="do not give each validator process its own half of the CPUs")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = p.parse_args()
    args.bin = args.bin.resolve()
    if not args.bin.is_file():
        sys.exit(f"no vitrine binary at {args.bin}; build it with `cargo build --release --bin vitrine`")
    cluster.nginx_binary()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    records = generate(args, workdir)
    records_mb = sum(f.stat().st_size for f in records.rglob("*.xml")) / 1e6
    load = os.getloadavg()
    pg_name, database = hb.create_postgres(args.postgres_url)
    log(f"database {pg_name}")
    result = None
    try:
        result = bench(args, records, database, workdir)
    finally:
        # a failed run leaves no database behind unless --keep
        if not (args.keep or (args.keep_database and result is not None)):
            hb.drop_postgres(args.postgres_url, pg_name)
        if not args.keep:
            if not args.workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                shutil.rmtree(workdir / "changed", ignore_errors=True)
        else:
            log(f"kept {workdir} and database {pg_name}")
    result["records_mb"] = records_mb
    result["machine"] = {"cpus": os.cpu_count(), "binary": str(args.bin), "loadavg_before": load,
                         "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    result["database"]["url"] = database if args.keep or args.keep_database else None
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "scale.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"(written {out})", flush=True)
    missed = [k for k, g in result["goals"].items() if not g["met"]]
    if missed:
        print("goals missed: " + ", ".join(missed), flush=True)


if __name__ == "__main__":
    main()
