//! What ships next to the binary: the licence matches `Cargo.toml`, the changelog has the
//! current version, and the example systemd unit and the Dockerfile run `vitrine serve`
//! the way their comments promise (`.ci/run` also lints them with `systemd-analyze` and
//! `hadolint`).

use std::path::Path;

fn read(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn manifest_value(key: &str) -> String {
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    manifest["package"][key].as_str().unwrap().to_string()
}

#[test]
fn the_licence_file_is_the_licence_cargo_toml_names() {
    assert_eq!(manifest_value("license"), "Apache-2.0");
    let licence = read("LICENSE");
    assert!(licence.trim_start().starts_with("Apache License"));
    assert!(licence.contains("Version 2.0, January 2004"));
    assert!(licence.contains("END OF TERMS AND CONDITIONS"));
}

#[test]
fn the_changelog_has_the_current_version_and_unreleased_changes() {
    let changelog = read("CHANGELOG.md");
    let version = manifest_value("version");
    assert!(
        changelog.contains(&format!("## [{version}]")),
        "CHANGELOG.md has no section for {version}"
    );
    assert!(changelog.contains("## [Unreleased]"));
}

#[test]
fn the_systemd_unit_checks_the_configuration_and_serves_unprivileged() {
    let unit = read("dist/vitrine.service");
    let lines: Vec<&str> = unit.lines().map(str::trim).collect();
    for expected in [
        "ExecStartPre=/usr/local/bin/vitrine check-config",
        "ExecStart=/usr/local/bin/vitrine serve",
        "DynamicUser=yes",
        "Environment=VITRINE_CONFIG=/etc/vitrine/vitrine.toml",
        "Restart=on-failure",
    ] {
        assert!(lines.contains(&expected), "missing: {expected}");
    }
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_serves_as_a_non_root_user_in_another() {
    let dockerfile = read("Dockerfile");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .collect();
    let stages = instructions
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert!(stages >= 2, "multi-stage: {stages} FROM lines");
    let user = instructions
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER instruction");
    assert!(
        user.trim() != "root" && user.trim() != "0",
        "runs as {user}"
    );
    assert!(instructions.contains(&"ENTRYPOINT [\"/usr/local/bin/vitrine\"]"));
    assert!(instructions.contains(&"CMD [\"serve\"]"));
    assert!(dockerfile.contains("VITRINE_DATABASE__URL=postgres://"));
    let ignore = read(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target"));
}
