//! Rule contexts as XSLT match patterns and first-matching-rule-wins.

use super::{ids, run, DOC};

#[test]
fn only_the_first_matching_rule_of_a_pattern_fires_for_a_node() {
    let r = run(
        "<pattern id='p'>
           <rule context='mets:div[@TYPE=\"chapter\"]'><report id='specific' test='true()'/></rule>
           <rule context='mets:div'><report id='general' test='true()'/></rule>
         </pattern>",
        DOC,
    );
    // Document order: LOG_1 (general), LOG_2 (specific wins), LOG_3 (general).
    assert_eq!(ids(&r), ["general", "specific", "general"]);
    assert_eq!(r.fired_rules.len(), 3);
}

#[test]
fn rules_in_different_patterns_all_fire() {
    let r = run(
        "<pattern><rule context='mets:div[@TYPE=\"chapter\"]'><report id='one' test='true()'/></rule></pattern>
         <pattern><rule context='mets:div[@ID=\"LOG_2\"]'><report id='two' test='true()'/></rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["one", "two"]);
}

#[test]
fn attribute_contexts() {
    let r = run(
        "<pattern><rule context='@DMDID'>
           <assert id='ref' test='//mets:dmdSec[@ID = current()]'>dangling <value-of select='.'/></assert>
         </rule></pattern>
         <pattern><rule context='mets:div/@TYPE'>
           <assert id='lower' test='. = translate(., \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\", \"abcdefghijklmnopqrstuvwxyz\")'>
             <name/> not lower case</assert>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["ref", "lower"]);
    assert_eq!(r.findings[0].message, "dangling DMD9");
    assert_eq!(r.findings[0].location, "/@DMDID");
    assert_eq!(r.findings[1].message, "TYPE not lower case");
}

#[test]
fn union_contexts_fire_in_document_order() {
    let r = run(
        "<pattern><rule context='mets:structMap | mets:dmdSec'><report test='true()'><value-of select='local-name()'/></report></rule></pattern>",
        DOC,
    );
    let msgs: Vec<&str> = r.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(msgs, ["dmdSec", "dmdSec", "structMap"]);
}

#[test]
fn rooted_wildcard_and_node_type_contexts() {
    let doc = "<a><b>t</b><!--c--><b/></a>";
    let count = |context: &str| {
        run(
            &format!(
                "<pattern><rule context=\"{context}\"><report test='true()'/></rule></pattern>"
            ),
            doc,
        )
        .findings
        .len()
    };
    assert_eq!(count("/"), 1);
    assert_eq!(count("/a"), 1);
    assert_eq!(count("//b"), 2);
    assert_eq!(count("a/b[1]"), 1);
    assert_eq!(count("*"), 3);
    assert_eq!(count("node()"), 5);
    assert_eq!(count("text()"), 1);
    assert_eq!(count("comment()"), 1);
    assert_eq!(count("b[. = 't'] | a"), 2);
}

#[test]
fn a_rule_fires_once_per_node_even_when_its_union_matches_twice() {
    let r = run("<pattern><rule context='mets:div | mets:div[@DMDID]'><report test='true()'/></rule></pattern>", DOC);
    assert_eq!(r.findings.len(), 3);
}
