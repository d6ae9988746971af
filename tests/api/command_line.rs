//! The `vitrine` command as scripts, Goobi script steps and admins use it: the real binary
//! on the test's database, exit codes, what goes to stdout and stderr.

use crate::helpers::{fixtures, TestApp, TEST_CONFIG};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A configuration file with `text` and the command line for the app's database.
pub struct Cli {
    dir: tempfile::TempDir,
    url: String,
}

impl Cli {
    /// The command line on `app`'s database with configuration `text`.
    pub fn new(app: &TestApp, text: &str) -> Cli {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vitrine.toml"), text).unwrap();
        Cli {
            dir,
            url: app.url.clone(),
        }
    }

    /// A `vitrine` command with `--config` and `--database`, no log filter of the caller's.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vitrine"));
        command
            .arg("--config")
            .arg(self.dir.path().join("vitrine.toml"))
            .args(["--database", &self.url])
            .args(args)
            .env_remove("VITRINE_LOG")
            .stdin(Stdio::null());
        command
    }

    /// Runs `vitrine ARGS` to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run vitrine")
    }

    /// A folder of the test's own.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// `vitrine ARGS` in `dir`, with neither configuration nor database given.
fn bare(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(args)
        .current_dir(dir)
        .env_remove("VITRINE_LOG")
        .env_remove("VITRINE_CONFIG")
        .output()
        .expect("run vitrine")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

const PUBLISHED: &str = "[server]\npublic_url = \"https://oai.example.org\"\n";

#[tokio::test]
async fn a_read_only_command_in_an_empty_folder_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = bare(dir.path(), &["domain", "list"]);
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).starts_with("error: no database at ./vitrine-data/vitrine.db"),
        "{}",
        stderr(&output)
    );
    let typo = dir.path().join("typo/dir/v.db");
    let output = bare(
        dir.path(),
        &[
            "--database",
            &format!("sqlite://{}", typo.display()),
            "job",
            "list",
        ],
    );
    assert_eq!(code(&output), 1);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing created"
    );
    let output = bare(dir.path(), &["domain", "add", "ulb"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(dir.path().join("vitrine-data/vitrine.db").is_file());
}

#[tokio::test]
async fn serve_refuses_a_reachable_address_while_published_settings_are_defaults() {
    let app = TestApp::spawn().await;
    let cli = Cli::new(&app, "[domains.ulb]\npage_size = 10\n");
    let output = cli.run(&["serve", "--bind", "0.0.0.0:0"]);
    assert_eq!(code(&output), 1);
    let err = stderr(&output);
    for key in [
        "server.public_url:",
        "domains.ulb.repository_identifier:",
        "domains.ulb.admin_emails:",
    ] {
        assert!(err.contains(key), "{key} not named in {err}");
    }
    assert!(err.contains("refusing to serve on 0.0.0.0:0"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "no colours when stderr is not a terminal"
    );
}

#[tokio::test]
async fn serve_on_localhost_starts_with_a_warning_and_answers() {
    let app = TestApp::spawn().await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let mut child = cli
        .command(&["serve", "--bind", "localhost:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    assert!(url.starts_with("http://localhost:"), "{url}");
    let response = reqwest::get(format!("{url}/oai?verb=Identify"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(err.contains("WARN"), "{err}");
    assert!(err.contains("server.public_url"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "no colours when stderr is not a terminal"
    );
    assert!(!err.contains("_sqlx_migrations"), "{err}");
}

#[tokio::test]
async fn check_config_prints_every_problem_and_exits_1() {
    let app = TestApp::spawn().await;
    let text = "[server]\nbnd = \"x\"\n[domains.ulb]\npage_sise = 5\n\
                [domains.ulb.jobs.oai_output_validator]\nschedule = \"nightly\"\n";
    let cli = Cli::new(&app, text);
    let output = cli.run(&["check-config"]);
    assert_eq!(code(&output), 1);
    let out = stdout(&output);
    let keys: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
        .collect();
    assert_eq!(
        keys,
        [
            "domains.ulb.page_sise",
            "server.bnd",
            "domains.ulb",
            "server.public_url",
            "domains.ulb.repository_identifier",
            "domains.ulb.admin_emails",
        ],
        "{out}"
    );
    assert!(out.contains("cron"), "{out}");
    // An unreachable database is a problem too.
    let output = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args([
            "--database",
            "postgres://postgres@127.0.0.1:9/x",
            "check-config",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&output), 1);
    assert!(stdout(&output)
        .contains("database: cannot reach PostgreSQL: connection refused at 127.0.0.1:9"));
    // A finished installation has none.
    let cli = Cli::new(&app, &format!("{PUBLISHED}{TEST_CONFIG}"));
    let output = cli.run(&["check-config"]);
    assert_eq!(
        stdout(&output),
        "no problems found\n",
        "{}",
        stderr(&output)
    );
    assert_eq!(code(&output), 0);
}

#[tokio::test]
async fn import_exit_codes_follow_goobi_conventions() {
    let app = TestApp::spawn().await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let good = fixtures().join("main/demo_mono_0001.xml");
    let good = good.to_str().unwrap();
    let output = cli.run(&["import", "--domain", "ulb", good]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let bad = cli.dir().join("bad.xml");
    std::fs::write(&bad, "<mets:mets xmlns:mets='http://www.loc.gov/METS/'>").unwrap();
    let output = cli.run(&["import", "--domain", "ulb", bad.to_str().unwrap()]);
    assert_eq!(code(&output), 1, "a refused file needs a person");
    assert!(stderr(&output).contains("bad.xml: "));
    let unreachable = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["--database", "postgres://postgres@127.0.0.1:9/x"])
        .args(["import", "--domain", "ulb", good])
        .output()
        .unwrap();
    assert_eq!(code(&unreachable), 98, "{}", stderr(&unreachable));
    assert!(stderr(&unreachable).contains("connection refused at 127.0.0.1:9"));
    let help = stdout(&cli.run(&["import", "--help"]));
    assert!(help.contains("98  a transient failure"), "{help}");
    let help = stdout(&cli.run(&["validate", "--help"]));
    assert!(help.contains("98  a transient failure"), "{help}");
    assert!(
        !help.contains("--database"),
        "validate works offline: {help}"
    );
}

#[tokio::test]
async fn an_interrupted_import_says_how_far_it_got_and_exits_130() {
    let app = TestApp::spawn().await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let folder = cli.dir().join("export");
    std::fs::create_dir(&folder).unwrap();
    let text = std::fs::read_to_string(fixtures().join("main/demo_mono_0001.xml")).unwrap();
    for i in 0..1200 {
        let id = format!("copy_{i:04}");
        std::fs::write(
            folder.join(format!("{id}.xml")),
            text.replace("demo_mono_0001", &id),
        )
        .unwrap();
    }
    let child = cli
        .command(&["import", "--domain", "ulb", folder.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ulb = app.domain("ulb").await;
    let started = std::time::Instant::now();
    while app
        .store
        .record_summaries(&[ulb.id], &Default::default())
        .await
        .unwrap()
        .is_empty()
    {
        assert!(started.elapsed().as_secs() < 120, "no batch stored");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 130, "{}", stderr(&output));
    let stored = app
        .store
        .record_summaries(&[ulb.id], &Default::default())
        .await
        .unwrap()
        .len();
    assert!(stored < 1200, "stopped before the end");
    let err = stderr(&output);
    assert!(
        err.contains(&format!("of 1200 files, {stored} committed")),
        "{err}"
    );
}

#[tokio::test]
async fn a_closed_stdout_ends_a_command_quietly() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let fixture = fixtures().join("main/demo_mono_0001.xml");
    let many: Vec<String> = (0..40).map(|_| fixture.display().to_string()).collect();
    let mut validate = vec!["validate", "--json"];
    validate.extend(many.iter().map(String::as_str));
    for args in [
        vec!["print-config"],
        vec!["record", "list", "--domain", "ulb"],
        validate,
    ] {
        let mut child = cli
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let err = stderr(&output);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(output.status.code(), Some(101), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn release_withdraw_and_delete_say_what_changed_per_record() {
    let app = TestApp::spawn().await;
    app.import("ulb", &[fixtures().join("main/demo_mono_0004.xml")], false)
        .await;
    app.import("zd", &[fixtures().join("zd")], true).await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let output = cli.run(&["release", "--domain", "ulb", "demo_mono_0004"]);
    assert_eq!(
        stdout(&output),
        "released demo_mono_0004 (was unreleased)\n"
    );
    let output = cli.run(&["release", "--domain", "ulb", "demo_mono_0004"]);
    assert_eq!(
        stdout(&output),
        "demo_mono_0004: already released, nothing changed\n"
    );
    let output = cli.run(&[
        "withdraw",
        "--domain",
        "ulb",
        "demo_mono_0004",
        "demo_zd_0001",
    ]);
    assert_eq!(code(&output), 1);
    assert_eq!(stdout(&output), "withdrew demo_mono_0004 (was released)\n");
    assert_eq!(
        stderr(&output),
        "demo_zd_0001: not in domain ulb; it is a record of domain zd (use --domain zd)\n"
    );
    let output = cli.run(&["delete", "--domain", "ulb", "demo_mono_0004"]);
    assert_eq!(stdout(&output), "deleted demo_mono_0004 (was unreleased)\n");
}

#[tokio::test]
async fn domain_show_names_the_source_of_every_effective_setting() {
    let app = TestApp::spawn().await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let output = cli.run(&["domain", "unset", "ulb", "page_size"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).contains("page_size is not set with `vitrine domain set`; nothing changed")
    );
    cli.run(&["domain", "set", "ulb", "oai.formats.zmets.on", "true"]);
    let output = cli
        .command(&["domain", "show", "zd"])
        .env("VITRINE_DOMAINS__ZD__PAGE_SIZE", "50")
        .output()
        .unwrap();
    let zd = rows(&stdout(&output));
    assert_eq!(zd["page_size"], ("50".into(), "environment".into()));
    assert_eq!(
        zd["repository_identifier"],
        (
            "\"digital.ulb.example.org\"".into(),
            "inherited from ulb".into()
        )
    );
    assert_eq!(
        zd["repository_name"],
        ("\"ULB Zeitungen\"".into(), "file".into())
    );
    assert_eq!(zd["oai.formats.zmets.on"].1, "default");
    let rows_ulb = rows(&stdout(&cli.run(&["domain", "show", "ulb"])));
    assert_eq!(
        rows_ulb["oai.formats.zmets.on"],
        ("true".into(), "database".into())
    );
    assert_eq!(
        rows_ulb["reference_url"],
        ("(not set)".into(), "default".into())
    );
}

/// `domain show`'s table: setting → (value, source).
fn rows(text: &str) -> std::collections::BTreeMap<String, (String, String)> {
    let header = text
        .lines()
        .find(|l| l.starts_with("setting"))
        .expect("header");
    let value_at = header.find("value").unwrap();
    let source_at = header.find("source").unwrap();
    text.lines()
        .skip_while(|l| !l.starts_with("setting"))
        .skip(1)
        .map(|l| {
            let chars: Vec<char> = l.chars().collect();
            let part = |a: usize, b: usize| -> String {
                chars[a.min(chars.len())..b.min(chars.len())]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string()
            };
            (
                part(0, value_at),
                (part(value_at, source_at), part(source_at, chars.len())),
            )
        })
        .collect()
}

#[tokio::test]
async fn validate_wraps_several_svrl_reports_and_reports_unreadable_files_in_json() {
    let app = TestApp::spawn().await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let invalid = fixtures().join("main/demo_mono_0012.xml");
    let valid = fixtures().join("main/demo_mono_0001.xml");
    let files = [invalid.to_str().unwrap(), valid.to_str().unwrap()];
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vitrine"))
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&["validate", "--svrl", files[0], files[1]]);
    assert_eq!(code(&output), 1);
    let doc = libxml::parser::Parser::default()
        .parse_string(stdout(&output))
        .expect("one XML document");
    let ctx = libxml::xpath::Context::new(&doc).unwrap();
    ctx.register_namespace("v", "urn:vitrine:validation:1")
        .unwrap();
    ctx.register_namespace("svrl", "http://purl.oclc.org/dsdl/svrl")
        .unwrap();
    let count = |xpath: &str| {
        ctx.evaluate(xpath)
            .unwrap()
            .to_string()
            .parse::<f64>()
            .unwrap()
    };
    assert_eq!(
        count("count(/v:validation/v:file/svrl:schematron-output)"),
        2.0
    );
    assert_eq!(
        count("count(/v:validation/v:file[1]//svrl:failed-assert)"),
        2.0
    );
    assert_eq!(
        count("count(/v:validation/v:file[2]//svrl:failed-assert)"),
        0.0
    );
    let out = cli.dir().join("svrl");
    let output = run(&[
        "validate",
        "--svrl",
        "--out",
        out.to_str().unwrap(),
        files[0],
        files[1],
    ]);
    assert_eq!(code(&output), 1);
    assert!(out.join("demo_mono_0012.xml.svrl").is_file());
    assert!(out.join("demo_mono_0001.xml.svrl").is_file());
    assert!(stdout(&output).contains("demo_mono_0012.xml: invalid (1 error, 1 warning, 0 infos)"));
    let missing = cli.dir().join("missing.xml");
    let output = run(&["validate", "--json", missing.to_str().unwrap(), files[1]]);
    assert_eq!(code(&output), 1, "an unreadable file needs a person");
    let objects: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["file"], missing.display().to_string());
    assert!(objects[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("cannot read"));
    assert_eq!(objects[1]["verdict"], "valid");
    let output = run(&["--database", &app.url, "validate", files[1]]);
    assert_eq!(code(&output), 2);
}

#[tokio::test]
async fn completions_and_the_manual_page_come_from_the_command_definitions() {
    let app = TestApp::spawn().await;
    let cli = Cli::new(&app, TEST_CONFIG);
    let bash = stdout(&cli.run(&["completions", "bash"]));
    assert!(bash.contains("complete -F"), "{bash}");
    assert!(bash.contains("check-config"));
    let man = stdout(&cli.run(&["man"]));
    assert!(
        man.starts_with(".ie \\n(.g .ds Aq") || man.contains(".TH vitrine 1"),
        "{man}"
    );
    assert!(man.contains("check\\-config") || man.contains("check-config"));
}

#[tokio::test]
async fn the_demo_checks_its_port_before_importing_and_leaves_no_folder_behind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["demo", "--bind", &bind])
        .output()
        .unwrap();
    assert_eq!(code(&output), 1);
    assert!(
        stdout(&output).is_empty(),
        "nothing imported: {}",
        stdout(&output)
    );
    assert!(stderr(&output).contains(&format!("cannot listen on {bind}")));
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let folder = std::env::temp_dir().join(format!("vitrine-demo-{}", child.id()));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("Stop with Ctrl-C") {
            break;
        }
    }
    assert!(folder.join("demo.db").is_file());
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(!folder.exists(), "{} is left behind", folder.display());
}

#[tokio::test]
async fn on_a_terminal_each_verdict_appears_once() {
    // `script` runs the command on a pseudo-terminal: stdout and stderr are one terminal.
    let Ok(script) = Command::new("script").arg("--version").output() else {
        return; // util-linux's script is not installed
    };
    assert!(script.status.success());
    let file = fixtures().join("main/demo_mono_0012.xml");
    let command = format!(
        "{} validate {}",
        env!("CARGO_BIN_EXE_vitrine"),
        file.display()
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(
        text.matches("invalid (1 error, 1 warning, 0 infos)")
            .count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("at /mets:mets"),
        "findings still shown: {text}"
    );
    // Not on a terminal (a Goobi journal): the verdict also goes to stderr.
    let output = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(stdout(&output).contains("invalid (1 error"));
    assert!(stderr(&output).contains("invalid (1 error"));
}
