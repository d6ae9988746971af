//! What the QA page of a domain shows, read from the kept aggregates and a few indexed
//! counts, and the same as `.json` and `.csv` (one row per rule) for scripts and
//! spreadsheets.

use super::Lang;
use crate::store::{
    JobRun, RuleExample, RuleStat, SampleRecord, StateCount, StoreError, TrendPoint, STATES,
};
use crate::users::Role;
use crate::validation::rule_info;
use crate::validation::rule_sets::qualified_rule;
use crate::web::session::{require, Access, Audience};
use crate::web::AppState;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// Rules per page of the HTML table.
pub const RULES_PER_PAGE: usize = 50;
/// Samples per state.
pub const SAMPLES: i64 = 5;
/// Runs in the trend.
pub const TREND_RUNS: i64 = 12;

/// How the rule table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Most findings first.
    Count,
    /// Most records first.
    Records,
    /// Least often fixed (share) first.
    Fixed,
    /// By rule id.
    Rule,
}

impl Sort {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Count => "count",
            Sort::Records => "records",
            Sort::Fixed => "fixed",
            Sort::Rule => "rule",
        }
    }
}

/// The filters, sorting and page of a QA view: query parameters, so that a view is a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QaQuery {
    /// `error`, `warn` or `info`.
    pub class: Option<String>,
    /// One rule: its id for a rule of the bundled set, `set:id` for any other.
    pub rule: Option<String>,
    /// One zmods_validation state.
    pub state: Option<String>,
    /// Sorting.
    pub sort: Sort,
    /// Page of the rule table, from 1.
    pub page: usize,
}

impl QaQuery {
    /// Reads the query string; the error says which parameter is wrong.
    pub fn parse(query: &str) -> Result<QaQuery, String> {
        let mut out = QaQuery {
            class: None,
            rule: None,
            state: None,
            sort: Sort::Count,
            page: 1,
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_string();
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "class" if ["error", "warn", "info"].contains(&value.as_str()) => {
                    out.class = Some(value)
                }
                "class" => return Err(format!("class={value}: use error, warn or info")),
                "state" if STATES.contains(&value.as_str()) => out.state = Some(value),
                "state" => {
                    return Err(format!(
                        "state={value}: use undefined, invalid, valid_warn or valid"
                    ))
                }
                "rule" => out.rule = Some(value),
                "sort" => {
                    out.sort = match value.as_str() {
                        "count" => Sort::Count,
                        "records" => Sort::Records,
                        "fixed" => Sort::Fixed,
                        "rule" => Sort::Rule,
                        _ => {
                            return Err(format!("sort={value}: use count, records, fixed or rule"))
                        }
                    }
                }
                "page" => {
                    out.page = value
                        .parse::<usize>()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or_else(|| format!("page={value}: use a page number from 1"))?
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The query string of this view with some parameters changed.
    pub fn link(&self, changes: &[(&str, Option<&str>)]) -> String {
        let page = self.page.to_string();
        let mut pairs: Vec<(&str, Option<&str>)> = vec![
            ("class", self.class.as_deref()),
            ("rule", self.rule.as_deref()),
            ("state", self.state.as_deref()),
            (
                "sort",
                (self.sort != Sort::Count).then_some(self.sort.as_str()),
            ),
            ("page", (self.page > 1).then_some(page.as_str())),
        ];
        for (key, value) in changes {
            if let Some(pair) = pairs.iter_mut().find(|p| p.0 == *key) {
                pair.1 = *value;
            }
        }
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            if let Some(value) = value {
                out.append_pair(key, value);
            }
        }
        let text = out.finish();
        if text.is_empty() {
            "?".to_string()
        } else {
            format!("?{text}")
        }
    }
}

/// A rule as the table shows it.
#[derive(Debug, Clone)]
pub struct RuleRow {
    /// Counts.
    pub stat: RuleStat,
    /// The rule's key in links and filters: its id for a rule of the bundled set,
    /// `set:id` for any other.
    pub key: String,
    /// What the rule checks: for a rule of the bundled set the title `zvdd.sch` gives it,
    /// for any other the message its findings carry.
    pub title: String,
    /// Link to the profile.
    pub see: Option<String>,
    /// Example records, unrepaired ones first.
    pub examples: Vec<RuleExample>,
}

/// Everything a QA view shows.
pub struct QaData {
    /// The domains covered (the domain and its sub-domains with zmets on).
    pub scope: Vec<i64>,
    /// Records per state now.
    pub states: Vec<StateCount>,
    /// Samples per state.
    pub samples: Vec<(String, Vec<SampleRecord>)>,
    /// The rules of this view (one page of them for HTML).
    pub rules: Vec<RuleRow>,
    /// Rules matching the filters, over all pages.
    pub matching_rules: usize,
    /// Findings and fixed findings over the matching rules.
    pub totals: (i64, i64),
    /// The key of every rule that fired (for the filter).
    pub all_rule_ids: Vec<String>,
    /// Records per state over the last runs.
    pub trend: Vec<TrendPoint>,
    /// The last run the aggregates come from.
    pub last_run: Option<JobRun>,
}

/// Reads a QA view; `paged`: one page of rules (HTML) or all of them (data).
pub async fn gather(
    state: &AppState,
    access: &Access,
    query: &QaQuery,
    paged: bool,
) -> Result<QaData, StoreError> {
    let store = state.store.as_ref();
    let scope = access.tree.zmets_scope(access.domain.id);
    let states = store.qa_state_counts(&scope).await?;
    let mut samples = Vec::new();
    for s in STATES {
        if query.state.as_deref().is_none_or(|wanted| wanted == s) {
            samples.push((s.to_string(), store.qa_samples(&scope, s, SAMPLES).await?));
        }
    }
    let all = store.qa_rule_stats(&scope, query.state.as_deref()).await?;
    let key = |r: &RuleStat| qualified_rule(&r.rule_set, &r.rule_id);
    let all_rule_ids = all.iter().map(key).collect();
    let mut matching: Vec<RuleStat> = all
        .into_iter()
        .filter(|r| query.class.as_deref().is_none_or(|c| c == r.class))
        .filter(|r| query.rule.as_deref().is_none_or(|k| k == key(r)))
        .collect();
    let share = |r: &RuleStat| r.fixed as f64 / r.findings.max(1) as f64;
    match query.sort {
        Sort::Count => {
            matching.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.rule_id.cmp(&b.rule_id)))
        }
        Sort::Records => {
            matching.sort_by(|a, b| b.records.cmp(&a.records).then(a.rule_id.cmp(&b.rule_id)))
        }
        Sort::Fixed => matching.sort_by(|a, b| {
            share(a)
                .total_cmp(&share(b))
                .then(b.findings.cmp(&a.findings))
        }),
        Sort::Rule => matching.sort_by(|a, b| a.rule_id.cmp(&b.rule_id)),
    }
    let totals = matching
        .iter()
        .fold((0, 0), |(f, x), r| (f + r.findings, x + r.fixed));
    let matching_rules = matching.len();
    let shown: Vec<RuleStat> = if paged {
        matching
            .into_iter()
            .skip((query.page - 1) * RULES_PER_PAGE)
            .take(RULES_PER_PAGE)
            .collect()
    } else {
        matching
    };
    let ids: Vec<String> = shown.iter().map(|r| r.rule_id.clone()).collect();
    let examples = store
        .qa_rule_examples(&scope, &ids, query.state.as_deref())
        .await?;
    let rules = shown
        .into_iter()
        .map(|stat| {
            let bundled = stat.rule_set == crate::domain::DEFAULT_RULE_SET;
            let info = bundled.then(|| rule_info(&stat.rule_id)).flatten();
            let mut mine: Vec<RuleExample> = examples
                .iter()
                .filter(|e| e.rule_set == stat.rule_set && e.rule_id == stat.rule_id)
                .cloned()
                .collect();
            mine.sort_by_key(|e| (e.repaired, e.record_id));
            mine.dedup_by_key(|e| e.record_id);
            mine.truncate(6);
            RuleRow {
                key: key(&stat),
                title: info.map_or_else(|| stat.message.clone(), |i| i.title.clone()),
                see: info.and_then(|i| i.see.clone()),
                stat,
                examples: mine,
            }
        })
        .collect();
    let trend = store.qa_trend(&scope, TREND_RUNS).await?;
    let last_run = match store.qa_last_run(&scope).await? {
        Some(id) => store.job_run(id).await?,
        None => None,
    };
    Ok(QaData {
        scope,
        states,
        samples,
        rules,
        matching_rules,
        totals,
        all_rule_ids,
        trend,
        last_run,
    })
}

/// A record's QA page.
pub fn record_link(access: &Access, domain_id: i64, local_id: &str) -> String {
    let name = access
        .tree
        .by_id(domain_id)
        .map_or(access.domain.name.as_str(), |d| d.name.as_str());
    format!("/{name}/qa/records/{}", super::segment(local_id))
}

async fn data(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: Option<&str>,
    csv: bool,
) -> HttpResponse {
    let access = match require(&state, &req, dname, Role::Qa, Audience::Data).await {
        Ok(access) => access,
        Err(response) => return response,
    };
    let query = match QaQuery::parse(req.query_string()) {
        Ok(query) => query,
        Err(message) => {
            return HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body(format!("{message}\n"))
        }
    };
    let data = match gather(&state, &access, &query, false).await {
        Ok(data) => data,
        Err(e) => return crate::web::home::unavailable(&state, &e),
    };
    let name = access.domain.name.as_str();
    if csv {
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"oaivalidator-{name}.csv\""),
            ))
            .body(to_csv(&data))
    } else {
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "application/json"))
            .insert_header((CACHE_CONTROL, "no-store"))
            .body(to_json(&access, &data).to_string())
    }
}

fn to_json(access: &Access, data: &QaData) -> serde_json::Value {
    use serde_json::json;
    let domains: Vec<&str> = data
        .scope
        .iter()
        .filter_map(|id| access.tree.by_id(*id).map(|d| d.name.as_str()))
        .collect();
    json!({
        "domain": access.domain.name.as_str(),
        "scope": domains,
        "last_run": data.last_run.as_ref().map(|r| json!({
            "id": r.id, "status": r.status, "started_at": super::utc(r.started_at),
            "finished_at": r.finished_at.map(super::utc),
            "report": format!("/{}/admin/jobreport/{}", access.domain.name.as_str(), r.id),
        })),
        "states": data.states.iter().map(|s| json!({
            "state": s.state, "records": s.records, "exported": s.exported,
        })).collect::<Vec<_>>(),
        "rules": data.rules.iter().map(|r| json!({
            "class": r.stat.class, "role": r.stat.role, "rule_set": r.stat.rule_set,
            "id": r.stat.rule_id, "key": r.key, "title": r.title,
            "total": r.stat.findings, "fixed": r.stat.fixed, "records": r.stat.records,
            "examples": r.examples.iter().map(|e| json!({
                "local_id": e.local_id, "state": e.state, "repaired": e.repaired,
                "url": record_link(access, e.domain_id, &e.local_id),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "trend": data.trend.iter().map(|p| json!({
            "run": p.run_id, "started_at": super::utc(p.started_at), "states": p.counts,
        })).collect::<Vec<_>>(),
    })
}

/// One CSV field: quoted when needed; a leading `=`, `+`, `-` or `@` is neutralised so
/// that spreadsheets do not take record data for formulas.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn to_csv(data: &QaData) -> String {
    let mut out = String::from("class,role,rule_set,id,title,total,fixed,records,example_ids\r\n");
    for r in &data.rules {
        let examples: Vec<&str> = r.examples.iter().map(|e| e.local_id.as_str()).collect();
        let row = [
            field(&r.stat.class),
            field(r.stat.role.as_deref().unwrap_or("")),
            field(&r.stat.rule_set),
            field(&r.stat.rule_id),
            field(&r.title),
            r.stat.findings.to_string(),
            r.stat.fixed.to_string(),
            r.stat.records.to_string(),
            field(&examples.join(" ")),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// `GET /{dname}/qa/oaivalidator.json`.
pub async fn json(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: web::Path<String>,
) -> HttpResponse {
    data(state, req, Some(&dname), false).await
}

/// `GET /{dname}/qa/oaivalidator.csv`.
pub async fn csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: web::Path<String>,
) -> HttpResponse {
    data(state, req, Some(&dname), true).await
}

/// `GET /qa/oaivalidator.json` (the root domain).
pub async fn root_json(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    data(state, req, None, false).await
}

/// `GET /qa/oaivalidator.csv` (the root domain).
pub async fn root_csv(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    data(state, req, None, true).await
}

/// A 400 page for a wrong query parameter.
pub fn bad_query(lang: Lang, access: &Access, message: &str) -> HttpResponse {
    super::error_page(
        StatusCode::BAD_REQUEST,
        lang,
        Some(&access.session),
        message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn a_view_is_a_link_and_wrong_parameters_are_named() {
        let q = QaQuery::parse("class=error&rule=MODS-AP-Kap-0&sort=rule&page=2").unwrap();
        assert_eq!(q.class.as_deref(), Some("error"));
        assert_eq!(q.page, 2);
        assert_eq!(
            q.link(&[("page", None)]),
            "?class=error&rule=MODS-AP-Kap-0&sort=rule"
        );
        assert!(QaQuery::parse("state=broken")
            .unwrap_err()
            .contains("state=broken"));
        assert!(QaQuery::parse("page=0").is_err());
    }
}
