//! The content runtime in a real browser: runs the Node tests in
//! `tests/browser/` (headless Chromium through playwright-core, a test LMS
//! built on scorm-again, a test cmi5 LMS with its own `kmh serve` as its
//! LRS, `kmh serve` as the hub's LRS) and asserts they pass.
//! `.ci/install-test-deps` installs Chromium and the npm packages.

use std::path::PathBuf;
use std::process::Command;

fn available(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn content_runtime_in_headless_chromium() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let modules = dir.join("node_modules/playwright-core");
    let ready = available("node", "--version")
        && available("chromium", "--version")
        && modules.is_dir()
        && dir.join("node_modules/scorm-again").is_dir();
    if !ready {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "browser tests need node, chromium and tests/browser/node_modules in CI: run .ci/install-test-deps"
            );
        }
        eprintln!(
            "SKIPPED browser tests: node, chromium or tests/browser/node_modules missing (run .ci/install-test-deps)"
        );
        return;
    }
    let out = Command::new("node")
        .arg("--test")
        .arg("--test-concurrency=1")
        .arg(".")
        .current_dir(&dir)
        .env("KMH_BIN", env!("CARGO_BIN_EXE_kmh"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("# fail 0"),
        "node --test tests/browser failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("# pass 0"),
        "no browser test ran:\n{stdout}"
    );
}
