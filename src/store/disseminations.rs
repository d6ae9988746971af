//! Disseminations: which record is offered in which format since when (the datestamps
//! and `deleted` markers harvesters see), the OAI read paths over them, and keeping them
//! right after every change of a record.

use super::compression::decompress;
use super::error::StoreError;
use super::sql::{in_list, SqlStore};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

/// The formats every stored record offers when public and when it has the payload.
const BASE_FORMATS: [&str; 3] = ["oai_dc", "mets", "mods"];
/// The ZVDD channel, disseminated only for records whose zmods_export is `export`.
pub(super) const ZVDD_FORMATS: [&str; 2] = ["zmets", "zmods"];

/// Which records an OAI list request selects, and where a page starts.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// metadataPrefix.
    pub prefix: String,
    /// Domains in scope (`None`: every domain).
    pub domain_ids: Option<Vec<i64>>,
    /// Configured set (owner domain id, spec), when the set is not a domain set.
    pub configured_set: Option<(i64, String)>,
    /// Inclusive lower bound (Unix seconds).
    pub from: Option<i64>,
    /// Inclusive upper bound (Unix seconds).
    pub until: i64,
    /// Keyset position of the last item already sent: (datestamp, record id).
    pub after: Option<(i64, i64)>,
    /// Items to return at most.
    pub limit: i64,
    /// Whether to load the metadata bodies (ListRecords) or headers only.
    pub with_body: bool,
}

/// One record in one format, as a list or GetRecord returns it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Record id (keyset tiebreaker).
    pub record_id: i64,
    /// OAI identifier.
    pub oai_identifier: String,
    /// Datestamp in this format (Unix seconds).
    pub datestamp: i64,
    /// `status="deleted"` in this format.
    pub deleted: bool,
    /// Domain of the record.
    pub domain_id: i64,
    /// Configured sets: (owner domain id, spec).
    pub sets: Vec<(i64, String)>,
    /// Uncompressed metadata, when asked for and not deleted.
    pub body: Option<Vec<u8>>,
}

/// The OAI read paths: lists, single records, formats and datestamps.
#[async_trait]
pub trait DisseminationStore: Send + Sync {
    /// One page of a list.
    async fn list(&self, query: &ListQuery) -> Result<Vec<Item>, StoreError>;
    /// How many items the list selects in all (ignores `after` and `limit`).
    async fn count(&self, query: &ListQuery) -> Result<u64, StoreError>;
    /// One record in one format, within the domains in scope.
    async fn get(
        &self,
        oai_identifier: &str,
        prefix: &str,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<Item>, StoreError>;
    /// Formats a record is or was disseminated in: (prefix, deleted). `None`: unknown id.
    async fn formats_of(
        &self,
        oai_identifier: &str,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<Vec<(String, bool)>>, StoreError>;
    /// The smallest datestamp among the domains in scope.
    async fn earliest_datestamp(
        &self,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<i64>, StoreError>;
}

#[async_trait]
impl DisseminationStore for SqlStore {
    #[tracing::instrument(skip(self), fields(prefix = %query.prefix))]
    async fn list(&self, query: &ListQuery) -> Result<Vec<Item>, StoreError> {
        let (filter, values) = list_filter(query, true);
        let body = if query.with_body {
            "p.body AS body"
        } else {
            "NULL AS body"
        };
        let join = if query.with_body {
            " LEFT JOIN payload p ON p.record_id = d.record_id AND p.prefix = d.prefix"
        } else {
            ""
        };
        let sql = format!(
            "SELECT d.record_id AS record_id, d.datestamp AS datestamp, d.deleted AS deleted, \
             r.oai_identifier AS oai_identifier, r.domain_id AS domain_id, \
             r.set_specs AS set_specs, {body} \
             FROM dissemination d JOIN record r ON r.id = d.record_id{join}{filter} \
             ORDER BY d.datestamp, d.record_id LIMIT {}",
            query.limit.max(0)
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), values)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| item_from_row(row, query.with_body))
            .collect()
    }

    #[tracing::instrument(skip(self), fields(prefix = %query.prefix))]
    async fn count(&self, query: &ListQuery) -> Result<u64, StoreError> {
        let (filter, values) = list_filter(query, false);
        let sql = format!("SELECT COUNT(*) AS n FROM dissemination d{filter}");
        let row = bind_all(sqlx::query(AssertSqlSafe(sql)), values)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
    }

    #[tracing::instrument(skip(self))]
    async fn get(
        &self,
        oai_identifier: &str,
        prefix: &str,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<Item>, StoreError> {
        let mut sql = String::from(
            "SELECT d.record_id AS record_id, d.datestamp AS datestamp, d.deleted AS deleted, \
             r.oai_identifier AS oai_identifier, r.domain_id AS domain_id, \
             r.set_specs AS set_specs, p.body AS body \
             FROM record r JOIN dissemination d ON d.record_id = r.id AND d.prefix = $2 \
             LEFT JOIN payload p ON p.record_id = r.id AND p.prefix = d.prefix \
             WHERE r.oai_identifier = $1",
        );
        let mut next = 3;
        let scope = scope_clause(&mut sql, "r.domain_id", domain_ids, &mut next);
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(oai_identifier)
            .bind(prefix);
        for id in scope {
            q = q.bind(id);
        }
        let row = q.fetch_optional(&self.pool).await?;
        row.map(|row| item_from_row(&row, true)).transpose()
    }

    #[tracing::instrument(skip(self))]
    async fn formats_of(
        &self,
        oai_identifier: &str,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<Vec<(String, bool)>>, StoreError> {
        let mut sql = String::from(
            "SELECT d.prefix AS prefix, d.deleted AS deleted FROM record r \
             JOIN dissemination d ON d.record_id = r.id WHERE r.oai_identifier = $1",
        );
        let mut next = 2;
        let scope = scope_clause(&mut sql, "r.domain_id", domain_ids, &mut next);
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(oai_identifier);
        for id in scope {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>("prefix")?,
                    row.try_get::<i64, _>("deleted")? != 0,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map(Some)
    }

    async fn earliest_datestamp(
        &self,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<i64>, StoreError> {
        let mut sql = String::from("SELECT MIN(d.datestamp) AS m FROM dissemination d WHERE 1 = 1");
        let mut next = 1;
        let scope = scope_clause(&mut sql, "d.domain_id", domain_ids, &mut next);
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in scope {
            q = q.bind(id);
        }
        let row = q.fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>("m")?)
    }
}

/// Appends `AND column IN ($n, …)` for a domain scope, binding nothing yet; returns the
/// values to bind in order.
fn scope_clause(sql: &mut String, column: &str, ids: Option<&[i64]>, next: &mut usize) -> Vec<i64> {
    match ids {
        None => Vec::new(),
        Some(ids) => {
            sql.push_str(" AND ");
            sql.push_str(&in_list(column, ids, *next));
            *next += ids.len();
            ids.to_vec()
        }
    }
}

/// The WHERE clause shared by `list` and `count`, with its bind values.
pub(super) fn list_filter(query: &ListQuery, keyset: bool) -> (String, Vec<FilterValue>) {
    let mut sql = String::from(" WHERE d.prefix = $1 AND d.datestamp <= $2");
    let mut values = vec![
        FilterValue::Text(query.prefix.clone()),
        FilterValue::Int(query.until),
    ];
    let mut next = 3;
    if let Some(from) = query.from {
        sql.push_str(&format!(" AND d.datestamp >= ${next}"));
        next += 1;
        values.push(FilterValue::Int(from));
    }
    for id in scope_clause(
        &mut sql,
        "d.domain_id",
        query.domain_ids.as_deref(),
        &mut next,
    ) {
        values.push(FilterValue::Int(id));
    }
    if let Some((owner, spec)) = &query.configured_set {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM record_set s WHERE s.record_id = d.record_id \
             AND s.owner_domain_id = ${} AND s.spec = ${})",
            next,
            next + 1
        ));
        next += 2;
        values.push(FilterValue::Int(*owner));
        values.push(FilterValue::Text(spec.clone()));
    }
    if let (true, Some((datestamp, record_id))) = (keyset, query.after) {
        // A row-value comparison: both databases turn it into an index range start, so a
        // deep page costs what the first does (an OR of two conditions does not).
        sql.push_str(&format!(
            " AND (d.datestamp, d.record_id) > (${}, ${})",
            next,
            next + 1
        ));
        values.push(FilterValue::Int(datestamp));
        values.push(FilterValue::Int(record_id));
    }
    (sql, values)
}

pub(super) enum FilterValue {
    Int(i64),
    Text(String),
}

pub(super) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: Vec<FilterValue>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for v in values {
        q = match v {
            FilterValue::Int(i) => q.bind(i),
            FilterValue::Text(t) => q.bind(t),
        };
    }
    q
}

/// Parses the `set_specs` column: lines of `owner_domain_id:spec`.
fn parse_set_specs(text: &str) -> Vec<(i64, String)> {
    text.lines()
        .filter_map(|line| {
            let (owner, spec) = line.split_once(':')?;
            Some((owner.parse().ok()?, spec.to_string()))
        })
        .collect()
}

pub(super) fn item_from_row(row: &AnyRow, with_body: bool) -> Result<Item, StoreError> {
    let deleted: i64 = row.try_get("deleted")?;
    let body = if with_body && deleted == 0 {
        let compressed: Option<Vec<u8>> = row.try_get("body")?;
        compressed.map(|c| decompress(&c)).transpose()?
    } else {
        None
    };
    Ok(Item {
        record_id: row.try_get("record_id")?,
        oai_identifier: row.try_get("oai_identifier")?,
        datestamp: row.try_get("datestamp")?,
        deleted: deleted != 0,
        domain_id: row.try_get("domain_id")?,
        sets: parse_set_specs(&row.try_get::<String, _>("set_specs")?),
        body,
    })
}

/// The dissemination rows of a record stored for the first time: one per base format it
/// has, in one statement.
pub(super) async fn insert_disseminations(
    conn: &mut AnyConnection,
    id: i64,
    domain_id: i64,
    formats: &[&str],
    now: i64,
) -> Result<(), StoreError> {
    let formats: Vec<&str> = formats
        .iter()
        .copied()
        .filter(|f| BASE_FORMATS.contains(f))
        .collect();
    if formats.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..formats.len())
        .map(|i| format!("($1, ${}, $2, $3, 0)", i + 4))
        .collect();
    let sql = format!(
        "INSERT INTO dissemination (record_id, prefix, domain_id, datestamp, deleted) VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(domain_id)
        .bind(now);
    for f in formats {
        q = q.bind(f);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Brings the dissemination rows of a record in line with its state: a public record is
/// disseminated in every base format it has a payload for (new datestamp when its content
/// changed or it re-enters); a format it no longer has, or a record no longer public, is
/// marked deleted with a new datestamp — but only where it had been disseminated.
pub(super) async fn sync_disseminations(
    conn: &mut AnyConnection,
    id: i64,
    domain_id: i64,
    public: bool,
    content_changed: bool,
    now: i64,
) -> Result<(), StoreError> {
    let available: Vec<String> = if public {
        sqlx::query("SELECT prefix FROM payload WHERE record_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("prefix"))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|p| BASE_FORMATS.contains(&p.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    let rows = sqlx::query("SELECT prefix, deleted FROM dissemination WHERE record_id = $1")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let mut existing = Vec::with_capacity(rows.len());
    for row in rows {
        existing.push((
            row.try_get::<String, _>("prefix")?,
            row.try_get::<i64, _>("deleted")? != 0,
        ));
    }
    for prefix in &available {
        match existing.iter().find(|(p, _)| p == prefix) {
            Some((_, false)) if !content_changed => {}
            // New, re-entering or changed: disseminated from now on.
            _ => {
                sqlx::query(
                    "INSERT INTO dissemination (record_id, prefix, domain_id, datestamp, deleted) \
                     VALUES ($1, $2, $3, $4, 0) ON CONFLICT (record_id, prefix) DO UPDATE SET \
                     datestamp = excluded.datestamp, deleted = 0, domain_id = excluded.domain_id",
                )
                .bind(id)
                .bind(prefix)
                .bind(domain_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    for (prefix, deleted) in &existing {
        // zmets/zmods leave with every change: the record is `undefined` until the
        // validator has checked its new state (zmods_export needs valid or valid_warn).
        let zvdd = ZVDD_FORMATS.contains(&prefix.as_str());
        if !deleted
            && (zvdd || (BASE_FORMATS.contains(&prefix.as_str()) && !available.contains(prefix)))
        {
            sqlx::query(
                "UPDATE dissemination SET datestamp = $3, deleted = 1 WHERE record_id = $1 AND prefix = $2",
            )
            .bind(id)
            .bind(prefix)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
