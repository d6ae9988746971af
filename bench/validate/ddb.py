#!/usr/bin/env python3
"""DDB rule sets: vitrine next to the DDB's own validators on SaxonC-HE.

The two METS/MODS rule sets of the DDB (../shared/corpus/ddb-schematron/*.sch,
queryBinding xslt2) are run single-threaded on the same documents by
  * saxon    the DDB's compiled XSLT 2.0 validators (reference/*.xsl) on SaxonC-HE
             (PyPI saxonche), the stylesheet compiled once, each document parsed and
             transformed to SVRL, and
  * vitrine  `cargo bench --bench validate -- --schema RULES`, from the bytes.
Sets: `corpus` (../shared/corpus/samples) and `synth-50-75k` (records of 50-75 KB from
bench/generate.py). Figures are documents/s on one core. Where vitrine refuses a rule
set, its compile error is printed in place of the figure.

    .venv/bin/python bench/validate/ddb.py [--count 60] [--min-time 3] [--out bench/out/ddb.json]
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))
RULE_SETS = [
    "ddb_validierung_mets-mods-ap-digitalisierte-medien",
    "ddb_validierung_mets-mods-ap-digitalisierte-zeitungen",
]


def saxon_rate(proc, xsl, files, min_time):
    exe = proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=xsl)
    # CPU time of this process (Saxon runs in it), so that the figure is per core even
    # on a busy machine.
    start, wall, done, errors = time.process_time(), time.perf_counter(), 0, 0
    while True:
        for f in files:
            try:
                exe.transform_to_string(source_file=f)
            except Exception:  # a dynamic error of the validator still costs its run
                errors += 1
            done += 1
        if time.perf_counter() - wall >= min_time:
            break
    return done / (time.process_time() - start), errors


def vitrine_rate(rules, label, path, min_time):
    cmd = ["cargo", "bench", "--quiet", "--bench", "validate", "--", "--schema", rules,
           "--min-time", str(min_time), "%s=%s" % (label, path)]
    p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        lines = p.stderr.strip().splitlines()
        reason = [line for line in lines if line.startswith("cannot compile")] or lines[-1:]
        return None, reason[0] if reason else "failed"
    for line in p.stdout.splitlines():
        if line.strip().startswith("{"):
            rec = json.loads(line)
            return rec.get("parse_validate_docs_per_s"), None
    return None, "no figure"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--min-time", type=float, default=3.0)
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "out", "ddb.json"))
    args = ap.parse_args()
    from saxonche import PySaxonProcessor

    with tempfile.TemporaryDirectory() as tmp:
        synth = os.path.join(tmp, "synth")
        subprocess.run([sys.executable, os.path.join(REPO, "bench", "generate.py"), "--count",
                        str(args.count), "--out", synth, "--min-kb", "50", "--max-kb", "75",
                        "--quiet"], check=True)
        sets = [("corpus", os.path.join(SHARED, "samples")), ("synth-50-75k", synth)]
        results = []
        with PySaxonProcessor(license=False) as proc:
            for name in RULE_SETS:
                rules = os.path.join(SHARED, "ddb-schematron", name + ".sch")
                xsl = os.path.join(SHARED, "ddb-schematron", "reference", name + ".xsl")
                for label, path in sets:
                    files = sorted(glob.glob(os.path.join(path, "**", "*.xml"), recursive=True))
                    s_rate, s_errors = saxon_rate(proc, xsl, files, args.min_time)
                    v_rate, refusal = vitrine_rate(rules, label, path, args.min_time)
                    results.append({"rules": name, "set": label, "docs": len(files),
                                    "saxon_docs_per_s": s_rate, "saxon_dynamic_errors": s_errors,
                                    "vitrine_docs_per_s": v_rate, "vitrine_refusal": refusal})
    print("%-58s %-13s %6s %10s %10s %7s" % ("rules", "set", "docs", "saxon/s", "vitrine/s", "ratio"))
    for r in results:
        v = r["vitrine_docs_per_s"]
        print("%-58s %-13s %6d %10.1f %10s %7s" % (
            r["rules"], r["set"], r["docs"], r["saxon_docs_per_s"],
            "%.1f" % v if v else "-", "%.1fx" % (v / r["saxon_docs_per_s"]) if v else "-"))
        if r["vitrine_refusal"]:
            print("    vitrine refuses: %s" % r["vitrine_refusal"])
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
