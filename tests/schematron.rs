//! The verdicts of `schematron/zvdd.sch` written down in `schematron/README.md`
//! ("Urteile über den Korpus") are the engine's: for every listed corpus sample and
//! fixture the verdict and the error/warn/info counts must match exactly, and every
//! sample and fixture must be listed. A rule change that flips a verdict fails here;
//! regenerate the table with `tests/reference/verdicts.py` (the reference run) and
//! check that the engine agrees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vitrine::schematron::{Class, CompileOptions, Schema};
use vitrine::validation::{validate, ValidateError};
use vitrine::xml::ParseLimits;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Debug, PartialEq)]
struct Row {
    verdict: String,
    error: usize,
    warn: usize,
    info: usize,
}

/// The verdict table: file (as written: `samples/…` or `fixtures/…`) → row.
fn readme_table() -> BTreeMap<String, Row> {
    let readme = std::fs::read_to_string(Path::new(REPO).join("schematron/README.md"))
        .expect("schematron/README.md");
    let section = readme
        .split("## Urteile über den Korpus")
        .nth(1)
        .expect("README has a section 'Urteile über den Korpus'");
    let mut rows = BTreeMap::new();
    for line in section.lines() {
        if line.starts_with("## ") || line.starts_with("### ") {
            break;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() != 5 || cells[0] == "file" || cells[0].starts_with("---") {
            continue;
        }
        let n = |s: &str| {
            s.parse::<usize>()
                .unwrap_or_else(|_| panic!("bad count {s:?} in README row {line:?}"))
        };
        let row = Row {
            verdict: cells[1].to_string(),
            error: n(cells[2]),
            warn: n(cells[3]),
            info: n(cells[4]),
        };
        assert!(
            rows.insert(cells[0].to_string(), row).is_none(),
            "{} is listed twice",
            cells[0]
        );
    }
    assert!(
        !rows.is_empty(),
        "the verdict table in schematron/README.md is empty"
    );
    rows
}

fn corpus_dir() -> PathBuf {
    let dir = Path::new(REPO).join("../shared/corpus");
    assert!(
        dir.join("samples").is_dir(),
        "the shared corpus is missing: expected {} (with samples/) beside the repository",
        dir.display()
    );
    dir
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "xml"))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

/// Where a table entry lives on disk.
fn resolve(name: &str, corpus: &Path) -> PathBuf {
    if name.starts_with("fixtures/") {
        Path::new(REPO).join(name)
    } else {
        corpus.join(name)
    }
}

fn engine_row(schema: &Schema, path: &Path) -> Row {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match validate(&bytes, std::slice::from_ref(schema), ParseLimits::default()) {
        Ok(report) => Row {
            verdict: report.verdict().as_str().to_string(),
            error: report.count(Class::Error),
            warn: report.count(Class::Warn),
            info: report.count(Class::Info),
        },
        Err(ValidateError::NotMets(_)) => Row {
            verdict: "not-mets".into(),
            error: 0,
            warn: 0,
            info: 0,
        },
        Err(ValidateError::Xml(e)) => Row {
            verdict: format!("not-xml ({e})"),
            error: 0,
            warn: 0,
            info: 0,
        },
    }
}

#[test]
fn zvdd_verdicts_match_the_readme_table() {
    let corpus = corpus_dir();
    let table = readme_table();
    let schema = Schema::compile_file(
        &Path::new(REPO).join("schematron/zvdd.sch"),
        &CompileOptions::default(),
    )
    .expect("zvdd.sch compiles");
    let mut mismatches = Vec::new();
    for (name, want) in &table {
        let path = resolve(name, &corpus);
        assert!(
            path.is_file(),
            "{name} is listed in schematron/README.md but {} does not exist",
            path.display()
        );
        let got = engine_row(&schema, &path);
        if &got != want {
            mismatches.push(format!(
                "{name}: README says {want:?}, the engine gives {got:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "verdicts differ from schematron/README.md (regenerate the table with \
         tests/reference/verdicts.py if a rule or fixture changed on purpose):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn every_sample_and_fixture_is_in_the_readme_table() {
    let corpus = corpus_dir();
    let table = readme_table();
    let mut missing = Vec::new();
    for path in xml_files(&corpus.join("samples")) {
        let name = path
            .strip_prefix(&corpus)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !table.contains_key(&name) {
            missing.push(name);
        }
    }
    for path in xml_files(&Path::new(REPO).join("fixtures/demo")) {
        let name = path
            .strip_prefix(REPO)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !table.contains_key(&name) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "not in the verdict table of schematron/README.md (regenerate it with \
         tests/reference/verdicts.py): {missing:?}"
    );
}
