//! Test harness: starts the real application on port 0 with a fresh database (a temp-dir
//! SQLite file, or a uniquely named PostgreSQL database when `VITRINE_TEST_POSTGRES_URL`
//! is set) and a manual clock, talks HTTP to it, and parses responses for XPath
//! assertions.
//!
//! Time stands still in a test: the application, its imports, state changes and job
//! runs all read `TestApp::clock`, which moves only when the test sets or advances it.

use libxml::tree::Document;
use libxml::xpath::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vitrine::config::Config;
use vitrine::domain::{Clock, Domain, DomainName, DomainTree, ManualClock};
use vitrine::ingest::ImportOptions;
use vitrine::startup::Application;
use vitrine::store::{StateChange, Store};

/// The shared corpus beside the repository; tests fail loudly when it is missing.
pub fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "the shared corpus is missing: expected it at {} (CI provides it beside the repository)",
        dir.display()
    );
    dir
}

/// The demo fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo")
}

/// A database URL for one test.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("VITRINE_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            use sqlx::Connection;
            let name = format!("vitrine_test_{}", rand_suffix());
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("VITRINE_TEST_POSTGRES_URL must point at a reachable PostgreSQL server");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/vitrine.db", dir.path().display());
            (url, Some(dir))
        }
    }
}

/// Another store on a database: what a second vitrine instance sees.
pub async fn open_store(url: &str) -> Arc<dyn Store> {
    // As many connections as a server has by default: a validator run on PostgreSQL
    // holds one for its lock and up to three claims at once.
    Arc::new(vitrine::store::open(url, 8).await.expect("open store"))
}

fn rand_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{:x}_{}", n, std::process::id())
}

/// A running application with its store.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// The store the server uses.
    pub store: Arc<dyn Store>,
    /// The configuration.
    pub config: Arc<Config>,
    /// The database URL (for a second store or a `vitrine` process on the same database).
    pub url: String,
    /// HTTP client (no automatic decompression).
    pub client: reqwest::Client,
    /// The clock the application reads, standing at the second the test started until
    /// the test moves it.
    pub clock: ManualClock,
    /// `http://127.0.0.1:PORT` of the metrics listener, when `server.metrics_bind` is set.
    pub metrics_address: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// Default test configuration: root domain `ulb`, sub-domain `zd` under it.
pub const TEST_CONFIG: &str = r#"
[domains.ulb]
repository_name = "ULB test repository"
admin_emails = ["digital@ulb.example.org"]
repository_identifier = "digital.ulb.example.org"
page_size = 10

[[domains.ulb.sets]]
spec = "geschichte"
name = "Geschichte"
description = "Digitale Sammlung Geschichte"
classifications = ["Geschichte"]

[domains.zd]
repository_name = "ULB Zeitungen"
"#;

impl TestApp {
    /// Starts an application with `config_text`, creating domain `ulb` (root) and `zd`.
    pub async fn spawn_with(config_text: &str) -> TestApp {
        let config: Config = toml::from_str(config_text).expect("test configuration");
        let config = Arc::new(config);
        let (url, dir) = fresh_database().await;
        let store = open_store(&url).await;
        let clock = ManualClock::at_system_time();
        let root = store
            .add_domain(&DomainName::parse("ulb").unwrap(), None, "ULB", clock.now())
            .await
            .unwrap();
        store
            .add_domain(
                &DomainName::parse("zd").unwrap(),
                Some(root.id),
                "Zeitungen",
                clock.now(),
            )
            .await
            .unwrap();
        let app = Application::build(config.clone(), store.clone(), "127.0.0.1:0", clock.clock())
            .await
            .expect("build application");
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = app
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            store,
            config,
            url,
            client: reqwest::Client::builder()
                .no_gzip()
                .no_deflate()
                .build()
                .unwrap(),
            clock,
            metrics_address,
            _dir: dir,
        }
    }

    /// Starts the default application.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(TEST_CONFIG).await
    }

    /// The application's clock, to hand to what the test runs beside the server (jobs,
    /// imports, hotfolders, schedules).
    pub fn time(&self) -> Clock {
        self.clock.clock()
    }

    /// A domain by name.
    pub async fn domain(&self, name: &str) -> Domain {
        self.tree().await.by_name(name).cloned().expect("domain")
    }

    /// The current domain tree.
    pub async fn tree(&self) -> Arc<DomainTree> {
        Arc::new(
            vitrine::store::load_tree(self.store.as_ref(), self.config.clone())
                .await
                .unwrap(),
        )
    }

    /// Imports files into a domain, returning the report.
    pub async fn import(
        &self,
        domain: &str,
        paths: &[PathBuf],
        release: bool,
    ) -> vitrine::ingest::ImportReport {
        let files = vitrine::ingest::collect_files(paths).unwrap();
        let d = self.domain(domain).await;
        vitrine::ingest::import(
            self.store.clone(),
            self.tree().await,
            &d,
            files,
            ImportOptions::new(release, self.time()),
        )
        .await
    }

    /// Imports the demo fixtures (main → ulb, zd → zd), released.
    pub async fn import_demo(&self) {
        let r = self.import("ulb", &[fixtures().join("main")], true).await;
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        let r = self.import("zd", &[fixtures().join("zd")], true).await;
        assert!(r.failed.is_empty(), "{:?}", r.failed);
    }

    /// Imports `count` released copies of a demo monograph into a domain, with the local
    /// ids `copy_0000`, `copy_0001`, …
    pub async fn import_copies(&self, domain: &str, count: usize) {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(fixtures().join("main/demo_mono_0001.xml")).unwrap();
        for i in 0..count {
            let id = format!("copy_{i:04}");
            std::fs::write(
                dir.path().join(format!("{id}.xml")),
                text.replace("demo_mono_0001", &id),
            )
            .unwrap();
        }
        let r = self.import(domain, &[dir.path().to_path_buf()], true).await;
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        assert_eq!(r.created, count);
    }

    /// The stored status of a record (panics when it does not exist).
    pub async fn status(&self, domain: &str, local_id: &str) -> vitrine::store::RecordStatus {
        let d = self.domain(domain).await;
        self.store
            .record_status(d.id, local_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no record {local_id} in {domain}"))
    }

    /// Changes a record's state.
    pub async fn change(&self, domain: &str, local_id: &str, change: StateChange) {
        let d = self.domain(domain).await;
        self.store
            .change_state(d.id, local_id, change, self.clock.now())
            .await
            .unwrap();
    }

    /// GET `path` with query pairs; returns the raw response.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .query(query)
            .send()
            .await
            .expect("request")
    }

    /// An OAI request on `/oai` (root endpoint), parsed; asserts HTTP 200 and text/xml.
    pub async fn oai(&self, query: &[(&str, &str)]) -> Xml {
        self.oai_at("/oai", query).await
    }

    /// An OAI request on any endpoint path, parsed and schema-checked.
    pub async fn oai_at(&self, path: &str, query: &[(&str, &str)]) -> Xml {
        let response = self.get(path, query).await;
        assert_eq!(
            response.status(),
            200,
            "OAI-PMH answers protocol errors with HTTP 200"
        );
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(content_type, "text/xml; charset=UTF-8");
        let body = response.bytes().await.unwrap();
        let xml = Xml::parse(&body);
        xml.assert_valid_oai();
        xml
    }
}

/// A parsed response with XPath helpers (prefixes `o` for OAI-PMH, `dc`, `oai_dc`,
/// `mets`, `mods`).
pub struct Xml {
    /// The document.
    pub doc: Document,
    /// The raw bytes.
    pub raw: Vec<u8>,
}

impl Xml {
    /// Parses bytes (panics with the text when not well-formed).
    pub fn parse(bytes: &[u8]) -> Xml {
        let doc = vitrine::xml::parse(bytes, Default::default()).unwrap_or_else(|e| {
            panic!(
                "response is not well-formed ({e}):\n{}",
                String::from_utf8_lossy(bytes)
            )
        });
        Xml {
            doc,
            raw: bytes.to_vec(),
        }
    }

    fn context(&self) -> Context {
        let ctx = Context::new(&self.doc).unwrap();
        for (p, ns) in [
            ("o", "http://www.openarchives.org/OAI/2.0/"),
            ("dc", "http://purl.org/dc/elements/1.1/"),
            ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
            ("mets", "http://www.loc.gov/METS/"),
            ("mods", "http://www.loc.gov/mods/v3"),
            ("xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("id", "http://www.openarchives.org/OAI/2.0/oai-identifier"),
        ] {
            ctx.register_namespace(p, ns).unwrap();
        }
        ctx
    }

    /// The string value of an XPath expression.
    pub fn s(&self, xpath: &str) -> String {
        self.context()
            .evaluate(xpath)
            .unwrap_or_else(|_| panic!("bad xpath {xpath}"))
            .to_string()
    }

    /// The number value of `count(xpath)`.
    pub fn count(&self, xpath: &str) -> usize {
        self.s(&format!("count({xpath})")).parse::<f64>().unwrap() as usize
    }

    /// The string values of all nodes selected.
    pub fn all(&self, xpath: &str) -> Vec<String> {
        let mut ctx = self.context();
        ctx.findvalues(xpath, None).unwrap_or_default()
    }

    /// Error codes in the response.
    pub fn errors(&self) -> Vec<String> {
        self.all("/o:OAI-PMH/o:error/@code")
    }

    /// The resumption token text, if any element is present.
    pub fn token(&self) -> Option<String> {
        (self.count("//o:resumptionToken") > 0).then(|| self.s("string(//o:resumptionToken)"))
    }

    /// Validates the envelope against OAI-PMH.xsd, every oai_dc record against
    /// oai_dc.xsd and the Identify description against oai-identifier.xsd.
    ///
    /// OAI-PMH.xsd asks for strict validation of record content; METS records are served
    /// as ingested (and real exports are not always XSD-valid), so the envelope is checked
    /// with the wildcards relaxed to `lax`, and the formats vitrine itself produces are
    /// checked against their own schemas here.
    pub fn assert_valid_oai(&self) {
        validate(&self.doc, &schemas().join("OAI-PMH.xsd"), &self.raw);
        self.assert_valid_part("//oai_dc:dc", &schemas().join("oai_dc.xsd"));
        self.assert_valid_part("//id:oai-identifier", &schemas().join("oai-identifier.xsd"));
    }

    /// Validates every element selected by `xpath`, as its own document, against `xsd`.
    pub fn assert_valid_part(&self, xpath: &str, xsd: &Path) {
        let mut ctx = self.context();
        for node in ctx.findnodes(xpath, None).unwrap_or_default() {
            let copy = Document::dup_node_into_new_doc(&node).unwrap();
            let text = copy.to_string();
            let reparsed = vitrine::xml::parse(text.as_bytes(), Default::default()).unwrap();
            validate(&reparsed, xsd, text.as_bytes());
        }
    }
}

/// The corpus schemas, copied so that they work offline: the DCMI import points at the
/// local xml.xsd, and OAI-PMH.xsd's record wildcards are lax (see `assert_valid_oai`).
pub fn schemas() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let xsd = corpus().join("xsd");
        let dir = std::env::temp_dir().join(format!("vitrine-xsd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&xsd).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text
                .replace("http://www.w3.org/2001/03/xml.xsd", "xml.xsd")
                .replace("http://www.loc.gov/standards/xlink/xlink.xsd", "xlink.xsd");
            let text = if path.ends_with("OAI-PMH.xsd") {
                assert!(text.contains("processContents=\"strict\""));
                text.replace("processContents=\"strict\"", "processContents=\"lax\"")
            } else {
                text
            };
            std::fs::write(dir.join(path.file_name().unwrap()), text).unwrap();
        }
        dir
    })
    .clone()
}

fn validate(doc: &Document, schema: &Path, raw: &[u8]) {
    use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
    let mut parser = SchemaParserContext::from_file(schema.to_str().unwrap());
    let mut validator = SchemaValidationContext::from_parser(&mut parser)
        .unwrap_or_else(|e| panic!("schema {} does not load: {e:?}", schema.display()));
    if let Err(errors) = validator.validate_document(doc) {
        let messages: Vec<String> = errors
            .iter()
            .map(|e| {
                format!(
                    "line {:?}: {}",
                    e.line,
                    e.message.clone().unwrap_or_default()
                )
            })
            .collect();
        panic!(
            "response is not valid against {}:\n{}\n--- response ---\n{}",
            schema.display(),
            messages.join("\n"),
            String::from_utf8_lossy(&raw[..raw.len().min(4000)])
        );
    }
}

/// How many released fixture files of `folder` carry `mods:classification` = `value`
/// (the manifest's withdrawn/deleted ones are released in these tests too).
pub fn fixtures_with_classification(value: &str, folder: &str) -> usize {
    let needle = format!(">{value}</mods:classification>");
    std::fs::read_dir(fixtures().join(folder))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .map(|t| t.contains(&needle))
                .unwrap_or(false)
        })
        .count()
}

/// The datestamp one second after `stamp` (second granularity).
pub fn second_after(stamp: &str) -> String {
    let seconds = vitrine::domain::Datestamp::parse(stamp).unwrap().seconds();
    vitrine::domain::Datestamp::from_seconds(seconds + 1).to_string()
}
