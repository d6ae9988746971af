//! SVRL shape and JSON output, merging, and sharing a schema across threads.

use super::{run, schema, DOC};
use crate::schematron::output::{to_json, to_svrl};
use crate::xml::{parse, ParseLimits};
use libxml::xpath::Context;

const BODY: &str = "<title>Demo</title>
  <pattern id='p1' ><title>Divs</title>
    <rule context='mets:div' id='r-div'>
      <assert id='dmd' test='@DMDID' role='warn' flag='f' see='http://example.org/dmd' diagnostics='d'>no DMDID on <value-of select='@ID'/></assert>
    </rule>
  </pattern>
  <pattern id='p2'><rule context='mets:mets'><report id='obj' role='info' test='@OBJID'>OBJID <value-of select='@OBJID'/></report></rule></pattern>
  <diagnostics><diagnostic id='d'>TYPE <value-of select='@TYPE'/></diagnostic></diagnostics>";

fn xpath_count(ctx: &Context, xpath: &str) -> usize {
    ctx.evaluate(xpath).unwrap().get_number_of_nodes()
}

#[test]
fn svrl_has_the_iso_shape() {
    let svrl = to_svrl(&run(BODY, DOC));
    let doc = parse(svrl.as_bytes(), ParseLimits::default()).expect("SVRL is well-formed");
    let ctx = Context::new(&doc).unwrap();
    ctx.register_namespace("svrl", "http://purl.oclc.org/dsdl/svrl")
        .unwrap();
    let count = |x: &str| xpath_count(&ctx, x);
    assert_eq!(count("/svrl:schematron-output[@title='Demo']"), 1);
    assert_eq!(count("/*/svrl:ns-prefix-in-attribute-values[@prefix='mets' and @uri='http://www.loc.gov/METS/']"), 1);
    assert_eq!(
        count("/*/svrl:active-pattern[@id='p1' and @name='Divs']"),
        1
    );
    assert_eq!(
        count("/*/svrl:fired-rule[@context='mets:div' and @id='r-div']"),
        3
    );
    assert_eq!(count("/*/svrl:fired-rule[@context='mets:mets']"), 1);
    let fa = "/*/svrl:failed-assert[@id='dmd' and @test='@DMDID' and @role='warn' and @flag='f' and @see='http://example.org/dmd']";
    assert_eq!(count(fa), 1);
    assert_eq!(
        count(&format!("{fa}/svrl:text[. = 'no DMDID on LOG_2']")),
        1
    );
    assert_eq!(
        count(&format!(
            "{fa}/svrl:diagnostic-reference[@diagnostic='d' and . = 'TYPE chapter']"
        )),
        1
    );
    assert_eq!(
        count(&format!(
            "{fa}[contains(@location, \"[local-name()='div'\")]"
        )),
        1
    );
    // The failed assert follows the second fired div rule; the report follows p2's rule.
    assert_eq!(count("/*/svrl:failed-assert[preceding-sibling::svrl:fired-rule[1][@context='mets:div'] and count(preceding-sibling::svrl:fired-rule) = 2]"), 1);
    assert_eq!(count("/*/svrl:successful-report[@id='obj' and preceding-sibling::svrl:active-pattern[1][@id='p2']]/svrl:text[. = 'OBJID o1']"), 1);
}

#[test]
fn json_output() {
    let v = to_json("a.xml", &run(BODY, DOC));
    assert_eq!(v["file"], "a.xml");
    assert_eq!(v["verdict"], "valid_warn");
    assert_eq!(v["findings"][0]["rule_id"], "dmd");
    assert_eq!(v["findings"][0]["class"], "warn");
    assert_eq!(v["findings"][0]["kind"], "assert");
    assert_eq!(v["findings"][0]["diagnostics"][0]["id"], "d");
    assert_eq!(v["findings"][0]["diagnostics"][0]["text"], "TYPE chapter");
    assert_eq!(v["findings"][1]["message"], "OBJID o1");
}

#[test]
fn several_schemas_merge_their_findings() {
    let a = schema(BODY);
    let b = schema("<pattern id='q'><rule context='mets:dmdSec'><report id='dmdsec' test='true()'/></rule></pattern>");
    let doc = parse(DOC.as_bytes(), ParseLimits::default()).unwrap();
    let merged = crate::schematron::validate_all(&[a, b], &doc);
    let ids: Vec<&str> = merged.findings.iter().map(|f| &*f.rule_id).collect();
    assert_eq!(ids, ["dmd", "obj", "dmdsec", "dmdsec"]);
    assert_eq!(merged.active_patterns.len(), 3);
    assert_eq!(merged.verdict().as_str(), "invalid");
    let svrl = to_svrl(&merged);
    let p = svrl.find("active-pattern id=\"q\"").unwrap();
    assert!(svrl[p..].contains("id=\"dmdsec\""));
}

#[test]
fn a_schema_is_shared_by_threads_with_identical_results() {
    let s = schema(BODY);
    let expected = s.validate_bytes(DOC.as_bytes()).unwrap();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = &s;
                scope.spawn(move || {
                    (0..25)
                        .map(|_| s.validate_bytes(DOC.as_bytes()).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for report in h.join().unwrap() {
                assert_eq!(report, expected);
            }
        }
    });
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<crate::schematron::Schema>();
}
