//! `vitrine import`: files and folders of METS into one domain, in parallel, with a
//! progress bar on a terminal and a summary. Every file is reported; one bad file never
//! stops the others. Files of one import that carry the same local id are refused
//! together, so that the result never depends on the order of the files.

use super::prepare;
use crate::domain::{Domain, DomainTree};
use crate::store::{PutOutcome, Store};
use crate::xml::ParseLimits;
use futures_util::FutureExt;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::future::Future;
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
    /// How many of the failures were transient storage failures (database unreachable or
    /// locked, storage full): trying again later may succeed.
    pub transient: usize,
    /// Files the import was given.
    pub files: usize,
    /// Whether the import was stopped before it saw every file.
    pub interrupted: bool,
}

impl ImportReport {
    /// Files seen.
    pub fn total(&self) -> usize {
        self.created + self.replaced + self.unchanged + self.failed.len()
    }

    /// Files whose record is stored as the file has it (created, replaced or unchanged).
    pub fn committed(&self) -> usize {
        self.created + self.replaced + self.unchanged
    }
}

/// How an import treats its records.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Release the imported records.
    pub release: bool,
    /// Parser limits.
    pub limits: ParseLimits,
    /// Show a progress bar (on a terminal).
    pub show_progress: bool,
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
    let options = ImportOptions {
        release,
        limits,
        show_progress,
    };
    import_until(store, tree, domain, files, options, std::future::pending()).await
}

/// Imports files into `domain` until `stop` completes (Ctrl-C): the batch being stored
/// is finished, no further one is started, and the report says `interrupted`.
///
/// The local ids of all files are read first; files sharing one are refused, each with
/// the names of the others, and the rest is imported.
pub async fn import_until(
    store: Arc<dyn Store>,
    tree: Arc<DomainTree>,
    domain: &Domain,
    files: Vec<PathBuf>,
    options: ImportOptions,
    stop: impl Future<Output = ()>,
) -> ImportReport {
    let ImportOptions {
        release,
        limits,
        show_progress,
    } = options;
    let bar = crate::progress::records_bar(files.len() as u64, show_progress);
    let mut report = ImportReport {
        files: files.len(),
        ..ImportReport::default()
    };
    let mut stop = std::pin::pin!(stop);
    let files = tokio::select! {
        biased;
        _ = &mut stop => {
            report.interrupted = true;
            return report;
        }
        checked = refuse_collisions(files, limits, &mut report) => checked,
    };
    bar.set_position(report.total() as u64);
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
        let prepared = tokio::select! {
            biased;
            _ = &mut stop => {
                report.interrupted = true;
                break;
            }
            prepared = job => prepared.unwrap_or_default(),
        };
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
                Err(e) => {
                    report.transient += usize::from(e.is_transient());
                    report.failed.push((path, e.to_string()));
                }
            }
        }
        bar.set_position(report.total() as u64);
        if next.is_some() && stop.as_mut().now_or_never().is_some() {
            report.interrupted = true;
            break;
        }
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

/// Reads the local id of every file (in parallel) and refuses the files whose id another
/// file of this import has too, and those that have none; returns the others.
async fn refuse_collisions(
    files: Vec<PathBuf>,
    limits: ParseLimits,
    report: &mut ImportReport,
) -> Vec<PathBuf> {
    let ids = tokio::task::spawn_blocking(move || {
        files
            .into_par_iter()
            .map(|path| {
                let id = read_file(&path).and_then(|bytes| {
                    crate::formats::mets::local_id(&bytes, limits).map_err(|e| e.to_string())
                });
                (path, id)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let mut by_id: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut order = Vec::new();
    for (path, id) in ids {
        match id {
            // No id: `prepare` refuses the file with the precise reason.
            Ok(None) => order.push((path, None)),
            Ok(Some(id)) => {
                by_id.entry(id.clone()).or_default().push(path.clone());
                order.push((path, Some(id)));
            }
            Err(reason) => report.failed.push((path, reason)),
        }
    }
    let mut keep = Vec::new();
    for (path, id) in order {
        match id.as_ref().and_then(|id| by_id.get(id).map(|f| (id, f))) {
            Some((id, same)) if same.len() > 1 => {
                let others: Vec<String> = same
                    .iter()
                    .filter(|p| **p != path)
                    .map(|p| p.display().to_string())
                    .collect();
                report.failed.push((
                    path,
                    format!(
                        "local id {id:?} is also the id of {} in this import; none of these \
                         files was imported (remove all but one)",
                        others.join(", ")
                    ),
                ));
            }
            _ => keep.push(path),
        }
    }
    keep
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}
