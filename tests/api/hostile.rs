//! Hostile and unusual input through every entry point: entity declarations hidden from
//! a naive DOCTYPE scan, byte order marks and UTF-16, text nodes harvesters cannot read,
//! oversized files, and a database that fails in the middle of an import.

use crate::helpers::{fixtures, TestApp, TEST_CONFIG};
use std::path::PathBuf;
use std::time::Duration;
use vitrine::jobs::oai_output_validator::{run, Options};

const MONO: &str = "demo_mono_0001";
const IDENTIFIER: &str = "oai:digital.ulb.example.org:demo_mono_0001";

fn monograph() -> String {
    std::fs::read_to_string(fixtures().join("main/demo_mono_0001.xml")).unwrap()
}

/// The monograph without its XML declaration: the root element and what follows.
fn monograph_root() -> String {
    let text = monograph();
    let start = text.find("<mets:mets").unwrap();
    text[start..].to_string()
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// GetRecord in every base format; each response is valid OAI-PMH (checked by `oai`).
async fn assert_served_in_every_format(app: &TestApp, expected_mets: &str) {
    let mets = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", IDENTIFIER),
            ("metadataPrefix", "mets"),
        ])
        .await;
    assert!(mets.errors().is_empty(), "{:?}", mets.errors());
    let served = String::from_utf8_lossy(&mets.raw).into_owned();
    let start = served.find("<mets:mets").expect("the METS root is served");
    assert!(
        served[..start].ends_with("<metadata>"),
        "nothing but the root element is embedded: {}",
        &served[start.saturating_sub(40)..start]
    );
    assert!(
        served.contains(expected_mets.trim_end()),
        "the stored METS is the ingested root element, as UTF-8"
    );
    assert_eq!(
        mets.s("//o:metadata/mets:mets//mods:titleInfo[1]/mods:title"),
        "Belägerte und entsetzte Stadt Wien"
    );
    for (prefix, root) in [("mods", "mods"), ("oai_dc", "dc")] {
        let doc = app
            .oai(&[
                ("verb", "GetRecord"),
                ("identifier", IDENTIFIER),
                ("metadataPrefix", prefix),
            ])
            .await;
        assert_eq!(doc.s("local-name(//o:metadata/*)"), root, "{prefix}");
        assert!(
            doc.s("//o:metadata")
                .contains("Belägerte und entsetzte Stadt Wien"),
            "{prefix}"
        );
    }
}

#[tokio::test]
async fn a_quoted_gt_in_an_attribute_default_cannot_smuggle_an_entity_into_a_stored_record() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let hostile = monograph()
        .replacen(
            "<mets:mets ",
            "<!DOCTYPE mets:mets [<!ATTLIST mets:mets LABEL CDATA \">\"><!ENTITY t \"tttttttt\">]>\n<mets:mets ",
            1,
        )
        .replacen("Belägerte und", "Belägerte &t; und", 1);
    let file = write(&dir, "hostile.xml", hostile.as_bytes());
    let report = app.import("ulb", std::slice::from_ref(&file), true).await;
    assert_eq!(report.created, 0);
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0]
            .1
            .contains("entity declarations are not accepted"),
        "{:?}",
        report.failed
    );
    let get = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", IDENTIFIER),
            ("metadataPrefix", "mets"),
        ])
        .await;
    assert_eq!(get.errors(), vec!["idDoesNotExist"]);
    // `vitrine validate` goes through the same guard.
    let refused = vitrine::validation::validate(hostile.as_bytes(), &[], Default::default())
        .expect_err("validate refuses the document");
    assert!(
        refused
            .to_string()
            .contains("entity declarations are not accepted"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_utf8_byte_order_mark_does_not_shift_the_stored_mets() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(monograph().as_bytes());
    let file = write(&dir, "bom.xml", &bytes);
    let report = app.import("ulb", &[file], true).await;
    assert_eq!(report.created, 1, "{:?}", report.failed);
    assert_served_in_every_format(&app, &monograph_root()).await;
}

#[tokio::test]
async fn utf16_with_a_byte_order_mark_and_no_declaration_is_stored_as_utf8() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "le.xml", &utf16(&monograph_root(), false));
    let report = app.import("ulb", &[file], true).await;
    assert_eq!(report.created, 1, "{:?}", report.failed);
    assert_served_in_every_format(&app, &monograph_root()).await;
}

#[tokio::test]
async fn declared_utf16_big_endian_and_declared_latin1_are_stored_as_utf8() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let declared = monograph().replacen("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", 1);
    let file = write(&dir, "be.xml", &utf16(&declared, true));
    assert_eq!(app.import("ulb", &[file], true).await.created, 1);
    assert_served_in_every_format(&app, &monograph_root()).await;

    // ISO-8859-1: libxml2 converts it; the stored copy is its UTF-8 serialisation.
    let mut latin1 = Vec::new();
    for c in monograph()
        .replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1)
        .chars()
    {
        match u8::try_from(u32::from(c)) {
            Ok(byte) => latin1.push(byte),
            // Outside Latin-1: a character reference (the monograph has them only in text).
            Err(_) => latin1.extend(format!("&#{};", u32::from(c)).into_bytes()),
        }
    }
    let file = write(&dir, "latin1.xml", &latin1);
    assert_eq!(app.import("ulb", &[file], true).await.replaced, 1);
    let mets = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", IDENTIFIER),
            ("metadataPrefix", "mets"),
        ])
        .await;
    assert_eq!(
        mets.s("//o:metadata/mets:mets//mods:titleInfo[1]/mods:title"),
        "Belägerte und entsetzte Stadt Wien"
    );
}

#[tokio::test]
async fn records_ingested_with_a_bom_or_as_utf16_reach_zmets_through_the_validator_job() {
    let config = TEST_CONFIG.replace(
        "[domains.zd]",
        "[domains.ulb.oai.formats.zmets]\non = true\n[domains.ulb.oai.formats.zmods]\non = true\n[domains.zd]",
    );
    let app = TestApp::spawn_with(&config).await;
    let dir = tempfile::tempdir().unwrap();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(monograph().as_bytes());
    let other = monograph_root().replace("demo_mono_0001", "demo_mono_0001_utf16");
    let files = [
        write(&dir, "bom.xml", &bom),
        write(&dir, "le.xml", &utf16(&other, false)),
    ];
    assert_eq!(app.import("ulb", &files, true).await.created, 2);
    let options = Options {
        full: true,
        join_wait: Duration::from_millis(300),
        ..Options::new("ulb", "test", app.time())
    };
    let report = run(
        app.store.clone(),
        app.tree().await,
        &app.config,
        &options,
        &|_, _| {},
    )
    .await
    .expect("job run");
    assert_eq!(report.validated, 2);
    let list = app
        .oai(&[("verb", "ListRecords"), ("metadataPrefix", "zmets")])
        .await;
    let mut identifiers = list.all("//o:record/o:header/o:identifier");
    identifiers.sort();
    assert_eq!(
        identifiers,
        vec![IDENTIFIER.to_string(), format!("{IDENTIFIER}_utf16"),],
        "{}",
        String::from_utf8_lossy(&list.raw)
    );
    assert_eq!(list.count("//o:metadata/mets:mets"), 2);
    for identifier in identifiers {
        let zmods = app
            .oai(&[
                ("verb", "GetRecord"),
                ("identifier", &identifier),
                ("metadataPrefix", "zmods"),
            ])
            .await;
        assert_eq!(zmods.s("local-name(//o:metadata/*)"), "mods");
    }
}

#[tokio::test]
async fn a_text_node_over_ten_megabytes_is_refused_at_import() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let note = format!(
        "<mods:note>{}</mods:note>\n            <mods:titleInfo>",
        "x".repeat(vitrine::xml::parse::MAX_TEXT_BYTES + 1)
    );
    let huge = monograph().replacen("<mods:titleInfo>", &note, 1);
    let file = write(&dir, "huge-text.xml", huge.as_bytes());
    let report = app.import("ulb", &[file], true).await;
    assert_eq!(report.created, 0);
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0]
            .1
            .contains("a text of 10000001 bytes exceeds the limit of 10000000 bytes per text node"),
        "{:?}",
        report.failed
    );
}

#[tokio::test]
async fn an_oversized_file_is_refused_by_its_size_before_it_is_read() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    // A sparse file of 4 GiB: reading it whole first would take 4 GiB of memory.
    let file = dir.path().join("huge.xml");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let ok = write(&dir, "ok.xml", monograph().as_bytes());
    let report = app.import("ulb", &[file.clone(), ok], true).await;
    assert_eq!(report.created, 1);
    assert_eq!(
        report.failed,
        vec![(
            file,
            "document of 4294967296 bytes exceeds the limit of 67108864 bytes".to_string()
        )]
    );
}

/// 300 copies of the monograph with their own local ids, in import order.
fn copies(dir: &tempfile::TempDir) -> Vec<PathBuf> {
    let text = monograph();
    (0..300)
        .map(|i| {
            let id = format!("copy_{i:04}");
            write(
                dir,
                &format!("{id}.xml"),
                text.replace(MONO, &id).as_bytes(),
            )
        })
        .collect()
}

/// On SQLite: a real `vitrine import` whose files may not grow beyond what the database
/// has now (RLIMIT_FSIZE, as on a full disk): SQLite's writes fail with an I/O error.
async fn import_on_a_full_disk(app: &TestApp, dir: &tempfile::TempDir) {
    use sqlx::Connection;
    let path = app.url.strip_prefix("sqlite://").expect("a SQLite URL");
    // Everything in the database file, the write-ahead log empty: the import's first
    // writes go past the limit.
    let mut conn = sqlx::SqliteConnection::connect(&app.url).await.unwrap();
    sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let largest = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{path}{suffix}")).ok())
        .map(|m| m.len())
        .max()
        .unwrap();
    let blocks = largest / 1024 + 32;
    let config = dir.path().join("vitrine.toml");
    std::fs::write(&config, TEST_CONFIG).unwrap();
    let output = std::process::Command::new("bash")
        .arg("-c")
        // SIGXFSZ ignored, so a write past the limit fails with EFBIG instead of killing.
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_vitrine"))
        .arg("--config")
        .arg(&config)
        .args(["--database", &app.url])
        .args(["import", "--domain", "ulb", "--release"])
        .arg(dir.path().join("files"))
        .env_remove("VITRINE_LOG")
        .output()
        .expect("run vitrine import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A full or failing disk is a transient failure in Goobi's terms: exit 98, run the
    // step again later.
    assert_eq!(output.status.code(), Some(98), "{stdout}\n{stderr}");
    assert_eq!(
        stderr.matches("import stopped: storage failure:").count(),
        1,
        "the cause is named once: {stderr}"
    );
    assert!(!stderr.contains("transaction depth"), "{stderr}");
    let cause = stderr
        .lines()
        .find(|l| l.starts_with("import stopped: storage failure:"))
        .unwrap();
    assert!(
        cause.contains("disk I/O error") || cause.contains("full"),
        "{cause}"
    );
    // Every file accounted for: 300 seen, none refused for itself, the rest not imported.
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("300 files: "), "{summary}");
    let count = |label: &str| -> usize {
        summary
            .split([':', ',', '('])
            .find_map(|part| part.trim().strip_suffix(label))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {label} in {summary}"))
    };
    assert_eq!(count(" failed"), 0, "{summary}");
    let not_imported = count(" not imported");
    assert!(not_imported > 0, "{summary}");
    assert_eq!(count(" created") + not_imported, 300, "{summary}");
    let listed = stderr.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(listed, not_imported, "every file not imported is listed");
}

/// On PostgreSQL: the database refuses new connections and every open one is terminated
/// (pg_terminate_backend) before the import writes.
async fn import_with_the_server_gone(app: &TestApp, dir: &tempfile::TempDir, files: &[PathBuf]) {
    use sqlx::Connection;
    let (server, name) = app.url.rsplit_once('/').expect("a database URL");
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("an administrative connection");
    let allow = |yes: bool| {
        sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {yes}"
        ))
    };
    let tree = app.tree().await;
    let ulb = app.domain("ulb").await;
    sqlx::raw_sql(allow(false))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .execute(&mut admin)
        .await
        .unwrap();
    let collected = vitrine::ingest::collect_files(&[dir.path().join("files")]).unwrap();
    let report = vitrine::ingest::import(
        app.store.clone(),
        tree,
        &ulb,
        collected,
        vitrine::ingest::ImportOptions::new(true, app.time()),
    )
    .await;
    sqlx::raw_sql(allow(true))
        .execute(&mut admin)
        .await
        .unwrap();

    assert_eq!(report.created + report.replaced + report.unchanged, 0);
    assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    let stopped = report.stopped.as_ref().expect("the import stopped");
    assert!(
        stopped
            .cause
            .contains("not currently accepting connections")
            || stopped.cause.contains("terminating connection"),
        "{}",
        stopped.cause
    );
    assert_eq!(stopped.not_imported, files, "every file, in import order");
    assert_eq!(report.total(), 300);
    // Once the server is back, nothing of the failed import is there.
    let list = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
        .await;
    assert_eq!(
        list.all("//o:header/o:identifier"),
        vec!["oai:digital.ulb.example.org:demo_mono_0003"]
    );
}

#[tokio::test]
async fn an_import_stops_at_a_storage_failure_names_the_cause_once_and_accounts_for_every_file() {
    let app = TestApp::spawn().await;
    app.import("ulb", &[fixtures().join("main/demo_mono_0003.xml")], true)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("files")).unwrap();
    let files_dir = tempfile::TempDir::new_in(dir.path().join("files")).unwrap();
    let files = copies(&files_dir);
    if app.url.starts_with("sqlite://") {
        import_on_a_full_disk(&app, &dir).await;
    } else {
        import_with_the_server_gone(&app, &dir, &files).await;
    }
    // The database works again for the next import, whatever the last one left.
    let again = app.import("ulb", &[dir.path().join("files")], true).await;
    assert!(
        again.failed.is_empty() && again.stopped.is_none(),
        "{again:?}"
    );
    assert_eq!(again.total(), 300);
}
