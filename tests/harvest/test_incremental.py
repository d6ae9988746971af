"""Incremental harvest (Rosetta, ZVDD): after a full harvest, 3 records change, 2 are
deleted and 1 is withdrawn; a harvest `from` the previous harvest's responseDate returns
exactly those 6 - the changed ones with their new metadata, the 3 others as deleted."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from conftest import INCR_COUNT, PAGE_SIZE
from lxml import etree
from oaicheck import (
    NS,
    RecordingPyoai,
    RecordingSickle,
    check_pages,
    parse_datestamp,
    wait_for_next_second,
)
from oaipmh.metadata import MetadataRegistry, oai_dc_reader


@dataclass
class Changes:
    since: str  # responseDate of the full harvest's first response
    changed: dict  # OAI identifier -> new title
    deleted: set  # OAI identifiers deleted or withdrawn

    @property
    def all(self) -> set:
        return set(self.changed) | self.deleted


def oai_id(local_id: str) -> str:
    return f"oai:vitrine.localhost:{local_id}"


def retitle(path, title: str):
    """Changes the title of the primary MODS (the first titleInfo without @type of the
    first mods:mods) in a METS file."""
    doc = etree.parse(str(path))
    mods = doc.find(".//mods:mods", NS)
    title_el = next(
        t.find("mods:title", NS)
        for t in mods.findall("mods:titleInfo", NS)
        if t.get("type") is None and t.find("mods:title", NS) is not None
    )
    title_el.text = title
    doc.write(str(path), xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def changes(server, incr, vitrine, schemas):
    ids = sorted(incr.files)
    # records imported within the second of the first request would count as changed
    # "from" its responseDate: start in a later second than the import
    wait_for_next_second(datetime.now(timezone.utc))

    sickle = RecordingSickle(server.endpoint(incr.dname))
    harvested = [r.header.identifier for r in sickle.ListRecords(metadataPrefix="mets")]
    pages = check_pages(schemas, sickle.exchanges, "ListRecords", INCR_COUNT, PAGE_SIZE)
    assert set(harvested) == incr.identifiers and len(harvested) == INCR_COUNT
    since = pages[0].response_date

    # everything below must be later than the harvest
    wait_for_next_second(parse_datestamp(pages[-1].response_date))
    to_change, to_delete, to_withdraw = ids[10:13], ids[50:52], ids[100:101]
    changed = {}
    for local_id in to_change:
        title = f"Geänderter Titel {local_id} {uuid.uuid4().hex[:8]}"
        retitle(incr.files[local_id], title)
        changed[oai_id(local_id)] = title
    proc = vitrine.run("import", "--domain", incr.dname, "--release", *(incr.files[i] for i in to_change))
    assert "3 files: 0 created, 3 replaced" in proc.stdout, proc.stdout
    vitrine.run("delete", "--domain", incr.dname, *to_delete)
    vitrine.run("withdraw", "--domain", incr.dname, *to_withdraw)
    return Changes(since, changed, {oai_id(i) for i in to_delete + to_withdraw})


def assert_changes_only(pages, changes: Changes):
    headers = [h for p in pages for h in p.headers]
    ids = [h[0] for h in headers]
    assert len(ids) == len(set(ids)), f"identifiers repeated: {ids}"
    assert set(ids) == changes.all, (
        f"from={changes.since}: expected exactly the 6 changed records; missing "
        f"{sorted(changes.all - set(ids))}, unexpected {sorted(set(ids) - changes.all)[:10]}"
    )
    since = parse_datestamp(changes.since)
    for identifier, datestamp, deleted, record in headers:
        assert parse_datestamp(datestamp) >= since, f"{identifier}: datestamp {datestamp} < from {changes.since}"
        assert deleted == (identifier in changes.deleted), (
            f"{identifier}: status deleted is {deleted}, expected {identifier in changes.deleted}"
        )
        if record is not None and deleted:
            assert record.find("oai:metadata", NS) is None, f"{identifier}: a deleted record carries metadata"
    return headers


def test_sickle_list_records_mets_from(server, incr, changes, schemas):
    sickle = RecordingSickle(server.endpoint(incr.dname))
    records = list(sickle.ListRecords(**{"metadataPrefix": "mets", "from": changes.since}))
    pages = check_pages(schemas, sickle.exchanges, "ListRecords", len(changes.all), PAGE_SIZE)
    assert_changes_only(pages, changes)
    assert {r.header.identifier for r in records if r.header.deleted} == changes.deleted
    for r in records:
        if r.header.deleted:
            continue
        titles = r.xml.xpath("oai:metadata/mets:mets//mods:titleInfo/mods:title/text()", namespaces=NS)
        assert changes.changed[r.header.identifier] in titles, (
            f"{r.header.identifier}: the new title is not in the harvested METS (titles {titles[:3]})"
        )


def test_sickle_list_records_oai_dc_from(server, incr, changes, schemas):
    sickle = RecordingSickle(server.endpoint(incr.dname))
    list(sickle.ListRecords(**{"metadataPrefix": "oai_dc", "from": changes.since}))
    pages = check_pages(schemas, sickle.exchanges, "ListRecords", len(changes.all), PAGE_SIZE)
    for identifier, _, deleted, record in assert_changes_only(pages, changes):
        if deleted:
            continue
        dc = record.find("oai:metadata/oai_dc:dc", NS)
        schemas.check_oai_dc(dc, identifier)
        titles = dc.xpath("dc:title/text()", namespaces=NS)
        assert any(changes.changed[identifier] in t for t in titles), (
            f"{identifier}: the new title is not in dc:title {titles}"
        )


def test_pyoai_list_identifiers_from(server, incr, changes, schemas):
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    with RecordingPyoai(server.endpoint(incr.dname), registry) as client:
        headers = list(
            client.listIdentifiers(metadataPrefix="oai_dc", from_=parse_datestamp(changes.since).replace(tzinfo=None))
        )
    assert client.http_requests == 1
    pages = check_pages(schemas, client.exchanges, "ListIdentifiers", len(changes.all), PAGE_SIZE)
    assert_changes_only(pages, changes)
    assert {h.identifier() for h in headers if h.isDeleted()} == changes.deleted
    assert {h.identifier() for h in headers if not h.isDeleted()} == set(changes.changed)


def test_unchanged_records_not_from(server, incr, changes, schemas):
    """The full list still holds the 227 records of the domain (224 unchanged + 3 changed)
    plus the 3 deleted ones, and the unchanged ones keep their datestamps (< from)."""
    sickle = RecordingSickle(server.endpoint(incr.dname))
    list(sickle.ListIdentifiers(metadataPrefix="mets"))
    pages = check_pages(schemas, sickle.exchanges, "ListIdentifiers", INCR_COUNT, PAGE_SIZE)
    since = parse_datestamp(changes.since)
    for identifier, datestamp, deleted, _ in (h for p in pages for h in p.headers):
        if identifier in changes.all:
            continue
        assert not deleted
        assert parse_datestamp(datestamp) < since, f"{identifier}: unchanged, but datestamp {datestamp}"
