//! `kmh package` and `kmh validate`, run as a user runs them: the real
//! binary on the demo course in `tests/fixtures/package/`, on ADL's 189
//! SCORM 2004 conformance manifests and on hand-broken copies of them.
//! Every manifest we write is also checked with xmllint against the
//! schemas in `schemas/` (install it with `.ci/install-test-deps`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const KMH: &str = env!("CARGO_BIN_EXE_kmh");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo_course() -> PathBuf {
    repo().join("tests/fixtures/package/demo-course")
}

fn adl_fixtures() -> PathBuf {
    repo().join("tests/fixtures/adl-scorm2004-manifests")
}

fn kmh(dir: &Path, args: &[&str]) -> Output {
    Command::new(KMH)
        .args(args)
        .current_dir(dir)
        // The outside world must not change what we build or check.
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("KMH_TARGET")
        .env_remove("KMH_OUT")
        .env_remove("KMH_LRS")
        .env_remove("KMH_LANG")
        .env_remove("KMH_PER_MODULE")
        .env_remove("KMH_JSON")
        .env_remove("KMH_MANIFEST_ONLY")
        .env_remove("KMH_STRICT")
        .output()
        .expect("kmh runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kmh failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Copies a folder tree (for broken copies of the fixtures).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(path).expect("read");
    assert!(
        s.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, s.replacen(from, to, 1)).expect("write");
}

/// All entries of a zip, in archive order.
fn unzip(path: &Path) -> Vec<(String, Vec<u8>)> {
    let f = std::fs::File::open(path).expect("zip exists");
    let mut archive = zip::ZipArchive::new(f).expect("zip readable");
    (0..archive.len())
        .map(|i| {
            let mut e = archive.by_index(i).expect("entry");
            let name = e.name().expect("name").to_string();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).expect("read entry");
            (name, bytes)
        })
        .collect()
}

fn unzip_to(zip: &Path, dir: &Path) {
    for (name, bytes) in unzip(zip) {
        let p = dir.join(&name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }
}

fn package(source: &Path, out: &Path, extra: &[&str]) -> Vec<PathBuf> {
    let mut args = vec![
        "package",
        source.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    ok(&kmh(&repo(), &args));
    let mut zips: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    zips.sort();
    zips
}

fn names(zips: &[PathBuf]) -> Vec<String> {
    zips.iter()
        .map(|z| z.file_name().expect("name").to_string_lossy().into_owned())
        .collect()
}

// ---------------------------------------------------------------- xmllint

/// Whether xmllint can run. Outside CI a missing xmllint skips the schema
/// checks with a message; in CI (`CI=true`) it fails the test.
fn xmllint_available() -> bool {
    let found = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("xmllint is missing in CI: run .ci/install-test-deps");
        }
        eprintln!(
            "SKIPPED schema validation: xmllint not found (install libxml2-utils or run .ci/install-test-deps)"
        );
    }
    found
}

/// Validates a manifest file against our copies of the driver schemas.
#[track_caller]
fn xmllint(manifest: &Path, scorm2004: bool) {
    let schemas = repo().join("schemas/validation");
    let driver = if scorm2004 {
        "scorm2004-4th-all.xsd"
    } else {
        "scorm12-all.xsd"
    };
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schemas.join(driver))
        .arg(manifest)
        .env("XML_CATALOG_FILES", schemas.join("catalog.xml"))
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "{} does not validate against {driver}:\n{}",
        manifest.display(),
        text(&out.stderr)
    );
}

/// Validates a `cmi5.xml` against our copy of the cmi5 course structure XSD.
#[track_caller]
fn xmllint_cmi5(course_structure: &Path) {
    let xsd = repo().join("schemas/cmi5/CourseStructure.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg(course_structure)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "{} does not validate against CourseStructure.xsd:\n{}",
        course_structure.display(),
        text(&out.stderr)
    );
}

/// Extracts the manifest (SCORM) or course structure (cmi5) of each zip
/// and validates it with xmllint.
fn xmllint_zips(zips: &[PathBuf]) {
    if !xmllint_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    for z in zips {
        let cmi5 = z.to_string_lossy().ends_with("-cmi5.zip");
        let control = if cmi5 { "cmi5.xml" } else { "imsmanifest.xml" };
        let manifest = unzip(z)
            .into_iter()
            .find(|(n, _)| n == control)
            .unwrap_or_else(|| panic!("{control} in {}", z.display()))
            .1;
        let path = tmp.path().join(format!(
            "{}.xml",
            z.file_stem().expect("stem").to_string_lossy()
        ));
        std::fs::write(&path, manifest).expect("write");
        if cmi5 {
            xmllint_cmi5(&path);
        } else {
            xmllint(&path, z.to_string_lossy().contains("scorm2004"));
        }
    }
}

// ------------------------------------------------------------ packaging

#[test]
fn packages_a_course_for_every_target_and_language() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(&demo_course(), out.path(), &[]);
    assert_eq!(
        names(&zips),
        [
            "demo-course-en-cmi5.zip",
            "demo-course-en-scorm12.zip",
            "demo-course-en-scorm2004.zip",
            "demo-course-fr-cmi5.zip",
            "demo-course-fr-scorm12.zip",
            "demo-course-fr-scorm2004.zip"
        ]
    );
    xmllint_zips(&zips);

    // Our own validator: no error and no warning, files included.
    let mut args = vec!["validate", "--strict", "--json"];
    let paths: Vec<String> = zips.iter().map(|z| z.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let reports: Value = serde_json::from_str(&ok(&kmh(&repo(), &args))).expect("json");
    for r in reports.as_array().expect("one report per zip") {
        assert_eq!(r["valid"], true, "{r:#}");
        assert_eq!(r["warnings"], 0, "{r:#}");
        assert_eq!(r["files_checked"], true);
        if r["standard"] == "cmi5" {
            assert_eq!(r["summary"]["aus"], 3, "every module is an AU");
            assert_eq!(r["summary"]["blocks"], 0);
        } else {
            assert_eq!(r["summary"]["scos"], 2, "two modules are SCOs");
            assert_eq!(
                r["summary"]["assets"], 2,
                "the external link and the shared files are assets"
            );
        }
    }

    // SCORM 2004: sequencing, objectives, scormType; SCORM 1.2: masteryscore.
    let files: BTreeMap<String, Vec<u8>> = unzip(&zips[2]).into_iter().collect();
    let m = text(&files["imsmanifest.xml"]);
    assert!(m.contains("<schemaversion>2004 4th Edition</schemaversion>"));
    assert!(m.contains("<imsss:controlMode choice=\"true\" flow=\"true\"/>"));
    assert!(m.contains("<imsss:minNormalizedMeasure>0.75</imsss:minNormalizedMeasure>"));
    assert!(m.contains("<imsss:objective objectiveID=\"define-monitoring\"/>"));
    assert!(m.contains("adlcp:scormType=\"asset\" href=\"external/m02-elsewhere.html\""));
    assert!(
        m.contains("<file href=\"m01-basics/media/chart%201.svg\"/>"),
        "file names are URL-encoded"
    );
    for xsd in [
        "imscp_v1p1.xsd",
        "adlcp_v1p3.xsd",
        "imsss_v1p0.xsd",
        "xml.xsd",
    ] {
        assert!(files.contains_key(xsd), "{xsd} ships at the root");
    }
    let m12 = text(
        &unzip(&zips[1])
            .into_iter()
            .find(|(n, _)| n == "imsmanifest.xml")
            .expect("manifest")
            .1,
    );
    assert!(m12.contains("<adlcp:masteryscore>75</adlcp:masteryscore>"));
    assert!(m12.contains("adlcp:scormtype=\"sco\""));
}

#[test]
fn pages_are_accessible_self_contained_and_navigable() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(&demo_course(), out.path(), &["--target", "scorm2004"]);
    let fr: BTreeMap<String, Vec<u8>> = unzip(&zips[1]).into_iter().collect();

    let page = text(&fr["m01-basics/pages/01-welcome.html"]);
    for needle in [
        "<html lang=\"fr\">",
        "<meta name=\"viewport\"",
        "<a class=\"kmh-skip\" href=\"#main\">Aller au contenu</a>",
        "<header class=\"kmh-header\">",
        "<nav class=\"kmh-toc\"",
        "<main id=\"main\"",
        "<footer class=\"kmh-footer\">",
        "<h1>Bienvenue dans le suivi</h1>",
        "<link rel=\"stylesheet\" href=\"../../kmh/kmh.css\">",
        "<a href=\"01-welcome.html\" aria-current=\"page\">",
        "rel=\"prev\" href=\"../index.html\"",
        "rel=\"next\" href=\"02-charts.html\"",
        "<div class=\"kmh-callout kmh-callout-exercise\" role=\"note\">\n<p class=\"kmh-callout-title\">Exercice</p>",
        "<p class=\"kmh-callout-title\">Remarque</p>",
        "<img src=\"../media/chart%201.svg\" alt=\"Diagramme en barres des personnes formées par trimestre\"",
        "href=\"../handouts/plan-template.html\" target=\"_blank\" rel=\"noopener\"",
        "<a href=\"02-charts.html\">graphiques</a>",
    ] {
        assert!(
            page.contains(needle),
            "01-welcome.html lacks {needle:?}:\n{page}"
        );
    }
    // A page written with module-relative media paths (as FORMAT.md shows).
    assert!(
        text(&fr["m01-basics/pages/02-charts.html"]).contains("<img src=\"../media/trend.svg\"")
    );

    for (name, bytes) in &fr {
        if !name.ends_with(".html") {
            continue;
        }
        let html = text(bytes);
        assert!(
            html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"),
            "{name}"
        );
        assert!(
            html.contains("<main id=\"main\""),
            "{name} has a main landmark"
        );
        // Self-contained: nothing is loaded from elsewhere.
        for attr in ["src=\"http", "src=\"//", "href=\"//"] {
            assert!(
                !html.contains(attr),
                "{name} loads a remote resource ({attr})"
            );
        }
        assert!(
            !html.contains("<link rel=\"stylesheet\" href=\"http"),
            "{name}"
        );
        // Every image has alt text.
        for img in html.split("<img ").skip(1) {
            assert!(
                !img.starts_with("alt=\"\"") && img.contains("alt=\""),
                "{name}: image without alt"
            );
        }
    }

    // A quiz is a form of labelled fieldsets with its model as JSON.
    let quiz = text(&fr["m01-basics/quiz/check.html"]);
    assert_eq!(quiz.matches("<fieldset").count(), 6);
    assert_eq!(quiz.matches("<legend>").count(), 6);
    assert!(quiz.contains("<label for=\"q-continuous-true\">Vrai</label>"));
    assert!(quiz.contains("<select id=\"q-pairs-p1\" name=\"q-pairs-p1\">"));
    let start = quiz
        .find("<script type=\"application/json\" id=\"kmh-quiz\">")
        .expect("model")
        + 47;
    let end = start + quiz[start..].find("</script>").expect("end of model");
    let model: Value = serde_json::from_str(&quiz[start..end]).expect("model is JSON");
    assert_eq!(model["version"], 1);
    assert_eq!(model["pass"], 0.75, "module mastery score applies");
    assert_eq!(model["questions"][0]["choices"][1]["correct"], true);
    assert_eq!(model["questions"][2]["answer"], false);
    assert_eq!(
        model["questions"][4]["answer"],
        serde_json::json!(["measurable", "measureable"])
    );
    assert_eq!(
        model["questions"][5]["scored"], false,
        "free text is never scored"
    );

    // Handouts are printable pages; other files are copied as they are.
    assert!(
        text(&fr["m01-basics/handouts/plan-template.html"]).contains("<body class=\"kmh-handout\"")
    );
    assert_eq!(
        fr["m01-basics/handouts/data.csv"],
        b"quarter,trained\nQ1,12\nQ2,18\n"
    );
    // The pre-assessment takes its quiz from ../shared/.
    assert!(fr.contains_key("m00-pre/shared/ksa.html"));
    // The external activity is a local page linking out.
    let ext = text(&fr["external/m02-elsewhere.html"]);
    assert!(
        ext.contains("href=\"https://example.org/e-course?lang=en&amp;x=1\" target=\"_blank\"")
    );
    // The LMS launches a module's launch page, which holds the SCORM
    // session and shows the pages in a frame, starting at the overview.
    let launch = text(&fr["m01-basics/launch.html"]);
    assert!(launch.contains("<body class=\"kmh-launch\" data-kmh-module=\"m01-basics\" data-kmh-root=\"../\" data-kmh-start=\"index.html\">"));
    assert!(launch.contains("<iframe class=\"kmh-frame\" id=\"kmh-frame\""));
    assert!(launch.contains("<script src=\"../kmh/kmh-runtime.js\" defer></script>"));
    assert!(text(&fr["kmh/kmh-runtime.js"]).contains("API_1484_11"));
    assert!(text(&fr["imsmanifest.xml"]).contains("href=\"m01-basics/launch.html\""));
}

#[test]
fn rebuilding_gives_identical_bytes() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let first = package(&demo_course(), a.path(), &[]);
    // Touch the sources: modification times must not leak into the zips.
    let page = demo_course().join("en/m01-basics/pages/01-welcome.md");
    let f = std::fs::File::options()
        .append(true)
        .open(&page)
        .expect("open");
    f.set_modified(std::time::SystemTime::now())
        .expect("set mtime");
    let second = package(&demo_course(), b.path(), &[]);
    assert_eq!(names(&first), names(&second));
    for (x, y) in first.iter().zip(&second) {
        assert!(
            std::fs::read(x).expect("read") == std::fs::read(y).expect("read"),
            "{} differs between builds",
            x.display()
        );
    }
    // Sorted entries, one fixed timestamp, fixed permissions.
    let f = std::fs::File::open(&first[0]).expect("zip");
    let mut archive = zip::ZipArchive::new(f).expect("zip");
    let mut previous = String::new();
    for i in 0..archive.len() {
        let e = archive.by_index(i).expect("entry");
        let name = e.name().expect("name").to_string();
        assert!(name > previous, "{name} is out of order");
        assert_eq!(
            e.last_modified().map(|t| (t.year(), t.month(), t.day())),
            Some((1980, 1, 1))
        );
        assert_eq!(e.unix_mode(), Some(0o100644), "{name}");
        previous = name;
    }
}

#[test]
fn packages_one_module_or_one_zip_per_module() {
    let out = tempfile::tempdir().expect("tmp");
    let single = package(
        &demo_course().join("fr/m01-basics"),
        &out.path().join("one"),
        &["--target", "scorm12"],
    );
    assert_eq!(names(&single), ["demo-course-m01-basics-fr-scorm12.zip"]);

    let split = package(
        &demo_course(),
        &out.path().join("split"),
        &[
            "--per-module",
            "--lang",
            "en",
            "--target",
            "scorm12,scorm2004,cmi5",
        ],
    );
    assert_eq!(
        names(&split),
        [
            "demo-course-m00-pre-en-cmi5.zip",
            "demo-course-m00-pre-en-scorm12.zip",
            "demo-course-m00-pre-en-scorm2004.zip",
            "demo-course-m01-basics-en-cmi5.zip",
            "demo-course-m01-basics-en-scorm12.zip",
            "demo-course-m01-basics-en-scorm2004.zip"
        ]
    );
    let mut all = single.clone();
    all.extend(split.iter().cloned());
    xmllint_zips(&all);
    for z in &all {
        ok(&kmh(
            &repo(),
            &["validate", "--strict", z.to_str().expect("utf-8")],
        ));
    }
}

/// The text of every `<url>` in a course structure.
fn au_urls(xml: &str) -> Vec<String> {
    xml.split("<url>")
        .skip(1)
        .map(|rest| rest.split("</url>").next().expect("</url>").to_string())
        .collect()
}

/// cmi5: `cmi5.xml` at the root (one AU per module, the module's activity
/// id, moveOn and masteryScore from its pass mark, a relative launch URL
/// that is a file of the zip), the SCORM zip's content files, and a
/// runtime config that says it is in a cmi5 package.
#[test]
fn packages_cmi5_with_a_course_structure_and_the_same_content() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(
        &demo_course(),
        out.path(),
        &["--target", "cmi5,scorm2004", "--lang", "fr"],
    );
    assert_eq!(
        names(&zips),
        ["demo-course-fr-cmi5.zip", "demo-course-fr-scorm2004.zip"]
    );
    xmllint_zips(&zips);
    let cmi5: BTreeMap<String, Vec<u8>> = unzip(&zips[0]).into_iter().collect();
    let scorm: BTreeMap<String, Vec<u8>> = unzip(&zips[1]).into_iter().collect();

    // Same content files, byte for byte; at the root only the course
    // structure and the runtime config (no manifest, no XSDs).
    let content = |files: &BTreeMap<String, Vec<u8>>| {
        files
            .iter()
            .filter(|(n, _)| n.contains('/'))
            .map(|(n, b)| (n.clone(), b.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    assert!(content(&cmi5) == content(&scorm), "content files differ");
    let root: Vec<&str> = cmi5
        .keys()
        .filter(|n| !n.contains('/'))
        .map(String::as_str)
        .collect();
    assert_eq!(root, ["cmi5.xml", "kmh-runtime.json"]);

    let xml = text(&cmi5["cmi5.xml"]);
    assert!(xml.contains(
        "<courseStructure xmlns=\"https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd\">\n  <course id=\"urn:kmh:course:demo-course/course/fr\">\n    <title>\n      <langstring lang=\"fr\">"
    ), "{xml}");
    for au in [
        // No pass mark (a pre-assessment): completing is enough.
        "<au id=\"urn:kmh:course:demo-course/m00-pre\" moveOn=\"Completed\" launchMethod=\"AnyWindow\"",
        // A lesson with a scored quiz and mastery_score 0.75.
        "<au id=\"urn:kmh:course:demo-course/m01-basics\" moveOn=\"CompletedAndPassed\" masteryScore=\"0.75\" launchMethod=\"AnyWindow\"",
        // An external activity: its link page tracks nothing.
        "<au id=\"urn:kmh:course:demo-course/m02-elsewhere\" moveOn=\"NotApplicable\" launchMethod=\"AnyWindow\"",
    ] {
        assert!(xml.contains(au), "no {au} in\n{xml}");
    }
    assert!(!xml.contains("<block"), "the course has no sections");
    let urls = au_urls(&xml);
    assert_eq!(
        urls,
        [
            "m00-pre/launch.html",
            "m01-basics/launch.html",
            "external/m02-elsewhere.html"
        ]
    );
    for u in &urls {
        assert!(cmi5.contains_key(u), "{u} is not in the zip");
    }

    let config: Value = serde_json::from_slice(&cmi5["kmh-runtime.json"]).expect("json");
    assert_eq!(config["target"], "cmi5");
    assert_eq!(
        config["modules"][1]["cmi5"],
        serde_json::json!({
            "au_id": "urn:kmh:course:demo-course/m01-basics",
            "move_on": "CompletedAndPassed",
            "mastery_score": 0.75,
            "launch_method": "AnyWindow"
        })
    );
    assert_eq!(config["modules"][0]["cmi5"]["move_on"], "Completed");
    assert!(config["modules"][0]["cmi5"].get("mastery_score").is_none());
    assert_eq!(config["modules"][2]["cmi5"]["move_on"], "NotApplicable");
    for m in config["modules"].as_array().expect("modules") {
        assert_eq!(m["cmi5"]["au_id"], m["activity_id"]);
    }
    let scorm_config: Value = serde_json::from_slice(&scorm["kmh-runtime.json"]).expect("json");
    assert!(
        scorm_config["modules"][1].get("cmi5").is_none(),
        "cmi5 keys only in cmi5 packages"
    );
    check_json_contracts(&zips);

    // A module alone is a one-AU course of its own.
    let single = package(
        &demo_course().join("en/m01-basics"),
        &out.path().join("one"),
        &["--target", "cmi5"],
    );
    assert_eq!(names(&single), ["demo-course-m01-basics-en-cmi5.zip"]);
    xmllint_zips(&single);
    let xml = text(
        &unzip(&single[0])
            .into_iter()
            .find(|(n, _)| n == "cmi5.xml")
            .expect("cmi5.xml")
            .1,
    );
    assert!(
        xml.contains("<course id=\"urn:kmh:course:demo-course/m01-basics/course/en\">"),
        "{xml}"
    );
    assert_eq!(au_urls(&xml), ["m01-basics/launch.html"]);
    let report = ok(&kmh(
        &repo(),
        &["validate", "--strict", single[0].to_str().expect("utf-8")],
    ));
    assert!(report.contains(": cmi5, 1 AU, 0 blocks, "), "{report}");
}

#[test]
fn lrs_endpoint_goes_into_the_runtime_config_without_credentials() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(
        &demo_course(),
        out.path(),
        &[
            "--target",
            "scorm12",
            "--lang",
            "en",
            "--lrs",
            "https://lrs.example.org/xapi/",
        ],
    );
    let files: BTreeMap<String, Vec<u8>> = unzip(&zips[0]).into_iter().collect();
    let config: Value = serde_json::from_slice(&files["kmh-runtime.json"]).expect("json");
    assert_eq!(config["lrs"]["endpoint"], "https://lrs.example.org/xapi/");
    assert_eq!(
        config["lrs"].as_object().expect("object").len(),
        1,
        "only the endpoint, never a secret"
    );
    assert_eq!(
        config["modules"][1]["activity_id"],
        "urn:kmh:course:demo-course/m01-basics"
    );
    assert_eq!(
        config["modules"][2]["url"],
        "https://example.org/e-course?lang=en&x=1"
    );

    let bad = kmh(
        &repo(),
        &[
            "package",
            demo_course().to_str().expect("utf-8"),
            "--out",
            out.path().to_str().expect("utf-8"),
            "--lrs",
            "ftp://x",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--lrs \"ftp://x\": expected an http(s) URL"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn cohort_and_country_go_into_the_runtime_config_and_are_checked() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(
        &demo_course(),
        out.path(),
        &[
            "--target",
            "scorm12",
            "--lang",
            "en",
            "--cohort",
            " 2026-SN1 ",
            "--country",
            "sn",
        ],
    );
    let files: BTreeMap<String, Vec<u8>> = unzip(&zips[0]).into_iter().collect();
    let config: Value = serde_json::from_slice(&files["kmh-runtime.json"]).expect("json");
    assert_eq!(
        config["context"],
        serde_json::json!({"cohort": "2026-SN1", "country": "SN"})
    );
    check_json_contracts(&zips);
    let plain = package(
        &demo_course(),
        &out.path().join("plain"),
        &["--target", "scorm12", "--lang", "en"],
    );
    let files: BTreeMap<String, Vec<u8>> = unzip(&plain[0]).into_iter().collect();
    let config: Value = serde_json::from_slice(&files["kmh-runtime.json"]).expect("json");
    assert!(config.get("context").is_none(), "no context unless given");

    for (flag, value, message) in [
        (
            "--country",
            "SEN",
            "country \"SEN\" is not an ISO 3166-1 alpha-2 code",
        ),
        (
            "--country",
            "s1",
            "country \"s1\" is not an ISO 3166-1 alpha-2 code",
        ),
        ("--cohort", " ", "a cohort cannot be empty"),
    ] {
        let bad = kmh(
            &repo(),
            &[
                "package",
                demo_course().to_str().expect("utf-8"),
                "--out",
                out.path().join("bad").to_str().expect("utf-8"),
                flag,
                value,
            ],
        );
        assert!(!bad.status.success());
        assert!(
            text(&bad.stderr).contains(message),
            "{flag} {value:?}: {}",
            text(&bad.stderr)
        );
    }
}

#[test]
fn lrs_data_issues_a_package_credential_limited_to_its_activities() {
    let out = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let zips = package(
        &demo_course(),
        out.path(),
        &[
            "--target",
            "scorm2004",
            "--lang",
            "en",
            "--lrs",
            "http://127.0.0.1:9/xapi/",
            "--lrs-data",
            data.path().to_str().expect("utf-8"),
            "--lrs-origin",
            "https://lms.example.org",
        ],
    );
    let files: BTreeMap<String, Vec<u8>> = unzip(&zips[0]).into_iter().collect();
    let config: Value = serde_json::from_slice(&files["kmh-runtime.json"]).expect("json");
    let key = config["lrs"]["key"].as_str().expect("key").to_string();
    assert!(
        config["lrs"]["secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 16)
    );
    let list = ok(&kmh(
        &repo(),
        &[
            "creds",
            "list",
            "--json",
            "--data",
            data.path().to_str().expect("utf-8"),
        ],
    ));
    let creds: Value = serde_json::from_str(&list).expect("json");
    let cred = creds
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["key"] == key.as_str())
        .expect("the package credential is in the store");
    assert_eq!(
        cred["scopes"],
        serde_json::json!(["state", "statements/write"])
    );
    assert_eq!(
        cred["origins"],
        serde_json::json!(["https://lms.example.org"])
    );
    assert_eq!(
        cred["activities"],
        serde_json::json!([
            "urn:kmh:course:demo-course/m00-pre/",
            "urn:kmh:course:demo-course/m01-basics/"
        ])
    );
}

// ------------------------------------------------------ source errors

/// A copy of the demo course broken by `edit`, packaged from its parent
/// folder so that messages show short relative paths.
fn package_broken(edit: impl FnOnce(&Path)) -> (Output, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp").keep();
    let course = tmp.join("demo-course");
    copy_tree(&demo_course(), &course);
    edit(&course);
    (kmh(&tmp, &["package", "demo-course", "--out", "dist"]), tmp)
}

#[track_caller]
fn assert_source_error(out: &Output, tmp: &Path, expected: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{err}");
    assert!(
        err.lines().any(|l| l == expected),
        "expected the line\n  {expected}\nin stderr:\n{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
    assert!(
        !tmp.join("dist").exists()
            || std::fs::read_dir(tmp.join("dist"))
                .expect("dist")
                .next()
                .is_none(),
        "no zip is written"
    );
    let _ = std::fs::remove_dir_all(tmp);
}

#[test]
fn malformed_module_toml_names_file_and_line() {
    let (out, tmp) = package_broken(|c| {
        replace_in(
            &c.join("en/m01-basics/module.toml"),
            "kind = \"lesson\"",
            "kind = \"lecture\"",
        )
    });
    let err = text(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("demo-course/en/m01-basics/module.toml:5: "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains("unknown variant `lecture`") && line.contains("`lesson`"),
        "{line}"
    );
    assert_source_error(&out, &tmp, line);
}

#[test]
fn malformed_quiz_names_file_and_line() {
    let (out, tmp) = package_broken(|c| {
        replace_in(
            &c.join("fr/m01-basics/quiz/check.quiz"),
            "- [x] Output",
            "- [v] Output",
        )
    });
    assert_source_error(
        &out,
        &tmp,
        "demo-course/fr/m01-basics/quiz/check.quiz:21: a choice is `- [ ] text` or `- [x] text`; a matching pair is `- left => right`",
    );
    let err = text(&out.stderr);
    assert_eq!(
        err.lines().count(),
        2,
        "one error and the summary, nothing consequential:\n{err}"
    );
}

#[test]
fn quiz_objective_must_be_a_module_objective() {
    let (out, tmp) = package_broken(|c| {
        replace_in(
            &c.join("en/m01-basics/quiz/check.quiz"),
            "objective: read-a-chart",
            "objective: read-a-map",
        )
    });
    assert_source_error(
        &out,
        &tmp,
        "demo-course/en/m01-basics/quiz/check.quiz:32: objective \"read-a-map\" is not one of module \"m01-basics\"'s objectives (define-monitoring, read-a-chart)",
    );
}

#[test]
fn image_without_alt_text_names_file_and_line() {
    let (out, tmp) = package_broken(|c| {
        replace_in(
            &c.join("en/m01-basics/pages/02-charts.md"),
            "![Line chart of income over time]",
            "![]",
        )
    });
    assert_source_error(
        &out,
        &tmp,
        "demo-course/en/m01-basics/pages/02-charts.md:3: image \"media/trend.svg\" has no alt text: write ![what the image shows](media/trend.svg)",
    );
}

#[test]
fn raw_html_and_broken_links_name_file_and_line() {
    let (out, tmp) = package_broken(|c| {
        let page = c.join("fr/m01-basics/pages/02-charts.md");
        replace_in(&page, "> [!TIP]", "<div class=\"x\">hi</div>\n\n> [!TIP]");
        replace_in(&page, "(handouts/data.csv)", "(handouts/missing.csv)");
    });
    let err = text(&out.stderr);
    assert!(
        err.contains("demo-course/fr/m01-basics/pages/02-charts.md:5: raw HTML is not allowed in pages (<div class=\"x\">hi</div>); write Markdown instead"),
        "{err}"
    );
    assert_source_error(
        &out,
        &tmp,
        "demo-course/fr/m01-basics/pages/02-charts.md:10: link \"handouts/missing.csv\": no such file",
    );
}

#[test]
fn page_without_title_and_missing_module_folder() {
    let (out, tmp) = package_broken(|c| {
        replace_in(
            &c.join("en/m01-basics/pages/02-charts.md"),
            "# Reading a chart\n",
            "Reading a chart\n",
        );
        std::fs::remove_dir_all(c.join("fr/m00-pre")).expect("rm");
    });
    // Module folders are checked first; the page is reported once the
    // course is complete again.
    assert_source_error(
        &out,
        &tmp,
        "demo-course/course.toml:17: module \"m00-pre\" has no demo-course/fr/m00-pre/module.toml",
    );
    let (out, tmp) = package_broken(|c| {
        replace_in(
            &c.join("en/m01-basics/pages/02-charts.md"),
            "# Reading a chart\n",
            "Reading a chart\n",
        );
    });
    assert_source_error(
        &out,
        &tmp,
        "demo-course/en/m01-basics/pages/02-charts.md:1: the page has no title: start it with a `# Title` heading",
    );
}

// ------------------------------------------------------------ validate

fn fixture_manifests() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(adl_fixtures())
        .expect("ADL fixtures in tests/fixtures/adl-scorm2004-manifests")
        .map(|e| e.expect("entry").path().join("imsmanifest.xml"))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn validate_accepts_all_189_adl_manifests() {
    let manifests = fixture_manifests();
    assert_eq!(manifests.len(), 189);
    let mut args = vec!["validate".to_string(), "--json".to_string()];
    args.extend(manifests.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = kmh(&repo(), &args);
    let reports: Value = serde_json::from_slice(&out.stdout).expect("json");
    let reports = reports.as_array().expect("array");
    assert_eq!(reports.len(), 189);
    for r in reports {
        assert_eq!(r["valid"], true, "{r:#}");
        assert_eq!(r["standard"], "scorm2004");
        assert_eq!(r["schemaversion"], "2004 4th Edition");
        assert_eq!(
            r["files_checked"], false,
            "bare manifests: files are not compared"
        );
    }
    assert!(out.status.success());
}

/// A copy of an ADL manifest broken by one textual edit, validated alone.
#[track_caller]
fn broken(fixture: &str, from: &str, to: &str) -> Value {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("imsmanifest.xml");
    std::fs::copy(adl_fixtures().join(fixture).join("imsmanifest.xml"), &path).expect("copy");
    replace_in(&path, from, to);
    let out = kmh(tmp.path(), &["validate", "--json", "imsmanifest.xml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a broken manifest must fail:\n{}",
        text(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[track_caller]
fn assert_finding(report: &Value, code: &str, line: u64, message: &str) {
    let found = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| {
            f["code"] == code
                && f["line"] == line
                && f["message"] == message
                && f["severity"] == "error"
        });
    assert!(
        found,
        "no {code} error at line {line} saying {message:?} in\n{report:#}"
    );
}

#[test]
fn validate_rejects_hand_broken_manifests_for_the_right_reason() {
    let cm01 = "LMSTestPackage_CM-01";
    let r = broken(
        cm01,
        "identifierref = \"SEQ01\" parameters = \"?tc=CM-01&amp;act=2\"",
        "identifierref = \"SEQ09\" parameters = \"?tc=CM-01&amp;act=2\"",
    );
    assert_finding(
        &r,
        "identifierref-dangling",
        36,
        "item activity_2: identifierref \"SEQ09\" points to no resource",
    );

    let r = broken(
        cm01,
        "<organizations default = \"CM-01\">",
        "<organizations>",
    );
    assert_finding(
        &r,
        "default-organization-missing",
        20,
        "organizations: no default attribute; name the organization to launch (default=\"CM-01\")",
    );

    let r = broken(
        cm01,
        "<organizations default = \"CM-01\">",
        "<organizations default = \"activity_1\">",
    );
    assert_finding(
        &r,
        "default-organization-dangling",
        20,
        "organizations: default \"activity_1\" points to no organization (it names the item on line 23, not an organization)",
    );

    let r = broken(
        cm01,
        "<item identifier = \"activity_2\"",
        "<item identifier = \"activity_1\"",
    );
    assert_finding(
        &r,
        "identifier-duplicate",
        36,
        "item activity_1: identifier \"activity_1\" is already used on line 23; identifiers must be unique",
    );

    let r = broken(cm01, "adlcp:scormType=\"sco\"", "adlcp:scormtype=\"sco\"");
    assert_finding(
        &r,
        "scormtype-lowercase",
        77,
        "resource SEQ01: adlcp:scormtype is the SCORM 1.2 spelling; SCORM 2004 requires adlcp:scormType (capital T)",
    );

    let r = broken(cm01, "adlcp:scormType=\"sco\"", "adlcp:scormType=\"SCO\"");
    assert_finding(
        &r,
        "scormtype-invalid",
        77,
        "resource SEQ01: adlcp:scormType is \"SCO\"; it must be \"sco\" or \"asset\" (lower case)",
    );

    let r = broken(
        cm01,
        "<schemaversion>2004 4th Edition</schemaversion>",
        "<schemaversion>1.2</schemaversion>",
    );
    assert_finding(
        &r,
        "schemaversion-mismatch",
        17,
        "schemaversion \"1.2\" does not match the namespaces: its content-packaging namespace is SCORM 2004's (http://www.imsglobal.org/xsd/imscp_v1p1)",
    );

    let r = broken(
        cm01,
        "adlcp:scormType=\"sco\" href=\"SequencingTest.htm\"",
        "adlcp:scormType=\"sco\"",
    );
    assert_finding(
        &r,
        "launch-missing",
        77,
        "resource SEQ01: a SCO needs an href (its launch file)",
    );
    assert_finding(
        &r,
        "launch-missing",
        23,
        "item activity_1: resource \"SEQ01\" has no href, so the item cannot be launched",
    );

    let r = broken(cm01, "<title>Activity 2</title>", "<title>Activity 2");
    assert_eq!(r["findings"][0]["code"], "xml-malformed", "{r:#}");
    assert_eq!(r["findings"][0]["line"], 52, "{r:#}");

    let r = broken(
        cm01,
        "<resource identifier=\"SEQ01\" type=\"webcontent\"",
        "<resource identifier=\"SEQ01\"",
    );
    assert_finding(
        &r,
        "structure",
        77,
        "<resource>: required attribute type is missing",
    );

    let r = broken(
        cm01,
        "<dependency identifierref=\"JAR01\"/>",
        "<dependency identifierref=\"JAR99\"/>",
    );
    assert_finding(
        &r,
        "identifierref-dangling",
        80,
        "resource SEQ01: dependency identifierref \"JAR99\" points to no resource",
    );

    let r = broken(
        cm01,
        "<item identifier = \"activity_1\"",
        "<item identifier = \"1st activity\"",
    );
    assert_finding(
        &r,
        "identifier-invalid",
        23,
        "item 1st activity: identifier \"1st activity\" is not a valid XML ID (start with a letter or _, no spaces or colons)",
    );

    let r = broken(
        cm01,
        "<imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>",
        "<imsss:minNormalizedMeasure>80</imsss:minNormalizedMeasure>",
    );
    assert_finding(
        &r,
        "value-invalid",
        41,
        "imsss:minNormalizedMeasure \"80\" must be a decimal from -1 to 1",
    );
}

/// Our own SCORM 1.2 package, unpacked and broken: 1.2 spelling rules and
/// the files checks.
#[test]
fn validate_rejects_broken_packages_for_the_right_reason() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(
        &demo_course(),
        &out.path().join("dist"),
        &["--target", "scorm12", "--lang", "en"],
    );
    let dir = out.path().join("pkg");
    unzip_to(&zips[0], &dir);
    let manifest = dir.join("imsmanifest.xml");
    let original = std::fs::read_to_string(&manifest).expect("manifest");
    let validate = |args: &[&str]| {
        let mut a = vec!["validate", "--json"];
        a.extend_from_slice(args);
        a.push("pkg");
        let o = kmh(out.path(), &a);
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        (o.status.code(), v)
    };
    let line_of = |needle: &str| {
        original
            .lines()
            .position(|l| l.contains(needle))
            .expect("needle") as u64
            + 1
    };

    // Listed but absent.
    std::fs::remove_file(dir.join("m01-basics/media/trend.svg")).expect("rm");
    let (code, r) = validate(&[]);
    assert_eq!(code, Some(1));
    assert_finding(
        &r,
        "file-missing",
        line_of("m01-basics/media/trend.svg"),
        "resource RES-m01-basics: file \"m01-basics/media/trend.svg\" is listed but not in the package",
    );
    // --manifest-only skips the files.
    let (code, r) = validate(&["--manifest-only"]);
    assert_eq!(code, Some(0), "{r:#}");
    std::fs::write(dir.join("m01-basics/media/trend.svg"), b"<svg/>").expect("restore");

    // Present but unlisted: a warning, an error only with --strict.
    std::fs::write(dir.join("m01-basics/notes.txt"), b"draft").expect("extra");
    let (code, r) = validate(&[]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["warnings"], 1);
    assert_eq!(r["findings"][0]["code"], "file-unlisted");
    assert_eq!(r["findings"][0]["file"], "m01-basics/notes.txt");
    let (code, _) = validate(&["--strict"]);
    assert_eq!(code, Some(1));
    std::fs::remove_file(dir.join("m01-basics/notes.txt")).expect("rm");

    // SCORM 1.2 spells it scormtype.
    std::fs::write(
        &manifest,
        original.replacen("adlcp:scormtype=\"sco\"", "adlcp:scormType=\"sco\"", 1),
    )
    .expect("write");
    let (code, r) = validate(&[]);
    assert_eq!(code, Some(1));
    assert_finding(
        &r,
        "scormtype-camelcase",
        line_of("identifier=\"RES-m00-pre\""),
        "resource RES-m00-pre: adlcp:scormType is the SCORM 2004 spelling; SCORM 1.2 requires adlcp:scormtype (all lower case)",
    );

    // masteryscore is 0..100.
    std::fs::write(
        &manifest,
        original.replace("<adlcp:masteryscore>75<", "<adlcp:masteryscore>0.75x<"),
    )
    .expect("write");
    let (_, r) = validate(&[]);
    assert_finding(
        &r,
        "value-invalid",
        line_of("masteryscore"),
        "adlcp:masteryscore \"0.75x\" must be a number from 0 to 100",
    );

    // A zip of the folder instead of its contents.
    std::fs::write(&manifest, &original).expect("write");
    let (code, r) = validate(&[]);
    assert_eq!(code, Some(0), "{r:#}");
    let nested = out.path().join("nested.zip");
    {
        let f = std::fs::File::create(&nested).expect("zip");
        let mut w = zip::ZipWriter::new(f);
        w.start_file(
            "pkg/imsmanifest.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("entry");
        std::io::Write::write_all(&mut w, original.as_bytes()).expect("write");
        w.finish().expect("finish");
    }
    let o = kmh(out.path(), &["validate", "nested.zip"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains("nested.zip: no imsmanifest.xml at the package root; found pkg/imsmanifest.xml: package the folder's contents, not the folder"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn validate_text_report_names_manifest_lines() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("imsmanifest.xml");
    std::fs::copy(
        adl_fixtures().join("LMSTestPackage_CM-01/imsmanifest.xml"),
        &path,
    )
    .expect("copy");
    replace_in(
        &path,
        "identifierref = \"SEQ01\"",
        "identifierref = \"RES-9\"",
    );
    let out = kmh(tmp.path(), &["validate", "imsmanifest.xml"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(
            "imsmanifest.xml:23: item activity_1: identifierref \"RES-9\" points to no resource\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("imsmanifest.xml: SCORM 2004 4th Edition, 1 organization, 3 items, 7 resources (1 SCO, 6 assets), manifest only, files not checked: INVALID: 1 error, 0 warnings"), "{stdout}");
}

// ------------------------------------------------------- validate cmi5

fn cmi5_fixtures() -> PathBuf {
    repo().join("tests/fixtures/cmi5")
}

#[test]
fn validate_accepts_the_cmi5_spec_examples() {
    let mut args = vec!["validate", "--strict", "--json"];
    let paths: Vec<String> = ["simple", "complex", "extended"]
        .iter()
        .map(|n| {
            cmi5_fixtures()
                .join(format!("{n}-cmi5.xml"))
                .display()
                .to_string()
        })
        .collect();
    args.extend(paths.iter().map(String::as_str));
    let reports: Value = serde_json::from_str(&ok(&kmh(&repo(), &args))).expect("json");
    let counts: Vec<(u64, u64)> = reports
        .as_array()
        .expect("one report per file")
        .iter()
        .map(|r| {
            assert_eq!(r["valid"], true, "{r:#}");
            assert_eq!(r["findings"], serde_json::json!([]), "{r:#}");
            assert_eq!(r["standard"], "cmi5");
            assert_eq!(r["files_checked"], false);
            (
                r["summary"]["aus"].as_u64().expect("aus"),
                r["summary"]["blocks"].as_u64().expect("blocks"),
            )
        })
        .collect();
    assert_eq!(counts, [(1, 0), (14, 6), (1, 0)]);
    // Our copy of the XSD accepts them too.
    if xmllint_available() {
        for p in &paths {
            xmllint_cmi5(Path::new(p));
        }
    }
}

/// A copy of a cmi5 spec example broken by one textual edit, validated alone.
#[track_caller]
fn broken_cmi5(fixture: &str, from: &str, to: &str) -> Value {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("cmi5.xml");
    std::fs::copy(cmi5_fixtures().join(fixture), &path).expect("copy");
    replace_in(&path, from, to);
    let out = kmh(tmp.path(), &["validate", "--json", "cmi5.xml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a broken course structure must fail:\n{}",
        text(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn validate_rejects_hand_broken_course_structures_for_the_right_reason() {
    let simple = "simple-cmi5.xml";
    let complex = "complex-cmi5.xml";
    let au = "au http://course-repository.example.edu/identifiers/courses/02baafcf/aus/4c07";
    let au_64f6 = "au http://courses.example.edu/identifiers/courses/d07e186b/blocks/001/aus/64f6";

    let r = broken_cmi5(
        complex,
        "moveOn=\"CompletedOrPassed\" masteryScore=\"1.0\"",
        "moveOn=\"completedOrPassed\" masteryScore=\"1.0\"",
    );
    assert_finding(
        &r,
        "value-invalid",
        113,
        &format!(
            "{au_64f6}: moveOn \"completedOrPassed\" must be one of NotApplicable, Passed, Completed, CompletedAndPassed, CompletedOrPassed (values are case-sensitive: CompletedOrPassed)"
        ),
    );

    let r = broken_cmi5(complex, "masteryScore=\"1.0\"", "masteryScore=\"80\"");
    assert_finding(
        &r,
        "value-invalid",
        113,
        &format!(
            "{au_64f6}: masteryScore \"80\" must be a decimal from 0 to 1 (a scaled score: 0.8, not 80)"
        ),
    );

    let r = broken_cmi5(
        complex,
        "launchMethod=\"AnyWindow\"\n        moveOn=\"CompletedOrPassed\"",
        "launchMethod=\"NewWindow\"\n        moveOn=\"CompletedOrPassed\"",
    );
    assert_finding(
        &r,
        "value-invalid",
        113,
        &format!("{au_64f6}: launchMethod \"NewWindow\" must be AnyWindow or OwnWindow"),
    );

    let r = broken_cmi5(
        complex,
        "<au id=\"http://example.com/courses/f59c9fc0/au/6f65\"",
        "<au id=\"http://example.com/courses/f59c9fc0/au/6f64\"",
    );
    assert_finding(
        &r,
        "id-duplicate",
        201,
        "au http://example.com/courses/f59c9fc0/au/6f64: id \"http://example.com/courses/f59c9fc0/au/6f64\" is already used on line 179; AU and block ids must be unique in the course structure, and differ from the course id",
    );

    let r = broken_cmi5(
        complex,
        "<block id=\"http://courses.example.edu/identifiers/courses/d07e186b/blocks/002\">",
        "<block id=\"blocks 002\">",
    );
    assert_finding(
        &r,
        "id-invalid",
        160,
        "block: id \"blocks 002\" is not an absolute IRI (No scheme found in an absolute IRI); cmi5 ids are globally unique IRIs such as https://example.org/courses/c1/aus/a1",
    );

    let r = broken_cmi5(
        complex,
        "idref=\"http://objectives.example.com/identifiers/geology/material-identification\"/>",
        "idref=\"http://objectives.example.com/identifiers/geology/materials\"/>",
    );
    assert_finding(
        &r,
        "idref-dangling",
        110,
        "<objective idref=\"http://objectives.example.com/identifiers/geology/materials\"> points to no objective of the course's <objectives>",
    );

    // Order, unknown elements and attributes, text where none may be.
    let r = broken_cmi5(
        simple,
        "    <url>",
        "    <launchParameters>x</launchParameters>\n    <url>",
    );
    assert_finding(
        &r,
        "structure",
        25,
        "<url> must come before <launchParameters> inside <au>",
    );
    let r = broken_cmi5(simple, "<au id=", "<au moveon=\"Passed\" id=");
    assert_finding(
        &r,
        "structure",
        14,
        "<au>: attribute moveon is not allowed; a cmi5 <au> takes id, moveOn, masteryScore, launchMethod, activityType (names are case-sensitive: moveOn)",
    );
    let r = broken_cmi5(simple, "  </au>", "    <keywords/>\n  </au>");
    assert_finding(&r, "structure", 25, "<keywords> is not allowed inside <au>");
    let r = broken_cmi5(
        simple,
        "  </au>",
        "    <launchParameters><speed>3</speed></launchParameters>\n  </au>",
    );
    assert_finding(
        &r,
        "value-invalid",
        25,
        "<launchParameters> must be text (cmi5 §13.1.4: a string); found <speed>",
    );
    let r = broken_cmi5(simple, "  </au>", "    <x:keyword xmlns:x=\"\"/>\n  </au>");
    assert_eq!(r["findings"][0]["code"], "xml-malformed", "{r:#}");
    let r = broken_cmi5(
        simple,
        "<title>\n      <langstring lang=\"en-US\">Introduction to Geology</langstring>\n    </title>\n    <description>\n      <langstring lang=\"en-US\">\n        This course will introduce you into the basics of geology. This includes subjects such as\n        plate tectonics, geological materials and the history of the Earth.\n      </langstring>\n    </description>\n    <url>",
        "<title>\n      <langstring lang=\"en-US\">Introduction to Geology</langstring>\n    </title>\n    <url>",
    );
    assert_finding(&r, "structure", 14, "<au> needs <description> before <url>");
    let r = broken_cmi5(
        simple,
        "<langstring lang=\"en-US\">Introduction",
        "<langstring lang=\"en US\">Introduction",
    );
    assert_finding(
        &r,
        "value-invalid",
        5,
        "<langstring>: lang \"en US\" is not a language tag such as en or fr-CA",
    );

    // A course structure on its own must use absolute URLs (cmi5 §14.2).
    let r = broken_cmi5(
        simple,
        "http://course-repository.example.edu/identifiers/courses/02baafcf/aus/4c07/launch.html",
        "aus/4c07/launch.html",
    );
    assert_finding(
        &r,
        "url-relative",
        24,
        &format!(
            "{au}: url \"aus/4c07/launch.html\" is relative, but a cmi5.xml without its zip must give fully qualified URLs (cmi5 §14.2); validate the zip or folder instead"
        ),
    );

    // Not well-formed; not in the cmi5 namespace.
    let r = broken_cmi5(simple, "</title>", "</titel>");
    assert_eq!(r["findings"][0]["code"], "xml-malformed", "{r:#}");
    assert_eq!(r["findings"][0]["line"], 6, "{r:#}");
    let r = broken_cmi5(
        simple,
        "<courseStructure xmlns=\"https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd\">",
        "<courseStructure>",
    );
    assert_finding(
        &r,
        "not-a-manifest",
        2,
        "the root element must be <manifest> in http://www.imsproject.org/xsd/imscp_rootv1p1p2 (SCORM 1.2) or http://www.imsglobal.org/xsd/imscp_v1p1 (SCORM 2004), or <courseStructure> in https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd (cmi5); found <courseStructure> in no namespace",
    );
}

/// Our cmi5 package, unpacked and broken; a zip holding only `cmi5.xml`
/// with absolute URLs (cmi5 §14); warnings and `--strict`.
#[test]
fn validate_checks_the_files_of_cmi5_packages() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(
        &demo_course(),
        &out.path().join("dist"),
        &["--target", "cmi5", "--lang", "en"],
    );
    let dir = out.path().join("pkg");
    unzip_to(&zips[0], &dir);
    let structure = dir.join("cmi5.xml");
    let original = std::fs::read_to_string(&structure).expect("cmi5.xml");
    let validate = |args: &[&str], what: &str| {
        let mut a = vec!["validate", "--json"];
        a.extend_from_slice(args);
        a.push(what);
        let o = kmh(out.path(), &a);
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        (o.status.code(), v)
    };
    let line_of = |needle: &str| {
        original
            .lines()
            .position(|l| l.contains(needle))
            .expect("needle") as u64
            + 1
    };
    let (code, r) = validate(&["--strict"], "pkg");
    assert_eq!(
        (code, &r["findings"]),
        (Some(0), &serde_json::json!([])),
        "{r:#}"
    );

    // A launch page that is not there, and --manifest-only not looking.
    std::fs::remove_file(dir.join("m01-basics/launch.html")).expect("rm");
    let (code, r) = validate(&[], "pkg");
    assert_eq!(code, Some(1));
    assert_finding(
        &r,
        "launch-file-missing",
        line_of("<url>m01-basics/launch.html"),
        "au urn:kmh:course:demo-course/m01-basics: url \"m01-basics/launch.html\" is not a file of the package",
    );
    let (code, _) = validate(&["--manifest-only"], "pkg");
    assert_eq!(code, Some(0));
    std::fs::write(dir.join("m01-basics/launch.html"), b"<!doctype html>").expect("restore");

    // Paths that leave the package; case matters on the server.
    std::fs::write(
        &structure,
        original.replace("<url>m00-pre/launch.html", "<url>../m00-pre/launch.html"),
    )
    .expect("write");
    let (_, r) = validate(&[], "pkg");
    assert_finding(
        &r,
        "path-invalid",
        line_of("<url>m00-pre/launch.html"),
        "au urn:kmh:course:demo-course/m00-pre: url \"../m00-pre/launch.html\" climbs out of the package with ..",
    );
    std::fs::write(
        &structure,
        original.replace("<url>m00-pre/launch.html", "<url>m00-pre/Launch.html?x=1"),
    )
    .expect("write");
    let (_, r) = validate(&[], "pkg");
    assert_finding(
        &r,
        "launch-file-missing",
        line_of("<url>m00-pre/launch.html"),
        "au urn:kmh:course:demo-course/m00-pre: url \"m00-pre/Launch.html?x=1\" is not a file of the package (the package has \"m00-pre/launch.html\": names are case-sensitive on most LMS servers)",
    );

    // An application protocol is allowed by cmi5 but no browser launches
    // it: a warning, an error only with --strict.
    std::fs::write(
        &structure,
        original.replace("<url>m00-pre/launch.html", "<url>kmhapp://m00-pre"),
    )
    .expect("write");
    let (code, r) = validate(&[], "pkg");
    assert_eq!((code, r["warnings"].as_u64()), (Some(0), Some(1)), "{r:#}");
    assert_eq!(r["findings"][0]["code"], "url-scheme");
    let (code, _) = validate(&["--strict"], "pkg");
    assert_eq!(code, Some(1));
    std::fs::write(&structure, &original).expect("restore");

    // A zip that holds only cmi5.xml: absolute URLs are fine, a relative
    // one names a file the zip lacks.
    let only = |name: &str, xml: &str| {
        let path = out.path().join(name);
        let f = std::fs::File::create(&path).expect("zip");
        let mut w = zip::ZipWriter::new(f);
        w.start_file("cmi5.xml", zip::write::SimpleFileOptions::default())
            .expect("entry");
        std::io::Write::write_all(&mut w, xml.as_bytes()).expect("write");
        w.finish().expect("finish");
        name.to_string()
    };
    let simple = std::fs::read_to_string(cmi5_fixtures().join("simple-cmi5.xml")).expect("read");
    let (code, r) = validate(&["--strict"], &only("absolute.zip", &simple));
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["summary"]["files_present"], 1);
    let relative = simple.replace(
        "http://course-repository.example.edu/identifiers/courses/02baafcf/aus/4c07/launch.html",
        "launch.html",
    );
    let (code, r) = validate(&[], &only("relative.zip", &relative));
    assert_eq!(code, Some(1));
    assert_finding(
        &r,
        "launch-file-missing",
        24,
        "au http://course-repository.example.edu/identifiers/courses/02baafcf/aus/4c07: url \"launch.html\" is not a file of the package",
    );

    // A zip of the folder instead of its contents.
    let nested = out.path().join("nested.zip");
    {
        let f = std::fs::File::create(&nested).expect("zip");
        let mut w = zip::ZipWriter::new(f);
        w.start_file("pkg/cmi5.xml", zip::write::SimpleFileOptions::default())
            .expect("entry");
        std::io::Write::write_all(&mut w, original.as_bytes()).expect("write");
        w.finish().expect("finish");
    }
    let o = kmh(out.path(), &["validate", "nested.zip"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains("nested.zip: no cmi5.xml at the package root; found pkg/cmi5.xml: package the folder's contents, not the folder"),
        "{}",
        text(&o.stdout)
    );
}

// ------------------------------------------------- the real curriculum

/// Packages `packages/reintegration-me` once its content is complete
/// (every module that course.toml lists has a folder in every language).
/// While another person is still writing it, the test says so and skips.
#[test]
fn packages_the_real_curriculum_when_complete() {
    let course = repo().join("packages/reintegration-me");
    let Ok(toml) = std::fs::read_to_string(course.join("course.toml")) else {
        eprintln!("SKIPPED: packages/reintegration-me/course.toml does not exist yet");
        return;
    };
    let value: toml::Table = toml.parse().expect("course.toml is TOML");
    let languages: Vec<&str> = value["languages"]
        .as_array()
        .expect("languages")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    let missing: Vec<String> = value["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .filter(|m| !m.get("external").and_then(|e| e.as_bool()).unwrap_or(false))
        .filter_map(|m| m["id"].as_str())
        .flat_map(|id| languages.iter().map(move |l| format!("{l}/{id}")))
        .filter(|dir| !course.join(dir).join("module.toml").is_file())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED: the curriculum is still being written (missing {})",
            missing.join(", ")
        );
        return;
    }
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(&course, out.path(), &[]);
    assert_eq!(zips.len(), languages.len() * 3, "{:?}", names(&zips));
    xmllint_zips(&zips);
    for z in &zips {
        ok(&kmh(
            &repo(),
            &["validate", "--strict", z.to_str().expect("utf-8")],
        ));
    }
}

// ------------------------------------------------------ JSON contracts

/// The subset of JSON Schema our schemas use: type, const, enum,
/// properties, required, additionalProperties: false, items, oneOf, $ref
/// to #/$defs, minimum/maximum. Enough to hold the written JSON to the
/// published contract.
fn conforms(value: &Value, schema: &Value, root: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = root
            .pointer(r.trim_start_matches('#'))
            .ok_or_else(|| format!("{at}: bad $ref {r}"))?;
        return conforms(value, target, root, at);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|s| conforms(value, s, root, at).is_ok())
            .count();
        return if matching == 1 {
            Ok(())
        } else {
            Err(format!("{at}: {value} matches {matching} of oneOf"))
        };
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        return Err(format!("{at}: {value} is not {c}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(value)
    {
        return Err(format!("{at}: {value} not in {e:?}"));
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: {value} is not of type {t}"));
        }
    }
    if let Some(n) = value.as_f64() {
        if schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            return Err(format!("{at}: {n} below minimum"));
        }
        if schema
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            return Err(format!("{at}: {n} above maximum"));
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = req.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                return Err(format!("{at}: missing required {key}"));
            }
        }
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => conforms(v, s, root, &format!("{at}/{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: property {k} is not in the schema"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            conforms(v, items, root, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

fn schema(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas").join(name)).expect("schema"),
    )
    .expect("schema JSON")
}

/// Checks every `kmh-runtime.json` and embedded quiz model in the zips
/// against their schemas; returns the number of quiz models seen.
fn check_json_contracts(zips: &[PathBuf]) -> usize {
    let runtime = schema("kmh-runtime.schema.json");
    let quiz = schema("quiz-model.schema.json");
    let mut models = 0;
    for z in zips {
        for (name, bytes) in unzip(z) {
            if name == "kmh-runtime.json" {
                let v: Value = serde_json::from_slice(&bytes).expect("json");
                conforms(&v, &runtime, &runtime, &name)
                    .unwrap_or_else(|e| panic!("{}: {e}", z.display()));
            } else if name.ends_with(".html") {
                let html = text(&bytes);
                let tag = "<script type=\"application/json\" id=\"kmh-quiz\">";
                if let Some(start) = html.find(tag) {
                    let body = &html[start + tag.len()..];
                    let end = body.find("</script>").expect("end of model");
                    let v: Value = serde_json::from_str(&body[..end]).expect("json");
                    conforms(&v, &quiz, &quiz, &name)
                        .unwrap_or_else(|e| panic!("{}: {e}", z.display()));
                    models += 1;
                }
            }
        }
    }
    models
}

#[test]
fn runtime_config_and_quiz_models_follow_their_json_schemas() {
    let out = tempfile::tempdir().expect("tmp");
    let zips = package(
        &demo_course(),
        out.path(),
        &["--lrs", "https://lrs.example.org/xapi/"],
    );
    assert_eq!(
        check_json_contracts(&zips),
        12,
        "two quizzes in each of six packages"
    );
    // The checker itself must be able to fail.
    let runtime = schema("kmh-runtime.schema.json");
    let bad = serde_json::json!({"format": "kmh-runtime/1"});
    assert!(conforms(&bad, &runtime, &runtime, "").is_err());
}

/// Hostile input through the command: a 100 000-deep cmi5.xml and a zip
/// whose entry names climb out of the package end in findings that name
/// the limit, with exit code 1, not a crash.
#[test]
fn validate_reports_hostile_packages_without_crashing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let depth = 100_000;
    let deep = format!(
        "<courseStructure xmlns=\"https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd\">\n{}{}</courseStructure>",
        "<block>".repeat(depth),
        "</block>".repeat(depth)
    );
    std::fs::write(tmp.path().join("cmi5.xml"), deep).expect("write");
    let o = kmh(tmp.path(), &["validate", "--json", "cmi5.xml"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(r["findings"][0]["code"], "xml-too-deep", "{r:#}");
    assert_eq!(r["findings"][0]["line"], 2);
    assert!(
        r["findings"][0]["message"]
            .as_str()
            .expect("message")
            .contains("nested more than 256 elements deep"),
        "{r:#}"
    );

    let slip = tmp.path().join("slip.zip");
    {
        let f = std::fs::File::create(&slip).expect("zip");
        let mut w = zip::ZipWriter::new(f);
        w.start_file("../outside.html", zip::write::SimpleFileOptions::default())
            .expect("entry");
        std::io::Write::write_all(&mut w, b"x").expect("write");
        w.finish().expect("finish");
    }
    let o = kmh(tmp.path(), &["validate", "slip.zip"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains("../outside.html: zip entry name climbs out of the package with ..: an LMS that unpacks it writes outside the package folder or refuses the package; not read"),
        "{}",
        text(&o.stdout)
    );
}
