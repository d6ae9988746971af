//! ns, assert vs report, messages, role → class, verdicts and location strings.

use super::{ids, run, schema_with, DOC};
use crate::schematron::{Class, CompileOptions, Kind, Verdict};

const M: &str = "namespace-uri()='http://www.loc.gov/METS/'";

#[test]
fn ns_binds_prefixes_in_contexts_and_tests() {
    let r = run(
        "<pattern id='p'><rule context='mets:dmdSec'>
           <assert id='has-wrap' test='mets:mdWrap'>no mdWrap</assert>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["has-wrap"]);
    assert_eq!(r.fired_rules.len(), 2);
}

#[test]
fn assert_fires_when_false_and_report_when_true() {
    let r = run(
        "<pattern><rule context='mets:div'>
           <assert id='a' test=\"@TYPE != 'chapter'\">is a chapter</assert>
           <report id='r' test='@DMDID'>has DMDID</report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["r", "a", "r"]);
    assert_eq!(r.findings[0].kind, Kind::Report);
    assert_eq!(r.findings[1].kind, Kind::Assert);
    assert_eq!(r.findings[1].test.as_ref(), "@TYPE != 'chapter'");
}

#[test]
fn messages_evaluate_value_of_and_name_and_normalise_space() {
    let r = run(
        "<pattern><rule context='mets:div[@ID=\"LOG_3\"]'>
           <report id='m' test='true()'>  Element <name/> in <name path='..'/>
              has   ID <value-of select='@ID'/> and <emph>type</emph> '<value-of select='@TYPE'/>'</report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(
        r.findings[0].message,
        "Element mets:div in mets:div has ID LOG_3 and type 'Chapter'"
    );
}

#[test]
fn white_space_only_text_between_message_elements_is_dropped_as_in_xslt() {
    let r = run(
        "<pattern><rule context='mets:div[@ID=\"LOG_3\"]'>
           <report test='true()'><value-of select='@ID'/> <value-of select='@TYPE'/> / <name/></report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(r.findings[0].message, "LOG_3Chapter / mets:div");
}

#[test]
fn roles_map_to_classes_case_insensitively_and_no_role_defaults_to_error() {
    let body = "<pattern><rule context='mets:mets'>
        <report id='fatal' role='FATAL' test='true()'/>
        <report id='error' role='error' test='true()'/>
        <report id='caution' role='caution' test='true()'/>
        <report id='warn' role='Warn' test='true()'/>
        <report id='warning' role='warning' test='true()'/>
        <report id='info' role='info' test='true()'/>
        <report id='information' role='information' test='true()'/>
        <report id='hint' role='hint' test='true()'/>
        <report id='none' test='true()'/>
      </rule></pattern>";
    let r = run(body, DOC);
    let classes: Vec<Class> = r.findings.iter().map(|f| f.class).collect();
    use Class::*;
    assert_eq!(
        classes,
        [Error, Error, Warn, Warn, Warn, Info, Info, Info, Error]
    );
    assert_eq!(r.findings[0].role.as_deref(), Some("FATAL"));
    assert_eq!(r.findings[8].role, None);

    let options = CompileOptions {
        default_role: Class::Warn,
        ..Default::default()
    };
    let r = schema_with(body, &options)
        .validate_bytes(DOC.as_bytes())
        .unwrap();
    assert_eq!(r.findings[8].class, Class::Warn);
}

#[test]
fn a_rule_role_applies_to_its_checks_without_one() {
    let r = run(
        "<pattern><rule context='mets:mets' role='warning'>
           <report id='a' test='true()'/><report id='b' role='error' test='true()'/>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(r.findings[0].class, Class::Warn);
    assert_eq!(r.findings[1].class, Class::Error);
}

#[test]
fn verdicts() {
    let valid = run(
        "<pattern><rule context='mets:mets'><assert test='true()'/></rule></pattern>",
        DOC,
    );
    assert_eq!(valid.verdict(), Verdict::Valid);
    let warn = run(
        "<pattern><rule context='mets:mets'><report role='warn' test='true()'/><report role='info' test='true()'/></rule></pattern>",
        DOC,
    );
    assert_eq!(warn.verdict(), Verdict::ValidWarn);
    assert_eq!(warn.verdict().as_str(), "valid_warn");
    let invalid = run(
        "<pattern><rule context='mets:mets'><report role='warn' test='true()'/><report role='fatal' test='true()'/></rule></pattern>",
        DOC,
    );
    assert_eq!(invalid.verdict(), Verdict::Invalid);
}

#[test]
fn generated_ids_name_pattern_rule_and_check() {
    let r = run(
        "<pattern id='p'><rule context='mets:dmdSec'/><rule context='mets:mets'>
           <assert test='true()'/><report test='true()'/></rule></pattern>
         <pattern><rule context='mets:mets'><report test='true()'/></rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["p/2/2", "pattern2/1/1"]);
}

#[test]
fn locations_follow_the_xslt1_skeleton() {
    let r = run(
        "<pattern><rule context='mets:dmdSec | mets:structMap | mets:div[@ID=\"LOG_2\"] | @OBJID'>
           <report test='true()'/></rule></pattern>",
        DOC,
    );
    let locs: Vec<&str> = r.findings.iter().map(|f| f.location.as_str()).collect();
    let mets = format!("/*[local-name()='mets' and {M}]");
    assert_eq!(
        locs,
        [
            "/@OBJID".to_string(),
            format!("{mets}/*[local-name()='dmdSec' and {M}][1]"),
            format!("{mets}/*[local-name()='dmdSec' and {M}][2]"),
            format!("{mets}/*[local-name()='structMap' and {M}]"),
            format!("{mets}/*[local-name()='structMap' and {M}]/*[local-name()='div' and {M}]/*[local-name()='div' and {M}][1]"),
        ]
    );
}

#[test]
fn locations_without_namespace_use_names_and_the_root_rule_names_the_root_element() {
    let r = run(
        "<pattern><rule context='/'><report test='true()'/></rule></pattern>
         <pattern><rule context='b'><report test='true()'/></rule></pattern>
         <pattern><rule context='c'><report test='true()'/></rule></pattern>",
        "<a><b/><c/><b/></a>",
    );
    let locs: Vec<&str> = r.findings.iter().map(|f| f.location.as_str()).collect();
    assert_eq!(locs, ["/a", "/a/b[1]", "/a/b[2]", "/a/c"]);
}

#[test]
fn documents_go_through_the_hardened_parser() {
    let s = super::schema("<pattern><rule context='a'><report test='true()'/></rule></pattern>");
    assert!(matches!(
        s.validate_bytes(b"<a>"),
        Err(crate::xml::ParseError::Malformed { .. })
    ));
    let doctype = b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>";
    assert!(matches!(
        s.validate_bytes(doctype),
        Err(crate::xml::ParseError::EntityDeclaration { .. })
    ));
    assert_eq!(s.validate_bytes(b"<a/>").unwrap().findings.len(), 1);
}
