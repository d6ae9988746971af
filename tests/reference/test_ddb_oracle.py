"""The DDB's METS/MODS rule sets against their own reference: the compiled XSLT 2.0
validators the DDB ships (../shared/corpus/ddb-schematron/reference/*.xsl) run on
SaxonC-HE (PyPI saxonche) as the oracle.

Documents: every corpus sample (../shared/corpus/samples) and mutants of them made
here, seeded so that a failure reproduces: an element removed or duplicated, an
attribute value or a text changed. Per document, the oracle's failed asserts and
successful reports — (kind, id, role, location as a node, message text after
white-space normalisation) — are compared with `vitrine validate --svrl`; where the
oracle stops with a dynamic error (its XPath 2.0 raises XPTY0004 on some documents),
that error code is the outcome to match: vitrine reports it as the one finding of the
document (id `schema`, no location, text "dynamic error CODE: …").

vitrine validates all documents of a rule set in one run (`--svrl` with several files
wraps each file's SVRL in a `vitrine:file` element).

Run from the repository with a venv that has lxml, saxonche and pytest:
    VITRINE_BIN=target/release/vitrine .venv/bin/python -m pytest tests/reference -q
"""

import collections
import glob
import os
import random
import re
import subprocess
import tempfile

import pytest
from lxml import etree

from test_agreement import CORPUS, REPO, vitrine_bin

DDB = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus", "ddb-schematron"))
RULE_SETS = [
    "ddb_validierung_mets-mods-ap-digitalisierte-medien",
    "ddb_validierung_mets-mods-ap-digitalisierte-zeitungen",
]
MUTANTS = 820
SEED = 20261203
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def samples():
    files = sorted(glob.glob(os.path.join(CORPUS, "**", "*.xml"), recursive=True))
    assert files, "no corpus samples in %s" % CORPUS
    return files


def mutate(tree, rng):
    """One seeded change of a copy of `tree`; returns the serialised document."""
    root = etree.fromstring(etree.tostring(tree))
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
    target = rng.choice(elements)
    op = rng.choice(["remove", "duplicate", "attribute", "text"])
    if op == "remove":
        target.getparent().remove(target)
    elif op == "duplicate":
        target.addnext(etree.fromstring(etree.tostring(target)))
    elif op == "attribute" and target.attrib:
        name = rng.choice(sorted(target.attrib))
        target.set(name, rng.choice(["", "x", "1", "LOGICAL", "PHYSICAL", "de", "2024-13-40",
                                     target.get(name) + " ", target.get(name).upper()]))
    else:
        target.text = rng.choice(["", " ", "x", "1999", "https://example.org/a b",
                                  (target.text or "") + " extra"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """Corpus samples and seeded mutants, as files."""
    out = tmp_path_factory.mktemp("ddb-docs")
    rng = random.Random(SEED)
    files = samples()
    trees = []
    for f in files:
        try:
            trees.append(etree.parse(f).getroot())
        except etree.XMLSyntaxError:
            continue
    docs = list(files)
    for i in range(MUTANTS):
        path = out / ("mutant-%04d.xml" % i)
        path.write_bytes(mutate(rng.choice(trees), rng))
        docs.append(str(path))
    return docs


def location_node(doc, location):
    """The node an SVRL location names, as lxml's path of it."""
    xpath = re.sub(r"\*:([\w.-]+)", r"*[local-name()='\1']", location)
    nodes = doc.xpath(xpath)
    assert len(nodes) == 1, "location %r names %d nodes" % (location, len(nodes))
    node = nodes[0]
    if isinstance(node, etree._ElementUnicodeResult):
        return doc.getpath(node.getparent()) + "/@" + node.attrname
    return doc.getpath(node)


def findings(report, doc):
    """The multiset of (kind, id, role, location, text) of an SVRL report (an element, or
    its text); a dynamic error vitrine reports counts as ("dynamic-error", code)."""
    if not isinstance(report, etree._Element):
        report = etree.fromstring(report.encode() if isinstance(report, str) else report)
    out = collections.Counter()
    for f in report.iter(SVRL + "failed-assert", SVRL + "successful-report"):
        text = f.find(SVRL + "text")
        message = " ".join("".join(text.itertext()).split()) if text is not None else ""
        error = re.match(r"dynamic error ([A-Z]{4}\d{4})", message)
        if f.get("id") == "schema" and not f.get("location") and error:
            out[("dynamic-error", error.group(1))] += 1
            continue
        out[(etree.QName(f).localname, f.get("id"), f.get("role"),
             location_node(doc, f.get("location")), message)] += 1
    return out


def saxon_code(message):
    """The error code of a Saxon error message. Saxon words a cardinality error of a
    function argument without its code ("A sequence of more than one item is not allowed
    as the first argument of fn:…"); its code is XPTY0004."""
    code = re.search(r"\b[A-Z]{4}\d{4}\b", message)
    if code:
        return code.group(0)
    if re.search(r"sequence of more than one item\b.*\bis not allowed", message, re.S):
        return "XPTY0004"
    return message


@pytest.fixture(scope="module")
def oracle(documents):
    """Saxon's findings per rule set and document."""
    import saxonche
    results = {}
    with saxonche.PySaxonProcessor(license=False) as proc:
        xslt = proc.new_xslt30_processor()
        for name in RULE_SETS:
            exe = xslt.compile_stylesheet(
                stylesheet_file=os.path.join(DDB, "reference", name + ".xsl"))
            per_doc = {}
            for d in documents:
                try:
                    svrl = exe.transform_to_string(source_file=d)
                except saxonche.PySaxonApiError as e:
                    # The validator itself fails on the document (e.g. XPTY0004 for
                    # a sequence where one item is required): that is the outcome.
                    per_doc[d] = collections.Counter({("dynamic-error", saxon_code(str(e))): 1})
                    continue
                per_doc[d] = findings(svrl, etree.parse(d))
            results[name] = per_doc
    return results


def test_the_oracle_runs_both_rule_sets_on_the_corpus_and_the_mutants(documents, oracle):
    assert len(documents) >= len(samples()) + 800
    for name in RULE_SETS:
        per_doc = oracle[name]
        assert len(per_doc) == len(documents)
        total = sum(sum(c.values()) for c in per_doc.values())
        differing = len({frozenset(c.items()) for c in per_doc.values()})
        # The mutants must change what the rules find, or they test nothing.
        assert total > len(documents), (name, total)
        assert differing > 50, (name, differing)


@pytest.mark.parametrize("name", RULE_SETS)
def test_vitrine_reports_what_saxon_reports(name, documents, oracle):
    schema = os.path.join(DDB, name + ".sch")
    run = subprocess.run([vitrine_bin(), "validate", "--svrl", "--rules", schema] + documents,
                         capture_output=True)
    assert run.returncode in (0, 1), run.stderr.decode()
    wrapper = etree.fromstring(run.stdout)
    files = {f.get("name"): f for f in wrapper}
    assert len(files) == len(documents), "vitrine reported %d of %d documents" % (
        len(files), len(documents))
    mismatches = []
    checked = 0
    for d in documents:
        entry = files[d]
        assert entry.get("error") is None, (d, entry.get("error"))
        report = entry.find(SVRL + "schematron-output")
        assert report is not None, d
        got = findings(report, etree.parse(d))
        checked += sum(got.values())
        if got != oracle[name][d]:
            mismatches.append((d, oracle[name][d] - got, got - oracle[name][d]))
    assert checked > len(documents), (name, checked)
    assert not mismatches, "%d of %d documents differ:\n%s" % (
        len(mismatches), len(documents), "\n".join(repr(m) for m in mismatches[:5]))
