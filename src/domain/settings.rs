//! The settings of one domain as plain data: what `[domains.DNAME]` of the configuration
//! file holds, merged with the settings made by `vitrine domain set`. The domain tree
//! keeps one of these per domain; reading the file and applying the overlays is the
//! configuration's business (`config.rs`), which hands the merged values down.

use serde::{Deserialize, Serialize};

/// `[domains.DNAME]`: settings of one domain. Unset values are inherited from the parent
/// domain where that makes sense (repository identifier, admin e-mails, institution).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DomainConfig {
    /// Identify's repositoryName (default: the domain's title).
    pub repository_name: Option<String>,
    /// Identify's adminEmail (one or more).
    pub admin_emails: Vec<String>,
    /// The repository identifier in OAI identifiers (`oai:{this}:{localId}`).
    pub repository_identifier: Option<String>,
    /// Records per ListRecords/ListIdentifiers response (default 100).
    pub page_size: Option<u32>,
    /// `oai.*` settings of this domain.
    pub oai: DomainOaiConfig,
    /// Sets defined on this domain besides its sub-domains.
    pub sets: Vec<ConfiguredSet>,
    /// The institution that owns the records (used by ZVDD repairs).
    pub institution: Institution,
    /// `recordIdentifier/@source` for this domain's records.
    pub record_identifier_source: Option<String>,
    /// `dv:presentation` of zmets: the viewer URL of a record, `{id}` standing for its
    /// local id (e.g. `https://digital.example.org/viewer/{id}`).
    pub presentation_url: Option<String>,
    /// `dv:reference` of zmets: the catalogue URL of a record, `{id}` for its local id.
    pub reference_url: Option<String>,
    /// Scheduled jobs of this domain.
    pub jobs: DomainJobs,
}

/// `[domains.DNAME.jobs]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DomainJobs {
    /// `[domains.DNAME.jobs.oai_output_validator]`
    pub oai_output_validator: ValidatorJob,
}

/// `[domains.DNAME.jobs.oai_output_validator]`: when the validator runs and with which
/// Schematron rule sets.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidatorJob {
    /// 6-field cron expression (seconds first), UTC; empty: never.
    pub schedule: String,
    /// The rule sets the domain's records are validated with, in order: `"zvdd"` for the
    /// bundled rule set, any other entry is the path of an ISO Schematron file. Unset:
    /// inherited from the parent domain, and `["zvdd"]` at the root.
    pub rules: Option<Vec<String>>,
}

impl Default for ValidatorJob {
    fn default() -> Self {
        ValidatorJob {
            schedule: "0 0 2 * * *".into(),
            rules: None,
        }
    }
}

/// `[domains.DNAME.oai]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DomainOaiConfig {
    /// Which optional formats are switched on.
    pub formats: FormatSwitches,
    /// Optional HTTP Basic credentials for this domain's endpoint.
    pub auth: Option<BasicAuth>,
}

/// `[domains.DNAME.oai.formats]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FormatSwitches {
    /// `zmets` (METS after ZVDD repairs, exported records only).
    pub zmets: Switch,
    /// `zmods` (the MODS of zmets).
    pub zmods: Switch,
}

/// `{ on = true }`
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Switch {
    /// Whether the format is switched on.
    pub on: bool,
}

/// HTTP Basic credentials.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// A set defined by configuration: records of the domain (and its sub-domains) whose
/// primary MODS carries one of the given `mods:classification` values.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfiguredSet {
    /// One setSpec segment, e.g. `geschichte`.
    pub spec: String,
    /// setName.
    pub name: String,
    /// Optional setDescription text.
    #[serde(default)]
    pub description: Option<String>,
    /// `mods:classification` values (compared after trimming, case-sensitive).
    pub classifications: Vec<String>,
}

/// Owner data for `dv:rights` and the pages.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Institution {
    /// Name of the owning institution.
    pub name: Option<String>,
    /// URL of its logo.
    pub logo: Option<String>,
    /// Its web site.
    pub site_url: Option<String>,
    /// Contact address.
    pub contact: Option<String>,
}
