//! `cargo bench --bench validate -- [OPTIONS] [LABEL=]PATH[@MIN-MAX] ...`
//!
//! Single-thread throughput of the Schematron engine with one schema (default
//! `schematron/zvdd.sch`, all phases) over sets of documents. Each set is a file or a
//! directory (searched recursively for `*.xml`), optionally restricted to files of
//! MIN–MAX KB (`synth-50k=/tmp/synth@45-55`). OAI-PMH envelopes are unwrapped as
//! `vitrine validate` does (an `xslt2` rule set gets the document as given); files
//! without METS are skipped and counted.
//!
//! For every set two figures are measured on one thread, each over whole passes through
//! the set until `--min-time` seconds have passed (at least one pass):
//! * `validate`: documents/s of `Schema::validate` on documents parsed beforehand;
//! * `parse+validate`: documents/s from the bytes (parse, unwrap, validate).
//!
//! Output: a table on stderr and one JSON object per set on stdout. `--findings FILE`
//! writes the findings of every document (JSON lines `{"file", "verdict", "findings":
//! [[rule_id, kind, location], ...]}`) for comparison with the reference processor
//! (`bench/validate/run.py`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vitrine::schematron::{CompileOptions, Schema};
use vitrine::validation::mets_document;
use vitrine::xml::ParseLimits;

/// The allocator the `vitrine` binary uses, so that the figures are the binary's; libxml2
/// is switched to it in `main` as the binary does (unless `VITRINE_BENCH_LIBXML_LIBC` is
/// set, to compare with the C library's allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Set {
    label: String,
    files: Vec<(PathBuf, Vec<u8>)>,
    skipped: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo bench --bench validate -- [--schema FILE] [--phase P] [--min-time SECS] \
         [--findings FILE] [LABEL=]PATH[@MINKB-MAXKB] ..."
    );
    std::process::exit(2)
}

fn xml_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "xml"))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

fn parse_set(arg: &str) -> (String, PathBuf, Option<(f64, f64)>) {
    let (label, rest) = match arg.split_once('=') {
        Some((l, r)) => (l.to_string(), r),
        None => (arg.to_string(), arg),
    };
    let (path, range) = match rest.rsplit_once('@') {
        Some((p, r)) => {
            let (lo, hi) = r.split_once('-').unwrap_or_else(|| usage());
            let lo: f64 = lo.parse().unwrap_or_else(|_| usage());
            let hi: f64 = hi.parse().unwrap_or_else(|_| usage());
            (p, Some((lo, hi)))
        }
        None => (rest, None),
    };
    (label, PathBuf::from(path), range)
}

/// Runs `f` over all items in whole passes until `min` has elapsed; documents/s.
fn measure<T>(items: &[T], min: Duration, mut f: impl FnMut(&T)) -> (f64, usize) {
    if items.is_empty() {
        return (0.0, 0);
    }
    let start = Instant::now();
    let mut done = 0usize;
    loop {
        for item in items {
            f(item);
        }
        done += items.len();
        if start.elapsed() >= min {
            break;
        }
    }
    (done as f64 / start.elapsed().as_secs_f64(), done)
}

fn main() {
    if std::env::var_os("VITRINE_BENCH_LIBXML_LIBC").is_none() {
        vitrine::xml::alloc::use_mimalloc();
    }
    let mut schema_path =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/schematron/zvdd.sch"));
    let mut phase: Option<String> = None;
    let mut min_time = 2.0f64;
    let mut findings_out: Option<PathBuf> = None;
    let mut set_args = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {} // passed by `cargo bench`
            "--schema" => schema_path = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            "--phase" => phase = Some(args.next().unwrap_or_else(|| usage())),
            "--min-time" => {
                min_time = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--findings" => findings_out = args.next().map(PathBuf::from),
            "-h" | "--help" => usage(),
            s if s.starts_with("--") => usage(),
            _ => set_args.push(a),
        }
    }
    if set_args.is_empty() {
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/samples");
        set_args.push(format!("corpus={corpus}"));
    }

    let options = CompileOptions {
        phase: phase.clone(),
        ..CompileOptions::default()
    };
    let schema = Schema::compile_file(&schema_path, &options).unwrap_or_else(|e| {
        eprintln!("cannot compile {}: {e}", schema_path.display());
        std::process::exit(2)
    });
    let limits = ParseLimits::default();
    // A rule set that reads the whole document (xslt2) gets it as given, envelope and
    // all; the others get the METS, as `vitrine validate` gives them.
    let whole = schema.reads_whole_document();
    let open = |bytes: &[u8]| -> Result<libxml::tree::Document, String> {
        if whole {
            vitrine::xml::parse(bytes, limits).map_err(|e| e.to_string())
        } else {
            mets_document(bytes, limits).map_err(|e| e.to_string())
        }
    };

    let mut sets = Vec::new();
    for arg in &set_args {
        let (label, path, range) = parse_set(arg);
        if !path.exists() {
            eprintln!("{}: no such file or directory", path.display());
            std::process::exit(2);
        }
        let mut files = Vec::new();
        let mut skipped = 0;
        for f in xml_files(&path) {
            let bytes = std::fs::read(&f).unwrap_or_else(|e| {
                eprintln!("{}: {e}", f.display());
                std::process::exit(2)
            });
            if let Some((lo, hi)) = range {
                let kb = bytes.len() as f64 / 1024.0;
                if kb < lo || kb > hi {
                    continue;
                }
            }
            if open(&bytes).is_ok() {
                files.push((f, bytes));
            } else {
                skipped += 1;
            }
        }
        sets.push(Set {
            label,
            files,
            skipped,
        });
    }

    if let Some(out) = &findings_out {
        let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap_or_else(|e| {
            eprintln!("{}: {e}", out.display());
            std::process::exit(2)
        }));
        for set in &sets {
            for (path, bytes) in &set.files {
                let doc = open(bytes).expect("checked above");
                let report = schema.validate(&doc);
                let findings: Vec<(&str, &str, &str)> = report
                    .findings
                    .iter()
                    .map(|f| {
                        let kind = match f.kind {
                            vitrine::schematron::Kind::Assert => "assert",
                            vitrine::schematron::Kind::Report => "report",
                        };
                        (&*f.rule_id, kind, f.location.as_str())
                    })
                    .collect();
                let line = serde_json::json!({
                    "file": path,
                    "verdict": report.verdict().as_str(),
                    "findings": findings,
                });
                writeln!(w, "{line}").expect("write findings");
            }
        }
    }

    let min = Duration::from_secs_f64(min_time);
    eprintln!(
        "schema {} (phase {}), one thread, >= {min_time} s per figure",
        schema_path.display(),
        phase.as_deref().unwrap_or("#DEFAULT")
    );
    eprintln!(
        "{:<16} {:>5} {:>8} {:>14} {:>16} {:>10}",
        "set", "docs", "avg KB", "validate/s", "parse+valid./s", "findings"
    );
    for set in &sets {
        let docs: Vec<_> = set
            .files
            .iter()
            .map(|(_, b)| open(b).expect("checked above"))
            .collect();
        let n_findings: usize = docs.iter().map(|d| schema.validate(d).findings.len()).sum();
        let (validate_rate, validate_runs) = measure(&docs, min, |d| {
            std::hint::black_box(schema.validate(d));
        });
        let (full_rate, full_runs) = measure(&set.files, min, |(_, b)| {
            let d = open(b).expect("checked above");
            std::hint::black_box(schema.validate(&d));
        });
        let bytes: usize = set.files.iter().map(|(_, b)| b.len()).sum();
        let avg_kb = if set.files.is_empty() {
            0.0
        } else {
            bytes as f64 / 1024.0 / set.files.len() as f64
        };
        eprintln!(
            "{:<16} {:>5} {:>8.1} {:>14.1} {:>16.1} {:>10}",
            set.label,
            set.files.len(),
            avg_kb,
            validate_rate,
            full_rate,
            n_findings
        );
        let line = serde_json::json!({
            "set": set.label,
            "docs": set.files.len(),
            "skipped_not_mets": set.skipped,
            "avg_kb": avg_kb,
            "findings": n_findings,
            "validate_docs_per_s": validate_rate,
            "validate_runs": validate_runs,
            "parse_validate_docs_per_s": full_rate,
            "parse_validate_runs": full_runs,
        });
        println!("{line}");
    }
}
