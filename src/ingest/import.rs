//! `vitrine import`: files and folders of METS into one domain, in parallel, with a
//! progress bar on a terminal and a summary. Every file is reported; one bad file never
//! stops the others.

use super::prepare;
use crate::domain::{Domain, DomainTree};
use crate::store::{PutOutcome, Store};
use crate::xml::ParseLimits;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files stored per database transaction.
const BATCH: usize = 256;

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    /// New records.
    pub created: usize,
    /// Records whose content changed.
    pub replaced: usize,
    /// Files identical to what was stored.
    pub unchanged: usize,
    /// (file, reason) of every file that was not imported.
    pub failed: Vec<(PathBuf, String)>,
}

impl ImportReport {
    /// Files seen.
    pub fn total(&self) -> usize {
        self.created + self.replaced + self.unchanged + self.failed.len()
    }
}

/// Lists the `.xml` files named by `paths` (files as given, folders recursively, sorted).
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    Ok(files)
}

/// Imports files into `domain`. Anchors and their children may come in any order.
pub async fn import(
    store: Arc<dyn Store>,
    tree: Arc<DomainTree>,
    domain: &Domain,
    files: Vec<PathBuf>,
    release: bool,
    limits: ParseLimits,
    show_progress: bool,
) -> ImportReport {
    let bar = crate::progress::records_bar(files.len() as u64, show_progress);
    let mut report = ImportReport::default();
    let chunks: Vec<Vec<PathBuf>> = files.chunks(BATCH).map(<[PathBuf]>::to_vec).collect();
    let prepare_chunk = |chunk: Vec<PathBuf>| {
        let tree = tree.clone();
        let domain_id = domain.id;
        tokio::task::spawn_blocking(move || {
            chunk
                .par_iter()
                .map(|path| {
                    let result = read_file(path).and_then(|bytes| {
                        prepare(&bytes, domain_id, &tree, None, release, limits)
                            .map_err(|e| e.to_string())
                    });
                    (path.clone(), result)
                })
                .collect::<Vec<_>>()
        })
    };
    // While one batch is written to the database, the next is prepared.
    let mut chunks = chunks.into_iter();
    let mut next = chunks.next().map(prepare_chunk);
    while let Some(job) = next.take() {
        let prepared = job.await.unwrap_or_default();
        next = chunks.next().map(prepare_chunk);
        let mut records = Vec::new();
        let mut paths = Vec::new();
        for (path, result) in prepared {
            match result {
                Ok(record) => {
                    records.push(record);
                    paths.push(path);
                }
                Err(reason) => report.failed.push((path, reason)),
            }
        }
        let now = chrono::Utc::now().timestamp();
        let results = store.put_records(&records, now).await;
        for (path, result) in paths.into_iter().zip(results) {
            match result {
                Ok(PutOutcome::Created) => report.created += 1,
                Ok(PutOutcome::Replaced) => report.replaced += 1,
                Ok(PutOutcome::Unchanged) => report.unchanged += 1,
                Err(e) => report.failed.push((path, e.to_string())),
            }
        }
        bar.set_position(report.total() as u64);
    }
    bar.finish_and_clear();
    if report.created + report.replaced >= 1000 {
        // The tables grew a lot: let the planner see it, or keyset pages may be planned
        // as scans.
        if let Err(e) = store.refresh_statistics().await {
            tracing::warn!("could not refresh database statistics: {e}");
        }
    }
    report
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}
