//! Pseudonymisation at ingest, re-identification with the `identities`
//! scope, free-text redaction on export and the access audit log, over
//! real HTTP (and the `kmh` binary where the command line is the interface).

use std::path::Path;

use kmh::lrs::credentials::{self, Scope};
use reqwest::Method;
use serde_json::{Value, json};
use sha1::Digest;

use crate::common::Lrs;

const ADMIN_TOKEN: &str = "test-admin-token";
const PSEUDONYM_HOME: &str = "urn:kmh:pseudonym";
/// A string only the statements' activity carries: found in the raw store
/// bytes, it shows that a search there would find an identifier too.
const MARKER: &str = "Marker-activity-7f3a9c";

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Issues a credential; `pseudonymise` makes it store learners by pseudonym.
fn credential(lrs: &Lrs, scopes: &[Scope], pseudonymise: bool) -> (String, String) {
    let mut issued = credentials::issue(scopes, vec![], "test".into());
    issued.record.pseudonymise = pseudonymise;
    lrs.state.store.put_credential(&issued.record).unwrap();
    lrs.state.reload_credentials().unwrap();
    (issued.record.key, issued.secret)
}

fn xapi(
    lrs: &Lrs,
    (key, secret): &(String, String),
    method: Method,
    path: &str,
) -> reqwest::RequestBuilder {
    lrs.client
        .request(method, format!("{}/xapi{path}", lrs.url))
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "1.0.3")
}

fn admin(lrs: &Lrs, path: &str) -> reqwest::RequestBuilder {
    lrs.client
        .get(format!("{}/admin{path}", lrs.url))
        .bearer_auth(ADMIN_TOKEN)
}

fn completed(actor: Value) -> Value {
    json!({
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "urn:kmh:course:reintegration-me/s01",
                   "definition": {"name": {"en": MARKER}}},
        "context": {"instructor": {"name": "Trainer Zoltan", "mbox": "mailto:zoltan.trainer@example.org"}}
    })
}

fn ana_mbox() -> Value {
    json!({"name": "Ana Ferreira", "mbox": "mailto:Ana.Ferreira@Example.org"})
}

/// The same learner as another LMS knows her: by the SHA-1 of her address.
fn ana_sha1() -> Value {
    let sum = hex::encode(sha1::Sha1::digest(b"mailto:ana.ferreira@example.org"));
    json!({"objectType": "Agent", "name": "A. Ferreira", "mbox_sha1sum": sum})
}

/// Every file under `dir`, concatenated.
fn raw_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(raw_bytes(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

async fn post_as(lrs: &Lrs, cred: &(String, String), body: &Value) {
    let r = xapi(lrs, cred, Method::POST, "/statements")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn one_learner_from_two_lmss_gets_one_pseudonym_and_the_store_keeps_no_identifier() {
    let lrs = Lrs::start_pseudonymising().await;
    let lms_a = credential(&lrs, &[Scope::StatementsWrite], false);
    let lms_b = credential(&lrs, &[Scope::StatementsWrite], false);
    post_as(&lrs, &lms_a, &completed(ana_mbox())).await;
    post_as(&lrs, &lms_b, &completed(ana_sha1())).await;

    let all = lrs.get_json("?ascending=true").await;
    let statements = all["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    let (first, second) = (&statements[0], &statements[1]);
    assert_eq!(first["actor"]["account"]["homePage"], PSEUDONYM_HOME);
    assert_eq!(first["actor"], second["actor"], "one person, one pseudonym");
    assert!(first["actor"].get("name").is_none(), "names are not kept");
    assert_eq!(
        first["context"]["instructor"]["account"]["homePage"],
        PSEUDONYM_HOME
    );
    // The authority names the credential, as before.
    assert_eq!(first["authority"]["account"]["name"], lms_a.0.as_str());
    assert_eq!(second["authority"]["account"]["name"], lms_b.0.as_str());

    let export = admin(&lrs, "/export").send().await.unwrap();
    assert_eq!(export.status(), 200);
    let export = export.bytes().await.unwrap().to_vec();
    assert!(contains(&export, MARKER));
    let sum = ana_sha1()["mbox_sha1sum"].as_str().unwrap().to_owned();
    let originals = ["ferreira", "zoltan", &sum];
    for original in originals {
        assert!(!contains(&export, original), "{original} in the export");
    }

    let dir = lrs.stop().await;
    let store = raw_bytes(&dir.path().join("store"));
    assert!(
        contains(&store, MARKER),
        "the raw store shows statement text"
    );
    for original in originals {
        assert!(!contains(&store, original), "{original} in the raw store");
    }
    // The mapping, kept apart, has them.
    let mapping = raw_bytes(&dir.path().join("identities"));
    assert!(contains(&mapping, "Ana.Ferreira@Example.org"));
}

#[tokio::test]
async fn re_identification_needs_the_identities_scope() {
    let lrs = Lrs::start_pseudonymising().await;
    let lms = credential(&lrs, &[Scope::StatementsWrite], false);
    post_as(&lrs, &lms, &completed(ana_mbox())).await;
    post_as(&lrs, &lms, &completed(ana_sha1())).await;
    let pseudonym = lrs.get_json("").await["statements"][0]["actor"]["account"]["name"]
        .as_str()
        .unwrap()
        .to_owned();

    let reader = credential(&lrs, &[Scope::StatementsRead, Scope::AnalyticsRead], false);
    let officer = credential(&lrs, &[Scope::Identities], false);
    let lookup = |cred: &(String, String), query: String| {
        lrs.client
            .get(format!("{}/identities?{query}", lrs.url))
            .basic_auth(&cred.0, Some(&cred.1))
    };
    let r = lookup(&reader, format!("pseudonym={pseudonym}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("identities"));

    let r = lookup(&officer, format!("pseudonym={pseudonym}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["pseudonym"], pseudonym);
    assert_eq!(
        record["ifis"],
        json!([{"mbox": "mailto:Ana.Ferreira@Example.org"}, {"mbox_sha1sum": ana_sha1()["mbox_sha1sum"]}])
    );
    assert_eq!(record["names"], json!(["Ana Ferreira", "A. Ferreira"]));

    // By a real identifier (mapped with the key), or by the pseudonym agent.
    let real = enc(r#"{"mbox":"mailto:ana.ferreira@example.org"}"#);
    let r = lookup(&officer, format!("agent={real}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["pseudonym"], pseudonym);

    let r = lookup(&officer, format!("pseudonym={}", "0".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = lookup(&officer, "pseudonym=ana".into())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("32 hexadecimal digits"));
}

#[tokio::test]
async fn a_real_identifier_queries_statements_only_with_the_identities_scope() {
    let lrs = Lrs::start_pseudonymising().await;
    let lms = credential(&lrs, &[Scope::StatementsWrite], false);
    post_as(&lrs, &lms, &completed(ana_mbox())).await;
    post_as(&lrs, &lms, &completed(ana_sha1())).await;
    post_as(
        &lrs,
        &lms,
        &completed(json!({"mbox": "mailto:someone.else@example.org"})),
    )
    .await;

    let real = enc(r#"{"mbox":"mailto:ana.ferreira@example.org"}"#);
    let allowed = credential(&lrs, &[Scope::StatementsRead, Scope::Identities], false);
    let r = xapi(
        &lrs,
        &allowed,
        Method::GET,
        &format!("/statements?agent={real}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let found = body["statements"].as_array().unwrap();
    assert_eq!(found.len(), 2, "both LMSs' statements about her");
    let pseudonym_agent = found[0]["actor"].clone();

    let plain = credential(&lrs, &[Scope::StatementsRead], false);
    let r = xapi(
        &lrs,
        &plain,
        Method::GET,
        &format!("/statements?agent={real}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let message = r.text().await.unwrap();
    assert!(
        message.contains("identities scope") && message.contains(PSEUDONYM_HOME),
        "{message}"
    );
    // By pseudonym, any reader finds them.
    let by_pseudonym = enc(&pseudonym_agent.to_string());
    let r = xapi(
        &lrs,
        &plain,
        Method::GET,
        &format!("/statements?agent={by_pseudonym}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["statements"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_pseudonymising_credential_keeps_its_state_and_its_statements_by_pseudonym() {
    // A store that keeps identifiers, with one package credential that does not.
    let lrs = Lrs::start().await;
    let package = credential(&lrs, &[Scope::StatementsWrite, Scope::State], true);
    let activity = enc("urn:kmh:course:reintegration-me/s01");
    let learner =
        r#"{"objectType":"Agent","name":"Ana Ferreira","mbox":"mailto:ana.ferreira@example.org"}"#;
    let state = |agent: &str| {
        format!(
            "/activities/state?activityId={activity}&agent={}&stateId=bookmark",
            enc(agent)
        )
    };

    let r = xapi(&lrs, &package, Method::PUT, &state(learner))
        .header("Content-Type", "application/json")
        .body(r#"{"page":3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // The content resumes: the same real agent reads its State back.
    let r = xapi(&lrs, &package, Method::GET, &state(learner))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), r#"{"page":3}"#);

    post_as(
        &lrs,
        &package,
        &completed(serde_json::from_str(learner).unwrap()),
    )
    .await;
    let admin_cred = (lrs.key.clone(), lrs.secret.clone());
    post_as(
        &lrs,
        &admin_cred,
        &completed(json!({"mbox": "mailto:bo@example.org"})),
    )
    .await;
    let all = lrs.get_json("?ascending=true").await;
    let statements = all["statements"].as_array().unwrap();
    assert_eq!(
        statements[0]["actor"]["account"]["homePage"],
        PSEUDONYM_HOME
    );
    assert_eq!(
        statements[1]["actor"]["mbox"], "mailto:bo@example.org",
        "other credentials keep identifiers"
    );

    // The State is kept under the pseudonym, not under the address.
    let r = xapi(&lrs, &admin_cred, Method::GET, &state(learner))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let pseudonym_agent = statements[0]["actor"].to_string();
    let r = xapi(&lrs, &admin_cred, Method::GET, &state(&pseudonym_agent))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn signed_statements_are_refused_rather_than_stored_with_an_identity() {
    // The signature part carries the learner's identifiers in clear; a
    // pseudonymising credential cannot store it. Checked before parsing
    // the signature, so any signature attachment shows it.
    let lrs = Lrs::start_pseudonymising().await;
    let body = completed(ana_mbox());
    let mut st = body.clone();
    let sig = b"not.a.jws";
    let sha = hex::encode(sha2::Sha256::digest(sig));
    st["attachments"] = json!([{
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en": "signature"}, "contentType": "application/octet-stream",
        "length": sig.len(), "sha2": sha}]);
    let boundary = "b0undary";
    let mut payload = format!(
        "--{boundary}\r\nContent-Type: application/json\r\n\r\n{st}\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nX-Experience-API-Hash: {sha}\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    )
    .into_bytes();
    payload.extend_from_slice(sig);
    payload.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = lrs
        .req(Method::POST, "/statements")
        .header(
            "Content-Type",
            format!("multipart/mixed; boundary={boundary}"),
        )
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("pseudonym"));
}

fn answered(question: &str, definition: Option<Value>, response: &str) -> Value {
    let mut object =
        json!({"id": format!("urn:kmh:course:reintegration-me/s09/interactions/{question}")});
    if let Some(d) = definition {
        object["definition"] = d;
    }
    json!({
        "actor": {"account": {"homePage": "https://lms.example.org", "name": "learner-1"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": object,
        "result": {"response": response}
    })
}

#[tokio::test]
async fn free_text_answers_are_redacted_on_export_when_asked() {
    let lrs = Lrs::start().await;
    let open = json!({"type": "http://adlnet.gov/expapi/activities/cmi.interaction", "interactionType": "long-fill-in"});
    let marked =
        json!({"interactionType": "fill-in", "extensions": {"urn:kmh:ext:free-text": true}});
    let choice =
        json!({"interactionType": "choice", "choices": [{"id": "a", "description": {"en": "A"}}]});
    lrs.post(&json!([
        answered(
            "comments",
            Some(open),
            "My caseworker Ana Ferreira helped a lot"
        ),
        answered("other", Some(marked), "Call me on +221 77 000 00 00"),
        answered("q1", Some(choice), "a"),
        // No definition in the statement: the LRS knows the activity.
        answered("comments", None, "Second thoughts about Ana"),
    ]))
    .await;

    let plain = admin(&lrs, "/export")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(plain.contains("Ana Ferreira") && plain.contains("+221"));
    let redacted = admin(&lrs, "/export?redact=free-text")
        .send()
        .await
        .unwrap();
    assert_eq!(redacted.status(), 200);
    let redacted = redacted.text().await.unwrap();
    let lines: Vec<Value> = redacted
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let responses: Vec<&str> = lines
        .iter()
        .map(|s| s["result"]["response"].as_str().unwrap())
        .collect();
    assert_eq!(responses, ["[redacted]", "[redacted]", "a", "[redacted]"]);
    assert!(!redacted.contains("Ana") && !redacted.contains("+221"));

    let r = admin(&lrs, "/export?redact=everything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("free-text"));
}

#[tokio::test]
async fn reads_exports_and_re_identifications_leave_audit_records() {
    let lrs = Lrs::start_pseudonymising().await;
    let lms = credential(&lrs, &[Scope::StatementsWrite], false);
    post_as(&lrs, &lms, &completed(ana_mbox())).await;
    post_as(&lrs, &lms, &completed(ana_sha1())).await;
    let reader = credential(&lrs, &[Scope::StatementsRead, Scope::Identities], false);

    let real = enc(r#"{"mbox":"mailto:ana.ferreira@example.org"}"#);
    let r = xapi(
        &lrs,
        &reader,
        Method::GET,
        &format!("/statements?agent={real}&limit=1"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // Read to the end: a streamed export is audited when its last row has
    // been produced (or, for a client that hangs up, whenever the body is
    // dropped, which could land after the log is read below).
    let export = admin(&lrs, "/export").send().await.unwrap();
    assert_eq!(export.status(), 200);
    export.bytes().await.unwrap();
    let r = lrs
        .client
        .get(format!("{}/identities?agent={real}", lrs.url))
        .basic_auth(&reader.0, Some(&reader.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = lrs
        .client
        .get(format!("{}/identities?agent={real}", lrs.url))
        .basic_auth(&lms.0, Some(&lms.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let state = format!(
        "/activities/state?activityId={}&agent={real}",
        enc("urn:kmh:course:reintegration-me/s01")
    );
    let r = lrs.req(Method::DELETE, &state).send().await.unwrap();
    assert_eq!(r.status(), 204);

    let log: Vec<Value> = admin(&lrs, "/audit")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Writes are not access: the two POSTs left nothing.
    assert_eq!(log.len(), 5, "{log:#?}");
    assert_eq!(log[0]["credential"], reader.0);
    assert_eq!(log[0]["action"], "read");
    assert_eq!(log[0]["resource"], "GET /xapi/statements");
    assert_eq!(log[0]["rows"], 1);
    assert_eq!(log[0]["status"], 200);
    let query = log[0]["query"].as_str().unwrap();
    assert!(
        query.contains("limit=1") && query.contains("pseudonym"),
        "{query}"
    );
    assert!(
        !query.contains("ferreira"),
        "the log keeps no identifier: {query}"
    );
    assert_eq!(log[1]["credential"], "admin");
    assert_eq!(log[1]["action"], "export");
    assert_eq!(log[1]["rows"], 2);
    assert_eq!(log[2]["action"], "reidentify");
    assert_eq!(log[2]["rows"], 1);
    assert_eq!(log[3]["credential"], lms.0);
    assert_eq!(log[3]["status"], 403);
    assert_eq!(log[4]["credential"], lrs.key.as_str());
    assert_eq!(log[4]["action"], "delete");
    assert_eq!(log[4]["resource"], "DELETE /xapi/activities/state");
    assert_eq!(log[4]["status"], 204);
    assert!(!log[4]["query"].as_str().unwrap().contains("ferreira"));
    assert!(
        log.iter()
            .all(|r| r["time"].as_str().unwrap().ends_with('Z'))
    );

    let exports: Vec<Value> = admin(&lrs, "/audit?action=export")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(exports.len(), 1);
    let mine: Vec<Value> = admin(&lrs, &format!("/audit?credential={}", reader.0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    let r = admin(&lrs, "/audit?action=write").send().await.unwrap();
    assert_eq!(r.status(), 400);

    // `kmh audit` on the data folder (the server stopped): filters, formats.
    let reader_key = reader.0.clone();
    let dir = lrs.stop().await;
    let data = dir.path().to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kmh"))
            .arg("audit")
            .args(["--data", &data])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json_out: Vec<Value> =
        serde_json::from_str(&run(&["--credential", &reader_key, "--format", "json"])).unwrap();
    assert_eq!(json_out.len(), 2);
    assert!(
        json_out
            .iter()
            .all(|r| r["credential"] == reader_key.as_str())
    );
    let csv = run(&["--action", "reidentify", "--format", "csv"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[0].starts_with("time,credential,action"), "{csv}");
    assert!(
        rows[1..].iter().all(|r| r.contains(",reidentify,")),
        "{csv}"
    );
    let table = run(&["--action", "export"]);
    assert!(
        table.contains("GET /admin/export") && table.contains("admin"),
        "{table}"
    );
    assert_eq!(
        run(&["--since", "2999-01-01", "--format", "json"]).trim(),
        "[]"
    );
    let out_file = dir.path().join("audit.csv");
    run(&["--format", "csv", "--out", out_file.to_str().unwrap()]);
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(written.lines().count() >= 7, "{written}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kmh"))
        .args(["audit", "--data", &data, "--since", "last week"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}

#[tokio::test]
async fn the_analytics_show_the_real_learner_only_with_the_identities_scope() {
    let lrs = Lrs::start_pseudonymising().await;
    let course = "urn:kmh:course:reintegration-me";
    let completed_module = json!({
        "actor": {"objectType": "Agent", "name": "Ana Ferreira",
                  "account": {"homePage": "https://lms.example.org", "name": "ana.f"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": format!("{course}/s01"), "definition": {"name": {"en": "Module s01"},
                   "extensions": {"urn:kmh:ext:role": "lesson"}}},
        "context": {"contextActivities": {"grouping": [{"id": course,
                   "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}]},
                    "extensions": {"urn:kmh:ext:country": "SN"}}
    });
    lrs.post(&completed_module).await;
    let get = |cred: (String, String), path: &'static str| {
        let lrs = &lrs;
        async move {
            let r = lrs
                .client
                .get(format!("{}{path}", lrs.url))
                .basic_auth(&cred.0, Some(&cred.1))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    let officer = credential(&lrs, &[Scope::AnalyticsRead, Scope::Identities], false);
    let page: Value =
        serde_json::from_str(&get(officer.clone(), "/analytics/learners").await).unwrap();
    assert_eq!(page["total"], 1);
    let row = &page["learners"][0];
    assert_eq!(row["identity"], "https://lms.example.org ana.f", "{row}");
    assert_eq!(row["name"], "Ana Ferreira");
    let csv = get(officer.clone(), "/analytics/progress.csv").await;
    assert!(
        csv.contains("https://lms.example.org ana.f") && csv.contains("Ana Ferreira"),
        "{csv}"
    );
    // The learner search finds her by name too.
    let found: Value =
        serde_json::from_str(&get(officer.clone(), "/analytics/learners?q=ferreira").await)
            .unwrap();
    assert_eq!(found["total"], 1, "{found}");
    // Each of these reads is in the audit log, with the learners it showed.
    let log: Vec<Value> = admin(&lrs, &format!("/audit?credential={}", officer.0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown: Vec<(&str, &Value)> = log
        .iter()
        .map(|r| (r["resource"].as_str().unwrap(), &r["rows"]))
        .collect();
    assert_eq!(
        shown,
        [
            ("GET /analytics/learners", &json!(1)),
            ("GET /analytics/progress.csv", &Value::Null),
            ("GET /analytics/learners", &json!(1)),
        ]
    );

    let analyst = credential(&lrs, &[Scope::AnalyticsRead], false);
    let page = get(analyst.clone(), "/analytics/learners").await;
    let csv = get(analyst, "/analytics/progress.csv").await;
    for text in [page, csv] {
        assert!(
            !text.contains("ana.f") && !text.contains("Ferreira"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_backup_carries_the_key_and_the_mapping() {
    let lrs = Lrs::start_pseudonymising().await;
    lrs.post(&completed(ana_mbox())).await;
    let pseudonym = lrs.get_json("").await["statements"][0]["actor"]["account"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let backup = admin(&lrs, "/backup").send().await.unwrap();
    assert_eq!(backup.status(), 200);
    let backup = backup.bytes().await.unwrap().to_vec();
    let _ = lrs.stop().await;

    let target = tempfile::tempdir().unwrap();
    let restored = target.path().join("restored");
    kmh::store::restore(&restored, &backup[..], |_| {}).unwrap();
    assert!(restored.join("identities").is_dir());
    let store = kmh::store::Store::open(&restored).unwrap();
    let record = store.identity(&pseudonym).unwrap().expect("the mapping");
    assert_eq!(record.names, ["Ana Ferreira"]);
    // Same key: the same learner arriving after the restore is the same pseudonym.
    let again = kmh::xapi::pseudonym::pseudonym_of_agent(
        &store.pseudonym_key().unwrap(),
        &json!({"mbox": "mailto:ana.ferreira@example.org"}),
    );
    assert_eq!(again.as_deref(), Some(pseudonym.as_str()));
    assert_eq!(store.pseudonymisation().unwrap(), Some(true));
}
