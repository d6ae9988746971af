//! Abstract patterns with parameters, abstract rules with `extends`, `let` at
//! schema, pattern and rule level, and diagnostics.

use super::{ids, run, DOC};

#[test]
fn abstract_patterns_are_instantiated_with_their_parameters() {
    let r = run(
        "<pattern abstract='true' id='has-attr'>
           <rule context='$element'>
             <assert test='@$attr' id='missing'>$element lacks $attr</assert>
             <assert test='$attrx' id='x'>never</assert>
           </rule>
         </pattern>
         <pattern is-a='has-attr' id='divs-have-dmdid'>
           <param name='element' value='mets:div'/>
           <param name='attr' value='DMDID'/>
           <param name='attrx' value='true()'/>
         </pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["missing"]);
    assert_eq!(
        r.findings[0].message, "mets:div lacks DMDID",
        "text is substituted too"
    );
    assert_eq!(r.findings[0].pattern.as_deref(), Some("divs-have-dmdid"));
    assert_eq!(r.findings[0].context.as_ref(), "mets:div");
    assert_eq!(
        r.active_patterns.len(),
        1,
        "the abstract pattern itself does not run"
    );
}

#[test]
fn abstract_rules_are_included_by_extends() {
    let r = run(
        "<pattern>
           <rule abstract='true' id='has-id'><assert id='id' test='@ID'>no ID</assert></rule>
           <rule abstract='true' id='typed'><extends rule='has-id'/><assert id='type' test='@TYPE'>no TYPE</assert></rule>
           <rule context='mets:dmdSec'><extends rule='has-id'/><report id='own' test='@ID = \"dmd 2\"'/></rule>
           <rule context='mets:structMap'><extends rule='typed'/></rule>
         </pattern>",
        r#"<mets:mets xmlns:mets="http://www.loc.gov/METS/"><mets:dmdSec/><mets:dmdSec ID="dmd 2"/><mets:structMap/></mets:mets>"#,
    );
    assert_eq!(ids(&r), ["id", "own", "id", "type"]);
}

#[test]
fn lets_at_schema_pattern_and_rule_level() {
    let r = run(
        "<let name='dmds' value='count(//mets:dmdSec)'/>
         <pattern>
           <let name='divs' value='count(//mets:div)'/>
           <rule context='mets:div'>
             <let name='me' value='@ID'/>
             <let name='twice' value='concat($me, $me)'/>
             <report id='r' test='$dmds = 2 and $divs = 3'><value-of select='$twice'/>:<value-of select='$dmds'/>/<value-of select='$divs'/></report>
           </rule>
         </pattern>",
        DOC,
    );
    let msgs: Vec<&str> = r.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(msgs, ["LOG_1LOG_1:2/3", "LOG_2LOG_2:2/3", "LOG_3LOG_3:2/3"]);
}

#[test]
fn schema_lets_are_evaluated_against_the_root() {
    let r = run(
        "<let name='root' value='name(*)'/>
         <pattern><rule context='mets:dmdSec'><report id='r' test='true()'><value-of select='$root'/></report></rule></pattern>",
        DOC,
    );
    assert_eq!(r.findings[0].message, "mets:mets");
}

#[test]
fn diagnostics_are_evaluated_in_the_rule_context() {
    let r = run(
        "<pattern><rule context='mets:div[@DMDID]'>
           <assert id='dmd' test='//mets:dmdSec[@ID = current()/@DMDID]' diagnostics='d1 d2'>dangling DMDID</assert>
         </rule></pattern>
         <diagnostics>
           <diagnostic id='d1'>DMDID is <value-of select='@DMDID'/></diagnostic>
           <diagnostic id='d2'>in <name/>: <value-of select='@ID'/></diagnostic>
         </diagnostics>",
        DOC,
    );
    assert_eq!(ids(&r), ["dmd"]);
    let d: Vec<(&str, &str)> = r.findings[0]
        .diagnostics
        .iter()
        .map(|d| (&*d.id, d.text.as_str()))
        .collect();
    assert_eq!(d, [("d1", "DMDID is DMD9"), ("d2", "in mets:div: LOG_3")]);
}
