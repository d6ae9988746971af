//! Liveness and readiness: `/health` answers while the process serves, whatever the
//! database does; `/ready` answers 503 while the database is gone — PostgreSQL refusing
//! connections with every connection of the server cut, or the SQLite file moved away —
//! and 200 again as soon as it is back.

use crate::helpers::{TestApp, TEST_CONFIG};

/// The database made unreachable for the server, until [`Outage::end`].
enum Outage {
    Postgres {
        admin: sqlx::PgConnection,
        database: String,
    },
    Sqlite {
        file: std::path::PathBuf,
        away: std::path::PathBuf,
    },
}

impl Outage {
    async fn start(url: &str) -> Outage {
        use sqlx::Connection;
        if let Some(path) = url.strip_prefix("sqlite://") {
            let file = std::path::PathBuf::from(path.split('?').next().unwrap());
            let away = file.with_extension("away");
            std::fs::rename(&file, &away).unwrap();
            return Outage::Sqlite { file, away };
        }
        let base = std::env::var("VITRINE_TEST_POSTGRES_URL").unwrap();
        let database = url.rsplit('/').next().unwrap().to_string();
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {database} ALLOW_CONNECTIONS false"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&database)
        .execute(&mut admin)
        .await
        .unwrap();
        Outage::Postgres { admin, database }
    }

    async fn end(self) {
        match self {
            Outage::Sqlite { file, away } => std::fs::rename(away, file).unwrap(),
            Outage::Postgres {
                mut admin,
                database,
            } => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "ALTER DATABASE {database} ALLOW_CONNECTIONS true"
                )))
                .execute(&mut admin)
                .await
                .unwrap();
            }
        }
    }
}

async fn check(app: &TestApp, base: &str, path: &str) -> (u16, Option<String>, String) {
    let r = app
        .client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), retry, r.text().await.unwrap())
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_gone_and_recovers() {
    let config = format!("[server]\nmetrics_bind = \"127.0.0.1:0\"\n{TEST_CONFIG}");
    let app = TestApp::spawn_with(&config).await;
    let metrics = app.metrics_address.clone().unwrap();
    for base in [&app.address, &metrics] {
        assert_eq!(
            check(&app, base, "/ready").await,
            (200, None, "ready\n".into())
        );
        assert_eq!(
            check(&app, base, "/health").await,
            (200, None, "ok\n".into())
        );
    }

    let outage = Outage::start(&app.url).await;
    let started = std::time::Instant::now();
    for base in [&app.address, &metrics] {
        let (status, retry, _) = check(&app, base, "/ready").await;
        assert_eq!(status, 503, "{base}");
        assert_eq!(retry.as_deref(), Some("10"));
        assert_eq!(check(&app, base, "/health").await.0, 200, "liveness stays");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "answered within the readiness timeout, not the pool's"
    );
    outage.end().await;

    for base in [&app.address, &metrics] {
        assert_eq!(check(&app, base, "/ready").await.0, 200, "{base}");
    }
    assert_eq!(app.get("/oai", &[("verb", "Identify")]).await.status(), 200);
}
