//! The courses `kmh serve --courses` publishes at `/courses/`: pages,
//! files with their content types and caching, refused path traversal, and
//! the course credential (limited to the course's activities, kept across
//! restarts).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::cli::{Server, kmh, output, serve_with, sigterm};

fn packages() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("packages")
        .display()
        .to_string()
}

fn get(server: &Server, path: &str) -> Response {
    Client::new()
        .get(format!("{}{path}", server.url))
        .send()
        .unwrap()
}

fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The course credential a course page hands to learners' browsers.
fn page_credential(server: &Server, lang: &str) -> (String, String) {
    let page = get(server, &format!("/courses/reintegration-me/{lang}/"))
        .text()
        .unwrap();
    let start = page.find("id=\"kmh-course\">").expect("launch settings") + 16;
    let end = start + page[start..].find("</script>").unwrap();
    let config: Value = serde_json::from_str(&page[start..end]).unwrap();
    let auth = config["auth"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.strip_prefix("Basic ").unwrap())
        .unwrap();
    let (key, secret) = std::str::from_utf8(&decoded)
        .unwrap()
        .split_once(':')
        .unwrap();
    (key.to_owned(), secret.to_owned())
}

/// The raw answer to a request line sent as is (an HTTP client would
/// normalise the `..` away before sending it).
fn raw_get(server: &Server, target: &str) -> String {
    let mut conn = TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = conn.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn about(activity: &str) -> Value {
    json!({
        "actor": {"objectType": "Agent", "name": "Awa", "mbox": "mailto:awa@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en": "experienced"}},
        "object": {"objectType": "Activity", "id": activity},
        "context": {"contextActivities": {"parent": [{"id": "urn:kmh:course:reintegration-me"}]}}
    })
}

fn post(server: &Server, (key, secret): &(String, String), statement: &Value) -> u16 {
    Client::new()
        .post(format!("{}/xapi/statements", server.url))
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "1.0.3")
        .json(statement)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn serve_publishes_the_course_in_both_languages_with_a_limited_kept_credential() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let args = ["--courses", &packages(), "--pseudonymise=false"];
    let mut server = serve_with(data, &args);

    // The index lists the course in English and French.
    let r = get(&server, "/courses/");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    let index = r.text().unwrap();
    assert!(
        index.contains("href=\"/courses/reintegration-me/en/\""),
        "{index}"
    );
    assert!(
        index.contains("href=\"/courses/reintegration-me/fr/\""),
        "{index}"
    );
    assert!(index.contains("Suivi et évaluation du retour et de la réintégration"));
    assert_eq!(
        get(&server, "/courses/reintegration-me").url().path(),
        "/courses/reintegration-me/en/",
        "a course's address leads to its default language"
    );

    // The French page lists the modules with their titles from the sources.
    let fr = get(&server, "/courses/reintegration-me/fr/");
    let page_etag = header(&fr, "etag");
    let unchanged = Client::new()
        .get(format!("{}/courses/reintegration-me/fr/", server.url))
        .header("If-None-Match", &page_etag)
        .send()
        .unwrap();
    assert_eq!(unchanged.status(), 304, "a page is revalidated by its ETag");
    let fr = fr.text().unwrap();
    assert!(fr.contains("<html lang=\"fr\">"));
    let module_toml = std::fs::read_to_string(
        PathBuf::from(packages()).join("reintegration-me/fr/s01-introduction/module.toml"),
    )
    .unwrap();
    let title = kmh::package::render::html::esc(
        module_toml
            .lines()
            .find_map(|l| l.strip_prefix("title = \""))
            .unwrap()
            .trim_end_matches('"'),
    );
    assert!(fr.contains(&title), "{title} in\n{fr}");
    assert!(fr.contains("href=\"s01-introduction/launch.html\""));
    assert!(fr.contains("Commencer"));

    // Module pages and assets, with their content types and caching.
    let launch = get(
        &server,
        "/courses/reintegration-me/fr/s01-introduction/launch.html",
    );
    assert_eq!(launch.status(), 200);
    assert_eq!(header(&launch, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&launch, "cache-control"), "no-cache");
    let etag = header(&launch, "etag");
    assert!(etag.starts_with('"'), "{etag}");
    assert!(launch.text().unwrap().contains("kmh-runtime.js"));
    let again = Client::new()
        .get(format!(
            "{}/courses/reintegration-me/fr/s01-introduction/launch.html",
            server.url
        ))
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    for (path, ty) in [
        ("kmh/kmh-runtime.js", "text/javascript; charset=utf-8"),
        ("kmh/kmh.css", "text/css; charset=utf-8"),
        ("kmh-runtime.json", "application/json; charset=utf-8"),
    ] {
        let r = get(&server, &format!("/courses/reintegration-me/fr/{path}"));
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "content-type"), ty, "{path}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    }
    let css = get(&server, "/courses/reintegration-me/fr/kmh/kmh.css");
    assert_eq!(header(&css, "cache-control"), "public, max-age=3600");
    let config: Value = get(&server, "/courses/reintegration-me/fr/kmh-runtime.json")
        .json()
        .unwrap();
    assert_eq!(config["language"], "fr");
    assert!(config["lrs"].is_null(), "no credential in the course files");
    assert_eq!(get(&server, "/courses/reintegration-me/de/").status(), 404);
    assert_eq!(
        get(&server, "/courses/reintegration-me/fr/nope.html").status(),
        404
    );

    // Path traversal, plain and encoded, is refused.
    for target in [
        "/courses/../Cargo.toml",
        "/courses/%2e%2e/Cargo.toml",
        "/courses/%2E%2E/%2E%2E/Cargo.toml",
        "/courses/reintegration-me/fr/..%2f..%2f..%2fCargo.toml",
        "/courses/reintegration-me/fr/%2e%2e%5c%2e%2e%5cCargo.toml",
        "/courses/reintegration-me/fr/s01-introduction/../../../../Cargo.toml",
    ] {
        let answer = raw_get(&server, target);
        assert!(answer.starts_with("HTTP/1.1 400"), "{target}: {answer}");
        assert!(!answer.contains("[package]"), "{target}: {answer}");
    }

    // The course credential writes about the course's activities only.
    let course = page_credential(&server, "fr");
    assert_eq!(course, page_credential(&server, "en"), "one per course");
    let module = "urn:kmh:course:reintegration-me/s01-introduction";
    assert_eq!(post(&server, &course, &about(module)), 200);
    assert_eq!(
        post(
            &server,
            &course,
            &about(&format!("{module}/pages/01-welcome"))
        ),
        200
    );
    assert_eq!(
        post(&server, &course, &about("urn:kmh:course:other/m1")),
        403
    );
    assert_eq!(
        post(&server, &course, &about(&format!("{module}-extra"))),
        403,
        "a module's prefix does not cover a longer sibling id"
    );
    let state = Client::new()
        .put(format!("{}/xapi/activities/state", server.url))
        .query(&[
            ("activityId", module),
            ("agent", r#"{"mbox":"mailto:awa@example.org"}"#),
            ("stateId", "urn:kmh:state:bookmark"),
        ])
        .basic_auth(&course.0, Some(&course.1))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&json!({"location": "pages/01-welcome.html"}))
        .send()
        .unwrap();
    assert_eq!(state.status(), 204);
    let read = Client::new()
        .get(format!("{}/xapi/statements", server.url))
        .basic_auth(&course.0, Some(&course.1))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .unwrap();
    assert_eq!(read.status(), 403, "the course credential cannot read");

    // Restarted, the server hands out the same credential, and only it.
    assert!(sigterm(&mut server.child).success());
    let mut server = serve_with(data, &args);
    assert_eq!(page_credential(&server, "fr"), course);
    assert!(sigterm(&mut server.child).success());

    // Its secret lost (as after a restore into a new folder), the next start
    // makes a new one and revokes the old.
    std::fs::remove_file(dir.path().join("course-credentials.json")).unwrap();
    let mut server = serve_with(data, &args);
    let renewed = page_credential(&server, "fr");
    assert_ne!(renewed.0, course.0);
    assert_eq!(
        post(&server, &course, &about(module)),
        401,
        "the old one is revoked"
    );
    assert_eq!(post(&server, &renewed, &about(module)), 200);
    assert!(sigterm(&mut server.child).success());
    let course = renewed;
    let (ok, list, err) = output(kmh().args(["creds", "list", "--json", "--data", data]));
    assert!(ok, "{err}");
    let list: Value = serde_json::from_str(&list).unwrap();
    let course_creds: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["label"]
                .as_str()
                .unwrap_or("")
                .starts_with("course site:")
        })
        .collect();
    assert_eq!(course_creds.len(), 1, "{list}");
    assert_eq!(course_creds[0]["key"], course.0.as_str());
    assert_eq!(
        course_creds[0]["scopes"],
        json!(["state", "statements/write"])
    );
    assert!(
        course_creds[0]["activities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.as_str().unwrap().ends_with('/'))
    );
}

#[test]
fn no_courses_or_a_folder_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = serve_with(data, &["--no-courses"]);
    let index = get(&server, "/courses/").text().unwrap();
    assert!(index.contains("No course is published"), "{index}");
    assert_eq!(get(&server, "/courses/reintegration-me/en/").status(), 404);
    assert!(sigterm(&mut server.child).success());

    let empty = tempfile::tempdir().unwrap();
    let (ok, _, err) = output(kmh().args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data,
        "--courses",
        empty.path().to_str().unwrap(),
    ]));
    assert!(!ok && err.contains("no course there"), "{err}");
}
