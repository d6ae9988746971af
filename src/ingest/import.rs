//! `vitrine import`: files and folders of METS into one domain, in parallel, with a
//! progress bar on a terminal and a summary. Every file is reported; one bad file never
//! stops the others, but a failing database does: the import stops at the first storage
//! failure, names its cause once and lists what was not imported. Files of one import
//! that carry the same local id are refused together, so that the result never depends on
//! the order of the files.

use super::prepare;
use crate::domain::{Clock, Domain, DomainTree};
use crate::store::{PutOutcome, PutRecord, Store, StoreError};
use crate::xml::ParseLimits;
use futures_util::FutureExt;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Read;
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
    /// Set when the database failed: the import stopped there.
    pub stopped: Option<StorageFailure>,
}

/// The database failure that stopped an import, and the files it left unimported.
#[derive(Debug, Clone)]
pub struct StorageFailure {
    /// The database's error, as it reported it the first time.
    pub cause: String,
    /// Whether the failure is transient (database unreachable or locked, storage full).
    pub transient: bool,
    /// Files not stored because of it: those of the failed transaction and every file
    /// after it, in import order.
    pub not_imported: Vec<PathBuf>,
}

impl ImportReport {
    /// Files accounted for: stored, refused, or left unimported by a storage failure.
    pub fn total(&self) -> usize {
        self.created
            + self.replaced
            + self.unchanged
            + self.failed.len()
            + self.stopped.as_ref().map_or(0, |s| s.not_imported.len())
    }

    /// Files whose record is stored as the file has it (created, replaced or unchanged).
    pub fn committed(&self) -> usize {
        self.created + self.replaced + self.unchanged
    }
}

/// How an import treats its records.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Release the imported records.
    pub release: bool,
    /// Parser limits.
    pub limits: ParseLimits,
    /// Show a progress bar (on a terminal).
    pub show_progress: bool,
    /// Where the datestamps of the stored records are read.
    pub clock: Clock,
}

impl ImportOptions {
    /// Default parser limits and no progress bar: what imports from code use.
    pub fn new(release: bool, clock: Clock) -> ImportOptions {
        ImportOptions {
            release,
            limits: ParseLimits::default(),
            show_progress: false,
            clock,
        }
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
    options: ImportOptions,
) -> ImportReport {
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
        clock,
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
    let domain_id = domain.id;
    let prepare_file = move |path: &Path| {
        read_document(path, limits.max_bytes).and_then(|bytes| {
            prepare(&bytes, domain_id, &tree, None, release, limits).map_err(|e| e.to_string())
        })
    };
    let steps = Steps {
        prepare_file: Arc::new(prepare_file),
        clock,
        bar,
    };
    import_with(store, files, steps, stop, report).await
}

/// What preparing one file gives: a record to store, or why the file is refused.
type Prepared = Result<PutRecord, String>;

/// How the import loop prepares a file, dates what it stores and shows its progress.
struct Steps {
    prepare_file: Arc<dyn Fn(&Path) -> Prepared + Send + Sync>,
    clock: Clock,
    bar: indicatif::ProgressBar,
}

/// The import loop, with the preparation of a file as a parameter: prepares one batch
/// while the previous one is stored, until every file is done, `stop` completes, or the
/// database fails.
async fn import_with(
    store: Arc<dyn Store>,
    files: Vec<PathBuf>,
    steps: Steps,
    stop: impl Future<Output = ()>,
    mut report: ImportReport,
) -> ImportReport {
    let Steps {
        prepare_file,
        clock,
        bar,
    } = steps;
    let mut stop = std::pin::pin!(stop);
    let chunks: Vec<Vec<PathBuf>> = files.chunks(BATCH).map(<[PathBuf]>::to_vec).collect();
    let prepare_chunk = |chunk: Vec<PathBuf>| {
        let prepare_file = prepare_file.clone();
        let paths = chunk.clone();
        let job = tokio::task::spawn_blocking(move || {
            chunk
                .par_iter()
                .map(|path| (path.clone(), prepare_guarded(&*prepare_file, path)))
                .collect::<Vec<_>>()
        });
        (paths, job)
    };
    // While one batch is written to the database, the next is prepared.
    let mut chunks = chunks.into_iter();
    let mut next = chunks.next().map(prepare_chunk);
    while let Some((chunk_paths, job)) = next.take() {
        let joined = tokio::select! {
            biased;
            _ = &mut stop => {
                report.interrupted = true;
                break;
            }
            joined = job => joined,
        };
        let prepared = match joined {
            Ok(prepared) => prepared,
            // The preparing task itself failed (it was cancelled or a panic escaped):
            // every file of the chunk is still reported.
            Err(e) => chunk_paths
                .into_iter()
                .map(|path| (path, Err(format!("could not be prepared: {e}"))))
                .collect(),
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
        let results = store.put_records(&records, clock.now()).await;
        for (path, result) in paths.into_iter().zip(results) {
            match result {
                Ok(PutOutcome::Created) => report.created += 1,
                Ok(PutOutcome::Replaced) => report.replaced += 1,
                Ok(PutOutcome::Unchanged) => report.unchanged += 1,
                Err(e @ StoreError::Other(_)) => {
                    let transient = e.is_transient();
                    let stopped = report.stopped.get_or_insert_with(|| StorageFailure {
                        cause: format!("{e:#}"),
                        transient,
                        not_imported: Vec::new(),
                    });
                    stopped.not_imported.push(path);
                }
                Err(e) => {
                    report.transient += usize::from(e.is_transient());
                    report.failed.push((path, e.to_string()));
                }
            }
        }
        if let Some(stopped) = &mut report.stopped {
            // Nothing more is written to a failing database; what is being prepared is
            // dropped unstored.
            if let Some((paths, job)) = next.take() {
                job.abort();
                stopped.not_imported.extend(paths);
            }
            stopped.not_imported.extend(chunks.by_ref().flatten());
            break;
        }
        bar.set_position(report.total() as u64);
        if next.is_some() && stop.as_mut().now_or_never().is_some() {
            report.interrupted = true;
            break;
        }
    }
    bar.finish_and_clear();
    if (report.created + report.replaced) as u64 >= crate::store::REFRESH_STATISTICS_AFTER
        && report.stopped.is_none()
    {
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
    let all = files.clone();
    let ids = tokio::task::spawn_blocking(move || {
        files
            .into_par_iter()
            .map(|path| {
                let id = read_document(&path, limits.max_bytes).and_then(|bytes| {
                    match crate::formats::mets_scan::local_id(&bytes, limits) {
                        Some(id) => Ok((id, IdRead::Scanned)),
                        None => full_local_id(&bytes, limits).map(|id| (id, IdRead::Parsed)),
                    }
                });
                (path, id)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_else(|e| {
        // The reading task itself failed: every file is still reported.
        all.into_iter()
            .map(|path| (path, Err(format!("could not be read: {e}"))))
            .collect()
    });
    let ids = confirm_shared_ids(ids, limits);
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

/// How a file's local id was read in the first pass.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdRead {
    /// By the streaming scan, which does not check everything libxml2 checks.
    Scanned,
    /// By libxml2.
    Parsed,
}

fn full_local_id(bytes: &[u8], limits: ParseLimits) -> Result<Option<String>, String> {
    crate::formats::mets::local_id(bytes, limits).map_err(|e| e.to_string())
}

/// The ids of the first pass, with those that the streaming scan found shared by several
/// files read again by libxml2: a file it refuses (malformed beyond what the scan sees)
/// is reported for that and shares its id with no other file, as when every file was
/// parsed.
#[allow(clippy::type_complexity)]
fn confirm_shared_ids(
    ids: Vec<(PathBuf, Result<(Option<String>, IdRead), String>)>,
    limits: ParseLimits,
) -> Vec<(PathBuf, Result<Option<String>, String>)> {
    let mut count: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (_, id) in &ids {
        if let Ok((Some(id), _)) = id {
            *count.entry(id.as_str()).or_default() += 1;
        }
    }
    let shared: std::collections::HashSet<String> = count
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id.to_string())
        .collect();
    ids.into_iter()
        .map(|(path, id)| {
            let id = match id {
                Ok((Some(id), IdRead::Scanned)) if shared.contains(&id) => {
                    read_document(&path, limits.max_bytes)
                        .and_then(|bytes| full_local_id(&bytes, limits))
                }
                other => other.map(|(id, _)| id),
            };
            (path, id)
        })
        .collect()
}

/// Prepares one file; a panic while preparing it refuses that file alone.
fn prepare_guarded(
    prepare_file: &(dyn Fn(&Path) -> Prepared + Send + Sync),
    path: &Path,
) -> Prepared {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prepare_file(path))).unwrap_or_else(
        |panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_string());
            Err(format!(
                "internal error while preparing the file: {message}"
            ))
        },
    )
}

/// Reads a document file, refusing it by its size before reading it when it is larger
/// than `max_bytes` (and reading no more than `max_bytes + 1` bytes should it grow).
pub fn read_document(path: &Path, max_bytes: usize) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    let too_large =
        |size: u64| format!("document of {size} bytes exceeds the limit of {max_bytes} bytes");
    if size > max_bytes as u64 {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_preparing_a_file_refuses_that_file_alone_and_every_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/vitrine.db", dir.path().display());
        let store: Arc<dyn Store> = Arc::new(crate::store::open(&url, 2).await.unwrap());
        let files: Vec<PathBuf> = (0..3)
            .map(|i| dir.path().join(format!("{i}.xml")))
            .collect();
        let prepare_file: Arc<dyn Fn(&Path) -> Prepared + Send + Sync> = Arc::new(|path: &Path| {
            if path.ends_with("1.xml") {
                panic!("this file cannot be prepared");
            }
            Err("not METS".to_string())
        });
        let steps = Steps {
            prepare_file,
            clock: crate::domain::ManualClock::at(1_700_000_000).clock(),
            bar: indicatif::ProgressBar::hidden(),
        };
        let report = import_with(
            store,
            files.clone(),
            steps,
            std::future::pending(),
            ImportReport::default(),
        )
        .await;
        assert_eq!(report.total(), 3);
        let mut failed = report.failed.clone();
        failed.sort();
        assert_eq!(
            failed,
            vec![
                (files[0].clone(), "not METS".to_string()),
                (
                    files[1].clone(),
                    "internal error while preparing the file: this file cannot be prepared"
                        .to_string()
                ),
                (files[2].clone(), "not METS".to_string()),
            ]
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused_by_its_size_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse.xml");
        // Sparse: 8 GiB that reading would have to allocate.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(8 << 30)
            .unwrap();
        assert_eq!(
            read_document(&path, 1024),
            Err("document of 8589934592 bytes exceeds the limit of 1024 bytes".to_string())
        );
        std::fs::write(&path, b"<a/>").unwrap();
        assert_eq!(read_document(&path, 4), Ok(b"<a/>".to_vec()));
        assert!(read_document(&dir.path().join("missing.xml"), 4)
            .unwrap_err()
            .starts_with("cannot read: "));
    }
}
