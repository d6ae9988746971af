"""Full harvests of a domain of 774 records with page size 100, as Ex Libris Rosetta does
it: 8 requests (7 x 100 + 74), every record exactly once, every response valid."""

import pytest
from conftest import FULL_COUNT, PAGE_SIZE
from lxml import etree
from oaicheck import NS, RecordingPyoai, RecordingSickle, check_pages
from oaipmh.metadata import MetadataRegistry

EXPECTED_REQUESTS = 8


def keep_element(element):
    """oaipmh metadata reader that keeps the oai:metadata element as it is."""
    return element


def assert_identifiers(pages, expected: set, harvested: list):
    from_pages = [h[0] for p in pages for h in p.headers]
    assert len(from_pages) == len(set(from_pages)), "the harvest returned some identifiers twice"
    assert set(from_pages) == expected, (
        f"missing {sorted(expected - set(from_pages))[:5]}, unexpected {sorted(set(from_pages) - expected)[:5]}"
    )
    # and the harvester itself saw the same, in the same order
    assert harvested == from_pages
    assert not any(h[2] for p in pages for h in p.headers), "no record of this domain is deleted"


def test_sickle_list_records_mets(server, full, schemas):
    sickle = RecordingSickle(server.endpoint(full.dname))
    records = list(sickle.ListRecords(metadataPrefix="mets"))
    assert len(sickle.exchanges) == EXPECTED_REQUESTS
    pages = check_pages(schemas, sickle.exchanges, "ListRecords", FULL_COUNT, PAGE_SIZE)
    assert_identifiers(pages, full.identifiers, [r.header.identifier for r in records])
    for r in records:
        assert not r.header.deleted
        mets = r.xml.find("oai:metadata/mets:mets", NS)
        assert mets is not None, f"{r.header.identifier}: metadata holds no mets:mets"
    # the METS is the one ingested: its primary record identifier is the local id
    for identifier, _, _, record in (h for p in pages for h in p.headers):
        local_id = identifier.rsplit(":", 1)[1]
        ids = record.xpath(".//mods:recordInfo/mods:recordIdentifier/text()", namespaces=NS)
        assert local_id in ids, f"{identifier}: recordIdentifier {ids}"


def test_pyoai_list_records_mets(server, full, schemas):
    registry = MetadataRegistry()
    registry.registerReader("mets", keep_element)
    with RecordingPyoai(server.endpoint(full.dname), registry) as client:
        records = list(client.listRecords(metadataPrefix="mets"))
    assert client.http_requests == EXPECTED_REQUESTS
    pages = check_pages(schemas, client.exchanges, "ListRecords", FULL_COUNT, PAGE_SIZE)
    assert_identifiers(pages, full.identifiers, [h.identifier() for h, _, _ in records])
    for header, metadata, _ in records:
        assert not header.isDeleted()
        assert metadata is not None, f"{header.identifier()}: no metadata"
        children = list(metadata)
        assert len(children) == 1 and children[0].tag == f"{{{NS['mets']}}}mets", (
            f"{header.identifier()}: metadata holds {[c.tag for c in children]}"
        )


@pytest.mark.parametrize("client", ["sickle", "oaipmh"])
def test_list_identifiers_oai_dc(server, full, schemas, client):
    endpoint = server.endpoint(full.dname)
    if client == "sickle":
        sickle = RecordingSickle(endpoint)
        harvested = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc")]
        requests, exchanges = len(sickle.exchanges), sickle.exchanges
    else:
        with RecordingPyoai(endpoint, MetadataRegistry()) as pyoai:
            harvested = [h.identifier() for h in pyoai.listIdentifiers(metadataPrefix="oai_dc")]
        requests, exchanges = pyoai.http_requests, pyoai.exchanges
    assert requests == EXPECTED_REQUESTS
    pages = check_pages(schemas, exchanges, "ListIdentifiers", FULL_COUNT, PAGE_SIZE)
    assert_identifiers(pages, full.identifiers, harvested)


def test_sickle_list_records_oai_dc_valid(server, full, schemas):
    sickle = RecordingSickle(server.endpoint(full.dname))
    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))
    assert len(sickle.exchanges) == EXPECTED_REQUESTS
    pages = check_pages(schemas, sickle.exchanges, "ListRecords", FULL_COUNT, PAGE_SIZE)
    assert_identifiers(pages, full.identifiers, [r.header.identifier for r in records])
    for identifier, _, _, record in (h for p in pages for h in p.headers):
        dc = record.findall("oai:metadata/oai_dc:dc", NS)
        assert len(dc) == 1, f"{identifier}: metadata holds {len(dc)} oai_dc:dc"
        schemas.check_oai_dc(dc[0], identifier)
        titles = [t.strip() for t in dc[0].xpath("dc:title/text()", namespaces=NS)]
        assert any(titles), f"{identifier}: no dc:title in {etree.tostring(dc[0])[:300]!r}"
