//! The learner-data lifecycle: forgetting a learner (over HTTP and with
//! `kmh forget`, with and without a running server).

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use kmh::store::{AuditAction, AuditFilter};

use crate::common::{Lrs, statement};
use crate::documents::multipart;

/// A token found nowhere else, so that a scan of the raw files can tell
/// whether any of the learner's bytes remain.
const TOKEN: &str = "zq7kx3ysolde";
const NAME: &str = "Ysolde Quarrington";

fn learner() -> Value {
    json!({"objectType": "Agent", "name": NAME, "mbox": format!("mailto:{TOKEN}@example.org")})
}

fn other() -> Value {
    json!({"objectType": "Agent", "name": "Other Learner",
           "account": {"homePage": "https://lms.example.org", "name": "other-1"}})
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Every file under `dir` that holds `needle`, as raw bytes.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

async fn admin_forget(lrs: &Lrs, body: Value) -> reqwest::Response {
    lrs.client
        .post(format!("{}/admin/forget", lrs.url))
        .bearer_auth("test-admin-token")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn put_doc(lrs: &Lrs, path: &str, body: &str) {
    let r = lrs
        .req(Method::PUT, path)
        .header("Content-Type", "text/plain")
        .header("If-None-Match", "*")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_eq!(status, 204, "PUT {path}: {}", r.text().await.unwrap());
}

async fn status_of(lrs: &Lrs, path: &str) -> u16 {
    lrs.req(Method::GET, path)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// What the learner leaves in the store: their statements (one with an
/// attachment), statements that mention them, voidings both ways,
/// documents. Returns the ids of (a statement of theirs voided by the
/// admin, another learner's statement they voided, the statement naming
/// them as instructor).
async fn learner_history(lrs: &Lrs) -> (String, String, String) {
    let mut ids = Vec::new();
    for n in 0..4 {
        let mut s = statement(n);
        s["actor"] = learner();
        let r = lrs.post(&s).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        ids.push(v[0].as_str().unwrap().to_owned());
    }
    // One of theirs with an attachment only they use.
    let handout = format!("Notes of {NAME} ({TOKEN})").into_bytes();
    let sha2 = hex::encode(Sha256::digest(&handout));
    let mut s = statement(5);
    s["actor"] = learner();
    s["attachments"] = json!([{"usageType": "http://id.tincanapi.com/attachment/supporting_media",
        "display": {"en": "Notes"}, "contentType": "text/plain",
        "length": handout.len(), "sha2": sha2}]);
    let batch = serde_json::to_vec(&s).unwrap();
    let hdrs = [
        ("Content-Transfer-Encoding", "binary".to_owned()),
        ("X-Experience-API-Hash", sha2.clone()),
    ];
    let (ct, body) = multipart(&[
        ("application/json", &[], &batch),
        ("text/plain", &hdrs, &handout),
    ]);
    let r = lrs
        .req(Method::POST, "/statements")
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Another learner's statements: one with them as instructor, one about
    // them (object), and one they void.
    let mut taught = statement(10);
    taught["actor"] = other();
    taught["context"]["instructor"] = learner();
    let mut about = statement(11);
    about["actor"] = other();
    about["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/interacted"});
    about["object"] = learner();
    let voided_by_them = statement(12);
    let mut others = Vec::new();
    for mut s in [taught, about, voided_by_them] {
        s["actor"] = other();
        let r = lrs.post(&s).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        others.push(v[0].as_str().unwrap().to_owned());
    }
    let void = |actor: Value, target: &str| {
        json!({"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": target}})
    };
    let admin = json!({"mbox": "mailto:admin@example.org"});
    assert_eq!(lrs.post(&void(admin, &ids[0])).await.status(), 200);
    assert_eq!(lrs.post(&void(learner(), &others[2])).await.status(), 200);

    let agent = enc(&learner().to_string());
    let activity = enc("urn:kmh:course:reintegration-me/s01");
    put_doc(
        lrs,
        &format!("/activities/state?activityId={activity}&agent={agent}&stateId=bookmark"),
        &format!("page 3 of {TOKEN}"),
    )
    .await;
    put_doc(
        lrs,
        &format!("/agents/profile?agent={agent}&profileId=prefs"),
        &format!("lang=fr who={TOKEN}"),
    )
    .await;
    let other_agent = enc(&other().to_string());
    put_doc(
        lrs,
        &format!("/activities/state?activityId={activity}&agent={other_agent}&stateId=bookmark"),
        "page 1",
    )
    .await;
    (ids[0].clone(), others[2].clone(), others[0].clone())
}

#[tokio::test]
async fn forgetting_a_learner_over_http_removes_them_and_their_bytes() {
    let lrs = Lrs::start().await;
    let (voided_theirs, voided_by_them, taught) = learner_history(&lrs).await;
    let agent_q = format!("?agent={}", enc(&learner().to_string()));
    // Theirs (one voided), their voiding, the admin's voiding of theirs
    // (it inherits the target's agent) and the one about them.
    assert_eq!(
        lrs.get_json(&agent_q).await["statements"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    let learners: Value = lrs
        .client
        .get(format!("{}/analytics/learners?limit=50", lrs.url))
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let learners_before = learners["total"].as_u64().unwrap();
    let data = lrs.dir.path().to_path_buf();
    assert!(
        !files_holding(&data, TOKEN).is_empty(),
        "control: the learner is on disk"
    );

    // A request without the admin token, or without an identifier, is refused.
    let r = lrs
        .client
        .post(format!("{}/admin/forget", lrs.url))
        .json(&json!({"agent": learner()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = admin_forget(&lrs, json!({"agent": {"name": "Nobody"}})).await;
    assert_eq!(r.status(), 400);
    let message = r.text().await.unwrap();
    assert!(message.contains("agent"), "{message}");

    let dry: Value = admin_forget(&lrs, json!({"agent": learner(), "dry_run": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["dry_run"], true);
    // 5 statements of theirs, the admin's voiding of one of them; their
    // own voiding of another's statement is kept, anonymised, as are the
    // two statements that mention them.
    assert_eq!(dry["statements_deleted"], 6, "{dry}");
    assert_eq!(dry["statements_redacted"], 3, "{dry}");
    assert_eq!(dry["documents"], 2, "{dry}");
    assert_eq!(dry["attachments"], 1, "{dry}");
    assert!(dry["read_model_rows"].as_u64().unwrap() > 0, "{dry}");
    assert_eq!(dry["identity_records"], 0, "not a pseudonymising store");
    assert_eq!(
        lrs.get_json(&agent_q).await["statements"]
            .as_array()
            .unwrap()
            .len(),
        7,
        "a dry run changes nothing"
    );

    let r = admin_forget(&lrs, json!({"agent": learner()})).await;
    let status = r.status();
    let done: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["dry_run"], false);
    for field in [
        "statements_deleted",
        "statements_redacted",
        "documents",
        "attachments",
        "read_model_rows",
    ] {
        assert_eq!(done[field], dry[field], "{field}");
    }
    // Not a byte of them is left in the store's files (checked before any
    // request names them again: the audit log would record it).
    assert_eq!(files_holding(&data, TOKEN), Vec::<String>::new());
    assert_eq!(files_holding(&data, NAME), Vec::<String>::new());

    // Their statements are gone, by agent and by id.
    assert!(
        lrs.get_json(&agent_q).await["statements"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let related = format!("{agent_q}&related_agents=true");
    assert!(
        lrs.get_json(&related).await["statements"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        status_of(
            &lrs,
            &format!("/statements?voidedStatementId={voided_theirs}")
        )
        .await,
        404
    );
    // The statement they voided stays voided.
    assert_eq!(
        status_of(&lrs, &format!("/statements?statementId={voided_by_them}")).await,
        404
    );
    assert_eq!(
        status_of(
            &lrs,
            &format!("/statements?voidedStatementId={voided_by_them}")
        )
        .await,
        200
    );
    // Where they were mentioned, the placeholder stands in.
    let s = lrs.get_json(&format!("?statementId={taught}")).await;
    assert_eq!(s["context"]["instructor"]["account"]["name"], "forgotten");
    assert_eq!(s["actor"], other());
    let placeholder =
        json!({"account": {"homePage": "https://kmh.invalid/forgotten", "name": "forgotten"}});
    let by_placeholder = lrs
        .get_json(&format!(
            "?agent={}&related_agents=true",
            enc(&placeholder.to_string())
        ))
        .await;
    assert_eq!(by_placeholder["statements"].as_array().unwrap().len(), 3);

    // Documents: theirs gone, the other learner's kept.
    let agent = enc(&learner().to_string());
    let activity = enc("urn:kmh:course:reintegration-me/s01");
    assert_eq!(
        status_of(
            &lrs,
            &format!("/activities/state?activityId={activity}&agent={agent}&stateId=bookmark")
        )
        .await,
        404
    );
    assert_eq!(
        status_of(
            &lrs,
            &format!("/agents/profile?agent={agent}&profileId=prefs")
        )
        .await,
        404
    );
    let other_agent = enc(&other().to_string());
    assert_eq!(
        status_of(
            &lrs,
            &format!(
                "/activities/state?activityId={activity}&agent={other_agent}&stateId=bookmark"
            )
        )
        .await,
        200
    );
    let bare = enc(&json!({"mbox": format!("mailto:{TOKEN}@example.org")}).to_string());
    let person: Value = lrs
        .req(Method::GET, &format!("/agents?agent={bare}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        person.get("name").is_none_or(|n| n == &json!([])),
        "{person}"
    );

    // The read models no longer count them.
    let learners: Value = lrs
        .client
        .get(format!("{}/analytics/learners?limit=50", lrs.url))
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(learners["total"].as_u64().unwrap(), learners_before - 1);

    // The audit log keeps who asked and counts, not whom.
    let log = lrs
        .state
        .store
        .audit_records(&AuditFilter::default())
        .unwrap();
    let forgets: Vec<_> = log
        .iter()
        .filter(|r| r.entry.resource.starts_with("forget"))
        .collect();
    assert_eq!(forgets.len(), 2, "{log:?}");
    assert_eq!(forgets[0].entry.resource, "forget (dry run)");
    assert_eq!(forgets[1].entry.action, AuditAction::Delete);
    assert_eq!(forgets[1].entry.credential, "admin");
    assert_eq!(forgets[1].entry.rows, Some(9));
    let up_to_forget: Vec<_> = log.iter().take_while(|r| r.seq <= forgets[1].seq).collect();
    assert!(up_to_forget.len() > 3);
    assert!(
        !format!("{up_to_forget:?}").contains(TOKEN),
        "{up_to_forget:?}"
    );

    // The store still works, and reopens.
    assert_eq!(lrs.post(&statement(40)).await.status(), 200);
    let dir = lrs.stop().await;
    let lrs = Lrs::start_in(dir).await;
    assert!(
        lrs.get_json(&agent_q).await["statements"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        lrs.get_json(&format!("?statementId={taught}")).await["context"]["instructor"]["account"]["name"],
        "forgotten"
    );
}

fn post_blocking(server: &crate::cli::Server, body: &Value) -> u16 {
    post_as(&server.url, (&server.key, &server.secret), body)
}

fn post_as(url: &str, creds: (&str, &str), body: &Value) -> u16 {
    reqwest::blocking::Client::new()
        .post(format!("{url}/xapi/statements"))
        .basic_auth(creds.0, Some(creds.1))
        .header("X-Experience-API-Version", "1.0.3")
        .json(body)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn count_by_agent(url: &str, creds: (&str, &str), agent: &Value) -> usize {
    by_agent(url, creds, agent).len()
}

fn by_agent(url: &str, (key, secret): (&str, &str), agent: &Value) -> Vec<Value> {
    let v: Value = reqwest::blocking::Client::new()
        .get(format!(
            "{url}/xapi/statements?agent={}",
            enc(&agent.to_string())
        ))
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["statements"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .clone()
}

#[test]
fn kmh_forget_works_through_a_running_server_and_on_a_closed_store() {
    use crate::cli::{kmh, output, serve, sigterm};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = serve(data);
    let second = json!({"account": {"homePage": "https://lms.example.org", "name": "second-9"}});
    for n in 0..3 {
        for who in [learner(), second.clone()] {
            let mut s = statement(n);
            s["actor"] = who;
            assert_eq!(post_blocking(&server, &s), 200);
        }
    }
    // One of the second learner's statements names the first as instructor.
    let mut taught = statement(7);
    taught["actor"] = second.clone();
    taught["context"]["instructor"] = learner();
    assert_eq!(post_blocking(&server, &taught), 200);
    let agent = learner().to_string();
    let (key, secret) = (server.key.clone(), server.secret.clone());
    let creds = (key.as_str(), secret.as_str());

    // Bad input is named.
    let (ok, _, err) =
        output(kmh().args(["forget", "--data", data, "--agent", "{\"name\": \"x\"}"]));
    assert!(!ok && err.contains("identifier"), "{err}");
    let (ok, _, err) = output(kmh().args(["forget", "--data", data, "--agent", "not json"]));
    assert!(!ok && err.contains("--agent is not valid JSON"), "{err}");

    // The server holds the store: the command goes through it.
    let (ok, out, err) = output(kmh().args([
        "forget",
        "--data",
        data,
        "--agent",
        &agent,
        "--mentions",
        "void",
        "--dry-run",
    ]));
    assert!(ok, "{err}");
    assert!(
        out.starts_with(
            "would forget: 3 statements deleted, 1 statements anonymised (1 of them voided)"
        ),
        "{out}"
    );
    assert_eq!(count_by_agent(&server.url, creds, &learner()), 3);
    assert_eq!(count_by_agent(&server.url, creds, &second), 4);
    let (ok, out, err) = output(
        kmh()
            .args(["forget", "--data", data, "--agent", &agent, "--json"])
            .env("KMH_FORGET_MODE", "void"),
    );
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["statements_deleted"], 3, "{out}");
    assert_eq!(report["statements_voided"], 1, "{out}");
    assert_eq!(report["dry_run"], false);
    assert_eq!(count_by_agent(&server.url, creds, &learner()), 0);
    // The statement that named them is voided: out of default queries;
    // the LRS's voiding of it matches the filter through its target.
    let left = by_agent(&server.url, creds, &second);
    assert_eq!(left.len(), 4);
    let voidings: Vec<_> = left
        .iter()
        .filter(|s| s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided")
        .collect();
    assert_eq!(voidings.len(), 1, "{left:?}");
    assert_eq!(
        voidings[0]["actor"]["account"]["homePage"],
        "https://kmh.invalid/lrs"
    );
    assert!(sigterm(&mut server.child).success());
    assert!(files_holding(dir.path(), TOKEN).is_empty());

    // No server: the command opens the store itself.
    let (ok, out, err) = output(
        kmh()
            .args(["forget", "--data", data, "--mode", "delete"])
            .env("KMH_FORGET_AGENT", second.to_string()),
    );
    assert!(ok, "{err}");
    // Their four statements and the LRS's voiding of one of them.
    assert!(out.starts_with("forgot: 5 statements deleted"), "{out}");
    assert!(files_holding(dir.path(), "second-9").is_empty());
    let mut server = serve(data);
    assert_eq!(count_by_agent(&server.url, creds, &second), 0);
    assert!(sigterm(&mut server.child).success());
}

#[tokio::test]
async fn forgetting_by_real_identifier_removes_pseudonymous_statements_and_the_mapping() {
    let lrs = Lrs::start_pseudonymising().await;
    for n in 0..3 {
        let mut s = statement(n);
        s["actor"] = learner();
        assert_eq!(lrs.post(&s).await.status(), 200);
    }
    let mut s = statement(9);
    s["actor"] = other();
    assert_eq!(lrs.post(&s).await.status(), 200);
    let agent = enc(&learner().to_string());
    put_doc(
        &lrs,
        &format!(
            "/activities/state?activityId={}&agent={agent}&stateId=bookmark",
            enc("urn:kmh:course:reintegration-me/s01")
        ),
        "page 2",
    )
    .await;
    let data = lrs.dir.path().to_path_buf();
    // Statements hold the pseudonym; the mapping, apart, holds the learner.
    let identities = data.join("identities");
    assert!(!files_holding(&identities, TOKEN).is_empty(), "control");
    assert!(files_holding(&data.join("store"), TOKEN).is_empty());
    let reidentify = |lrs: &Lrs| {
        lrs.client
            .get(format!("{}/identities?agent={agent}", lrs.url))
            .basic_auth(&lrs.key, Some(&lrs.secret))
            .send()
    };
    let before = reidentify(&lrs).await.unwrap();
    assert_eq!(before.status(), 200);
    assert!(before.text().await.unwrap().contains(TOKEN));

    let r = admin_forget(&lrs, json!({"agent": learner()})).await;
    let status = r.status();
    let done: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["statements_deleted"], 3, "{done}");
    assert_eq!(done["documents"], 1, "{done}");
    assert_eq!(done["identity_records"], 1, "{done}");

    let q = format!("?agent={agent}");
    assert!(
        lrs.get_json(&q).await["statements"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        lrs.get_json("").await["statements"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(reidentify(&lrs).await.unwrap().status(), 404);
    assert_eq!(files_holding(&data, TOKEN), Vec::<String>::new());
    assert_eq!(files_holding(&data, NAME), Vec::<String>::new());
}

/// Text only the pruned statements carry.
const PRUNED_MARKER: &str = "qv8pruned-answer";

fn in_days(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn total(url: &str, creds: (&str, &str)) -> usize {
    let v: Value = reqwest::blocking::Client::new()
        .get(format!("{url}/xapi/statements?limit=500"))
        .basic_auth(creds.0, Some(creds.1))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["statements"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .len()
}

#[test]
fn retention_prunes_old_statements_and_identities_by_command_and_while_serving() {
    use crate::cli::{kmh, output, serve, serve_with, sigterm};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = serve(data);
    let (key, secret) = (server.key.clone(), server.secret.clone());
    let creds = (key.as_str(), secret.as_str());
    for n in 0..4 {
        let mut s = statement(n);
        s["actor"] = learner();
        s["result"]["response"] = json!(format!("{PRUNED_MARKER} {n}"));
        assert_eq!(post_blocking(&server, &s), 200);
    }
    assert!(sigterm(&mut server.child).success());
    let store_dir = dir.path().join("store");
    assert!(
        !files_holding(&store_dir, PRUNED_MARKER).is_empty(),
        "control: the statements are on disk"
    );
    assert!(
        !files_holding(&dir.path().join("identities"), TOKEN).is_empty(),
        "control: the mapping is on disk"
    );

    // No policy is an error; a policy that keeps 30 days keeps everything
    // ten days from now; one that keeps 5 would delete it all.
    let (ok, _, err) = output(kmh().args(["prune", "--data", data]));
    assert!(!ok && err.contains("--retain-statements-days"), "{err}");
    let later = in_days(10);
    let prune = |extra: &[&str]| {
        let mut cmd = kmh();
        cmd.args(["prune", "--data", data, "--now", &later])
            .args(extra);
        output(&mut cmd)
    };
    let (ok, out, err) = prune(&["--retain-statements-days", "30", "--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("would prune: 0 statements deleted"),
        "{out}"
    );
    let (ok, out, err) = prune(&[
        "--retain-statements-days",
        "5",
        "--retain-identities-days",
        "5",
        "--dry-run",
        "--json",
    ]);
    assert!(ok, "{err}");
    let dry: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(dry["statements_deleted"], 4, "{out}");
    assert_eq!(dry["identities_dropped"], 1, "{out}");

    // Through the running server: the dry run changed nothing; the real
    // run deletes, and a statement stored today survives a prune as of today.
    let mut server = serve_with(data, &[]);
    assert_eq!(total(&server.url, creds), 4);
    let (ok, out, err) = prune(&[
        "--retain-statements-days",
        "5",
        "--retain-identities-days",
        "5",
        "--json",
    ]);
    assert!(ok, "{err}");
    let done: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(done["statements_deleted"], 4, "{out}");
    assert_eq!(done["identities_dropped"], 1, "{out}");
    assert_eq!(done["dry_run"], false);
    // The pruned statements and the dropped mapping are gone from the
    // files, not only from queries (checked before a query names them).
    assert_eq!(
        files_holding(&store_dir, PRUNED_MARKER),
        Vec::<String>::new()
    );
    assert_eq!(files_holding(dir.path(), TOKEN), Vec::<String>::new());
    assert_eq!(total(&server.url, creds), 0);
    // No index row is left behind (it would point at a missing statement).
    assert_eq!(count_by_agent(&server.url, creds, &learner()), 0);
    let mut kept = statement(8);
    kept["result"]["response"] = json!(format!("{PRUNED_MARKER} 8"));
    assert_eq!(post_as(&server.url, creds, &kept), 200);
    let (ok, out, err) =
        output(kmh().args(["prune", "--data", data, "--retain-statements-days", "1"]));
    assert!(
        ok && out.starts_with("pruned: 0 statements deleted"),
        "{out}{err}"
    );
    assert_eq!(total(&server.url, creds), 1);
    assert!(sigterm(&mut server.child).success());

    // kmh serve applies its policy at start (then daily): with 0 days,
    // everything stored before it started goes.
    let mut server = serve_with(data, &["--retain-statements-days", "0"]);
    let mut left = total(&server.url, creds);
    for _ in 0..100 {
        if left == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = total(&server.url, creds);
    }
    assert_eq!(left, 0);
    // The daily run purges too, once the statements are deleted.
    let mut on_disk = files_holding(&store_dir, PRUNED_MARKER);
    for _ in 0..300 {
        if on_disk.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        on_disk = files_holding(&store_dir, PRUNED_MARKER);
    }
    assert_eq!(on_disk, Vec::<String>::new());
    let mut s = statement(9);
    s["result"]["response"] = json!(format!("{PRUNED_MARKER} 9"));
    assert_eq!(post_as(&server.url, creds, &s), 200);
    assert!(sigterm(&mut server.child).success());

    // On a closed store, kmh prune purges before it returns.
    assert!(
        !files_holding(&store_dir, PRUNED_MARKER).is_empty(),
        "control"
    );
    let (ok, out, err) = prune(&["--retain-statements-days", "1"]);
    assert!(
        ok && out.starts_with("pruned: 1 statements deleted"),
        "{out}{err}"
    );
    assert_eq!(
        files_holding(&store_dir, PRUNED_MARKER),
        Vec::<String>::new()
    );
}

async fn learners_total(lrs: &Lrs) -> u64 {
    let v: Value = lrs
        .client
        .get(format!("{}/analytics/learners?limit=50", lrs.url))
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["total"].as_u64().unwrap_or_else(|| panic!("{v}"))
}

async fn post_id(lrs: &Lrs, s: &Value) -> String {
    let r = lrs.post(s).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v[0].as_str().unwrap().to_owned()
}

fn voiding(actor: Value, target: &str) -> Value {
    json!({"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
           "object": {"objectType": "StatementRef", "id": target}})
}

#[tokio::test]
async fn forgetting_in_void_mode_voids_the_statements_that_mention_them() {
    let lrs = Lrs::start().await;
    let third = json!({"account": {"homePage": "https://lms.example.org", "name": "third-3"}});
    let mut own = statement(1);
    own["actor"] = learner();
    own["id"] = json!(post_id(&lrs, &own).await);
    // Another learner's only course statement names them as instructor;
    // another is about them.
    let mut taught = statement(2);
    taught["actor"] = other();
    taught["context"]["instructor"] = learner();
    let taught = post_id(&lrs, &taught).await;
    let mut about = statement(3);
    about["actor"] = other();
    about["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/interacted"});
    about["object"] = learner();
    let about = post_id(&lrs, &about).await;
    // A mention already voided, and a voiding statement that mentions them
    // (a voiding statement cannot be voided).
    let mut voided_before = statement(4);
    voided_before["actor"] = third.clone();
    voided_before["context"]["instructor"] = learner();
    let voided_before = post_id(&lrs, &voided_before).await;
    let admin = json!({"mbox": "mailto:admin@example.org"});
    post_id(&lrs, &voiding(admin, &voided_before)).await;
    let mut plain = statement(5);
    plain["actor"] = third.clone();
    let plain = post_id(&lrs, &plain).await;
    let mut voider = voiding(third.clone(), &plain);
    voider["context"] = json!({"instructor": learner()});
    let voider = post_id(&lrs, &voider).await;
    // The learner and the other learner have course progress; the third
    // has none left (its one course statement is voided).
    assert_eq!(learners_total(&lrs).await, 2);

    let dry: Value = admin_forget(
        &lrs,
        json!({"agent": learner(), "mentions": "void", "dry_run": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(dry["statements_deleted"], 1, "{dry}");
    assert_eq!(dry["statements_redacted"], 4, "{dry}");
    assert_eq!(dry["statements_voided"], 2, "{dry}");
    assert_eq!(
        status_of(&lrs, &format!("/statements?statementId={taught}")).await,
        200,
        "a dry run voids nothing"
    );
    let before = lrs.get_json("").await["statements"][0]["stored"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = admin_forget(&lrs, json!({"agent": learner(), "mentions": "void"})).await;
    let status = r.status();
    let done: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{done}");
    for field in [
        "statements_deleted",
        "statements_redacted",
        "statements_voided",
    ] {
        assert_eq!(done[field], dry[field], "{field}");
    }
    assert_eq!(files_holding(lrs.dir.path(), TOKEN), Vec::<String>::new());

    // The mentions left default queries, anonymised; the voided ones are
    // still there by voidedStatementId.
    for id in [&taught, &about] {
        assert_eq!(
            status_of(&lrs, &format!("/statements?statementId={id}")).await,
            404
        );
    }
    let s = lrs.get_json(&format!("?voidedStatementId={taught}")).await;
    assert_eq!(s["context"]["instructor"]["account"]["name"], "forgotten");
    assert_eq!(s["actor"], other());
    // A client syncing with `since` learns of exactly those two voidings,
    // issued by the LRS itself.
    let since = lrs.get_json(&format!("?since={}", enc(&before))).await;
    let issued = since["statements"].as_array().unwrap();
    assert_eq!(issued.len(), 2, "{since}");
    let lrs_agent = json!({"objectType": "Agent", "name": "kmh",
                           "account": {"homePage": "https://kmh.invalid/lrs", "name": "kmh"}});
    let mut targets: Vec<&str> = Vec::new();
    for s in issued {
        assert_eq!(s["verb"]["id"], "http://adlnet.gov/expapi/verbs/voided");
        assert_eq!(s["actor"], lrs_agent);
        assert_eq!(s["authority"], lrs_agent);
        targets.push(s["object"]["id"].as_str().unwrap());
    }
    targets.sort();
    let mut expected = vec![taught.as_str(), about.as_str()];
    expected.sort();
    assert_eq!(targets, expected);
    // The voiding statement that mentioned them is anonymised and still
    // voids its target; the one voided before stays voided once.
    let v = lrs.get_json(&format!("?statementId={voider}")).await;
    assert_eq!(v["context"]["instructor"]["account"]["name"], "forgotten");
    assert_eq!(
        status_of(&lrs, &format!("/statements?statementId={plain}")).await,
        404
    );
    assert_eq!(
        status_of(
            &lrs,
            &format!("/statements?voidedStatementId={voided_before}")
        )
        .await,
        200
    );
    // Nothing is found by the learner any more, not even the voidings that
    // inherited their index rows; the placeholder finds the statements
    // that stay: the anonymised voiding, the admin's voiding of an
    // anonymised statement and the LRS's two.
    let related = format!("?agent={}&related_agents=true", enc(&learner().to_string()));
    assert!(
        lrs.get_json(&related).await["statements"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let placeholder =
        json!({"account": {"homePage": "https://kmh.invalid/forgotten", "name": "forgotten"}});
    let by_placeholder = lrs
        .get_json(&format!(
            "?agent={}&related_agents=true",
            enc(&placeholder.to_string())
        ))
        .await;
    assert_eq!(
        by_placeholder["statements"].as_array().unwrap().len(),
        4,
        "{by_placeholder}"
    );
    // The analytics dropped the forgotten learner and, through the
    // voiding, the other learner's only course statement.
    assert_eq!(learners_total(&lrs).await, 0);
    let log = lrs
        .state
        .store
        .audit_records(&AuditFilter::default())
        .unwrap();
    let last = log
        .iter()
        .rfind(|r| r.entry.resource == "forget")
        .expect("a forget record");
    assert_eq!(last.entry.query, "mode=void");

    // An LMS sending one of their statements again is answered as for a
    // statement already stored; it stays forgotten.
    let id = own["id"].as_str().unwrap();
    assert_eq!(post_id(&lrs, &own).await, id);
    let r = lrs
        .req(Method::PUT, &format!("/statements?statementId={id}"))
        .json(&own)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        status_of(&lrs, &format!("/statements?statementId={id}")).await,
        404
    );
    assert!(
        lrs.get_json(&related).await["statements"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Forgetting again finds nothing left to void.
    let again: Value = admin_forget(&lrs, json!({"agent": learner(), "mentions": "void"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["statements_voided"], 0, "{again}");
    assert_eq!(again["statements_deleted"], 0, "{again}");
    // And the store reopens with the same answers.
    let dir = lrs.stop().await;
    let lrs = Lrs::start_in(dir).await;
    assert_eq!(
        status_of(&lrs, &format!("/statements?statementId={taught}")).await,
        404
    );
    assert_eq!(learners_total(&lrs).await, 0);
}

async fn admin_prune(lrs: &Lrs, body: Value) -> Value {
    let r = lrs
        .client
        .post(format!("{}/admin/prune", lrs.url))
        .bearer_auth("test-admin-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

/// The dashboard's figures, without the time they were computed at.
async fn overview(lrs: &Lrs) -> Value {
    let mut v: Value = lrs
        .client
        .get(format!("{}/analytics/overview", lrs.url))
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_object_mut().unwrap().remove("generated");
    v
}

fn rfc3339_plus_days(t: time::OffsetDateTime, days: i64) -> String {
    (t + time::Duration::days(days))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn identity_retention_pseudonymises_old_statements_stored_under_real_identifiers() {
    // A store that keeps identifiers.
    let lrs = Lrs::start().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut s = statement(n);
        s["actor"] = learner();
        ids.push(post_id(&lrs, &s).await);
    }
    let mut taught = statement(3);
    taught["actor"] = other();
    taught["context"]["instructor"] = learner();
    post_id(&lrs, &taught).await;
    let admin = json!({"mbox": "mailto:admin@example.org"});
    post_id(&lrs, &voiding(admin, &ids[0])).await;
    let figures_before = overview(&lrs).await;
    assert_eq!(learners_total(&lrs).await, 2);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = time::OffsetDateTime::now_utc();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // A younger statement of theirs, in the same course.
    let mut young = statement(1);
    young["actor"] = learner();
    let young = post_id(&lrs, &young).await;
    assert_eq!(learners_total(&lrs).await, 2);

    // Everything stored before `between` is older than 5 days as of 5 days
    // later.
    let policy = |dry_run: bool| json!({"identities_days": 5, "now": rfc3339_plus_days(between, 5), "dry_run": dry_run});
    let dry = admin_prune(&lrs, policy(true)).await;
    // Their three, the other learner's that names them, the admin's voiding.
    assert_eq!(dry["statements_pseudonymised"], 5, "{dry}");
    // Two of theirs (one is voided), the admin's voiding, the young one.
    assert_eq!(
        count_statements(&lrs, &learner(), false).await,
        4,
        "a dry run changes nothing"
    );
    let done = admin_prune(&lrs, policy(false)).await;
    assert_eq!(done["statements_pseudonymised"], 5, "{done}");

    // By the real identifier only the young statement is found; by the
    // pseudonym ingest would have given them, the old ones (the voided one
    // through the admin's voiding, which matches through its target).
    let key = lrs.state.store.pseudonym_key().unwrap();
    let p = kmh::xapi::pseudonym::pseudonym_of_agent(&key, &learner()).unwrap();
    let as_pseudonym = json!({"objectType": "Agent",
        "account": {"homePage": "urn:kmh:pseudonym", "name": p}});
    assert_eq!(count_statements(&lrs, &learner(), false).await, 1);
    assert_eq!(count_statements(&lrs, &learner(), true).await, 1);
    assert_eq!(count_statements(&lrs, &as_pseudonym, false).await, 3);
    assert_eq!(count_statements(&lrs, &as_pseudonym, true).await, 4);
    let s = lrs.get_json(&format!("?statementId={}", ids[1])).await;
    assert_eq!(s["actor"], as_pseudonym, "the name goes too");
    let s = lrs.get_json(&format!("?statementId={young}")).await;
    assert_eq!(s["actor"], learner());
    let v = lrs
        .get_json(&format!("?voidedStatementId={}", ids[0]))
        .await;
    assert_eq!(v["actor"], as_pseudonym);
    // The read models: the learner's young progress stays theirs, the old
    // is the pseudonym's.
    assert_eq!(learners_total(&lrs).await, 3);
    // A second run has nothing left to do before the same time.
    let again = admin_prune(&lrs, policy(false)).await;
    assert_eq!(again["statements_pseudonymised"], 0, "{again}");

    // Once the young one is old too, nothing names them any more: not the
    // statements, not the names record, not the read models, not a byte
    // of the files; the figures are those from before.
    let later = admin_prune(
        &lrs,
        json!({"identities_days": 5, "now": rfc3339_plus_days(time::OffsetDateTime::now_utc(), 6)}),
    )
    .await;
    assert_eq!(later["statements_pseudonymised"], 1, "{later}");
    assert_eq!(files_holding(lrs.dir.path(), TOKEN), Vec::<String>::new());
    assert_eq!(files_holding(lrs.dir.path(), NAME), Vec::<String>::new());
    assert_eq!(count_statements(&lrs, &learner(), true).await, 0);
    assert_eq!(learners_total(&lrs).await, 2);
    assert_eq!(overview(&lrs).await, figures_before);
    // The store reopens with the same read models (the module of the
    // voided statement, with no learners, leaves the catalog on a start).
    let dir = lrs.stop().await;
    let lrs = Lrs::start_in(dir).await;
    let reopened = overview(&lrs).await;
    for part in ["summary", "over_time", "assessment"] {
        assert_eq!(reopened[part], figures_before[part], "{part}");
    }
    assert_eq!(learners_total(&lrs).await, 2);
}

async fn count_statements(lrs: &Lrs, agent: &Value, related: bool) -> usize {
    let q = format!(
        "?agent={}&related_agents={related}",
        enc(&agent.to_string())
    );
    lrs.get_json(&q).await["statements"]
        .as_array()
        .unwrap()
        .len()
}
