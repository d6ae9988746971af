//! [`SqlStore`]: the [`Store`] implementation on SQLite and PostgreSQL. Everything here
//! but the write transaction bodies (in `records.rs`): connecting, migrations, domains,
//! settings, and the OAI read paths.

use super::{
    Domain, Item, ListQuery, PutOutcome, PutRecord, RecordStatus, StateChange, Store, StoreError,
};
use crate::domain::{DomainName, DomainSetting};
use anyhow::Context as _;
use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Row};
use std::path::Path;

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The SQL store.
#[derive(Clone)]
pub struct SqlStore {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    /// The database's URL: locks held within the process are per database.
    pub(super) url: String,
}

impl SqlStore {
    /// Connects and migrates, creating a missing SQLite file and its folder.
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<SqlStore> {
        Self::open_with(url, max_connections, true).await
    }

    /// Connects and migrates; a missing SQLite file is created only with `create`
    /// (otherwise [`super::OpenError::NoSqliteFile`]). PostgreSQL is probed once first, so
    /// that an unreachable server or a missing database fails within seconds with a
    /// precise [`super::OpenError`].
    pub async fn open_with(
        url: &str,
        max_connections: u32,
        create: bool,
    ) -> anyhow::Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let (file, query) = path.split_once('?').unwrap_or((path, ""));
            super::connect::check_sqlite_file(file, create)?;
            if file != ":memory:" {
                if let Some(dir) = Path::new(file)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
            }
            let query = if query.is_empty() { "mode=rwc" } else { query };
            (Backend::Sqlite, format!("sqlite://{file}?{query}"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            super::connect::probe_postgres(url).await?;
            (Backend::Postgres, url.to_string())
        } else {
            return Err(super::OpenError::BadUrl(url.to_string()).into());
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(std::time::Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
                             PRAGMA cache_size = -4000;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&pool)
            .await
            .context("cannot apply the database migrations")?;
        Ok(SqlStore { pool, backend, url })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. SQLite takes the write lock at once, so a transaction
    /// that reads before it writes never fails on lock upgrade.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Appends `AND column IN ($n, …)` for a domain scope, binding nothing yet; returns the
/// values to bind in order.
fn scope_clause(sql: &mut String, column: &str, ids: Option<&[i64]>, next: &mut usize) -> Vec<i64> {
    match ids {
        None => Vec::new(),
        Some(ids) => {
            sql.push_str(&format!(" AND {column} IN ("));
            for (i, _) in ids.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("${next}"));
                *next += 1;
            }
            if ids.is_empty() {
                sql.push_str("NULL");
            }
            sql.push(')');
            ids.to_vec()
        }
    }
}

/// The WHERE clause shared by `list` and `count`, with its bind values.
fn list_filter(query: &ListQuery, keyset: bool) -> (String, Vec<FilterValue>) {
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

enum FilterValue {
    Int(i64),
    Text(String),
}

fn bind_all<'q>(
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

fn item_from_row(row: &AnyRow, with_body: bool) -> Result<Item, StoreError> {
    let deleted: i64 = row.try_get("deleted")?;
    let body = if with_body && deleted == 0 {
        let compressed: Option<Vec<u8>> = row.try_get("body")?;
        compressed.map(|c| super::decompress(&c)).transpose()?
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

fn domain_from_row(row: &AnyRow) -> Result<Domain, StoreError> {
    let name: String = row.try_get("name")?;
    Ok(Domain {
        id: row.try_get("id")?,
        name: DomainName::parse(&name).map_err(|e| StoreError::Other(e.into()))?,
        parent_id: row.try_get("parent_id")?,
        title: row.try_get("title")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl Store for SqlStore {
    #[tracing::instrument(skip(self))]
    async fn domains(&self) -> Result<Vec<Domain>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, parent_id, title, created_at FROM domain ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(domain_from_row).collect()
    }

    #[tracing::instrument(skip(self))]
    async fn add_domain(
        &self,
        name: &DomainName,
        parent_id: Option<i64>,
        title: &str,
    ) -> Result<Domain, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM domain WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "domain {name} exists already"
            )));
        }
        match parent_id {
            None => {
                let root = sqlx::query("SELECT name FROM domain WHERE parent_id IS NULL")
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(root) = root {
                    let root: String = root.try_get("name")?;
                    return Err(StoreError::Conflict(format!(
                        "there is a root domain already ({root}); give --parent"
                    )));
                }
            }
            Some(parent) => {
                let found = sqlx::query("SELECT id FROM domain WHERE id = $1")
                    .bind(parent)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err(StoreError::NotFound(format!("parent domain {parent}")));
                }
            }
        }
        let now = chrono::Utc::now().timestamp();
        let row = sqlx::query(
            "INSERT INTO domain (name, parent_id, title, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, parent_id, title, created_at",
        )
        .bind(name.as_str())
        .bind(parent_id)
        .bind(title)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let domain = domain_from_row(&row)?;
        tx.commit().await?;
        Ok(domain)
    }

    async fn put_record(&self, record: &PutRecord, now: i64) -> Result<PutOutcome, StoreError> {
        super::records::put_record(self, record, now).await
    }

    async fn put_records(
        &self,
        records: &[PutRecord],
        now: i64,
    ) -> Vec<Result<PutOutcome, StoreError>> {
        super::records::put_records(self, records, now).await
    }

    async fn record_status(
        &self,
        domain_id: i64,
        local_id: &str,
    ) -> Result<Option<RecordStatus>, StoreError> {
        super::records::record_status(self, domain_id, local_id).await
    }

    async fn change_state(
        &self,
        domain_id: i64,
        local_id: &str,
        change: StateChange,
        now: i64,
    ) -> Result<bool, StoreError> {
        super::records::change_state(self, domain_id, local_id, change, now).await
    }

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

    async fn domain_settings(&self) -> Result<Vec<DomainSetting>, StoreError> {
        let rows =
            sqlx::query("SELECT domain_id, key, value FROM domain_setting ORDER BY domain_id, key")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("domain_id")?,
                    row.try_get("key")?,
                    row.try_get("value")?,
                ))
            })
            .collect()
    }

    async fn set_domain_setting(
        &self,
        domain_id: i64,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO domain_setting (domain_id, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (domain_id, key) DO UPDATE SET value = $3",
                )
                .bind(domain_id)
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM domain_setting WHERE domain_id = $1 AND key = $2")
                    .bind(domain_id)
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        let sql = match self.backend {
            Backend::Postgres => "ANALYZE record, dissemination, payload, parent_ref, record_set",
            Backend::Sqlite => "PRAGMA optimize",
        };
        sqlx::raw_sql(sql).execute(&self.pool).await?;
        Ok(())
    }

    async fn setting_or_insert(&self, key: &str, default: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(default)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT value FROM setting WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://./a.db"), "sqlite://./a.db");
    }
}
