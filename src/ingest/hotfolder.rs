//! Hotfolders (`[ingest] watch`): the third way many viewers take exports. `vitrine serve`
//! looks at each folder every `watch_interval_seconds`; a `.xml` file whose size and
//! modification time stayed the same since the last look is complete. Complete files are
//! imported like `vitrine import` does it — files directly in the folder into the root
//! domain, files in `FOLDER/{dname}/` into that domain — and moved to `done/`, or to
//! `failed/` beside a `NAME.error` file holding the reason.

use super::checked::{ingest_files, IngestOptions, ValidateMode};
use crate::config::Config;
use crate::domain::{Clock, DomainTree};
use crate::store::{load_tree, Store};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Sub-folder complete imports are moved to.
pub const DONE: &str = "done";
/// Sub-folder refused files are moved to, each with a `.error` file.
pub const FAILED: &str = "failed";

/// What one look at the hotfolders did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    /// Files imported and moved to `done/`.
    pub imported: Vec<PathBuf>,
    /// Files refused and moved to `failed/`, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    /// Files still growing (or seen for the first time).
    pub waiting: usize,
}

/// The watcher's memory: each file's size and modification time at the last look.
#[derive(Debug)]
pub struct Hotfolders {
    seen: HashMap<PathBuf, (u64, Option<SystemTime>)>,
    clock: Clock,
}

impl Hotfolders {
    /// A watcher that has seen nothing yet; what it imports is dated by `clock`.
    pub fn new(clock: Clock) -> Self {
        Hotfolders {
            seen: HashMap::new(),
            clock,
        }
    }

    /// Looks at every configured hotfolder once and imports the complete files.
    pub async fn scan(
        &mut self,
        store: Arc<dyn Store>,
        tree: Arc<DomainTree>,
        config: &Config,
    ) -> ScanReport {
        let mut report = ScanReport::default();
        let mut now_seen = HashMap::new();
        let Some(root) = tree.root().map(|d| d.id) else {
            return report;
        };
        for folder in &config.ingest.watch {
            let mut targets = vec![(folder.clone(), root)];
            for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if entry.path().is_dir() && name != DONE && name != FAILED {
                    if let Some(domain) = tree.by_name(&name) {
                        targets.push((entry.path(), domain.id));
                    }
                }
            }
            for (dir, domain_id) in targets {
                let mut complete = Vec::new();
                for path in xml_files(&dir) {
                    let Ok(meta) = std::fs::metadata(&path) else {
                        continue;
                    };
                    let mark = (meta.len(), meta.modified().ok());
                    if self.seen.get(&path) == Some(&mark) {
                        complete.push(path);
                    } else {
                        report.waiting += 1;
                        now_seen.insert(path, mark);
                    }
                }
                if complete.is_empty() {
                    continue;
                }
                let options = IngestOptions {
                    release: config.ingest.watch_release,
                    validate: ValidateMode::Background,
                    reject_invalid: false,
                    limits: crate::xml::ParseLimits::with_max_bytes(
                        config.ingest.max_document_bytes,
                    ),
                    public_url: config.server.public_url.clone(),
                    clock: self.clock.clone(),
                };
                for file in
                    ingest_files(store.clone(), tree.clone(), domain_id, complete, &options).await
                {
                    match file.result {
                        Ok(_) => match move_to(&file.path, DONE) {
                            Ok(_) => report.imported.push(file.path),
                            Err(e) => {
                                tracing::error!(file = %file.path.display(), "imported, but {e}")
                            }
                        },
                        Err(reason) => {
                            let reason = reason.to_string();
                            match move_to(&file.path, FAILED) {
                                Ok(moved) => {
                                    let mut error = moved.into_os_string();
                                    error.push(".error");
                                    if let Err(e) = std::fs::write(&error, format!("{reason}\n")) {
                                        tracing::error!(file = %file.path.display(), "cannot write the .error file: {e}");
                                    }
                                }
                                Err(e) => {
                                    tracing::error!(file = %file.path.display(), "refused ({reason}), and {e}")
                                }
                            }
                            tracing::warn!(file = %file.path.display(), "hotfolder file refused: {reason}");
                            report.failed.push((file.path, reason));
                        }
                    }
                }
            }
        }
        self.seen = now_seen;
        report
    }
}

/// The `.xml` files directly in `dir`, sorted.
fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")))
        .collect();
    files.sort();
    files
}

/// Moves a file into the sub-folder `to` beside it (created when missing); returns the
/// new path. A file of the same name there is replaced.
fn move_to(path: &Path, to: &str) -> Result<PathBuf, String> {
    let dir = path.parent().unwrap_or(Path::new(".")).join(to);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let target = dir.join(path.file_name().unwrap_or_default());
    std::fs::rename(path, &target)
        .map_err(|e| format!("cannot move it to {}: {e}", target.display()))?;
    Ok(target)
}

/// Starts watching the configured hotfolders (none configured: nothing is started).
pub fn spawn(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: Clock,
) -> Option<tokio::task::JoinHandle<()>> {
    if config.ingest.watch.is_empty() {
        return None;
    }
    for folder in &config.ingest.watch {
        tracing::info!(folder = %folder.display(), "watching hotfolder");
    }
    Some(tokio::spawn(async move {
        let mut hotfolders = Hotfolders::new(clock);
        let interval = Duration::from_secs(config.ingest.watch_interval_seconds.max(1));
        loop {
            tokio::time::sleep(interval).await;
            match load_tree(store.as_ref(), config.clone()).await {
                Ok(tree) => {
                    let report = hotfolders
                        .scan(store.clone(), Arc::new(tree), &config)
                        .await;
                    if !report.imported.is_empty() || !report.failed.is_empty() {
                        tracing::info!(
                            imported = report.imported.len(),
                            failed = report.failed.len(),
                            "hotfolder import"
                        );
                    }
                }
                Err(e) => tracing::error!("hotfolder: cannot read the domains: {e}"),
            }
        }
    }))
}
