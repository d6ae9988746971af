//! `DomainTree`: the domains as a tree, joined with their configuration. Answers the
//! questions the OAI layer and ingest ask: which domains an endpoint covers, what a
//! sub-domain's setSpec is in an ancestor's endpoint, which settings are inherited.

use super::settings::{ConfiguredSet, DomainConfig};
use super::DomainName;

/// A domain (tenant) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Database id.
    pub id: i64,
    /// Short name.
    pub name: DomainName,
    /// Parent domain; `None` for the root.
    pub parent_id: Option<i64>,
    /// Human title.
    pub title: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
}

/// Default repository identifier when none is configured anywhere up the tree.
pub const DEFAULT_REPOSITORY_IDENTIFIER: &str = "vitrine.localhost";
/// Default page size of list responses.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The name of the bundled rule set (`schematron/zvdd.sch`) in
/// `jobs.oai_output_validator.rules`, and the rule set a domain validates with when none
/// is configured.
pub const DEFAULT_RULE_SET: &str = "zvdd";

/// The one answer to a name that names no domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no domain {0}; create it with `vitrine domain add`")]
pub struct UnknownDomain(pub String);

impl Domain {
    /// The path of this domain's OAI-PMH endpoint: `/oai` for the root, `/NAME/oai` below.
    pub fn endpoint_path(&self) -> String {
        if self.parent_id.is_none() {
            "/oai".to_string()
        } else {
            format!("/{}/oai", self.name)
        }
    }
}

/// A setting changed from the command line: (domain id, dotted key, value).
pub type DomainSetting = (i64, String, String);

/// All domains with their configuration.
#[derive(Debug, Clone)]
pub struct DomainTree {
    domains: Vec<Domain>,
    /// Each domain's configuration: the file's, overlaid by settings from the command line.
    effective: Vec<(i64, DomainConfig)>,
}

impl DomainTree {
    /// Builds the tree from the stored domains and the settings of each (by domain id:
    /// the configuration file's, with those made by `vitrine domain set` applied — see
    /// `Config::domain_settings`). A domain with no entry has the default settings.
    pub fn new(domains: Vec<Domain>, effective: Vec<(i64, DomainConfig)>) -> Self {
        DomainTree { domains, effective }
    }

    /// Every domain, in creation order.
    pub fn all(&self) -> &[Domain] {
        &self.domains
    }

    /// The root domain, if any domain exists.
    pub fn root(&self) -> Option<&Domain> {
        self.domains.iter().find(|d| d.parent_id.is_none())
    }

    /// A domain by name.
    pub fn by_name(&self, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.name.as_str() == name)
    }

    /// A domain by name, or the one "no domain …" error.
    pub fn require(&self, name: &str) -> Result<&Domain, UnknownDomain> {
        self.by_name(name)
            .ok_or_else(|| UnknownDomain(name.to_string()))
    }

    /// A domain by id.
    pub fn by_id(&self, id: i64) -> Option<&Domain> {
        self.domains.iter().find(|d| d.id == id)
    }

    /// Direct children, in creation order.
    pub fn children(&self, id: i64) -> impl Iterator<Item = &Domain> {
        self.domains.iter().filter(move |d| d.parent_id == Some(id))
    }

    /// The domain and all its descendants.
    pub fn subtree(&self, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let current = out[i];
            out.extend(self.children(current).map(|d| d.id));
            i += 1;
        }
        out
    }

    /// The ids covered by an endpoint, or `None` when that is every domain (the root).
    pub fn scope(&self, id: i64) -> Option<Vec<i64>> {
        let ids = self.subtree(id);
        (ids.len() < self.domains.len()).then_some(ids)
    }

    /// The protected domains (with `oai.auth`) strictly below `id`.
    pub fn protected_below(&self, id: i64) -> Vec<i64> {
        self.subtree(id)
            .into_iter()
            .filter(|d| *d != id && self.is_protected(*d))
            .collect()
    }

    /// The domain whose credentials guard the endpoint of `id`: the nearest protected
    /// domain among `id` and its ancestors (a protected domain's sub-domains are covered
    /// by its credentials unless they have their own).
    pub fn guard(&self, id: i64) -> Option<i64> {
        self.lineage(id)
            .iter()
            .rev()
            .map(|d| d.id)
            .find(|d| self.is_protected(*d))
    }

    fn is_protected(&self, id: i64) -> bool {
        self.config_ref(id).is_some_and(|c| c.oai.auth.is_some())
    }

    /// The domain and those descendants a client may see through its endpoint: a
    /// protected domain below it, with everything under it, only when the client
    /// authenticated for it (`unlocked`). A protected domain's records are reachable only
    /// with its credentials, also through the endpoints of its ancestors.
    pub fn visible_subtree(&self, id: i64, unlocked: &[i64]) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let current = out[i];
            out.extend(
                self.children(current)
                    .filter(|d| !self.is_protected(d.id) || unlocked.contains(&d.id))
                    .map(|d| d.id),
            );
            i += 1;
        }
        out
    }

    /// [`Self::scope`] for a client that authenticated for the protected domains in
    /// `unlocked`: `None` only when it sees every domain.
    pub fn visible_scope(&self, id: i64, unlocked: &[i64]) -> Option<Vec<i64>> {
        let ids = self.visible_subtree(id, unlocked);
        (ids.len() < self.domains.len()).then_some(ids)
    }

    /// The domain and its descendants in which zmets is switched on: the scope of an
    /// OaiOutputValidator run started on `id`.
    pub fn zmets_scope(&self, id: i64) -> Vec<i64> {
        self.subtree(id)
            .into_iter()
            .filter(|d| self.config_ref(*d).is_some_and(|c| c.oai.formats.zmets.on))
            .collect()
    }

    /// Domains from `ancestor` (exclusive) down to `id` (inclusive); `None` when
    /// `ancestor` is not an ancestor-or-self of `id`.
    pub fn path_below(&self, ancestor: i64, id: i64) -> Option<Vec<&Domain>> {
        let mut path = Vec::new();
        let mut current = self.by_id(id)?;
        while current.id != ancestor {
            path.push(current);
            current = self.by_id(current.parent_id?)?;
        }
        path.reverse();
        Some(path)
    }

    /// Ancestors of `id` from the root down, including `id`.
    pub fn lineage(&self, id: i64) -> Vec<&Domain> {
        let mut out = Vec::new();
        let mut current = self.by_id(id);
        while let Some(d) = current {
            out.push(d);
            current = d.parent_id.and_then(|p| self.by_id(p));
        }
        out.reverse();
        out
    }

    /// The setSpec of `id` in the endpoint of `ancestor` (`ulb:zd`).
    pub fn set_spec(&self, ancestor: i64, id: i64) -> Option<String> {
        let path = self.path_below(ancestor, id)?;
        (!path.is_empty()).then(|| {
            path.iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(":")
        })
    }

    /// The configuration of a domain.
    pub fn config(&self, id: i64) -> DomainConfig {
        self.config_ref(id).cloned().unwrap_or_default()
    }

    fn config_ref(&self, id: i64) -> Option<&DomainConfig> {
        self.effective
            .iter()
            .find(|(d, _)| *d == id)
            .map(|(_, c)| c)
    }

    /// The first value found walking up from `id`.
    fn inherited<T>(&self, id: i64, pick: impl Fn(&DomainConfig) -> Option<T>) -> Option<T> {
        self.lineage(id)
            .iter()
            .rev()
            .find_map(|d| self.config_ref(d.id).and_then(&pick))
    }

    /// The repository identifier used in this domain's OAI identifiers.
    pub fn repository_identifier(&self, id: i64) -> String {
        self.inherited(id, |c| c.repository_identifier.clone())
            .unwrap_or_else(|| DEFAULT_REPOSITORY_IDENTIFIER.to_string())
    }

    /// Identify/adminEmail values.
    pub fn admin_emails(&self, id: i64) -> Vec<String> {
        self.inherited(id, |c| {
            (!c.admin_emails.is_empty()).then(|| c.admin_emails.clone())
        })
        .unwrap_or_else(|| vec![format!("admin@{}", self.repository_identifier(id))])
    }

    /// Identify/repositoryName.
    pub fn repository_name(&self, id: i64) -> String {
        self.config(id)
            .repository_name
            .or_else(|| self.by_id(id).map(|d| d.title.clone()))
            .unwrap_or_default()
    }

    /// The rule sets the validator runs on the domain's records
    /// (`jobs.oai_output_validator.rules`, inherited; `["zvdd"]` when set nowhere).
    pub fn validation_rules(&self, id: i64) -> Vec<String> {
        self.inherited(id, |c| c.jobs.oai_output_validator.rules.clone())
            .unwrap_or_else(|| vec![DEFAULT_RULE_SET.to_string()])
    }

    /// Records per list response.
    pub fn page_size(&self, id: i64) -> u32 {
        self.inherited(id, |c| c.page_size)
            .unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// Configured sets of domain `id` itself.
    pub fn configured_sets(&self, id: i64) -> Vec<ConfiguredSet> {
        self.config(id).sets
    }

    /// Configured sets a record of domain `id` with these `mods:classification` values
    /// belongs to: (owner domain id, spec), over the domain and all its ancestors.
    pub fn sets_for(&self, id: i64, classifications: &[String]) -> Vec<(i64, String)> {
        let mut out = Vec::new();
        for domain in self.lineage(id) {
            for set in self.configured_sets(domain.id) {
                if set
                    .classifications
                    .iter()
                    .any(|c| classifications.contains(c))
                {
                    out.push((domain.id, set.spec.clone()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> DomainTree {
        let d = |id, name: &str, parent| Domain {
            id,
            name: DomainName::parse(name).unwrap(),
            parent_id: parent,
            title: name.to_uppercase(),
            created_at: 0,
        };
        let ulb: DomainConfig = toml::from_str(
            "repository_identifier = \"digital.ulb.de\"\n\
             [[sets]]\nspec = \"hist\"\nname = \"Geschichte\"\nclassifications = [\"Geschichte\"]\n",
        )
        .unwrap();
        let vd: DomainConfig = toml::from_str(
            "page_size = 7\n[jobs.oai_output_validator]\nrules = [\"/etc/ddb.sch\"]\n",
        )
        .unwrap();
        let domains = vec![
            d(1, "ulb", None),
            d(2, "zd", Some(1)),
            d(3, "zd1", Some(2)),
            d(4, "vd", Some(1)),
        ];
        DomainTree::new(domains, vec![(1, ulb), (4, vd)])
    }

    #[test]
    fn set_specs_follow_the_domain_hierarchy() {
        let t = tree();
        assert_eq!(t.set_spec(1, 3).as_deref(), Some("zd:zd1"));
        assert_eq!(t.set_spec(2, 3).as_deref(), Some("zd1"));
        assert_eq!(t.set_spec(3, 3), None);
        assert_eq!(t.set_spec(4, 3), None);
        assert_eq!(t.subtree(2), vec![2, 3]);
        assert_eq!(t.scope(1), None);
        assert_eq!(t.scope(2), Some(vec![2, 3]));
    }

    #[test]
    fn rule_sets_are_inherited_and_default_to_the_bundled_one() {
        let t = tree();
        assert_eq!(t.validation_rules(1), vec!["zvdd".to_string()]);
        assert_eq!(t.validation_rules(3), vec!["zvdd".to_string()]);
        assert_eq!(t.validation_rules(4), vec!["/etc/ddb.sch".to_string()]);
    }

    #[test]
    fn settings_are_inherited_from_ancestors() {
        let t = tree();
        assert_eq!(t.repository_identifier(3), "digital.ulb.de");
        assert_eq!(t.page_size(3), 100);
        assert_eq!(
            t.sets_for(3, &["Geschichte".into()]),
            vec![(1, "hist".to_string())]
        );
        assert!(t.sets_for(3, &["Theologie".into()]).is_empty());
        assert_eq!(t.page_size(4), 7, "a domain's own setting wins");
    }

    #[test]
    fn a_protected_domain_and_its_subtree_are_visible_only_when_unlocked() {
        let t = tree();
        let zd: DomainConfig =
            toml::from_str("[oai.auth]\nuser = \"u\"\npassword = \"p\"\n").unwrap();
        let t = DomainTree::new(t.domains.clone(), vec![(2, zd)]);
        assert_eq!(t.protected_below(1), vec![2]);
        assert!(t.protected_below(2).is_empty());
        assert_eq!(t.visible_subtree(1, &[]), vec![1, 4]);
        assert_eq!(t.visible_scope(1, &[]), Some(vec![1, 4]));
        assert_eq!(t.visible_scope(1, &[2]), None);
        assert_eq!(t.visible_subtree(2, &[]), vec![2, 3]);
        assert_eq!(t.guard(3), Some(2), "zd1 is covered by zd's credentials");
        assert_eq!(t.guard(2), Some(2));
        assert_eq!(t.guard(4), None);
    }
}
