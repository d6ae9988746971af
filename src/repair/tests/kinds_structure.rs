//! Repair kinds of the structure: METS pointers, logical and physical types, page
//! order, and the declaration of embedded MODS.

use super::kinds::alter;
use super::*;

#[test]
fn mets_pointers_lead_to_this_providers_zmets() {
    let child = fixture("demo_mvw_0001_01");
    let mets = alter(
        &child,
        "https://digital.example-library.de/viewer/metsresolver?id=demo_mvw_0001",
        "demo_mvw_0001",
    );
    let r = check(
        &mets,
        &context("demo_mvw_0001_01"),
        "METS-AP-Kap-2.1.2.2-a",
        RepairKind::MetsPointer,
        "mets:div/mets:mptr/@xlink:href",
    );
    let url = "https://digital.example.org/ulb/oai?verb=GetRecord&metadataPrefix=zmets&identifier=oai%3Adigital.example.org%3Ademo_mvw_0001";
    assert_eq!(r.repairs[0].after, url);
    assert!(text(&r).contains(&format!(r#"xlink:href="{}""#, url.replace('&', "&amp;"))));
    // Anchors: every child pointer, each to its own record.
    let r = repair(
        fixture("demo_mvw_0001").as_bytes(),
        &context("demo_mvw_0001"),
    )
    .unwrap();
    let hrefs: Vec<_> = r
        .repairs
        .iter()
        .map(|x| x.after.rsplit("%3A").next().unwrap().to_string())
        .collect();
    assert_eq!(
        hrefs,
        [
            "demo_mvw_0001_01",
            "demo_mvw_0001_02",
            "demo_mvw_0001_03",
            "demo_mvw_0001_04"
        ]
    );
    assert_idempotent(&r, &context("demo_mvw_0001"));
}

#[test]
fn pointer_identifiers_are_escaped() {
    let ctx = context("x");
    let key = crate::domain::LocalId::parse("PPN 12/3").unwrap();
    assert_eq!(
        crate::repair::structure::zmets_url(&ctx, &key),
        "https://digital.example.org/ulb/oai?verb=GetRecord&metadataPrefix=zmets&identifier=oai%3Adigital.example.org%3APPN%252012%2F3"
    );
}

#[test]
fn ruleset_structure_types_become_dfg_types() {
    let r = check(
        &fixture("demo_per_0001_1786"),
        &context("demo_per_0001_1786"),
        "METS-AP-Kap-2.1.2.1-c",
        RepairKind::StructureType,
        "mets:div/@TYPE",
    );
    let entry = r
        .repairs
        .iter()
        .find(|x| x.kind == RepairKind::StructureType)
        .unwrap();
    assert_eq!(
        (entry.before.as_str(), entry.after.as_str()),
        ("PeriodicalVolume", "volume")
    );
    for (from, to) in [
        ("Monograph", "monograph"),
        ("MultivolumeWork", "multivolume_work"),
        ("NewspaperIssue", "issue"),
        ("PeriodicalIssue", "issue"),
        ("TitlePage", "title_page"),
        ("Preface", "preface"),
        ("Index", "index"),
        ("Illustration", "illustration"),
        ("Year", "year"),
        ("Chapter", "chapter"),
    ] {
        assert_eq!(super::super::vocab::dfg_type(from), Some(to), "{from}");
    }
    assert_eq!(super::super::vocab::dfg_type("epicedia"), None);
    // An unknown type stays and remains a finding.
    let mets = alter(
        &fixture("demo_mono_0001"),
        r#"TYPE="preface""#,
        r#"TYPE="epicedia""#,
    );
    let r = repair(mets.as_bytes(), &context("demo_mono_0001")).unwrap();
    assert!(r.repairs.is_empty() && fires(&r.mets, "METS-AP-Kap-2.1.2.1-c"));
}
#[test]
fn missing_page_order_comes_from_the_sequence() {
    let r = check(
        &fixture("demo_mvw_0001_02"),
        &context("demo_mvw_0001_02"),
        "METS-AP-Kap-2.2.2.1-b",
        RepairKind::PageOrder,
        "mets:structMap[2]/mets:div/mets:div[1]/@ORDER",
    );
    let orders: Vec<_> = r
        .repairs
        .iter()
        .filter(|x| x.kind == RepairKind::PageOrder)
        .map(|x| x.after.parse::<usize>().unwrap())
        .collect();
    assert_eq!(orders, (1..=30).collect::<Vec<_>>());
    assert!(
        text(&r).contains(r#"<mets:div ID="PHYS_0002" ORDERLABEL="[I]" TYPE="page" ORDER="2">"#)
    );
    // A present ORDER that disagrees with the sequence leaves the gaps alone.
    let mets = alter(
        &fixture("demo_mvw_0001_02"),
        r#"ID="PHYS_0002" ORDERLABEL="[I]""#,
        r#"ID="PHYS_0002" ORDER="7" ORDERLABEL="[I]""#,
    );
    let r = repair(mets.as_bytes(), &context("demo_mvw_0001_02")).unwrap();
    assert!(r.repairs.iter().all(|x| x.kind != RepairKind::PageOrder));
}

#[test]
fn a_physical_sequence_without_type_is_typed() {
    let mets = alter(
        &fixture("demo_mono_0001"),
        r#"<mets:div ID="PHYS_0000" TYPE="physSequence">"#,
        r#"<mets:div ID="PHYS_0000">"#,
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "METS-AP-Kap-2.2.1-b",
        RepairKind::PhysicalType,
        "mets:structMap[2]/mets:div/@TYPE",
    );
    assert_eq!(text(&r), serialised(&fixture("demo_mono_0001")));
}

#[test]
fn embedded_mods_is_declared_as_mods() {
    let mets = fixture("demo_mono_0001");
    let first = mets.find(r#"<mets:mdWrap MDTYPE="MODS">"#).unwrap();
    let mets = format!(
        "{}<mets:mdWrap MDTYPE=\"OTHER\" OTHERMDTYPE=\"MODS\">{}",
        &mets[..first],
        &mets[first + 27..]
    );
    check(
        &mets,
        &context("demo_mono_0001"),
        "METS-AP-Kap-2.5.2-c",
        RepairKind::MdType,
        "mets:dmdSec[1]/mets:mdWrap/@MDTYPE",
    );
}

#[test]
fn a_pointer_without_loctype_gets_url() {
    let mets = alter(
        &fixture("demo_mvw_0001_01"),
        r#"<mets:mptr LOCTYPE="URL" "#,
        "<mets:mptr ",
    );
    let r = check(
        &mets,
        &context("demo_mvw_0001_01"),
        "METS-AP-Kap-2.1.2.2-b",
        RepairKind::MetsPointer,
        "mets:mptr/@LOCTYPE",
    );
    assert!(text(&r).contains(r#"<mets:mptr xlink:href="https://digital.example.org/ulb/oai?verb=GetRecord&amp;metadataPrefix=zmets&amp;identifier=oai%3Adigital.example.org%3Ademo_mvw_0001" LOCTYPE="URL"/>"#), "{}", text(&r));
}
