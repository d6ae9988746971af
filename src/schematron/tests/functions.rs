//! xsl:key with key(), current() and the XPath 2.0 string functions.

use super::{compile_error, ids, run, schema, DOC};

fn messages(body: &str, doc: &str) -> Vec<String> {
    run(body, doc)
        .findings
        .into_iter()
        .map(|f| f.message)
        .collect()
}

#[test]
fn xsl_key_indexes_nodes_for_key() {
    let r = run(
        "<xsl:key xmlns:xsl='http://www.w3.org/1999/XSL/Transform' name='dmd' match='mets:dmdSec' use='@ID'/>
         <pattern><rule context='mets:div[@DMDID]'>
           <assert id='k' test=\"key('dmd', @DMDID)\">dangling <value-of select='@DMDID'/></assert>
           <report id='n' test=\"count(key('dmd', //mets:dmdSec/@ID)) = 2\">both</report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["n", "k", "n"]);
    assert_eq!(r.findings[1].message, "dangling DMD9");
}

#[test]
fn matches_with_and_without_flags() {
    let m = messages(
        "<pattern><rule context='mets:div'>
           <report test=\"matches(@TYPE, '^chap')\">plain <value-of select='@ID'/></report>
           <report test=\"matches(@TYPE, '^CHAP', 'i')\">flag <value-of select='@ID'/></report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(m, ["plain LOG_2", "flag LOG_2", "flag LOG_3"]);
}

#[test]
fn xml_name_and_class_subtraction_in_schema_regexes() {
    let m = messages(
        r"<pattern><rule context='mets:dmdSec'>
           <assert test='matches(@ID, &quot;^\i\c*$&quot;)'>bad ID '<value-of select='@ID'/>'</assert>
           <report test='matches(@ID, &quot;^[A-Z-[AEIOU]]+\d$&quot;)'>consonants <value-of select='@ID'/></report>
           <report test='matches(@ID, &quot;^\w+$&quot;)'>word <value-of select='@ID'/></report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(m, ["consonants DMD1", "word DMD1", "bad ID 'dmd 2'"]);
}

#[test]
fn replace_with_back_references_and_escapes() {
    let m = messages(
        r"<pattern><rule context='mets:mets'>
           <report test='true()'><value-of select='replace(&quot;2024-05-01&quot;, &quot;(\d+)-(\d+)-(\d+)&quot;, &quot;$3.$2.$1&quot;)'/></report>
           <report test='true()'><value-of select='replace(&quot;a.b&quot;, &quot;\.&quot;, &quot;\$&quot;)'/></report>
           <report test='true()'><value-of select='replace(&quot;AbA&quot;, &quot;a&quot;, &quot;x&quot;, &quot;i&quot;)'/></report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(m, ["01.05.2024", "a$b", "xbx"]);
}

#[test]
fn case_and_ends_with_functions_also_in_the_fn_namespace() {
    let m = messages(
        "<ns prefix='fn' uri='http://www.w3.org/2005/xpath-functions'/>
         <pattern><rule context='mets:div[@ID=\"LOG_3\"]'>
           <report test='true()'><value-of select='upper-case(@TYPE)'/>/<value-of select='lower-case(@TYPE)'/></report>
           <report test=\"ends-with(@ID, '_3') and fn:ends-with(@ID, '3')\">ends</report>
           <report test=\"fn:matches(fn:upper-case(@ID), '^LOG')\">fn</report>
         </rule></pattern>",
        DOC,
    );
    assert_eq!(m, ["CHAPTER/chapter", "ends", "fn"]);
}

#[test]
fn a_regex_known_only_at_run_time_is_reported_not_skipped() {
    let r = run(
        "<pattern><rule context='mets:mets'><assert id='re' test=\"matches('x', concat('(a)\\', '1'))\"/></rule></pattern>",
        DOC,
    );
    assert_eq!(ids(&r), ["re"]);
    assert!(
        r.findings[0].message.contains("back-reference"),
        "{}",
        r.findings[0].message
    );
}

#[test]
fn untranslatable_literal_regexes_are_compile_errors() {
    let e = compile_error(
        "<pattern><rule context='a'>\n<assert test=\"matches(., '\\p{IsGreek}')\"/></rule></pattern>",
    );
    assert_eq!((e.construct.as_str(), e.line), ("assert/@test", 4));
    assert!(e.message.contains("IsGreek"), "{}", e.message);
    let e = compile_error(
        "<let name='rx' value=\"'(a)\\1'\"/>
         <pattern><rule context='a'><report test='replace(., $rx, \"b\")'/></rule></pattern>",
    );
    assert!(e.message.contains("back-reference"), "{}", e.message);
    let e = compile_error(
        "<pattern><rule context='a'><report test=\"matches(., 'a', 'q')\"/></rule></pattern>",
    );
    assert!(e.message.contains("flag 'q'"), "{}", e.message);
}

#[test]
fn compiled_expressions_are_reused_across_documents() {
    let s = schema("<pattern><rule context='mets:div'><assert test=\"matches(@TYPE, '^[a-z]+$')\"/></rule></pattern>");
    for _ in 0..3 {
        assert_eq!(s.validate_bytes(DOC.as_bytes()).unwrap().findings.len(), 1);
    }
}
