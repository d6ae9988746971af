//! Phases (`#ALL`, `#DEFAULT`, named) and `include`.

use super::{ids, wrap, DOC};
use crate::schematron::{CompileOptions, Schema};

const PHASED: &str = "
  <phase id='structure'><active pattern='s'/></phase>
  <phase id='metadata'><active pattern='m'/><active pattern='s'/></phase>
  <pattern id='s'><rule context='mets:structMap'><report id='S' test='true()'/></rule></pattern>
  <pattern id='m'><rule context='mets:dmdSec[1]'><report id='M' test='true()'/></rule></pattern>
  <pattern id='x'><rule context='mets:mets'><report id='X' test='true()'/></rule></pattern>";

fn with_phase(schema: &str, phase: Option<&str>) -> Vec<String> {
    let options = CompileOptions {
        phase: phase.map(str::to_string),
        ..Default::default()
    };
    let s = Schema::compile(schema.as_bytes(), &options).unwrap();
    ids(&s.validate_bytes(DOC.as_bytes()).unwrap())
        .into_iter()
        .map(str::to_string)
        .collect()
}

#[test]
fn all_phase_runs_every_pattern_in_schema_order() {
    assert_eq!(with_phase(&wrap(PHASED), Some("#ALL")), ["S", "M", "X"]);
    assert_eq!(with_phase(&wrap(PHASED), None), ["S", "M", "X"]);
}

#[test]
fn named_phase_runs_its_active_patterns() {
    assert_eq!(with_phase(&wrap(PHASED), Some("structure")), ["S"]);
    assert_eq!(with_phase(&wrap(PHASED), Some("metadata")), ["S", "M"]);
}

#[test]
fn phase_lets_are_defined_only_when_their_phase_runs() {
    let schema = wrap(
        "<phase id='p'><let name='n' value='count(//mets:dmdSec)'/><active pattern='a'/></phase>
         <pattern id='a'><rule context='mets:mets'><report id='N' test='$n = 2'/></rule></pattern>",
    );
    assert_eq!(with_phase(&schema, Some("p")), ["N"]);
    let e = Schema::compile(schema.as_bytes(), &CompileOptions::default()).unwrap_err();
    assert!(e.message.contains("undefined variable $n"), "{e}");
}

#[test]
fn default_phase_comes_from_the_schema() {
    let schema = wrap(PHASED).replacen("<schema ", "<schema defaultPhase='structure' ", 1);
    assert_eq!(with_phase(&schema, None), ["S"]);
    assert_eq!(with_phase(&schema, Some("#DEFAULT")), ["S"]);
    assert_eq!(with_phase(&schema, Some("#ALL")), ["S", "M", "X"]);
}

#[test]
fn an_unknown_phase_is_refused() {
    let options = CompileOptions {
        phase: Some("nope".into()),
        ..Default::default()
    };
    let e = Schema::compile(wrap(PHASED).as_bytes(), &options).unwrap_err();
    assert_eq!(e.construct, "phase");
    assert!(e.message.contains("nope"));
}

#[test]
fn includes_resolve_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("parts")).unwrap();
    std::fs::write(
        dir.path().join("parts/pattern.sch"),
        "<pattern xmlns='http://purl.oclc.org/dsdl/schematron' id='inc'>
           <rule context='mets:div'><include href='rule-body.sch'/><report id='P' test='false()'/></rule>
         </pattern>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("parts/rule-body.sch"),
        "<assert xmlns='http://purl.oclc.org/dsdl/schematron' id='I' test='@DMDID'/>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("parts/rule.sch"),
        "<rule xmlns='http://purl.oclc.org/dsdl/schematron' context='mets:mets'><report id='R' test='true()'/></rule>",
    )
    .unwrap();
    let main = wrap(
        "<include href='parts/pattern.sch'/><pattern><include href='parts/rule.sch'/></pattern>",
    );
    std::fs::write(dir.path().join("main.sch"), &main).unwrap();
    let s = Schema::compile_file(&dir.path().join("main.sch"), &CompileOptions::default()).unwrap();
    assert_eq!(ids(&s.validate_bytes(DOC.as_bytes()).unwrap()), ["I", "R"]);

    let missing = wrap("<include href='parts/none.sch'/>");
    let options = CompileOptions {
        base_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let e = Schema::compile(missing.as_bytes(), &options).unwrap_err();
    assert_eq!((e.construct.as_str(), e.line), ("include", 3));
    assert!(e.message.contains("none.sch"));
}
