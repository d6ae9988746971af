"""Compression (OAI-PMH §3.1.3, shared/OAI-TRAPS.md): gzip exactly when the harvester asks
for it with Accept-Encoding, identity otherwise; Identify advertises gzip, never identity."""

import gzip
import http.client
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from oaicheck import NS, parse_page, without_response_date


class Response:
    def __init__(self, status, headers, raw):
        self.status_code = status
        self.headers = headers
        self.raw = raw


def get(url, params, accept_encoding):
    """GET with exactly the Accept-Encoding given (None: no such header at all, which
    requests/urllib3 cannot send); returns the response with the body bytes as they came
    over the wire."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.putrequest("GET", f"{parts.path}?{urlencode(params)}", skip_accept_encoding=True)
        if accept_encoding is not None:
            conn.putheader("Accept-Encoding", accept_encoding)
        conn.endheaders()
        r = conn.getresponse()
        return Response(r.status, requests.structures.CaseInsensitiveDict(r.getheaders()), r.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def second_page(server, full, schemas):
    """Arguments of the second page of a ListRecords/mets harvest: re-issuing a token
    returns the same page, so two requests differ only in their responseDate."""
    url = server.endpoint(full.dname)
    response = get(url, {"verb": "ListRecords", "metadataPrefix": "mets"}, None)
    raw = response.raw
    assert response.status_code == 200
    page = parse_page(schemas.check_response(raw, "ListRecords mets, first page"))
    assert page.token, "the first page of 774 records has no resumptionToken"
    return url, {"verb": "ListRecords", "resumptionToken": page.token}


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate", "br;q=1.0, gzip;q=0.8, *;q=0.1"])
def test_gzip_when_asked(second_page, schemas, accept):
    url, params = second_page
    plain = get(url, params, None)
    zipped = get(url, params, accept)
    plain_raw, zipped_raw = plain.raw, zipped.raw
    assert plain.status_code == zipped.status_code == 200
    assert zipped.headers.get("Content-Encoding") == "gzip", (
        f"Accept-Encoding: {accept} answered with Content-Encoding {zipped.headers.get('Content-Encoding')!r}"
    )
    assert zipped_raw[:2] == b"\x1f\x8b", "the body is not gzip data"
    decoded = gzip.decompress(zipped_raw)
    assert len(zipped_raw) < len(decoded) / 2, "gzip did not compress a METS page"
    schemas.check_response(decoded, "gzip-decoded page")
    assert without_response_date(decoded) == without_response_date(plain_raw), (
        "the gzip-decoded response differs from the identity response"
    )
    assert zipped.headers.get("Content-Type", "").lower().replace(" ", "") == "text/xml;charset=utf-8"


@pytest.mark.parametrize("accept", [None, "identity"])
def test_identity_otherwise(second_page, schemas, accept):
    url, params = second_page
    response = get(url, params, accept)
    raw = response.raw
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding", "identity") == "identity", (
        f"Accept-Encoding {accept!r} answered with Content-Encoding {response.headers.get('Content-Encoding')!r}"
    )
    assert raw.startswith(b"<?xml"), f"body starts with {raw[:20]!r}"
    page = parse_page(schemas.check_response(raw, f"Accept-Encoding {accept!r}"))
    assert len(page.headers) == 100 and page.cursor == 100


def test_identify_advertises_gzip(server, full, schemas):
    response = get(server.endpoint(full.dname), {"verb": "Identify"}, None)
    raw = response.raw
    assert response.status_code == 200
    root = schemas.check_response(raw, "Identify")
    compression = root.xpath("oai:Identify/oai:compression/text()", namespaces=NS)
    assert "gzip" in compression, f"Identify lists compression {compression}"
    assert "identity" not in compression, "Identify must not list identity (§4.2)"
