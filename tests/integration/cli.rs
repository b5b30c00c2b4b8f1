//! The `kmh` binary itself: help, `kmh creds` with and without a running
//! server, `kmh serve` start-up, first-run credential and clean shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::statement;

pub(crate) fn kmh() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kmh"))
}

pub(crate) fn output(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_command_and_its_environment_variables() {
    let (ok, out, _) = output(kmh().arg("--help"));
    assert!(ok);
    for cmd in [
        "serve",
        "creds",
        "package",
        "validate",
        "bench",
        "audit",
        "identities",
        "forget",
        "prune",
    ] {
        assert!(out.contains(cmd), "--help lacks {cmd}:\n{out}");
    }
    let (ok, out, _) = output(kmh().args(["serve", "--help"]));
    assert!(
        ok && out.contains("KMH_LISTEN") && out.contains("KMH_DATA"),
        "{out}"
    );
    let (ok, out, _) = output(kmh().args(["serve", "--help"]));
    for flag in [
        "KMH_HEADER_TIMEOUT",
        "KMH_REQUEST_TIMEOUT",
        "KMH_MIN_FREE_DISK_MB",
        "KMH_RETAIN_STATEMENTS_DAYS",
        "KMH_RETAIN_IDENTITIES_DAYS",
        "KMH_COURSES",
        "KMH_NO_COURSES",
        "KMH_COUNTRY_OF_LMS",
        "KMH_LMS_COUNTRIES",
    ] {
        assert!(ok && out.contains(flag), "serve --help lacks {flag}");
    }
    let (ok, out, _) = output(kmh().args(["forget", "--help"]));
    assert!(
        ok && out.contains("KMH_FORGET_AGENT") && out.contains("--dry-run"),
        "{out}"
    );
    let (ok, out, _) = output(kmh().args(["prune", "--help"]));
    assert!(
        ok && out.contains("KMH_RETAIN_STATEMENTS_DAYS") && !out.contains("--now"),
        "{out}"
    );
    let (ok, out, _) = output(kmh().args(["creds", "add", "--help"]));
    assert!(ok && out.contains("--scope"), "{out}");
}

#[test]
fn creds_work_on_a_store_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, out, err) = output(kmh().args([
        "creds",
        "add",
        "--scope",
        "statements/write",
        "--label",
        "Moodle",
        "--json",
        "--data",
        data,
    ]));
    assert!(ok, "{err}");
    let issued: Value = serde_json::from_str(&out).unwrap();
    let key = issued["key"].as_str().unwrap();
    assert_eq!(issued["secret"].as_str().unwrap().len(), 64);

    let (ok, out, _) = output(kmh().args(["creds", "list", "--data", data]));
    assert!(
        ok && out.contains(key)
            && out.contains("Moodle")
            && !out.contains(issued["secret"].as_str().unwrap())
    );

    let (ok, _, err) = output(kmh().args([
        "creds",
        "add",
        "--scope",
        "statements/delete",
        "--data",
        data,
    ]));
    assert!(!ok && err.contains("statements/delete"), "{err}");

    let (ok, _, _) = output(kmh().args(["creds", "revoke", key, "--data", data]));
    assert!(ok);
    let (ok, _, err) = output(kmh().args(["creds", "revoke", key, "--data", data]));
    assert!(!ok && err.contains(key));
}

pub(crate) struct Server {
    pub child: Child,
    pub url: String,
    pub key: String,
    pub secret: String,
}

/// Starts `kmh serve` on a free port and reads what it prints on start-up.
pub(crate) fn serve(data: &str) -> Server {
    serve_with(data, &[])
}

pub(crate) fn serve_with(data: &str, extra: &[&str]) -> Server {
    let mut cmd = kmh();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data", data])
        .args(extra);
    serve_command(cmd)
}

/// Starts the server `cmd` runs (`kmh serve …`, maybe through a wrapper).
pub(crate) fn serve_command(mut cmd: Command) -> Server {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut key, mut secret, mut url) = (String::new(), String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(k) = line.trim().strip_prefix("key:") {
            key = k.trim().to_owned();
        } else if let Some(s) = line.trim().strip_prefix("secret:") {
            secret = s.trim().to_owned();
        } else if let Some(u) = line.strip_prefix("kmh serve: listening on ") {
            url = u.trim().to_owned();
            break;
        }
    }
    assert!(!url.is_empty(), "kmh serve did not print its URL");
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        url,
        key,
        secret,
    }
}

/// A server left running by a failed test is stopped with it.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap()
}

#[test]
fn reading_commands_on_a_folder_without_a_store_fail_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["report"],
        vec!["audit"],
        vec!["export", "-"],
        vec!["prune", "--retain-statements-days", "1", "--dry-run"],
    ] {
        let (ok, _, err) = output(kmh().args(&args).args(["--data", missing]));
        assert!(!ok && err.contains("holds no kmh store"), "{args:?}: {err}");
        assert!(
            !dir.path().join("typo").exists(),
            "{args:?} created a store"
        );
    }
}

/// Runs `kmh bench` once on the store in `dir` with `--prefill`,
/// `--singles`, `--batched` and `--gets` as given.
fn bench(
    dir: &std::path::Path,
    [prefill, singles, batched, gets]: [&str; 4],
) -> (bool, String, String) {
    output(kmh().args([
        "bench",
        "--prefill",
        prefill,
        "--singles",
        singles,
        "--batched",
        batched,
        "--gets",
        gets,
        "--runs",
        "1",
        "--data",
        dir.to_str().unwrap(),
    ]))
}

#[test]
fn bench_runs_every_measurement_and_reports_cpu_per_statement() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = bench(dir.path(), ["400", "40", "200", "5"]);
    assert!(ok, "{out}\n{err}");
    for row in [
        "| single-statement POST, concurrency 1, empty store |",
        "| single-statement POST, concurrency 8, empty store |",
        "| batches of 100, concurrency 8, empty store |",
        "| GET by agent (limit 50) at",
        "| disk per statement",
    ] {
        assert!(out.contains(row), "no {row:?} in:\n{out}");
    }
    let cpu: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("| CPU per statement, "))
        .collect();
    assert_eq!(cpu.len(), 3, "{out}");
    let memtables = out
        .lines()
        .find(|l| l.starts_with("| memtables (writes not yet flushed), peak during the bench | "))
        .unwrap_or_else(|| panic!("no memtable row in:\n{out}"));
    assert!(
        memtables.ends_with(" MiB |") && !memtables.contains("| 0.0 MiB"),
        "the writes held no memtable: {memtables}"
    );
    if cfg!(target_os = "linux") {
        for row in cpu {
            assert!(
                row.contains("server ")
                    && row.contains(" µs (requests ")
                    && row.contains("generator "),
                "{row}"
            );
        }
    }

    // Again on the store the first run left: its first runs are not on an
    // empty store, and the rows say what they measured.
    let (ok, out, err) = bench(dir.path(), ["0", "8", "100", "1"]);
    assert!(ok, "{out}\n{err}");
    assert!(!out.contains("empty"), "{out}");
    assert!(
        out.contains("| batches of 100, concurrency 8, store of ")
            && out.contains("% of the rate at "),
        "{out}"
    );
}

#[test]
fn a_failed_command_reports_its_error_and_causes_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo");
    let (ok, _, err) = output(
        kmh()
            .args(["report", "--data", missing.to_str().unwrap()])
            .env("RUST_BACKTRACE", "1")
            .env("RUST_LIB_BACKTRACE", "1"),
    );
    assert!(!ok, "{err}");
    assert!(err.starts_with("Error: "), "{err}");
    assert!(err.contains("holds no kmh store"), "{err}");
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");
}

#[test]
fn sigterm_right_after_the_listening_line_is_a_clean_stop() {
    // The handlers are installed before the server says it listens: a
    // supervisor may stop it at once and still get a clean shutdown.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    for _ in 0..5 {
        let mut server = serve_with(data, &["--no-courses"]);
        let status = sigterm(&mut server.child);
        assert!(status.success(), "{status:?}");
    }
}

#[test]
fn serve_bootstraps_a_credential_manages_creds_live_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = serve(data);
    assert!(
        !server.key.is_empty() && !server.secret.is_empty(),
        "first start shows a credential"
    );
    let client = reqwest::blocking::Client::new();
    let post = |key: &str, secret: &str| {
        client
            .post(format!("{}/xapi/statements", server.url))
            .basic_auth(key, Some(secret))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&statement(1))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(post(&server.key, &server.secret), 200);

    // The store is locked by the server: creds go through it.
    let (ok, out, err) = output(kmh().args([
        "creds",
        "add",
        "--scope",
        "statements/write",
        "--json",
        "--data",
        data,
    ]));
    assert!(ok, "{err}");
    let issued: Value = serde_json::from_str(&out).unwrap();
    let (key, secret) = (
        issued["key"].as_str().unwrap(),
        issued["secret"].as_str().unwrap(),
    );
    assert_eq!(post(key, secret), 200);
    let (ok, _, err) = output(kmh().args(["creds", "revoke", key, "--data", data]));
    assert!(ok, "{err}");
    assert_eq!(post(key, secret), 401);

    // A second server on the same folder is refused with a clear message.
    let (ok, _, err) = output(kmh().args(["serve", "--listen", "127.0.0.1:0", "--data", data]));
    assert!(!ok && err.contains("in use"), "{err}");

    let status = sigterm(&mut server.child);
    assert!(status.success(), "{status:?}");

    // Restarted, it keeps the statement and does not issue a new admin credential.
    let mut again = serve(data);
    assert!(again.key.is_empty());
    let r = client
        .get(format!("{}/xapi/statements", again.url))
        .basic_auth(&server.key, Some(&server.secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .unwrap();
    let body: Value = r.json().unwrap();
    assert_eq!(body["statements"].as_array().unwrap().len(), 2);
    assert!(sigterm(&mut again.child).success());
}

#[test]
fn backup_while_serving_restore_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let a = a.to_str().unwrap();
    // No course credential in the store: the damaged-backup check below
    // flips the byte in the middle of the backup, which must stay where it is.
    let mut server = serve_with(a, &["--no-courses"]);
    let client = reqwest::blocking::Client::new();
    for n in 0..3 {
        let r = client
            .post(format!("{}/xapi/statements", server.url))
            .basic_auth(&server.key, Some(&server.secret))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&statement(n))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // Enough statements that the backup and the export through the server
    // are streamed in several chunks.
    let batch: Vec<Value> = (3..1503).map(statement).collect();
    let r = client
        .post(format!("{}/xapi/statements", server.url))
        .basic_auth(&server.key, Some(&server.secret))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&batch)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let backup = dir.path().join("kmh.backup");
    let (ok, out, err) = output(kmh().args(["backup", backup.to_str().unwrap(), "--data", a]));
    assert!(ok, "backup while serving: {err}");
    assert!(out.contains("bytes"), "{out}");
    let live_export = dir.path().join("live.ndjson");
    let (ok, _, err) = output(kmh().args(["export", live_export.to_str().unwrap(), "--data", a]));
    assert!(ok, "{err}");
    assert!(sigterm(&mut server.child).success());

    let b = dir.path().join("b");
    let b = b.to_str().unwrap();
    let (ok, out, err) = output(kmh().args(["restore", backup.to_str().unwrap(), "--data", b]));
    assert!(ok && out.contains("restored 1503 statements"), "{out}{err}");
    let restored_export = dir.path().join("restored.ndjson");
    let (ok, _, err) =
        output(kmh().args(["export", restored_export.to_str().unwrap(), "--data", b]));
    assert!(ok, "{err}");
    let exported = std::fs::read(&live_export).unwrap();
    assert_eq!(exported.iter().filter(|c| **c == b'\n').count(), 1503);
    assert!(exported.len() > 2 * 256 * 1024, "{} bytes", exported.len());
    assert_eq!(
        exported,
        std::fs::read(&restored_export).unwrap(),
        "a restore then an export gives identical statements"
    );
    let (ok, _, err) = output(kmh().args(["restore", backup.to_str().unwrap(), "--data", b]));
    assert!(!ok && err.contains("already holds a store"), "{err}");

    // A damaged backup is refused and leaves no half-restored store.
    let mut damaged = std::fs::read(&backup).unwrap();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    let damaged_path = dir.path().join("damaged.backup");
    std::fs::write(&damaged_path, damaged).unwrap();
    let c = dir.path().join("c");
    let (ok, _, err) = output(kmh().args([
        "restore",
        damaged_path.to_str().unwrap(),
        "--data",
        c.to_str().unwrap(),
    ]));
    assert!(
        !ok && (err.contains("checksum") || err.contains("backup")),
        "{err}"
    );
    assert!(!c.join("store").exists());
    // Wherever the damage is (record tags, lengths, data), the restore is
    // refused as a damaged backup and leaves nothing behind.
    let intact = std::fs::read(&backup).unwrap();
    for k in 1..8 {
        let mut damaged = intact.clone();
        let at = intact.len() * k / 8;
        damaged[at] ^= 0x5a;
        std::fs::write(&damaged_path, damaged).unwrap();
        let (ok, _, err) = output(kmh().args([
            "restore",
            damaged_path.to_str().unwrap(),
            "--data",
            c.to_str().unwrap(),
        ]));
        assert!(!ok && err.contains("backup"), "byte {at}: {err}");
        assert!(!c.join("store").exists(), "byte {at}");
    }

    // Import into a fresh store, twice: the second run changes nothing.
    let d = dir.path().join("d");
    let d = d.to_str().unwrap();
    let (ok, out, err) = output(kmh().args(["import", live_export.to_str().unwrap(), "--data", d]));
    assert!(
        ok && out.contains("imported 1503 statements, 0 already present, 0 rejected"),
        "{out}{err}"
    );
    let (ok, out, _) = output(kmh().args(["import", live_export.to_str().unwrap(), "--data", d]));
    assert!(
        ok && out.contains("imported 0 statements, 1503 already present"),
        "{out}"
    );
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(&bad, "{\"actor\": {\"mbox\": \"nobody\"}}\nnot json\n").unwrap();
    let (ok, out, err) = output(kmh().args(["import", bad.to_str().unwrap(), "--data", d]));
    assert!(
        !ok && out.contains("2 rejected") && err.contains("line 1") && err.contains("line 2"),
        "{out}{err}"
    );
}

#[test]
fn a_credential_over_its_rate_limit_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve_with(dir.path().to_str().unwrap(), &["--rate-limit", "2"]);
    let client = reqwest::blocking::Client::new();
    let statuses: Vec<(u16, Option<String>)> = (0..8)
        .map(|_| {
            let r = client
                .get(format!("{}/xapi/statements", server.url))
                .basic_auth(&server.key, Some(&server.secret))
                .header("X-Experience-API-Version", "1.0.3")
                .send()
                .unwrap();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), retry)
        })
        .collect();
    assert_eq!(statuses[0].0, 200);
    let limited: Vec<_> = statuses.iter().filter(|(s, _)| *s == 429).collect();
    assert!(!limited.is_empty(), "{statuses:?}");
    assert!(
        limited
            .iter()
            .all(|(_, retry)| retry.as_deref() == Some("1")),
        "{statuses:?}"
    );
    assert!(sigterm(&mut server.child).success());
}

#[test]
fn learners_are_pseudonymous_by_default_and_the_setting_is_fixed_once_data_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = serve(data);
    let client = reqwest::blocking::Client::new();
    let r = client
        .post(format!("{}/xapi/statements", server.url))
        .basic_auth(&server.key, Some(&server.secret))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&statement(1))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = client
        .get(format!("{}/xapi/statements", server.url))
        .basic_auth(&server.key, Some(&server.secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let actor = &body["statements"][0]["actor"];
    assert_eq!(actor["account"]["homePage"], "urn:kmh:pseudonym", "{actor}");
    assert!(actor.get("name").is_none());

    // Through the running server: a pseudonymising credential, a
    // re-identification, a redacted export, the audit log.
    let (ok, out, err) = output(kmh().args([
        "creds",
        "add",
        "--scope",
        "statements/write",
        "--pseudonymise",
        "--json",
        "--data",
        data,
    ]));
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["pseudonymise"],
        true
    );
    let learner = r#"{"account":{"homePage":"https://lms.example.org","name":"learner-1"}}"#;
    let (ok, out, err) = output(kmh().args(["identities", "--agent", learner, "--data", data]));
    assert!(ok, "{err}");
    let record: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["pseudonym"], actor["account"]["name"]);
    assert_eq!(record["names"], serde_json::json!(["Learner 1"]));
    let (ok, out, err) = output(kmh().args(["export", "-", "--redact-free-text", "--data", data]));
    assert!(ok && out.lines().count() == 1, "{out}{err}");
    let (ok, out, err) = output(kmh().args([
        "audit",
        "--action",
        "reidentify",
        "--format",
        "json",
        "--data",
        data,
    ]));
    assert!(ok, "{err}");
    let log: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(log.len(), 1, "{out}");
    assert_eq!(log[0]["credential"], "admin");
    assert_eq!(log[0]["resource"], "GET /admin/identities");
    assert!(sigterm(&mut server.child).success());

    // The folder holds statements: the other setting is refused, clearly.
    let (ok, _, err) = output(kmh().args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data,
        "--no-pseudonymise",
    ]));
    assert!(!ok && err.contains("before data arrives"), "{err}");

    // On the data folder directly, re-identification is audited too.
    let (ok, _, err) = output(kmh().args(["identities", "--agent", learner, "--data", data]));
    assert!(ok, "{err}");
    let (ok, out, err) = output(kmh().args([
        "audit",
        "--action",
        "reidentify",
        "--format",
        "csv",
        "--data",
        data,
    ]));
    assert!(ok, "{err}");
    assert!(out.contains(",kmh identities,reidentify,"), "{out}");
    let (ok, _, err) = output(kmh().args(["identities", "--pseudonym", "x", "--data", data]));
    assert!(!ok && err.contains("32 hexadecimal digits"), "{err}");
    // So is a report that names learners.
    let (ok, _, err) = output(kmh().args(["report", "learners", "--identities", "--data", data]));
    assert!(ok, "{err}");
    let (ok, out, err) = output(kmh().args([
        "audit",
        "--credential",
        "kmh report",
        "--format",
        "json",
        "--data",
        data,
    ]));
    assert!(ok, "{err}");
    let log: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(log.len(), 1, "{out}");
    assert_eq!(log[0]["action"], "reidentify");
    assert_eq!(log[0]["resource"], "report learners");
}
