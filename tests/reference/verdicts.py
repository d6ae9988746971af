#!/usr/bin/env python3
"""Print the Markdown tables of schematron/README.md.

  verdicts.py [--schema S] [FILES/DIRS ...]   verdict table (file, verdict, error/warn/info)
  verdicts.py --rules [--schema S]             rule table (id, class, title)

Without FILES the corpus samples (../shared/corpus/samples) and, if present,
fixtures/demo are validated.  The verdict table is produced by running
isoschematron.py (same directory) and reading its JSON-lines output, so it is
exactly what the reference run reports.  File names are printed relative to
the directory that holds the corpus folder (e.g. samples/digital-flow/x.xml)
or to the repository (fixtures/demo/...).
"""

import argparse
import json
import os
import subprocess
import sys

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
RUNNER = os.path.join(HERE, "isoschematron.py")
DEFAULT_SCHEMA = os.path.join(REPO, "schematron", "zvdd.sch")
SCH = "http://purl.oclc.org/dsdl/schematron"


def default_inputs():
    inputs = []
    samples = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus", "samples"))
    if os.path.isdir(samples):
        inputs.append(samples)
    demo = os.path.join(REPO, "fixtures", "demo")
    if os.path.isdir(demo):
        inputs.append(demo)
    return inputs


def display_name(path):
    path = os.path.normpath(os.path.abspath(path))
    corpus = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))
    if path.startswith(corpus + os.sep):
        return os.path.relpath(path, corpus)
    if path.startswith(REPO + os.sep):
        return os.path.relpath(path, REPO)
    return path


def verdict_table(schema, inputs):
    cmd = [sys.executable, RUNNER, "--schema", schema] + inputs
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    lines = ["| file | verdict | error | warn | info |", "| --- | --- | ---: | ---: | ---: |"]
    for line in out.splitlines():
        rec = json.loads(line)
        if "verdict" not in rec:
            continue
        c = rec["counts"]
        lines.append("| %s | %s | %d | %d | %d |" % (
            display_name(rec["file"]), rec["verdict"], c["error"], c["warn"], c["info"]))
    return "\n".join(lines)


def title_of(check):
    """The title of a check is the first sentence of its message: the text
    up to (not including) the first full stop."""
    text = " ".join("".join(check.itertext()).split())
    return text.split(".", 1)[0].strip()


def rule_table(schema):
    doc = etree.parse(schema)
    lines = ["| id | class | kind | pattern | title |", "| --- | --- | --- | --- | --- |"]
    for pattern in doc.iter("{%s}pattern" % SCH):
        pid = pattern.get("id", "")
        for check in pattern.iter("{%s}assert" % SCH, "{%s}report" % SCH):
            kind = etree.QName(check).localname
            lines.append("| %s | %s | %s | %s | %s |" % (
                check.get("id"), check.get("role"), kind, pid, title_of(check)))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*", help="files or directories (default: corpus samples and fixtures/demo)")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--rules", action="store_true", help="print the rule table instead")
    args = ap.parse_args(argv)
    if args.rules:
        print(rule_table(args.schema))
    else:
        print(verdict_table(args.schema, args.inputs or default_inputs()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
