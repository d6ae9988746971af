//! The rule sets a domain validates with (`jobs.oai_output_validator.rules`): the bundled
//! `zvdd.sch` by its name `zvdd`, any other ISO Schematron file by its absolute path
//! (the DDB's METS/MODS rule sets, a library's own). Each file is read and compiled once
//! per process, on first use — `vitrine serve`, `check-config` and `domain set` use it
//! before anything else does, so a rule set that cannot run stops them with the file and
//! line, and is never skipped. A changed file is read again only by a new process.
//!
//! A rule set is named by its file name without `.sch` (`ddb_validierung_mets-mods-ap-
//! digitalisierte-medien`); the name is stored with every finding. A list's version
//! names each set with the first 12 hex digits of the SHA-256 of its bytes
//! (`zvdd@1a2b3c4d5e6f+ddb@0f1e2d3c4b5a`); results stored under another version are
//! stale, and the next validator run validates their records again.

use super::{zvdd, ZVDD_RULES};
use crate::domain::DEFAULT_RULE_SET;
use crate::schematron::{CompileOptions, Schema};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

/// One compiled rule set.
#[derive(Debug)]
pub struct RuleSet {
    /// `zvdd`, or the file name without `.sch`.
    pub name: String,
    /// `zvdd`, or the path as configured.
    pub source: String,
    /// The first 12 hex digits of the SHA-256 of its bytes.
    pub version: String,
    /// The compiled schema.
    pub schema: Schema,
}

impl RuleSet {
    /// Whether this is the bundled rule set, whose rules the repairs answer and whose
    /// titles and links the pages show.
    pub fn is_bundled(&self) -> bool {
        self.name == DEFAULT_RULE_SET
    }
}

/// Why a list of rule sets cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    /// The list is empty: a domain validated with nothing would pass every record.
    #[error("no rule set is listed; name at least one (\"zvdd\" for the bundled rules)")]
    Empty,
    /// An entry is neither `zvdd` nor an absolute path (relative paths would depend on the
    /// working directory of whichever process reads them).
    #[error("rule set {0:?} is neither \"zvdd\" nor the absolute path of a Schematron file")]
    NotAPath(String),
    /// Two entries give rule sets of the same name (findings are stored by name).
    #[error(
        "rule sets {first:?} and {second:?} are both named {name:?} (a rule set is named \
         by its file name without .sch); rename one of the files"
    )]
    SameName {
        /// The name.
        name: String,
        /// The first entry.
        first: String,
        /// The second entry.
        second: String,
    },
    /// A file named like the bundled rule set.
    #[error(
        "rule set {0:?} would be named \"zvdd\", the name of the bundled rule set; \
         rename the file"
    )]
    BundledName(String),
    /// The file cannot be read.
    #[error("rule set {path}: cannot read it: {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The file does not compile (SPEC §5: every construct the engine cannot honour is
    /// reported with its line).
    #[error("rule set {path}, line {line}: {construct}: {message}")]
    DoesNotCompile {
        /// The file.
        path: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// The construct refused.
        construct: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The rule sets of one domain, in the configured order.
#[derive(Debug, Clone)]
pub struct RuleSets {
    sets: Vec<Arc<RuleSet>>,
    version: String,
}

impl RuleSets {
    /// Reads and compiles (once per process) the rule sets `entries` name.
    pub fn load(entries: &[String]) -> Result<RuleSets, RuleSetError> {
        check_entries(entries)?;
        let sets = entries
            .iter()
            .map(|entry| load_one(entry))
            .collect::<Result<Vec<_>, _>>()?;
        let version = sets
            .iter()
            .map(|s| format!("{}@{}", s.name, s.version))
            .collect::<Vec<_>>()
            .join("+");
        Ok(RuleSets { sets, version })
    }

    /// The bundled rule set alone.
    pub fn bundled() -> Result<RuleSets, RuleSetError> {
        RuleSets::load(&[DEFAULT_RULE_SET.to_string()])
    }

    /// The rule sets, in the configured order.
    pub fn sets(&self) -> &[Arc<RuleSet>] {
        &self.sets
    }

    /// The version stored with each result (see the module documentation).
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// How a rule is named where rules of several sets meet (a record's reason, a run's
/// report): a rule of the bundled set by its id, any other as `set:id`.
pub fn qualified_rule(rule_set: &str, rule_id: &str) -> String {
    if rule_set == DEFAULT_RULE_SET {
        rule_id.to_string()
    } else {
        format!("{rule_set}:{rule_id}")
    }
}

/// Checks the entries of a list without reading any file: not empty, each `zvdd` or an
/// absolute path, no two of the same name. What `DomainConfig::check` runs.
pub fn check_entries(entries: &[String]) -> Result<(), RuleSetError> {
    if entries.is_empty() {
        return Err(RuleSetError::Empty);
    }
    let mut names: Vec<(String, &String)> = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = name_of(entry)?;
        if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
            return Err(RuleSetError::SameName {
                name,
                first: (*first).clone(),
                second: entry.clone(),
            });
        }
        names.push((name, entry));
    }
    Ok(())
}

/// The name of the rule set an entry gives.
fn name_of(entry: &str) -> Result<String, RuleSetError> {
    if entry == DEFAULT_RULE_SET {
        return Ok(entry.to_string());
    }
    let path = Path::new(entry);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty());
    match stem {
        Some(_) if !path.is_absolute() => Err(RuleSetError::NotAPath(entry.to_string())),
        Some(stem) if stem == DEFAULT_RULE_SET => Err(RuleSetError::BundledName(entry.to_string())),
        Some(stem) => Ok(stem),
        None => Err(RuleSetError::NotAPath(entry.to_string())),
    }
}

/// The rule sets compiled in this process, by entry.
fn compiled() -> &'static RwLock<HashMap<String, Arc<RuleSet>>> {
    static COMPILED: OnceLock<RwLock<HashMap<String, Arc<RuleSet>>>> = OnceLock::new();
    COMPILED.get_or_init(Default::default)
}

/// One rule set, compiled on first use.
fn load_one(entry: &str) -> Result<Arc<RuleSet>, RuleSetError> {
    if let Some(set) = compiled().read().ok().and_then(|c| c.get(entry).cloned()) {
        return Ok(set);
    }
    let set = Arc::new(if entry == DEFAULT_RULE_SET {
        bundled_set()?
    } else {
        file_set(entry)?
    });
    if let Ok(mut c) = compiled().write() {
        c.entry(entry.to_string()).or_insert_with(|| set.clone());
    }
    Ok(set)
}

fn bundled_set() -> Result<RuleSet, RuleSetError> {
    let schema = zvdd().map_err(|e| RuleSetError::DoesNotCompile {
        path: "zvdd (bundled)".into(),
        line: e.line,
        construct: e.construct,
        message: e.message,
    })?;
    Ok(RuleSet {
        name: DEFAULT_RULE_SET.to_string(),
        source: DEFAULT_RULE_SET.to_string(),
        version: digest(ZVDD_RULES.as_bytes()),
        schema: schema.clone(),
    })
}

fn file_set(entry: &str) -> Result<RuleSet, RuleSetError> {
    let name = name_of(entry)?;
    let path = PathBuf::from(entry);
    let bytes = std::fs::read(&path).map_err(|e| RuleSetError::Unreadable {
        path: entry.to_string(),
        message: e.to_string(),
    })?;
    let options = CompileOptions {
        base_dir: path.parent().map(Path::to_path_buf),
        ..CompileOptions::default()
    };
    let schema = Schema::compile(&bytes, &options).map_err(|e| RuleSetError::DoesNotCompile {
        path: entry.to_string(),
        line: e.line,
        construct: e.construct,
        message: e.message,
    })?;
    Ok(RuleSet {
        name,
        source: entry.to_string(),
        version: digest(&bytes),
        schema,
    })
}

/// The first 12 hex digits of the SHA-256 of `bytes`.
fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_bundled_set_is_named_zvdd_and_versioned_by_its_bytes() {
        let sets = RuleSets::bundled().unwrap();
        assert_eq!(sets.sets().len(), 1);
        assert!(sets.sets()[0].is_bundled());
        assert_eq!(
            sets.version(),
            format!("zvdd@{}", digest(ZVDD_RULES.as_bytes()))
        );
        assert_eq!(sets.version().len(), "zvdd@".len() + 12);
    }

    #[test]
    fn a_list_is_checked_before_any_file_is_read() {
        assert_eq!(check_entries(&[]), Err(RuleSetError::Empty));
        assert_eq!(
            check_entries(&entries(&["ddb.sch"])),
            Err(RuleSetError::NotAPath("ddb.sch".into()))
        );
        assert_eq!(
            check_entries(&entries(&["/etc/vitrine/zvdd.sch"])),
            Err(RuleSetError::BundledName("/etc/vitrine/zvdd.sch".into()))
        );
        assert_eq!(
            check_entries(&entries(&["/a/ddb.sch", "zvdd", "/b/ddb.sch"])),
            Err(RuleSetError::SameName {
                name: "ddb".into(),
                first: "/a/ddb.sch".into(),
                second: "/b/ddb.sch".into()
            })
        );
        assert!(matches!(
            check_entries(&entries(&["zvdd", "zvdd"])),
            Err(RuleSetError::SameName { .. })
        ));
        assert_eq!(check_entries(&entries(&["zvdd", "/etc/ddb.sch"])), Ok(()));
    }

    #[test]
    fn a_missing_or_broken_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.sch").display().to_string();
        let err = RuleSets::load(&entries(&["zvdd", &missing])).unwrap_err();
        assert!(
            matches!(&err, RuleSetError::Unreadable { path, .. } if *path == missing),
            "{err}"
        );
        let broken = dir.path().join("broken.sch");
        std::fs::write(
            &broken,
            "<schema xmlns=\"http://purl.oclc.org/dsdl/schematron\" queryBinding=\"xslt1\">\n\
             <pattern>\n<rule context=\"a\">\n<assert test=\"(((\">x</assert>\n</rule>\n\
             </pattern>\n</schema>\n",
        )
        .unwrap();
        let broken = broken.display().to_string();
        let err = RuleSets::load(&entries(&[&broken])).unwrap_err();
        match &err {
            RuleSetError::DoesNotCompile { path, line, .. } => {
                assert_eq!((path.as_str(), *line), (broken.as_str(), 4), "{err}");
            }
            other => panic!("{other}"),
        }
        assert!(err
            .to_string()
            .starts_with(&format!("rule set {broken}, line 4: ")));
    }

    #[test]
    fn a_file_is_compiled_once_and_versioned_with_the_bundled_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("own-rules.sch");
        let text = "<schema xmlns=\"http://purl.oclc.org/dsdl/schematron\" queryBinding=\"xslt1\">\
                    <pattern><rule context=\"/*\"><assert id=\"r1\" role=\"warn\" test=\"@ID\">\
                    no ID</assert></rule></pattern></schema>";
        std::fs::write(&path, text).unwrap();
        let entry = path.display().to_string();
        let sets = RuleSets::load(&entries(&["zvdd", &entry])).unwrap();
        assert_eq!(sets.sets()[1].name, "own-rules");
        assert_eq!(
            sets.version(),
            format!(
                "zvdd@{}+own-rules@{}",
                digest(ZVDD_RULES.as_bytes()),
                digest(text.as_bytes())
            )
        );
        // Compiled once: a change of the file is seen by a new process only.
        std::fs::write(&path, "not a schema").unwrap();
        let again = RuleSets::load(&entries(&[&entry])).unwrap();
        assert!(Arc::ptr_eq(&again.sets()[0], &sets.sets()[1]));
    }
}
