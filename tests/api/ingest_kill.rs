//! A server killed (SIGKILL) in the middle of a large folder export leaves every record
//! either complete — every format stored and disseminated — or absent (SPEC §4).

use crate::helpers::{fixtures, fresh_database, open_store};
use std::io::BufRead;
use std::time::{Duration, Instant};
use vitrine::domain::{Clock, DomainName};
use vitrine::store::TokenScope;

const COPIES: usize = 3000;

#[tokio::test]
async fn a_server_killed_during_a_folder_export_leaves_each_record_whole_or_absent() {
    let (url, _db_dir) = fresh_database().await;
    let store = open_store(&url).await;
    // The server under test is a `vitrine serve` process: it reads the system clock.
    let clock = Clock::system();
    let root = store
        .add_domain(&DomainName::parse("ulb").unwrap(), None, "ULB", clock.now())
        .await
        .unwrap();
    let token = store
        .create_token(root.id, TokenScope::Ingest, "kill-test", None, clock.now())
        .await
        .unwrap()
        .text;
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("export/big");
    std::fs::create_dir_all(&folder).unwrap();
    let text = std::fs::read_to_string(fixtures().join("main/demo_mono_0001.xml")).unwrap();
    for i in 0..COPIES {
        let id = format!("copy_{i:05}");
        std::fs::write(
            folder.join(format!("{id}.xml")),
            text.replace("demo_mono_0001", &id),
        )
        .unwrap();
    }
    let config = work.path().join("vitrine.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = {url:?}\n[ingest]\nexport_dirs = [{:?}]\n\
             [domains.ulb]\nrepository_identifier = \"digital.ulb.example.org\"\n",
            work.path().join("export").display().to_string()
        ),
    )
    .unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("VITRINE_CONFIG", &config)
        .env("VITRINE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start vitrine serve");
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .expect(&line)
        .to_string();

    let export = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{address}/api/v1/domains/ulb/exports"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#"{"path": "big", "release": true}"#)
            .send()
            .await
    });
    // Kill as soon as the first batch is committed.
    let started = Instant::now();
    loop {
        let stored = store
            .validation_counts(&[root.id])
            .await
            .unwrap()
            .values()
            .sum::<i64>();
        if stored > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing was stored"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(export.await.unwrap().is_err(), "the export was cut off");

    let store = open_store(&url).await;
    let mut complete = 0;
    for i in 0..COPIES {
        let id = format!("copy_{i:05}");
        let Some(status) = store.record_status(root.id, &id).await.unwrap() else {
            continue;
        };
        complete += 1;
        let formats: Vec<&str> = status
            .disseminations
            .iter()
            .map(|(p, _, _)| p.as_str())
            .collect();
        assert_eq!(formats, vec!["mets", "mods", "oai_dc"], "{id}");
        let oai_id = format!("oai:digital.ulb.example.org:{id}");
        let mets = store.get(&oai_id, "mets", None).await.unwrap().unwrap();
        let body = String::from_utf8(mets.body.expect("METS stored")).unwrap();
        assert!(
            body.contains(&id) && body.trim_end().ends_with("</mets:mets>"),
            "{id}"
        );
        for prefix in ["mods", "oai_dc"] {
            let item = store.get(&oai_id, prefix, None).await.unwrap().unwrap();
            assert!(item.body.is_some_and(|b| !b.is_empty()), "{id} {prefix}");
        }
    }
    assert!(
        complete > 0,
        "the first batch was committed before the kill"
    );
    assert!(
        complete < COPIES,
        "the kill came before the end of the export"
    );
}
