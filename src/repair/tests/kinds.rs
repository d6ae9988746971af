//! One test per repair kind: the defect makes its rule fire, the repair silences it,
//! is logged, and leaves everything else as it was.

use super::*;

/// `text` with `from` replaced exactly once (fails when `from` is not there).
pub(super) fn alter(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} is not unique");
    text.replacen(from, to, 1)
}

#[test]
fn a_missing_record_identifier_comes_from_the_local_id() {
    let mets = alter(
        &fixture("demo_mono_0001"),
        r#"<mods:recordIdentifier source="DE-3">demo_mono_0001</mods:recordIdentifier>"#,
        "",
    );
    let ctx = context("demo_mono_0001");
    let r = check(
        &mets,
        &ctx,
        "MODS-AP-Kap-2.10-a",
        RepairKind::RecordIdentifier,
        "mods:recordInfo/mods:recordIdentifier",
    );
    assert_eq!(r.repairs.len(), 1, "{:#?}", r.repairs);
    assert_eq!(
        r.repairs[0].after,
        r#"<mods:recordIdentifier source="DE-3">demo_mono_0001</mods:recordIdentifier>"#
    );
    // Nothing else changed: without the new element, the output is the input as
    // libxml2 writes it.
    let out = text(&r).replacen(&r.repairs[0].after, "", 1);
    assert_eq!(out, serialised(&mets));
}

#[test]
fn a_missing_source_comes_from_the_domain() {
    let mets = fixture("demo_mono_0013");
    let r = check(
        &mets,
        &context("demo_mono_0013"),
        "MODS-AP-Kap-2.10-b",
        RepairKind::RecordIdentifierSource,
        "mods:recordIdentifier/@source",
    );
    assert_eq!(
        (r.repairs[0].before.as_str(), r.repairs[0].after.as_str()),
        ("", "DE-3")
    );
    assert_eq!(r.repairs.len(), 1);
    let expected = serialised(&mets).replace(
        "<mods:recordIdentifier>",
        r#"<mods:recordIdentifier source="DE-3">"#,
    );
    assert_eq!(text(&r), expected);
}

#[test]
fn missing_rights_come_from_the_institution() {
    let r = check(
        &fixture("demo_mono_0012"),
        &context("demo_mono_0012"),
        "METS-AP-Kap-2.6.2.1-a",
        RepairKind::Rights,
        "mets:rightsMD/mets:mdWrap/mets:xmlData/dv:rights",
    );
    let out = text(&r);
    assert!(out.contains(r#"<mets:mdWrap MDTYPE="OTHER" MIMETYPE="text/xml" OTHERMDTYPE="DVRIGHTS"><mets:xmlData><dv:rights><dv:owner>Landes- und Universitätsbibliothek Beispielstadt</dv:owner><dv:ownerLogo>https://digital.example-library.de/logo.png</dv:ownerLogo><dv:ownerSiteURL>https://www.example-library.de/</dv:ownerSiteURL><dv:ownerContact>mailto:digital@example-library.de</dv:ownerContact></dv:rights>"#), "{out}");
    assert!(errors(&r.mets) == 0);
}

#[test]
fn incomplete_rights_are_completed_and_placeholders_replaced() {
    let mets = alter(
        &fixture("demo_mono_0001"),
        "<dv:ownerContact>mailto:digitalisierung@example-library.de</dv:ownerContact>",
        "",
    );
    let mets = alter(&mets, "https://digital.example-library.de/viewer/resources/themes/demo/images/dfg-viewer-logo.png", "Share_it");
    let ctx = context("demo_mono_0001");
    check(
        &mets,
        &ctx,
        "METS-AP-Kap-2.6.2.1-f",
        RepairKind::Rights,
        "dv:rights/dv:ownerContact",
    );
    let r = check(
        &mets,
        &ctx,
        "METS-AP-Kap-2.6.2.1-d",
        RepairKind::Rights,
        "dv:rights/dv:ownerLogo",
    );
    let logo = r
        .repairs
        .iter()
        .find(|x| x.rule_id == "METS-AP-Kap-2.6.2.1-d")
        .unwrap();
    assert_eq!(
        (logo.before.as_str(), logo.after.as_str()),
        ("Share_it", "https://digital.example-library.de/logo.png")
    );
    // Right after dv:ownerSiteURL, where the profile puts it.
    assert!(text(&r).contains(
        "</dv:ownerSiteURL><dv:ownerContact>mailto:digital@example-library.de</dv:ownerContact>"
    ));
}

#[test]
fn rights_of_another_owner_are_not_completed_with_ours() {
    let mets = alter(
        &fixture("demo_mono_0001"),
        "<dv:ownerContact>mailto:digitalisierung@example-library.de</dv:ownerContact>",
        "",
    );
    let mets = alter(
        &mets,
        "<dv:owner>Landes- und Universitätsbibliothek Beispielstadt</dv:owner>",
        "<dv:owner>Stadtbibliothek Anderswo</dv:owner>",
    );
    let r = repair(mets.as_bytes(), &context("demo_mono_0001")).unwrap();
    assert!(r.repairs.is_empty(), "{:#?}", r.repairs);
    assert!(fires(&r.mets, "METS-AP-Kap-2.6.2.1-f"));
}

#[test]
fn duplicate_owners_and_record_infos_are_reduced_to_the_first() {
    let owner = "<dv:owner>Landes- und Universitätsbibliothek Beispielstadt</dv:owner>";
    let mets = alter(
        &fixture("demo_mono_0001"),
        owner,
        &format!("{owner}<dv:owner>ULB Beispielstadt</dv:owner>"),
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "METS-AP-Kap-2.6.2.1-c",
        RepairKind::Duplicate,
        "dv:rights/dv:owner[2]",
    );
    assert_eq!(
        r.repairs[0].before,
        "<dv:owner>ULB Beispielstadt</dv:owner>"
    );
    assert!(!text(&r).contains("ULB Beispielstadt"));

    let info = "<mods:recordInfo>";
    let mets = alter(&fixture("demo_mono_0001"), info, "<mods:recordInfo><mods:recordOrigin>Kitodo</mods:recordOrigin></mods:recordInfo><mods:recordInfo>");
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "MODS-AP-Kap-2.10-d",
        RepairKind::Duplicate,
        "mods:recordInfo[2]",
    );
    let out = text(&r);
    assert_eq!(out.matches("<mods:recordInfo>").count(), 1);
    assert!(out.contains("<mods:recordOrigin>Kitodo</mods:recordOrigin><mods:recordIdentifier source=\"DE-3\">demo_mono_0001</mods:recordIdentifier>"), "{out}");
}

#[test]
fn missing_links_come_from_the_context_urls() {
    let mets = fixture("demo_mono_0001");
    let start = mets.find("<mets:digiprovMD").unwrap();
    let end = mets.find("</mets:digiprovMD>").unwrap() + "</mets:digiprovMD>".len();
    let mets = format!("{}{}", &mets[..start], &mets[end..]);
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "METS-AP-Kap-2.6.2.2-a",
        RepairKind::Links,
        "mets:digiprovMD/mets:mdWrap/mets:xmlData/dv:links",
    );
    assert!(text(&r).contains(r#"<mets:digiprovMD ID="DIGIPROV"><mets:mdWrap MDTYPE="OTHER" MIMETYPE="text/xml" OTHERMDTYPE="DVLINKS"><mets:xmlData><dv:links><dv:reference>https://opac.example-library.de/record/demo_mono_0001</dv:reference><dv:presentation>https://digital.example-library.de/viewer/demo_mono_0001</dv:presentation></dv:links>"#), "{}", text(&r));
}

#[test]
fn a_primary_div_without_admid_is_wired_to_the_rights() {
    let mets = alter(
        &fixture("demo_mono_0001"),
        r#"<mets:div ADMID="AMD" DMDID="DMDLOG_0000""#,
        r#"<mets:div DMDID="DMDLOG_0000""#,
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "METS-AP-Kap-2.1.2.1-f",
        RepairKind::AdmidWiring,
        "mets:structMap[1]/mets:div/@ADMID",
    );
    assert_eq!(r.repairs.len(), 1);
    assert_eq!(r.repairs[0].after, "AMD");
}

#[test]
fn a_mets_without_amd_sec_gets_one_with_rights_and_links() {
    let mets = fixture("demo_mono_0001");
    let (start, end) = (
        mets.find("  <mets:amdSec").unwrap(),
        mets.find("</mets:amdSec>").unwrap() + 15,
    );
    let mets = format!("{}{}", &mets[..start], &mets[end..]);
    let mets = alter(
        &mets,
        r#"<mets:div ADMID="AMD" DMDID="DMDLOG_0000""#,
        r#"<mets:div DMDID="DMDLOG_0000""#,
    );
    let ctx = context("demo_mono_0001");
    for rule in ["METS-AP-Kap-2.6.2.1-a", "METS-AP-Kap-2.6.2.2-a"] {
        check(
            &mets,
            &ctx,
            rule,
            if rule.contains("2.6.2.1") {
                RepairKind::Rights
            } else {
                RepairKind::Links
            },
            "mets:amdSec/",
        );
    }
    let r = check(
        &mets,
        &ctx,
        "METS-AP-Kap-2.6.1-a",
        RepairKind::Rights,
        "/mets:mets/mets:amdSec",
    );
    let out = text(&r);
    // METS order: after the last dmdSec, before the fileSec; rightsMD before digiprovMD.
    let (dmd, amd, file) = (
        out.rfind("</mets:dmdSec>").unwrap(),
        out.find("<mets:amdSec ID=\"AMD\">").unwrap(),
        out.find("<mets:fileSec").unwrap(),
    );
    assert!(dmd < amd && amd < file, "{out}");
    assert!(
        out.find("<mets:rightsMD ID=\"RIGHTS\">").unwrap()
            < out.find("<mets:digiprovMD ID=\"DIGIPROV\">").unwrap()
    );
    assert!(out.contains(r#"<mets:div DMDID="DMDLOG_0000" ID="LOG_0000" LABEL="Die Belägerte und entsetzte Stadt Wien" TYPE="monograph" ADMID="AMD">"#));
    assert_eq!(errors(&r.mets), 0);
}
