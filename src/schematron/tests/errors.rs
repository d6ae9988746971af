//! Everything the engine cannot honour is a compile error with construct and line.

use super::compile_error;
use crate::schematron::{CompileOptions, Schema};

#[test]
fn let_with_xslt_content() {
    let e = compile_error("<pattern><rule context='a'>\n<let name='x'><xsl:value-of xmlns:xsl='http://www.w3.org/1999/XSL/Transform' select='1'/></let></rule></pattern>");
    assert_eq!((e.construct.as_str(), e.line), ("let", 4));
    assert!(e.message.contains("$x"));
    assert!(
        e.message.contains("XSLT instructions (xsl:value-of)"),
        "{}",
        e.message
    );
}

#[test]
fn a_let_holding_an_inline_tree_is_refused_by_what_it_holds() {
    let e = compile_error("<pattern><rule context='a'>\n<let name='t'><uris xmlns='urn:m'><uri>u</uri></uris></let></rule></pattern>");
    assert_eq!((e.construct.as_str(), e.line), ("let", 4));
    assert!(
        e.message.contains("an inline XML tree (<uris>)"),
        "{}",
        e.message
    );
}

#[test]
fn unknown_function_names_the_function_and_line() {
    let e = compile_error(
        "<pattern>\n<rule context='a'>\n<assert test='tokenize(., \",\")'/></rule></pattern>",
    );
    assert_eq!((e.construct.as_str(), e.line), ("assert/@test", 5));
    assert!(e.message.contains("tokenize()"), "{}", e.message);
    let e = compile_error("<pattern><rule context='a'><report test='true()'><value-of select='exsl:node-set(.)'/></report></rule></pattern>");
    assert!(e.message.contains("exsl:node-set()"), "{}", e.message);
    assert_eq!(e.construct, "value-of/@select");
}

#[test]
fn bad_xpath_syntax() {
    let e = compile_error("<pattern><rule context='a['><assert test='1'/></rule></pattern>");
    assert_eq!(e.construct, "rule/@context");
    assert!(e.message.contains("bad XPath"));
    let e = compile_error("<pattern><rule context='a'><assert test='1 +'/></rule></pattern>");
    assert_eq!(e.construct, "assert/@test");
}

#[test]
fn missing_extends_target_and_unknown_is_a() {
    let e = compile_error("<pattern><rule context='a'><extends rule='nope'/></rule></pattern>");
    assert_eq!(e.construct, "extends");
    assert!(e.message.contains("'nope'"));
    let e = compile_error("<pattern is-a='nothing' id='p'/>");
    assert_eq!(e.construct, "pattern/@is-a");
}

#[test]
fn unsupported_query_binding_and_unknown_diagnostic() {
    let schema = "<schema xmlns='http://purl.oclc.org/dsdl/schematron' queryBinding='xslt3'/>";
    let e = Schema::compile(schema.as_bytes(), &CompileOptions::default()).unwrap_err();
    assert_eq!(e.construct, "schema/@queryBinding");
    let e = compile_error(
        "<pattern><rule context='a'><assert test='1' diagnostics='d'/></rule></pattern>",
    );
    assert!(e.message.contains("'d'"));
}

#[test]
fn xslt_elsewhere_than_a_top_level_key() {
    let e =
        compile_error("<xsl:function xmlns:xsl='http://www.w3.org/1999/XSL/Transform' name='f'/>");
    assert_eq!(e.construct, "xsl:function");
    let e = compile_error("<pattern><rule context='a'><xsl:variable xmlns:xsl='http://www.w3.org/1999/XSL/Transform' name='v'/></rule></pattern>");
    assert_eq!(e.construct, "xsl:variable");
}

#[test]
fn unimplemented_schematron_constructs_are_not_skipped() {
    let e = compile_error("<group id='g'><rule context='a'><assert test='1'/></rule></group>");
    assert_eq!((e.construct.as_str(), e.line), ("group", 3));
    let e = compile_error("<pattern documents='doc(\"x.xml\")'><rule context='a'/></pattern>");
    assert_eq!(e.construct, "pattern/@documents");
    let e = compile_error("<pattern><rule context='a' visit-each='b'/></pattern>");
    assert_eq!(e.construct, "rule/@visit-each");
    let e = compile_error("<pattern><rule context='a'><extends href='x.sch'/></rule></pattern>");
    assert_eq!(e.construct, "extends/@href");
    let e = compile_error("<pattern><assert test='1'/></pattern>");
    assert_eq!(e.construct, "assert");
}

#[test]
fn undeclared_namespace_prefixes() {
    let e = compile_error("<pattern><rule context='mods:mods'><assert test='1'/></rule></pattern>");
    assert_eq!(e.construct, "rule/@context");
    assert!(e.message.contains("'mods'"), "{}", e.message);
    let e = compile_error(
        "<pattern><rule context='mets:mets'><assert test='@xlink:href'/></rule></pattern>",
    );
    assert_eq!(e.construct, "assert/@test");
    assert!(e.message.contains("'xlink'"), "{}", e.message);
}

#[test]
fn a_document_that_is_not_a_schema() {
    let e = Schema::compile(b"<pattern/>", &CompileOptions::default()).unwrap_err();
    assert!(e.message.contains("root element"));
    let e = Schema::compile(b"<schema", &CompileOptions::default()).unwrap_err();
    assert!(e.message.contains("not well-formed"));
}

#[test]
fn undefined_variables_and_unsupplied_parameters() {
    let e =
        compile_error("<pattern><rule context='a'>\n<assert test='$nope = 1'/></rule></pattern>");
    assert_eq!((e.construct.as_str(), e.line), ("assert/@test", 4));
    assert!(e.message.contains("$nope"), "{}", e.message);
    let e = compile_error(
        "<pattern abstract='true' id='abs'><rule context='$el'><assert test='@$attr'/></rule></pattern>
         <pattern is-a='abs' id='p'><param name='el' value='a'/></pattern>",
    );
    assert!(e.message.contains("$attr"), "{}", e.message);
    // Rule lets are visible to their rule only; global lets everywhere.
    let e = compile_error(
        "<let name='g' value='1'/>
         <pattern><rule context='a'><let name='l' value='$g'/><assert test='$l'/></rule>
         <rule context='b'><assert test='$l'/></rule></pattern>",
    );
    assert!(e.message.contains("$l"), "{}", e.message);
}
