#!/usr/bin/env python3
"""Reference runner for vitrine's ZVDD/DFG-Viewer METS/MODS Schematron rules.

Validates METS documents with lxml's ISO Schematron implementation (XSLT 1.0
skeleton) and prints one JSON line per finding plus one verdict line per file.

Input files may be
  * a METS document (document element mets:mets), or
  * an OAI-PMH response (e.g. GetRecord/ListRecords) whose oai:metadata holds a
    mets:mets; the first mets:mets inside oai:metadata is copied into a
    document of its own and validated, so reported locations start at
    /mets:mets, exactly as for a plain METS file.
Anything else (e.g. a bare MODS record) is not validated and gets the verdict
"not-mets".  Files that are not well-formed XML get the verdict "not-xml".

Output (JSON lines on stdout):
  {"file": ..., "id": ..., "role": ..., "kind": "assert"|"report",
   "location": ..., "text": ...}                       one per finding
  {"file": ..., "verdict": "valid"|"valid_warn"|"invalid"|"not-mets"|"not-xml",
   "counts": {"error": n, "warn": n, "info": n}}       one per file

Verdict: "invalid" if any finding has role error or fatal (a finding without
role counts as error), "valid_warn" if there is any other finding, else "valid".

The XPath 2.0 functions matches(), replace(), lower-case(), upper-case() and
ends-with() are registered unprefixed (null namespace), as vitrine's native
engine does.  Their regular expressions are translated from XML Schema /
XPath 2.0 syntax to Python's re for the common subset (classes, quantifiers,
^ $ anchors, alternation, groups, \\d \\w \\s \\i \\c escapes).
"""

import argparse
import glob
import json
import os
import re
import sys

from lxml import etree, isoschematron

METS_NS = "http://www.loc.gov/METS/"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.normpath(os.path.join(HERE, "..", "..", "schematron", "zvdd.sch"))

ERROR_ROLES = {"error", "fatal", ""}


# --------------------------------------------------------------------------
# XPath 2.0 string functions (null namespace)
# --------------------------------------------------------------------------

def _string(value):
    """XPath string() of an argument as lxml hands it over."""
    if isinstance(value, list):
        if not value:
            return ""
        value = value[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value == int(value):
            return str(int(value))
        return repr(value)
    if isinstance(value, (int,)):
        return str(value)
    if isinstance(value, str):
        return str(value)
    if hasattr(value, "itertext"):
        return "".join(value.itertext())
    return str(value)


# XML Schema name-character classes, restricted to the ranges that matter in
# practice (ASCII plus Latin-1 and the general BMP letter blocks).
_NAME_START = "A-Z_a-z:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
_NAME_CHAR = _NAME_START + "\\-.0-9\u00B7\u0300-\u036F\u203F-\u2040"


def _translate_regex(pattern):
    """Translate an XPath 2.0 / XML Schema regex to Python re syntax.

    Differences handled: '$' means end of string (Python: \\Z), \\i and \\c
    name classes, \\I and \\C.  Character class subtraction is not supported
    (it is outside the subset the rule set uses).
    """
    out = []
    i = 0
    in_class = False
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e == "i":
                out.append(_NAME_START if in_class else "[" + _NAME_START + "]")
            elif e == "c":
                out.append(_NAME_CHAR if in_class else "[" + _NAME_CHAR + "]")
            elif e == "I":
                out.append("[^" + _NAME_START + "]")
            elif e == "C":
                out.append("[^" + _NAME_CHAR + "]")
            else:
                out.append(c + e)
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "[" and i > 0 and pattern[i - 1] == "-":
                raise ValueError("character class subtraction is not supported: %r" % pattern)
            out.append(c)
        else:
            if c == "[":
                in_class = True
                out.append(c)
                # a literal ']' or '^]' right after '[' stays inside the class
                if i + 1 < n and pattern[i + 1] == "^":
                    out.append("^")
                    i += 1
            elif c == "$":
                out.append(r"\Z")
            else:
                out.append(c)
        i += 1
    return "".join(out)


_REGEX_CACHE = {}


def _compile(pattern, flags=""):
    key = (pattern, flags)
    rx = _REGEX_CACHE.get(key)
    if rx is None:
        f = 0
        for fl in flags:
            if fl == "i":
                f |= re.IGNORECASE
            elif fl == "m":
                f |= re.MULTILINE
            elif fl == "s":
                f |= re.DOTALL
            elif fl == "x":
                f |= re.VERBOSE
            else:
                raise ValueError("unknown regex flag %r" % fl)
        p = _translate_regex(pattern)
        if "m" in flags:
            # in multi-line mode '$' matches before every newline, as in Python
            p = p.replace(r"\Z", "$")
        rx = re.compile(p, f)
        _REGEX_CACHE[key] = rx
    return rx


def fn_matches(_ctx, value, pattern, flags=""):
    return _compile(_string(pattern), _string(flags)).search(_string(value)) is not None


def _replacement(repl):
    """XPath replacement string: $N is a group reference, \\$ and \\\\ escapes."""
    parts = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl) and repl[i + 1] in "\\$":
            parts.append(("lit", repl[i + 1]))
            i += 2
        elif c == "$":
            j = i + 1
            while j < len(repl) and repl[j].isdigit():
                j += 1
            if j == i + 1:
                raise ValueError("invalid replacement string %r" % repl)
            parts.append(("grp", int(repl[i + 1:j])))
            i = j
        else:
            parts.append(("lit", c))
            i += 1

    def expand(m):
        buf = []
        for kind, v in parts:
            if kind == "lit":
                buf.append(v)
            else:
                buf.append((m.group(v) or "") if v <= (m.re.groups) else "")
        return "".join(buf)

    return expand


def fn_replace(_ctx, value, pattern, replacement, flags=""):
    rx = _compile(_string(pattern), _string(flags))
    return rx.sub(_replacement(_string(replacement)), _string(value))


def fn_lower_case(_ctx, value):
    return _string(value).lower()


def fn_upper_case(_ctx, value):
    return _string(value).upper()


def fn_ends_with(_ctx, value, suffix):
    return _string(value).endswith(_string(suffix))


FUNCTIONS = {
    "matches": fn_matches,
    "replace": fn_replace,
    "lower-case": fn_lower_case,
    "upper-case": fn_upper_case,
    "ends-with": fn_ends_with,
}

# libxslt only dispatches extension functions that have a namespace URI, so
# the XSLT 1.0 code lxml compiles from the schema cannot reach functions in
# the null namespace.  The compile step below therefore binds the unprefixed
# calls in the generated stylesheet to this internal namespace, which is
# registered with the very same implementations.  The schema itself keeps the
# unprefixed XPath 2.0 names.
BRIDGE_NS = "urn:x-vitrine:schematron:xpath2-functions"
BRIDGE_PREFIX = "vitrinefn"

_CALL_RX = re.compile(r"(?<![\w.:-])(%s)\s*\(" % "|".join(re.escape(n) for n in FUNCTIONS))
_LITERAL_RX = re.compile(r"('[^']*'|\"[^\"]*\")")


def register_functions():
    """Register the five functions unprefixed (null namespace) and in BRIDGE_NS."""
    for uri in (None, BRIDGE_NS):
        ns = etree.FunctionNamespace(uri)
        for name, fn in FUNCTIONS.items():
            ns[name] = fn


def _bind_calls(expr):
    parts = _LITERAL_RX.split(expr)
    for k in range(0, len(parts), 2):  # even indices lie outside string literals
        parts[k] = _CALL_RX.sub(lambda m: "%s:%s(" % (BRIDGE_PREFIX, m.group(1)), parts[k])
    return "".join(parts)


def bind_null_namespace_calls(xslt_doc):
    """Return a copy of a compiled validator stylesheet in which unprefixed
    calls of FUNCTIONS in XPath-bearing attributes use BRIDGE_NS."""
    xsl = "http://www.w3.org/1999/XSL/Transform"
    root = xslt_doc.getroot() if hasattr(xslt_doc, "getroot") else xslt_doc
    nsmap = dict(root.nsmap)
    nsmap[BRIDGE_PREFIX] = BRIDGE_NS
    new_root = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
    new_root.text = root.text
    for child in root:
        new_root.append(child.__copy__())
    for el in new_root.iter("{%s}*" % xsl):
        for attr in ("select", "test", "match", "use"):
            v = el.get(attr)
            if v:
                el.set(attr, _bind_calls(v))
    return etree.ElementTree(new_root)


class _BridgedCompile(object):
    """Compile step: stock ISO skeleton (XSLT 1.0), then bind the calls."""

    def __call__(self, schematron, **params):
        return bind_null_namespace_calls(isoschematron.iso_svrl_for_xslt1(schematron, **params))


class Schematron(isoschematron.Schematron):
    """lxml's ISO Schematron with the XPath 2.0 string functions available."""
    _compile = _BridgedCompile()


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

def extract_mets(tree):
    """Return an ElementTree rooted at mets:mets, or None if there is none."""
    root = tree.getroot()
    if root.tag == "{%s}mets" % METS_NS:
        return tree
    if root.tag.startswith("{%s}" % OAI_NS):
        found = root.xpath("//oai:metadata/mets:mets[1]",
                           namespaces={"oai": OAI_NS, "mets": METS_NS})
        if found:
            # copy into a standalone document; namespace declarations in
            # scope are carried over by lxml
            return etree.ElementTree(etree.fromstring(etree.tostring(found[0])))
    return None


def load_schema(path, phase=None):
    doc = etree.parse(path)
    kwargs = {"store_report": True}
    if phase:
        kwargs["phase"] = phase
    return Schematron(doc, **kwargs)


def findings(schematron):
    report = schematron.validation_report
    for el in report.iter("{%s}failed-assert" % SVRL_NS, "{%s}successful-report" % SVRL_NS):
        kind = "assert" if el.tag.endswith("failed-assert") else "report"
        text_el = el.find("{%s}text" % SVRL_NS)
        text = " ".join("".join(text_el.itertext()).split()) if text_el is not None else ""
        yield {
            "id": el.get("id", ""),
            "role": el.get("role", ""),
            "kind": kind,
            "location": el.get("location", ""),
            "text": text,
        }


def verdict_of(items):
    if any(i["role"].strip().lower() in ERROR_ROLES for i in items):
        return "invalid"
    if items:
        return "valid_warn"
    return "valid"


def count_roles(items):
    counts = {"error": 0, "warn": 0, "info": 0}
    for i in items:
        r = i["role"].strip().lower()
        if r in ERROR_ROLES:
            counts["error"] += 1
        elif r in ("warn", "warning"):
            counts["warn"] += 1
        else:
            counts["info"] += 1
    return counts


def validate_file(schematron, path):
    try:
        tree = etree.parse(path)
    except etree.XMLSyntaxError:
        return "not-xml", []
    mets = extract_mets(tree)
    if mets is None:
        return "not-mets", []
    schematron.validate(mets)
    items = list(findings(schematron))
    return verdict_of(items), items


def expand_inputs(args):
    files = []
    for a in args:
        if os.path.isdir(a):
            files.extend(sorted(glob.glob(os.path.join(a, "**", "*.xml"), recursive=True)))
        else:
            matched = sorted(glob.glob(a, recursive=True))
            files.extend(matched if matched else [a])
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=(
            "Validate METS files against vitrine's ZVDD Schematron rules with lxml "
            "(ISO Schematron, XSLT 1.0 skeleton). Accepts METS documents and "
            "OAI-PMH responses (GetRecord envelopes): for an OAI-PMH file the "
            "mets:mets inside oai:metadata is validated. Files without METS "
            "(e.g. bare MODS) get the verdict 'not-mets'. Prints JSON lines: one "
            "per finding and a final verdict line per file."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+",
                    help="XML files, directories (searched recursively for *.xml) or glob patterns")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA,
                    help="Schematron schema (default: schematron/zvdd.sch)")
    ap.add_argument("--phase", default=None, help="Schematron phase to run (default: #DEFAULT / all patterns)")
    ap.add_argument("--relative-to", default=None,
                    help="print file names relative to this directory")
    args = ap.parse_args(argv)

    register_functions()
    schematron = load_schema(args.schema, args.phase)

    out = sys.stdout
    for path in expand_inputs(args.files):
        name = os.path.relpath(path, args.relative_to) if args.relative_to else path
        verdict, items = validate_file(schematron, path)
        for i in items:
            rec = {"file": name}
            rec.update(i)
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        out.write(json.dumps({"file": name, "verdict": verdict, "counts": count_roles(items)},
                             ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
