"""Shared code of the harvester suite: schema validation of OAI-PMH responses, parsing of
pages, and harvester clients that keep every HTTP exchange they make.

Everything here works on the bytes the server sent; nothing trusts a client library's
own reading of them.
"""

import dataclasses
import math
import re
import shutil
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree
from oaipmh.client import Client as PyoaiClient
from sickle import Sickle

OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {
    "oai": OAI,
    "mets": "http://www.loc.gov/METS/",
    "mods": "http://www.loc.gov/mods/v3",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
XML_XSD_REMOTE = "http://www.w3.org/2001/03/xml.xsd"
PLACEHOLDER_NS = "urn:x-vitrine-tests:placeholder"


class CorpusMissing(Exception):
    """The shared corpus (schemas) is not where the suite expects it."""


class Schemas:
    """The OAI-PMH response schema, completed with the schemas of everything vitrine puts
    into the `strict` wildcards of OAI-PMH.xsd (Identify description, record metadata),
    and the oai_dc schema on its own.

    Everything is loaded from ``CORPUS/xsd``; the one remote import (simpledc20021212.xsd
    imports xml.xsd from w3.org) is rewritten to the local copy in a temporary copy of the
    schema, so validation never needs the network.
    """

    NEEDED = (
        "OAI-PMH.xsd",
        "oai_dc.xsd",
        "simpledc20021212.xsd",
        "xml.xsd",
        "xlink.xsd",
        "oai-identifier.xsd",
        "mets-1-12.xsd",
        "mods-3-8.xsd",
    )

    def __init__(self, corpus: Path, workdir: Path):
        xsd = corpus / "xsd"
        if not corpus.is_dir():
            raise CorpusMissing(
                f"the shared corpus is missing: {corpus} does not exist. The harvester "
                "suite validates every response against the schemas in ../shared/corpus/xsd "
                "(OAI-PMH.xsd, oai_dc.xsd, ...); check out shared/ beside the repository."
            )
        missing = [name for name in self.NEEDED if not (xsd / name).is_file()]
        if missing:
            raise CorpusMissing(f"the shared corpus {corpus} lacks xsd/{', xsd/'.join(missing)}")
        workdir.mkdir(parents=True, exist_ok=True)
        local_xml = (xsd / "xml.xsd").resolve().as_uri()
        simpledc = (xsd / "simpledc20021212.xsd").read_text(encoding="utf-8")
        if XML_XSD_REMOTE not in simpledc:
            raise CorpusMissing(
                f"{xsd / 'simpledc20021212.xsd'} no longer imports {XML_XSD_REMOTE}; "
                "update tests/harvest/oaicheck.py"
            )
        (workdir / "simpledc20021212.xsd").write_text(
            simpledc.replace(XML_XSD_REMOTE, local_xml), encoding="utf-8"
        )
        # oai_dc.xsd imports simpledc20021212.xsd by a relative location: keep it beside
        # the rewritten copy.
        shutil.copyfile(xsd / "oai_dc.xsd", workdir / "oai_dc.xsd")
        parser = etree.XMLParser(no_network=True)
        self.oai_dc = etree.XMLSchema(etree.parse(str(workdir / "oai_dc.xsd"), parser))

        # A ListRecords response of METS records repeats the METS IDs (DMDLOG_0000, AMD,
        # ...) of every record, and xs:ID is unique per document: validated as one document,
        # every METS page would fail. So the METS of each record is validated on its own (as a
        # harvester stores it), and the envelope with each mets:mets replaced by a placeholder
        # element declared here.
        placeholder = workdir / "placeholder.xsd"
        placeholder.write_text(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace="{PLACEHOLDER_NS}" elementFormDefault="qualified">\n'
            '  <xs:element name="validatedSeparately"><xs:complexType/></xs:element>\n'
            "</xs:schema>\n",
            encoding="utf-8",
        )
        envelope_imports = {
            OAI: (xsd / "OAI-PMH.xsd").resolve().as_uri(),
            "http://www.openarchives.org/OAI/2.0/oai-identifier": (xsd / "oai-identifier.xsd")
            .resolve()
            .as_uri(),
            NS["oai_dc"]: (workdir / "oai_dc.xsd").resolve().as_uri(),
            PLACEHOLDER_NS: placeholder.resolve().as_uri(),
        }
        record_imports = {
            NS["mets"]: (xsd / "mets-1-12.xsd").resolve().as_uri(),
            NS["mods"]: (xsd / "mods-3-8.xsd").resolve().as_uri(),
        }
        self.envelope = self._wrapper(workdir / "oai-pmh-response.xsd", envelope_imports, parser)
        self.record = self._wrapper(workdir / "mets-mods.xsd", record_imports, parser)

    @staticmethod
    def _wrapper(path: Path, imports: dict, parser):
        path.write_text(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
            + "".join(
                f'  <xs:import namespace="{ns}" schemaLocation="{loc}"/>\n'
                for ns, loc in imports.items()
            )
            + "</xs:schema>\n",
            encoding="utf-8",
        )
        return etree.XMLSchema(etree.parse(str(path), parser))

    def check_response(self, body: bytes, what: str):
        """Parses one response body, asserts it is valid (the envelope against OAI-PMH.xsd,
        each record's METS against the METS and MODS schemas), and returns its root."""
        parser = etree.XMLParser(no_network=True, huge_tree=True)
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError as e:
            raise AssertionError(f"{what}: response is not well-formed XML: {e}") from None
        envelope = etree.fromstring(body, parser)
        for metadata in envelope.iterfind(".//oai:record/oai:metadata", NS):
            for payload in list(metadata):
                if payload.tag != f"{{{NS['mets']}}}mets":
                    continue
                identifier = metadata.getparent().findtext("oai:header/oai:identifier", namespaces=NS)
                doc = etree.ElementTree(etree.fromstring(etree.tostring(payload), parser))
                if not self.record.validate(doc):
                    errors = "\n  ".join(str(e) for e in list(self.record.error_log)[:10])
                    raise AssertionError(
                        f"{what}: the METS of {identifier} is not valid against mets-1-12.xsd/mods-3-8.xsd:\n  {errors}"
                    )
                metadata.replace(payload, etree.Element(f"{{{PLACEHOLDER_NS}}}validatedSeparately"))
        if not self.envelope.validate(envelope):
            errors = "\n  ".join(str(e) for e in list(self.envelope.error_log)[:10])
            raise AssertionError(f"{what}: response is not valid against OAI-PMH.xsd:\n  {errors}")
        return root

    def check_oai_dc(self, element, what: str):
        """Asserts that one oai_dc:dc element is valid against oai_dc.xsd."""
        doc = etree.ElementTree(etree.fromstring(etree.tostring(element)))
        if not self.oai_dc.validate(doc):
            errors = "\n  ".join(str(e) for e in list(self.oai_dc.error_log)[:10])
            raise AssertionError(f"{what}: oai_dc record is not valid against oai_dc.xsd:\n  {errors}")


@dataclasses.dataclass
class Exchange:
    """One HTTP request a harvester made and the response it got."""

    method: str
    args: dict
    status: int
    headers: dict
    body: bytes

    def describe(self) -> str:
        args = {k: (v[:24] + "…" if isinstance(v, str) and len(v) > 25 else v) for k, v in self.args.items()}
        return f"{self.method} {args}"


@dataclasses.dataclass
class Page:
    """What one ListRecords/ListIdentifiers response says, read from its XML."""

    verb: str
    response_date: str
    errors: list
    headers: list  # (identifier, datestamp, deleted, record element or None)
    token: object  # None: no resumptionToken element; "" : the empty one that ends a list
    cursor: object
    complete_list_size: object


def parse_page(root) -> Page:
    assert root.tag == f"{{{OAI}}}OAI-PMH", f"root element is {root.tag}"
    response_date = root.findtext("oai:responseDate", namespaces=NS)
    errors = [(e.get("code"), e.text) for e in root.findall("oai:error", NS)]
    body = None
    for verb in ("ListRecords", "ListIdentifiers"):
        body = root.find(f"oai:{verb}", NS)
        if body is not None:
            break
    if body is None:
        return Page("", response_date, errors, [], None, None, None)
    headers = []
    if verb == "ListRecords":
        for record in body.findall("oai:record", NS):
            headers.append((*_header(record.find("oai:header", NS)), record))
    else:
        for header in body.findall("oai:header", NS):
            headers.append((*_header(header), None))
    rt = body.find("oai:resumptionToken", NS)
    token = cursor = size = None
    if rt is not None:
        token = (rt.text or "").strip()
        cursor = int(rt.get("cursor")) if rt.get("cursor") is not None else None
        size = int(rt.get("completeListSize")) if rt.get("completeListSize") is not None else None
    return Page(verb, response_date, errors, headers, token, cursor, size)


def _header(header):
    return (
        header.findtext("oai:identifier", namespaces=NS),
        header.findtext("oai:datestamp", namespaces=NS),
        header.get("status") == "deleted",
    )


def check_pages(schemas: Schemas, exchanges, verb: str, total: int, page_size: int):
    """Validates every response of one harvest and asserts the flow control of §3.5:
    pages of `page_size`, cursor 0, page_size, ..., completeListSize = total on every page,
    a token on every page but the last, an empty token on the last one (none at all when the
    list fits one response). Returns the parsed pages."""
    pages = []
    for n, ex in enumerate(exchanges):
        what = f"request {n + 1} ({ex.describe()})"
        assert ex.status == 200, f"{what}: HTTP {ex.status}"
        page = parse_page(schemas.check_response(ex.body, what))
        assert not page.errors, f"{what}: OAI-PMH errors {page.errors}"
        assert page.verb == verb, f"{what}: answered {page.verb!r}, expected {verb}"
        pages.append(page)
    expected_requests = max(1, -(-total // page_size))
    assert len(exchanges) == expected_requests, (
        f"{verb}: the harvest of {total} records took {len(exchanges)} HTTP requests, "
        f"expected {expected_requests} (pages of {page_size})"
    )
    sizes = [len(p.headers) for p in pages]
    expected_sizes = [page_size] * (expected_requests - 1) + [total - page_size * (expected_requests - 1)]
    assert sizes == expected_sizes, f"{verb}: items per response {sizes}, expected {expected_sizes}"
    if expected_requests == 1:
        assert pages[0].token is None, "a list that fits one response must not carry a resumptionToken"
        return pages
    cursors = [p.cursor for p in pages]
    assert cursors == [page_size * i for i in range(expected_requests)], f"cursors {cursors}"
    list_sizes = {p.complete_list_size for p in pages}
    assert list_sizes == {total}, f"completeListSize {list_sizes}, expected {total}"
    for n, p in enumerate(pages[:-1]):
        assert p.token, f"response {n + 1} of {expected_requests} has no (or an empty) resumptionToken"
    assert pages[-1].token == "", (
        f"the response completing the list must carry an empty resumptionToken, got {pages[-1].token!r}"
    )
    return pages


class RecordingSickle(Sickle):
    """sickle, keeping every HTTP exchange (redirects included) in `exchanges`."""

    def __init__(self, endpoint, **kwargs):
        super().__init__(endpoint, max_retries=0, **kwargs)
        self.exchanges = []

    def _request(self, kwargs):
        response = super()._request(kwargs)
        for r in [*response.history, response]:
            self.exchanges.append(
                Exchange(self.http_method, dict(kwargs), r.status_code, dict(r.headers), r.content)
            )
        return response


class _CountingHandler(urllib.request.BaseHandler):
    handler_order = 999

    def __init__(self):
        self.requests = 0

    def http_request(self, request):
        self.requests += 1
        return request


class RecordingPyoai(PyoaiClient):
    """The oaipmh client, keeping every response body it got in `exchanges` and counting the
    HTTP requests urllib made on its behalf in `http_requests` (use it as a context manager:
    the counting opener is installed only inside)."""

    def __init__(self, base_url, registry):
        super().__init__(base_url, registry, custom_retry_policy={"retry": 1})
        self.exchanges = []
        self._handler = _CountingHandler()

    def __enter__(self):
        urllib.request.install_opener(urllib.request.build_opener(self._handler))
        return self

    def __exit__(self, *exc):
        urllib.request.install_opener(None)

    @property
    def http_requests(self):
        return self._handler.requests

    def makeRequest(self, **kw):
        body = super().makeRequest(**kw)
        self.exchanges.append(Exchange("POST", dict(kw), 200, {}, body))
        return body


def parse_datestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def wait_for_next_second(after: datetime):
    """Datestamps have second granularity: wait until the wall clock is in a later second
    than `after`, so that anything changed from now on gets a later datestamp."""
    target = math.floor(after.timestamp()) + 1.0
    while time.time() < target:
        time.sleep(min(0.2, max(0.01, target - time.time())))


RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")


def without_response_date(body: bytes) -> bytes:
    return RESPONSE_DATE.sub(b"<responseDate/>", body, count=1)
