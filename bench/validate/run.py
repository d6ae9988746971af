#!/usr/bin/env python3
"""Validation benchmark: vitrine's Schematron engine next to lxml.isoschematron.

Both run single-threaded on the same schema (default schematron/zvdd.sch, all phases)
and the same documents:
  * corpus      the samples of ../shared/corpus/samples (METS and OAI-PMH GetRecord;
                bare MODS files are skipped by both),
  * synthetic   records from bench/generate.py (--count, 20-60 KB by default),
  * synth-50k   the synthetic records of 45-55 KB.
The engine is measured by the Rust bench target (cargo bench --bench validate), the
reference in-process with the runner of tests/reference/isoschematron.py. Figures are
documents/s on one core: "validate" on documents parsed beforehand, "parse+validate"
from the bytes. Findings (rule id, kind, location) and verdicts of both must be
identical on every document, else the script fails.

    .venv/bin/python bench/validate/run.py [--count 200] [--min-time 3] [--out bench/out/validate.json]
"""

import argparse
import collections
import glob
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
import isoschematron as ref  # noqa: E402
from lxml import etree  # noqa: E402


def sets_of(args, synth_dir):
    corpus = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus", "samples"))
    if not os.path.isdir(corpus):
        sys.exit("the shared corpus is missing: expected %s" % corpus)
    return [("corpus", corpus, None),
            ("synthetic", synth_dir, None),
            ("synth-50k", synth_dir, (45.0, 55.0))]


def files_of(path, size_range):
    files = sorted(glob.glob(os.path.join(path, "**", "*.xml"), recursive=True))
    if size_range:
        lo, hi = size_range
        files = [f for f in files if lo <= os.path.getsize(f) / 1024.0 <= hi]
    return files


def run_engine(args, sets, findings_file):
    cmd = ["cargo", "bench", "--quiet", "--bench", "validate", "--",
           "--schema", args.schema, "--min-time", str(args.min_time), "--findings", findings_file]
    for label, path, rng in sets:
        cmd.append("%s=%s%s" % (label, path, "@%g-%g" % rng if rng else ""))
    p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("cargo bench failed (%d)" % p.returncode)
    results = {}
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rec = json.loads(line)
            results[rec["set"]] = rec
    findings = {}
    with open(findings_file) as fh:
        for line in fh:
            rec = json.loads(line)
            findings[os.path.abspath(rec["file"])] = (
                rec["verdict"], collections.Counter(tuple(x) for x in rec["findings"]))
    return results, findings


def measure(items, min_time, fn):
    start = time.perf_counter()
    done = 0
    while True:
        for it in items:
            fn(it)
        done += len(items)
        if time.perf_counter() - start >= min_time:
            break
    return done / (time.perf_counter() - start), done


def run_reference(args, files):
    ref.register_functions()
    schematron = ref.load_schema(args.schema)
    data = []
    for f in files:
        with open(f, "rb") as fh:
            raw = fh.read()
        doc = ref.extract_mets(etree.ElementTree(etree.fromstring(raw)))
        if doc is not None:
            data.append((f, raw, doc))
    findings = {}
    for f, _, doc in data:
        schematron.validate(doc)
        items = list(ref.findings(schematron))
        findings[os.path.abspath(f)] = (
            ref.verdict_of(items),
            collections.Counter((i["id"], i["kind"], i["location"]) for i in items))

    def parse_validate(item):
        doc = ref.extract_mets(etree.ElementTree(etree.fromstring(item[1])))
        schematron.validate(doc)

    rate_v, runs_v = measure(data, args.min_time, lambda it: schematron.validate(it[2]))
    rate_pv, runs_pv = measure(data, args.min_time, parse_validate)
    return {"docs": len(data), "validate_docs_per_s": rate_v, "validate_runs": runs_v,
            "parse_validate_docs_per_s": rate_pv, "parse_validate_runs": runs_pv}, findings


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schema", default=os.path.join(REPO, "schematron", "zvdd.sch"))
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--min-kb", type=int, default=20)
    ap.add_argument("--max-kb", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--synthetic", default=None, help="use this directory of records instead of generating them")
    ap.add_argument("--min-time", type=float, default=3.0, help="seconds per figure (default 3)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "out", "validate.json"))
    args = ap.parse_args()
    args.schema = os.path.abspath(args.schema)

    with tempfile.TemporaryDirectory() as tmp:
        synth = args.synthetic
        if synth is None:
            synth = os.path.join(tmp, "synthetic")
            subprocess.run([sys.executable, os.path.join(REPO, "bench", "generate.py"),
                            "--count", str(args.count), "--out", synth, "--seed", str(args.seed),
                            "--min-kb", str(args.min_kb), "--max-kb", str(args.max_kb)],
                           check=True, stdout=subprocess.DEVNULL)
        sets = sets_of(args, synth)
        engine, engine_findings = run_engine(args, sets, os.path.join(tmp, "findings.jsonl"))

        rows = []
        mismatches = []
        for label, path, rng in sets:
            files = files_of(path, rng)
            reference, ref_findings = run_reference(args, files)
            e = engine[label]
            for f, (verdict, items) in ref_findings.items():
                if engine_findings.get(f) != (verdict, items):
                    mismatches.append(f)
            rows.append({
                "set": label,
                "docs": e["docs"],
                "avg_kb": e["avg_kb"],
                "findings": e["findings"],
                "vitrine": {k: e[k] for k in ("validate_docs_per_s", "validate_runs",
                                              "parse_validate_docs_per_s", "parse_validate_runs")},
                "lxml_isoschematron": reference,
                "ratio_validate": e["validate_docs_per_s"] / reference["validate_docs_per_s"],
                "ratio_parse_validate": e["parse_validate_docs_per_s"] / reference["parse_validate_docs_per_s"],
            })
            if reference["docs"] != e["docs"]:
                mismatches.append("%s: %d documents (lxml) vs %d (vitrine)" % (label, reference["docs"], e["docs"]))

    print("schema %s, one thread per processor, documents/s" % os.path.relpath(args.schema, REPO))
    head = "%-11s %5s %7s | %12s %12s %7s | %14s %14s %7s" % (
        "set", "docs", "avg KB", "vitrine", "lxml", "ratio", "vitrine p+v", "lxml p+v", "ratio")
    print(head)
    print("-" * len(head))
    for r in rows:
        print("%-11s %5d %7.1f | %12.1f %12.1f %6.1fx | %14.1f %14.1f %6.1fx" % (
            r["set"], r["docs"], r["avg_kb"],
            r["vitrine"]["validate_docs_per_s"], r["lxml_isoschematron"]["validate_docs_per_s"],
            r["ratio_validate"],
            r["vitrine"]["parse_validate_docs_per_s"],
            r["lxml_isoschematron"]["parse_validate_docs_per_s"], r["ratio_parse_validate"]))
    identical = not mismatches
    print("findings identical: %s" % ("yes" if identical else "NO: %s" % mismatches[:10]))

    out = {
        "schema": os.path.relpath(args.schema, REPO),
        "synthetic": {"count": args.count, "min_kb": args.min_kb, "max_kb": args.max_kb, "seed": args.seed},
        "min_time_s": args.min_time,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "lxml": etree.__version__, "libxml2": list(etree.LIBXML_VERSION),
                    "libxslt": list(etree.LIBXSLT_VERSION), "cpus": os.cpu_count()},
        "findings_identical": identical,
        "sets": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=2)
        fh.write("\n")
    print("written: %s" % os.path.relpath(args.out, REPO))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
