//! The native evaluator against libxml2: the same schema compiled with and without it
//! must produce identical reports (findings, messages, locations, fired rules).

use super::{schema_with, CompileOptions, Schema};
use crate::validation::{mets_document, ZVDD_RULES};
use crate::xml::ParseLimits;
use std::path::{Path, PathBuf};

fn both(rules: &[u8]) -> (Schema, Schema) {
    let native = Schema::compile(rules, &CompileOptions::default()).unwrap();
    let libxml = Schema::compile(
        rules,
        &CompileOptions {
            native_xpath: false,
            ..CompileOptions::default()
        },
    )
    .unwrap();
    (native, libxml)
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

#[test]
fn every_expression_of_the_bundled_rules_is_evaluated_natively() {
    let (native, _) = both(ZVDD_RULES.as_bytes());
    let crate::schematron::Engine::Xslt1(compiled) = &native.inner else {
        panic!("the bundled rules run on the XPath 1.0 engine");
    };
    let left: Vec<&String> = compiled
        .exprs
        .iter()
        .zip(&compiled.native)
        .filter(|(_, n)| n.is_none())
        .map(|(e, _)| e)
        .collect();
    assert!(left.is_empty(), "left to libxml2: {left:#?}");
}

#[test]
fn the_bundled_rules_report_the_same_natively_and_in_libxml2_on_corpus_and_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus/samples");
    assert!(
        corpus.is_dir(),
        "the corpus is missing: expected METS samples in {}",
        corpus.display()
    );
    let (native, libxml) = both(ZVDD_RULES.as_bytes());
    let mut compared = 0;
    for file in xml_files(&corpus)
        .into_iter()
        .chain(xml_files(&root.join("fixtures/demo")))
    {
        let bytes = std::fs::read(&file).unwrap();
        let Ok(doc) = mets_document(&bytes, ParseLimits::default()) else {
            continue;
        };
        let a = native.validate(&doc);
        let b = libxml.validate(&doc);
        assert_eq!(a, b, "{} differs", file.display());
        compared += 1;
    }
    assert!(compared >= 50, "only {compared} METS documents compared");
}

/// Expressions at the edges of XPath 1.0, each reported through `value-of` (string
/// conversion) and as a test (boolean), on every element and attribute.
#[test]
fn crafted_expressions_agree_with_libxml2() {
    let exprs = [
        "preceding-sibling::*[1]/@n",
        "preceding-sibling::*[@n][2]/@n",
        "following-sibling::*[last()]/@n",
        "ancestor::*[1]/@n",
        "ancestor-or-self::*[2]/@n",
        "(//mets:div)[2]/@n",
        "(//mets:div[@n])[last()]/@n",
        "//mets:div[2]/@n",
        "//mets:div[position() > 1][1]/@n",
        "count(//mets:div | //mets:file)",
        "count(//mets:div[mets:div])",
        "count(descendant::node())",
        "count(descendant-or-self::text())",
        "count(../@*) + count(parent::*/*)",
        "sum(//@n)",
        "sum(//@x)",
        "number(@n) div 2",
        "number(@n) mod 3",
        "-number(@n)",
        "number('  12  ') + 1",
        "number('1e3')",
        "number('.5') * 2",
        "number('x')",
        "floor(number(@n) div 3)",
        "ceiling(number(@n) div 3)",
        "@n = 2",
        "@x = ''",
        "@x != ''",
        "@x = 'a'",
        "@nothing = ''",
        "@nothing != ''",
        "normalize-space(@nothing) = ''",
        "string-length(@x) + string-length(@nothing)",
        "@n != 2",
        "@n < //mets:div/@n",
        "//mets:div/@n = //mets:file/@n",
        "//mets:div/@n != 'b'",
        "@n > '1'",
        "true() = 'x'",
        "//mets:nothing = false()",
        "1 = '1.0'",
        "string(1 div 0)",
        "string(0 div 0)",
        "string(1 div 3)",
        "string(@n * 1.5)",
        "concat(name(), ':', local-name(), ':', string(@n))",
        "name(@*[1])",
        "normalize-space(.)",
        "normalize-space()",
        "string-length()",
        "string-length(normalize-space(.))",
        "substring(normalize-space(.), 2)",
        "substring(normalize-space(.), 0, 3)",
        "substring(normalize-space(.), 1.5, 2.6)",
        "substring('12345', 0 div 0, 3)",
        "substring-before(normalize-space(.), ' ')",
        "substring-after(normalize-space(.), ' ')",
        "translate(normalize-space(.), 'abc ', 'AB')",
        "starts-with(., 'T')",
        "contains(., 'ä')",
        "not(*) and text()",
        "boolean(@n) or boolean(*)",
        "mets:*[1]/@n",
        "*[self::mets:file]/@n",
        "text()[normalize-space() != ''][1]",
        "matches(string(@n), '^[0-9]$')",
        "lower-case(name())",
        "ends-with(name(), 'e')",
        "current()/@n",
        "key('by-n', @n)/@n",
        "count(key('by-n', //@n))",
        "count(/)",
        "/*/@n",
    ];
    let mut body = String::from(
        "<xsl:key xmlns:xsl='http://www.w3.org/1999/XSL/Transform' name='by-n' match='*[@n]' use='@n'/>\n\
         <pattern><rule context='*|@*'>\n",
    );
    for (i, e) in exprs.iter().enumerate() {
        let e = e
            .replace('\'', "&apos;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        body.push_str(&format!(
            "<report id='v{i}' test='true()'><value-of select='{e}'/></report>\n\
             <report id='b{i}' test='{e}'>true</report>\n"
        ));
    }
    body.push_str("</rule></pattern>");
    let native = schema_with(&body, &CompileOptions::default());
    let libxml = schema_with(
        &body,
        &CompileOptions {
            native_xpath: false,
            ..CompileOptions::default()
        },
    );
    let doc = format!(
        "<mets:mets xmlns:mets='{}' n='1'>\n  <mets:div n='2'>Title <b>ä</b> text\n    \
         <mets:div n='3'>abc def</mets:div><mets:div n='4'/>\n  </mets:div>\n  \
         <mets:file n='2' x='a'>  spaced   out  </mets:file><mets:div n='5'><!-- c --></mets:div>\n\
         </mets:mets>",
        super::METS
    );
    let a = native.validate_bytes(doc.as_bytes()).unwrap();
    let b = libxml.validate_bytes(doc.as_bytes()).unwrap();
    assert!(a.findings.len() > exprs.len() * 5, "{}", a.findings.len());
    for (x, y) in a.findings.iter().zip(&b.findings) {
        assert_eq!(x, y, "native (left) and libxml2 (right) differ");
    }
    assert_eq!(a, b);
    // Spot checks, so that agreement on a wrong answer cannot pass unnoticed.
    let messages = |id: &str| {
        let mut m: Vec<String> = a
            .findings
            .iter()
            .filter(|f| &*f.rule_id == id && !f.message.is_empty())
            .map(|f| f.message.clone())
            .collect();
        m.sort();
        m
    };
    assert_eq!(messages("v0"), ["2", "2", "3"]);
    assert!(messages("v9").iter().all(|m| m == "5"));
    assert_eq!(messages("v9").len(), 14, "elements and attributes");
}
