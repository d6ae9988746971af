//! Repair kinds of the descriptive metadata: languages, dates, names, volume titles,
//! record identifier layout.

use super::kinds::alter;
use super::*;

#[test]
fn language_names_become_iso_639_2b_codes() {
    let r = check(
        &fixture("demo_mono_0003"),
        &context("demo_mono_0003"),
        "MODS-AP-Kap-2.4-b",
        RepairKind::Language,
        "mods:language/mods:languageTerm",
    );
    assert_eq!(r.repairs.len(), 1);
    assert_eq!(
        (r.repairs[0].before.as_str(), r.repairs[0].after.as_str()),
        ("Deutsch", "ger")
    );
    assert_eq!(
        text(&r),
        serialised(&fixture("demo_mono_0003")).replace(">Deutsch<", ">ger<")
    );
    let code = r#"<mods:languageTerm authority="iso639-2b" type="code">ger</mods:languageTerm>"#;
    let mets = alter(
        &fixture("demo_mono_0001"),
        code,
        r#"<mods:languageTerm type="code">de</mods:languageTerm>"#,
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "MODS-AP-Kap-2.4-b",
        RepairKind::Language,
        "mods:languageTerm",
    );
    let added = r#"<mods:languageTerm type="code" authority="iso639-2b">ger</mods:languageTerm>"#;
    assert_eq!(
        text(&r),
        serialised(&fixture("demo_mono_0001")).replace(code, added)
    );
    let lang = super::super::lang::iso639_2b;
    let table = [
        ("Deutsch", "ger"),
        ("German", "ger"),
        ("de", "ger"),
        ("deu", "ger"),
        ("Latein", "lat"),
        ("la", "lat"),
        ("Französisch", "fre"),
        ("fra", "fre"),
        ("fr", "fre"),
        ("English", "eng"),
        ("Italienisch", "ita"),
        ("nl", "dut"),
        ("grc", "grc"),
        ("ell", "gre"),
        ("Hebräisch", "heb"),
    ];
    for (from, to) in table {
        assert_eq!(lang(from), Some(to), "{from}");
    }
    assert_eq!(lang("Griechisch"), None, "ambiguous: ancient or modern");
}

#[test]
fn an_untagged_publication_date_becomes_the_key_date() {
    let r = check(
        &fixture("demo_mono_0006"),
        &context("demo_mono_0006"),
        "MODS-AP-Kap-2.3.1-b",
        RepairKind::KeyDate,
        "mods:originInfo[1]/mods:dateIssued/@keyDate",
    );
    assert!(text(&r)
        .contains(r#"<mods:dateIssued encoding="w3cdtf" keyDate="yes">1795</mods:dateIssued>"#));
}

#[test]
fn encoded_dates_are_normalised_to_w3cdtf() {
    let date = r#"<mods:dateIssued encoding="w3cdtf" keyDate="yes">1684</mods:dateIssued>"#;
    let mets = alter(
        &fixture("demo_mono_0001"),
        date,
        r#"<mods:dateIssued encoding="w3cdtf" keyDate="yes">18.03.1848</mods:dateIssued>"#,
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "MODS-AP-Kap-2.3.1-d",
        RepairKind::Date,
        "mods:dateIssued",
    );
    assert_eq!(
        (r.repairs[0].before.as_str(), r.repairs[0].after.as_str()),
        ("18.03.1848", "1848-03-18")
    );
    // A bracketed key date: the transcription stays, a normalised date takes the key.
    let mets = alter(
        &fixture("demo_mono_0001"),
        date,
        r#"<mods:dateIssued keyDate="yes">[1795]</mods:dateIssued>"#,
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "MODS-AP-Kap-2.3.1-f",
        RepairKind::Date,
        "mods:dateIssued[2]",
    );
    assert!(text(&r).contains(r#"<mods:dateIssued>[1795]</mods:dateIssued><mods:dateIssued encoding="w3cdtf" keyDate="yes">1795</mods:dateIssued>"#), "{}", text(&r));
    let w3c = super::super::dates::w3cdtf;
    for (from, to) in [
        ("1795", Some("1795")),
        ("[1795]", Some("1795")),
        ("18.03.1848", Some("1848-03-18")),
        ("1848-3-8", Some("1848-03-08")),
        ("18480318", Some("1848-03-18")),
        ("[1795?]", None),
        ("18. Jh.", None),
        ("um 1795", None),
        ("31.02.1848", None),
        ("1795-1800", None),
    ] {
        assert_eq!(w3c(from).as_deref(), to, "{from}");
    }
}

#[test]
fn uncertain_dates_stay_findings() {
    let mets = fixture("demo_mono_0009");
    assert!(fires(mets.as_bytes(), "MODS-AP-Kap-2.3.1-f"));
    let r = repair(mets.as_bytes(), &context("demo_mono_0009")).unwrap();
    assert!(r.repairs.is_empty(), "{:#?}", r.repairs);
    assert!(text(&r).contains(r#"<mods:dateIssued keyDate="yes">[1795?]</mods:dateIssued>"#));
    assert_eq!(findings(&r.mets), findings(mets.as_bytes()));
}

#[test]
fn several_key_dates_are_reduced_to_the_first() {
    let place = "<mods:dateIssued encoding=\"w3cdtf\" keyDate=\"yes\">1684</mods:dateIssued>";
    let mets = alter(
        &fixture("demo_mono_0001"),
        place,
        &format!(
            "{place}<mods:dateCreated encoding=\"w3cdtf\" keyDate=\"yes\">1683</mods:dateCreated>"
        ),
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "MODS-AP-Kap-2.3.1-a",
        RepairKind::KeyDate,
        "mods:dateCreated/@keyDate",
    );
    assert!(text(&r).contains("<mods:dateCreated encoding=\"w3cdtf\">1683</mods:dateCreated>"));
}

#[test]
fn display_forms_come_from_the_name_parts() {
    let mets = fixture("demo_mono_0011");
    let r = repair(mets.as_bytes(), &context("demo_mono_0011")).unwrap();
    assert_eq!(r.repairs.len(), 1, "{:#?}", r.repairs);
    let entry = &r.repairs[0];
    assert_eq!(
        (entry.rule_id.as_str(), entry.kind),
        ("MODS-AP-Kap-2.2", RepairKind::DisplayForm)
    );
    assert!(
        entry
            .xpath
            .ends_with("mods:mods/mods:name[1]/mods:displayForm"),
        "{}",
        entry.xpath
    );
    assert!(text(&r).contains("<mods:namePart type=\"given\">Carl Wilhelm</mods:namePart><mods:displayForm>Trommsdorff, Carl Wilhelm</mods:displayForm>"));
    // The rule set does not check displayForm: the findings stay the same.
    assert_eq!(findings(&r.mets), findings(mets.as_bytes()));
    assert_idempotent(&r, &context("demo_mono_0011"));
    // Names without parts get nothing invented.
    let bare = alter(&mets, "<mods:namePart type=\"family\">Trommsdorff</mods:namePart>\n            <mods:namePart type=\"given\">Carl Wilhelm</mods:namePart>", "");
    assert!(repair(bare.as_bytes(), &context("demo_mono_0011"))
        .unwrap()
        .repairs
        .is_empty());
}

#[test]
fn a_volume_without_title_is_titled_from_its_parent_and_number() {
    let mets = fixture("demo_mvw_0001_01");
    let (start, end) = (
        mets.find("<mods:relatedItem").unwrap(),
        mets.find("</mods:relatedItem>").unwrap() + 19,
    );
    let mets = format!("{}{}", &mets[..start], &mets[end..]);
    let start = mets.find("          <mods:titleInfo>").unwrap();
    let end = start + mets[start..].find("</mods:titleInfo>").unwrap() + 17;
    let mets = format!("{}{}", &mets[..start], &mets[end..]);
    let parent =
        "Sammlung merkwürdiger Reisebeschreibungen durch verschiedene Provinzen Deutschlands";
    let mut ctx = context("demo_mvw_0001_01");
    assert!(
        repair(mets.as_bytes(), &ctx)
            .unwrap()
            .repairs
            .iter()
            .all(|x| x.kind != RepairKind::VolumeTitle),
        "no parent title, no repair"
    );
    ctx.parent_title = Some(parent);
    let r = check(
        &mets,
        &ctx,
        "MODS-AP-Kap-2.1-a",
        RepairKind::VolumeTitle,
        "mods:mods/mods:titleInfo",
    );
    let entry = r
        .repairs
        .iter()
        .find(|x| x.kind == RepairKind::VolumeTitle)
        .unwrap();
    assert_eq!(entry.after, format!("<mods:titleInfo><mods:title>{parent}</mods:title><mods:partNumber>Erster Theil</mods:partNumber></mods:titleInfo>"));
}

#[test]
fn white_space_around_the_record_identifier_is_removed() {
    let mets = alter(
        &fixture("demo_mono_0001"),
        ">demo_mono_0001</mods:recordIdentifier>",
        ">\n  demo_mono_0001 </mods:recordIdentifier>",
    );
    let r = check(
        &mets,
        &context("demo_mono_0001"),
        "MODS-AP-Kap-2.10-c",
        RepairKind::RecordIdentifierSpace,
        "mods:recordIdentifier",
    );
    assert_eq!(text(&r), serialised(&fixture("demo_mono_0001")));
}

#[test]
fn a_date_is_not_encoded_next_to_an_encoded_twin() {
    let date = r#"<mods:dateIssued encoding="w3cdtf" keyDate="yes">1684</mods:dateIssued>"#;
    let twins = r#"<mods:dateIssued encoding="w3cdtf">um 1684</mods:dateIssued><mods:dateIssued>[1684]</mods:dateIssued>"#;
    let mets = alter(&fixture("demo_mono_0001"), date, twins);
    let r = repair(mets.as_bytes(), &context("demo_mono_0001")).unwrap();
    assert!(r.repairs.is_empty(), "{:#?}", r.repairs);
    assert!(!fires(&r.mets, "MODS-AP-Kap-2.3.1-c"));
}
