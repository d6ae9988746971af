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

#[test]
fn step_paths_with_predicates_match_as_their_selection_does() {
    let doc = "<a xmlns:m='http://www.loc.gov/METS/' xmlns:x='urn:x'>\
               <m:s T='L'><m:d I='1'><m:d I='2' x:k='v'/></m:d><d/></m:s>\
               <m:s T='P'><m:d><m:p/></m:d></m:s>\
               <b><m:d I=' 3 '/></b></a>";
    let count = |context: &str| {
        run(
            &format!(
                "<ns prefix='x' uri='urn:x'/>\
                 <pattern><rule context=\"{context}\"><report test='true()'/></rule></pattern>"
            ),
            doc,
        )
        .findings
        .len()
    };
    assert_eq!(count("mets:s[@T='L']//mets:d"), 2);
    assert_eq!(count("mets:s[@T = 'P']/mets:d"), 1);
    assert_eq!(count("mets:s//mets:d[not(@I)]"), 1);
    assert_eq!(count("mets:d[mets:d]"), 1);
    assert_eq!(count("mets:d[not(mets:p)][@I]"), 3);
    assert_eq!(count("d | /a/b/mets:d"), 2);
    assert_eq!(count("/mets:s"), 0);
    assert_eq!(count("mets:*"), 7);
    assert_eq!(count("mets:s/*[1]"), 2);
    assert_eq!(count("@x:k | mets:d/@I"), 4);
    assert_eq!(count("mets:d[@x:k = 'v']"), 1);
    assert_eq!(count("mets:d[normalize-space(@I) = '3']"), 1);
}

#[test]
fn keys_with_simple_and_general_patterns_and_uses() {
    let r = run(
        "<xsl:key xmlns:xsl='http://www.w3.org/1999/XSL/Transform' name='n' match='mets:div' use='normalize-space(@ID)'/>\
         <xsl:key xmlns:xsl='http://www.w3.org/1999/XSL/Transform' name='a' match='*[@ID]' use='@ID'/>\
         <xsl:key xmlns:xsl='http://www.w3.org/1999/XSL/Transform' name='t' match='mets:div[1]' use='string(@TYPE)'/>\
         <pattern><rule context='mets:mets'>\
           <report id='n' test='count(key(\"n\", \"\")) = 0'/>\
           <report id='a' test='count(key(\"a\", \"LOG_2\")) = 1'/>\
           <report id='t' test='key(\"t\", \"chapter\")'/>\
         </rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["n", "a", "t"]);
}

#[test]
fn lets_read_from_the_nearest_ancestor_with_an_attribute() {
    let doc = "<mets:mets xmlns:mets='http://www.loc.gov/METS/'>\
               <mets:fileGrp USE=' A  B '><mets:fileGrp><mets:file ID='f1'/></mets:fileGrp>\
               <mets:fileGrp USE='C'><mets:file ID='f2'/></mets:fileGrp></mets:fileGrp>\
               <mets:file ID='f3'/></mets:mets>";
    let r = run(
        "<pattern><rule context='mets:file'>\
           <let name='use' value='normalize-space(ancestor::mets:fileGrp[@USE][1]/@USE)'/>\
           <report test='true()'><value-of select='@ID'/>=<value-of select='$use'/>;</report>\
         </rule></pattern>",
        doc,
    );
    let msgs: Vec<&str> = r.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(msgs, ["f1=A B;", "f2=C;", "f3=;"]);
}
