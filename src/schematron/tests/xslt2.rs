//! Rule sets under query binding `xslt2`: XSLT patterns with first-match per pattern,
//! element-only visits, lets holding XSLT instructions or XML trees, keys over both, and
//! dynamic errors stopping the document as they stop the XSLT validator.

use super::{ids, METS};
use crate::schematron::{CompileOptions, Report, Schema};

fn wrap2(body: &str) -> String {
    format!(
        "<schema xmlns='http://purl.oclc.org/dsdl/schematron' \
         xmlns:xsl='http://www.w3.org/1999/XSL/Transform' queryBinding='xslt2'>\n\
         <ns prefix='mets' uri='{METS}'/>\n<ns prefix='m' uri='urn:maps'/>\n{body}\n</schema>"
    )
}

fn schema2(body: &str) -> Schema {
    Schema::compile(wrap2(body).as_bytes(), &CompileOptions::default())
        .unwrap_or_else(|e| panic!("schema refused: {e}"))
}

fn run2(body: &str, doc: &str) -> Report {
    schema2(body)
        .validate_bytes(doc.as_bytes())
        .expect("document parses")
}

const DOC2: &str = r#"<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink">
  <mets:dmdSec ID="DMD1"/>
  <mets:dmdSec ID="DMD2"/>
  <mets:dmdSec ID="DMD3"/>
  <mets:structMap TYPE="LOGICAL">
    <mets:div ID="LOG_1" DMDID="DMD1 DMD2" TYPE="monograph">
      <mets:div ID="LOG_2" DMDID="DMD3" TYPE="chapter"/>
    </mets:div>
  </mets:structMap>
</mets:mets>"#;

#[test]
fn the_first_matching_rule_of_a_pattern_fires_and_attribute_contexts_never_do() {
    let report = run2(
        "<pattern>
           <rule context='mets:div[@TYPE = (\"chapter\", \"article\")]'><report id='first' test='true()'/></rule>
           <rule context='mets:div'><report id='second' test='true()'/></rule>
         </pattern>
         <pattern><rule context='mets:div/@ID'><report id='attribute' test='true()'/></rule></pattern>
         <pattern><rule context='mets:*'><report id='any' test='self::mets:dmdSec'/></rule></pattern>",
        DOC2,
    );
    assert_eq!(
        ids(&report),
        ["second", "first", "any", "any", "any"],
        "{:#?}",
        report.findings
    );
    let located: Vec<&str> = report.findings[..2]
        .iter()
        .map(|f| f.location.as_str())
        .collect();
    assert_eq!(
        located,
        [
            "/*[local-name()='mets' and namespace-uri()='http://www.loc.gov/METS/']\
             /*[local-name()='structMap' and namespace-uri()='http://www.loc.gov/METS/']\
             /*[local-name()='div' and namespace-uri()='http://www.loc.gov/METS/']",
            "/*[local-name()='mets' and namespace-uri()='http://www.loc.gov/METS/']\
             /*[local-name()='structMap' and namespace-uri()='http://www.loc.gov/METS/']\
             /*[local-name()='div' and namespace-uri()='http://www.loc.gov/METS/']\
             /*[local-name()='div' and namespace-uri()='http://www.loc.gov/METS/']",
        ]
    );
}

#[test]
fn a_let_of_xslt_instructions_holds_the_text_they_write() {
    // As the DDB's work_dmdid: the ids of the first logical div that have a dmdSec.
    let body = "<let name='work'>
           <xsl:variable name='root'><xsl:copy-of select='/'/></xsl:variable>
           <xsl:for-each select=\"tokenize(//mets:structMap[@TYPE='LOGICAL']/descendant::mets:div[1]/@DMDID, ' ')\">
             <xsl:variable name='ID' select='.'/>
             <xsl:if test='$root//mets:dmdSec[@ID=$ID]'><xsl:value-of select='$ID'/></xsl:if>
           </xsl:for-each>
         </let>
         <pattern><rule context='mets:dmdSec[@ID = $work]'><report id='primary' test='true()'>
           <value-of select='$work'/></report></rule></pattern>
         <pattern><rule context='mets:div[contains(@DMDID, $work)]'>
           <let name='ids' value='tokenize(@DMDID, \" \")'/>
           <report id='count' test='count($ids) = 2'><value-of select='$ids'/></report></rule></pattern>";
    let report = run2(body, DOC2);
    assert_eq!(
        ids(&report),
        Vec::<&str>::new(),
        "DMD1DMD2 is no dmdSec's ID"
    );
    let single = DOC2.replace("DMD1 DMD2", "DMD1 DMD9");
    let report = run2(body, &single);
    assert_eq!(ids(&report), ["primary", "count"], "{:#?}", report.findings);
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages, ["DMD1", "DMD1 DMD9"]);
}

#[test]
fn keys_index_the_document_and_inline_trees_and_can_start_a_context() {
    let body = "<let name='codes'><codes xmlns='urn:maps'><code>monograph</code><code>chapter</code></codes></let>
         <xsl:key name='codes' match='m:codes/m:code' use='text()'/>
         <xsl:key name='dmd' match='mets:div[@DMDID]' use=\"tokenize(@DMDID, ' ')\"/>
         <pattern><rule context='mets:div'>
           <assert id='known' test=\"key('codes', @TYPE, $codes)\"><value-of select='@TYPE'/></assert>
         </rule></pattern>
         <pattern><rule context=\"key('dmd', 'DMD3')\"><report id='by-key' test='true()'/></rule></pattern>
         <pattern><rule context='mets:dmdSec'>
           <assert id='referenced' test=\"key('dmd', @ID)\"><value-of select='@ID'/></assert>
         </rule></pattern>";
    let report = run2(body, DOC2);
    assert_eq!(ids(&report), ["by-key"], "{:#?}", report.findings);
    let changed = DOC2
        .replace("chapter", "Chapter")
        .replace("DMDID=\"DMD3\"", "DMDID=\"DMD4\"");
    let report = run2(body, &changed);
    assert_eq!(ids(&report), ["known", "referenced"]);
    assert_eq!(report.findings[0].message, "Chapter");
    assert_eq!(report.findings[1].message, "DMD3");
}

#[test]
fn a_positional_predicate_in_a_context_counts_siblings_that_pass_the_test() {
    let report = run2(
        "<pattern><rule context='mets:mets/mets:dmdSec[2]'><report id='second' test='true()'>
           <value-of select='@ID'/></report></rule></pattern>
         <pattern><rule context='mets:dmdSec[not(@ID = \"DMD1\")][1]'><report id='first-other' test='true()'>
           <value-of select='@ID'/></report></rule></pattern>",
        DOC2,
    );
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(ids(&report), ["second", "first-other"]);
    assert_eq!(messages, ["DMD2", "DMD2"]);
}

#[test]
fn a_dynamic_error_stops_the_document_with_its_code() {
    let doc = "<mets:mets xmlns:mets='http://www.loc.gov/METS/'><mets:note>a<mets:b/>b</mets:note></mets:mets>";
    let report = run2(
        "<pattern><rule context='mets:mets'><report id='seen' test='true()'/></rule></pattern>
         <pattern><rule context='mets:note'><assert id='len' test='string-length(text()) &gt; 0'/></rule></pattern>",
        doc,
    );
    assert_eq!(ids(&report), ["schema"], "{:#?}", report.findings);
    let f = &report.findings[0];
    assert!(
        f.message.starts_with("dynamic error XPTY0004"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("string-length(text()) > 0"),
        "{}",
        f.message
    );
    assert_eq!(&*f.test, "string-length(text()) > 0");
    let fine = doc.replace("<mets:b/>b", "");
    assert_eq!(
        ids(&run2(
            "<pattern><rule context='mets:note'><assert id='len' test='string-length(text()) &gt; 0'/></rule></pattern>",
            &fine
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn what_the_engine_does_not_run_is_refused_with_its_line() {
    let refused = |body: &str| {
        Schema::compile(wrap2(body).as_bytes(), &CompileOptions::default())
            .expect_err("must be refused")
    };
    let e = refused("<pattern><rule context='mets:mets'>\n<assert test='unknown-function(.)'/></rule></pattern>");
    assert_eq!(e.line, 5, "{e}");
    assert!(e.message.contains("unknown-function"), "{e}");
    let e = refused("<xsl:function name='m:f'/>");
    assert_eq!(e.construct, "xsl:function");
    let e = refused("<phase id='p'/>");
    assert_eq!(e.construct, "phase");
    let e = refused("<let name='x'><xsl:choose/></let>");
    assert_eq!(e.construct, "xsl:choose");
    let e = refused(
        "<pattern><rule context='mets:div/preceding::mets:div'><report test='1'/></rule></pattern>",
    );
    assert_eq!(e.construct, "rule/@context");
}

#[test]
fn the_ddb_rule_sets_compile() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ddb-schematron");
    assert!(
        dir.is_dir(),
        "the shared corpus is missing: expected {} beside the repository",
        dir.display()
    );
    for (name, rules) in [
        (
            "ddb_validierung_mets-mods-ap-digitalisierte-medien.sch",
            137,
        ),
        (
            "ddb_validierung_mets-mods-ap-digitalisierte-zeitungen.sch",
            91,
        ),
    ] {
        let schema = Schema::compile_file(&dir.join(name), &CompileOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(schema.size().1, rules, "{name}");
        assert!(schema.reads_whole_document());
    }
}

#[test]
fn an_oai_envelope_is_part_of_what_an_xslt2_rule_set_reads() {
    let envelope = format!(
        "<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'><GetRecord><record><metadata>{}</metadata></record></GetRecord></OAI-PMH>",
        DOC2.replace("<?xml version=\"1.0\"?>", "")
    );
    let xslt2 = Schema::compile(
        wrap2(
            "<ns prefix='oai' uri='http://www.openarchives.org/OAI/2.0/'/>
             <pattern><rule context='oai:record/oai:metadata/element()[local-name() = \"mets\"]'>
               <report id='wrapped' test='true()'/></rule></pattern>",
        )
        .as_bytes(),
        &CompileOptions::default(),
    )
    .unwrap();
    let xslt1 = super::schema(
        "<pattern><rule context='/mets:mets'><report id='bare' test='true()'/></rule></pattern>",
    );
    let report =
        crate::validation::validate(envelope.as_bytes(), &[xslt2, xslt1], Default::default())
            .unwrap();
    assert_eq!(ids(&report), ["wrapped", "bare"]);
}

#[test]
fn a_context_naming_an_absent_element_still_raises_what_its_predicates_raise() {
    let doc = "<mets:mets xmlns:mets='http://www.loc.gov/METS/'><mets:note>a<mets:b/>b</mets:note></mets:mets>";
    // `mets:absent` is nowhere, but the predicate on `mets:note` is evaluated first (as
    // the XSLT validator tests a pattern from its last step up) and raises.
    let report = run2(
        "<pattern><rule context='mets:absent/mets:note[string-length(text()) &gt; 0]'>
           <report id='never' test='true()'/></rule></pattern>",
        doc,
    );
    assert_eq!(ids(&report), ["schema"], "{:#?}", report.findings);
    assert!(report.findings[0].message.contains("XPTY0004"));
    // A predicate that only compares names cannot raise: nothing is reported.
    let report = run2(
        "<pattern><rule context='mets:absent/element()[local-name() = \"note\"]'>
           <report id='never' test='true()'/></rule></pattern>
         <pattern><rule context='mets:mets/element()[local-name() = \"note\"]'>
           <report id='note' test='true()'/></rule></pattern>",
        doc,
    );
    assert_eq!(ids(&report), ["note"]);
}
