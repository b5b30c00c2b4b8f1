//! The xAPI Statement resource and protocol rules, over real HTTP.

use kmh::lrs::credentials::Scope;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Lrs, statement};

fn ids(result: &Value) -> Vec<String> {
    result["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn about_needs_no_auth_and_lists_versions() {
    let lrs = Lrs::start().await;
    let r = lrs
        .client
        .get(format!("{}/xapi/about", lrs.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
    let body: Value = r.json().await.unwrap();
    let versions: Vec<&str> = body["version"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        versions.contains(&"1.0.3") && versions.contains(&"2.0.0"),
        "{versions:?}"
    );
}

#[tokio::test]
async fn version_header_is_required_and_echoed() {
    let lrs = Lrs::start().await;
    let url = format!("{}/xapi/statements", lrs.url);
    let r = lrs
        .client
        .get(&url)
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().contains_key("x-experience-api-version"));
    assert!(
        r.headers()
            .contains_key("x-experience-api-consistent-through")
    );
    let r = lrs
        .client
        .get(&url)
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .header("X-Experience-API-Version", "0.95")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("0.95"));
    let r = lrs
        .client
        .get(&url)
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .header("X-Experience-API-Version", "1.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
}

#[tokio::test]
async fn unknown_resources_still_check_the_version_header() {
    let lrs = Lrs::start().await;
    let r = lrs
        .client
        .get(format!("{}/xapi/nothing-here", lrs.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = lrs.req(Method::GET, "/nothing-here").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("/xapi/nothing-here"));
}

#[tokio::test]
async fn single_context_activities_come_back_as_arrays() {
    let lrs = Lrs::start().await;
    let mut s = statement(1);
    s["context"]["contextActivities"] =
        json!({"parent": {"id": "urn:kmh:course:reintegration-me"}});
    let id: Vec<String> = lrs.post(&s).await.json().await.unwrap();
    let got = lrs.get_json(&format!("?statementId={}", id[0])).await;
    assert_eq!(
        got["context"]["contextActivities"]["parent"],
        json!([{"id": "urn:kmh:course:reintegration-me"}])
    );
    // Re-sending the original single-object form is still the same statement.
    s["id"] = json!(id[0]);
    assert_eq!(lrs.post(&s).await.status(), 200);
}

#[tokio::test]
async fn authentication_and_scopes() {
    let lrs = Lrs::start().await;
    let url = format!("{}/xapi/statements", lrs.url);
    let r = lrs
        .client
        .get(&url)
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let r = lrs
        .client
        .get(&url)
        .basic_auth(&lrs.key, Some("wrong"))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let (key, secret) = lrs.credential(&[Scope::StatementsRead], &[]);
    let r = lrs
        .client
        .post(&url)
        .basic_auth(&key, Some(&secret))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&statement(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("statements/write"));
    let r = lrs
        .client
        .get(&url)
        .basic_auth(&key, Some(&secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn post_then_get_fills_lrs_properties() {
    let lrs = Lrs::start().await;
    let r = lrs.post(&statement(1)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .contains_key("x-experience-api-consistent-through")
    );
    let posted: Vec<String> = r.json().await.unwrap();
    assert_eq!(posted.len(), 1);

    let r = lrs.get(&format!("?statementId={}", posted[0])).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("last-modified"));
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["id"], posted[0].as_str());
    assert_eq!(s["version"], "1.0.0");
    assert_eq!(s["authority"]["account"]["name"], lrs.key.as_str());
    let stored = s["stored"].as_str().unwrap();
    assert!(stored.ends_with('Z') && stored.len() == 24, "{stored}");
    assert_eq!(s["timestamp"], s["stored"]);
    assert_eq!(s["result"]["score"]["raw"], 9);
}

#[tokio::test]
async fn put_is_idempotent_and_conflicts_are_409() {
    let lrs = Lrs::start().await;
    let id = "3f6c1d4b-6a0e-4f8e-9d3b-2b7f5e1c9a01";
    let mut s = statement(2);
    s["timestamp"] = json!("2026-03-01T10:00:00.000Z");
    let put = |body: Value| {
        lrs.req(Method::PUT, &format!("/statements?statementId={id}"))
            .json(&body)
            .send()
    };
    assert_eq!(put(s.clone()).await.unwrap().status(), 204);
    assert_eq!(
        put(s.clone()).await.unwrap().status(),
        204,
        "an identical re-send is a no-op"
    );
    let mut changed = s.clone();
    changed["result"]["score"]["raw"] = json!(3);
    let r = put(changed).await.unwrap();
    assert_eq!(r.status(), 409);
    let stored = lrs.get_json(&format!("?statementId={id}")).await;
    assert_eq!(
        stored["result"]["score"]["raw"], 9,
        "the stored statement is unchanged"
    );

    // POSTing the same id again is a no-op that still answers the id.
    s["id"] = json!(id);
    let r = lrs.post(&s).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Vec<String>>().await.unwrap(), vec![id.to_owned()]);
    assert_eq!(
        lrs.get_json("").await["statements"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let r = lrs
        .req(Method::PUT, "/statements")
        .json(&statement(3))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_bad_statement_rejects_the_whole_batch() {
    let lrs = Lrs::start().await;
    let good_id = "0e3a52c4-6d55-4b8e-8f1f-5a6f9e0d2c11";
    let mut good = statement(1);
    good["id"] = json!(good_id);
    let mut bad = statement(2);
    bad["actor"]["mbox"] = json!("ana@example.org");
    let r = lrs.post(&json!([good, bad])).await;
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert!(
        err["path"].as_str().unwrap().starts_with("[1].actor"),
        "{err}"
    );
    assert_eq!(
        lrs.get(&format!("?statementId={good_id}")).await.status(),
        404
    );

    let r = lrs.post(&json!([statement(1), {"actor": null}])).await;
    assert_eq!(r.status(), 400);
    let r = lrs
        .req(Method::POST, "/statements")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn duplicate_ids_in_a_batch_are_rejected() {
    let lrs = Lrs::start().await;
    let mut a = statement(1);
    a["id"] = json!("5d7c0a52-8e6b-4a4c-9d1e-7f3b2a1c0d99");
    let r = lrs.post(&json!([a.clone(), a])).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("more than once"));
}

/// 200 statements with ids of their own: a body large enough to be
/// checked off the async workers, in parts on a machine with more than one
/// core.
fn large_batch() -> Vec<Value> {
    (0..200)
        .map(|n| {
            let mut s = statement(n);
            s["id"] = json!(format!("00000000-0000-4000-8000-{n:012}"));
            s
        })
        .collect()
}

#[tokio::test]
async fn a_large_batch_is_stored_whole_and_answered_in_order() {
    let lrs = Lrs::start().await;
    let batch = large_batch();
    let sent: Vec<&str> = batch.iter().map(|s| s["id"].as_str().unwrap()).collect();
    let r = lrs.post(&json!(batch)).await;
    assert_eq!(r.status(), 200);
    let answered: Vec<String> = r.json().await.unwrap();
    assert_eq!(answered, sent);
    for n in [0, 99, 100, 101, 199] {
        let got = lrs.get_json(&format!("?statementId={}", sent[n])).await;
        assert_eq!(got["actor"]["name"], format!("Learner {n}"), "{got}");
    }
}

#[tokio::test]
async fn a_problem_anywhere_in_a_large_batch_is_named_and_nothing_is_stored() {
    let lrs = Lrs::start().await;
    let first = "00000000-0000-4000-8000-000000000000";

    let mut batch = large_batch();
    batch[150]["actor"]["mbox"] = json!("ana@example.org");
    let r = lrs.post(&json!(batch)).await;
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert!(
        err["path"].as_str().unwrap().starts_with("[150].actor"),
        "{err}"
    );

    let mut batch = large_batch();
    batch[180]["id"] = batch[20]["id"].clone();
    let r = lrs.post(&json!(batch)).await;
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("00000000-0000-4000-8000-000000000020") && text.contains("more than once"),
        "{text}"
    );

    let batch = large_batch();
    let mut body = serde_json::to_string(&batch).unwrap();
    body.truncate(body.len() - 1);
    body.push_str(",{\"actor\": nul}]");
    let r = lrs
        .req(Method::POST, "/statements")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not valid JSON"));

    assert_eq!(
        lrs.get(&format!("?statementId={first}")).await.status(),
        404
    );
}

#[tokio::test]
async fn voiding_hides_the_target_from_queries() {
    let lrs = Lrs::start().await;
    let target: Vec<String> = lrs.post(&statement(1)).await.json().await.unwrap();
    let voiding = json!({
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en": "voided"}},
        "object": {"objectType": "StatementRef", "id": target[0]}
    });
    let voider: Vec<String> = lrs.post(&voiding).await.json().await.unwrap();
    assert_eq!(
        lrs.get(&format!("?statementId={}", target[0]))
            .await
            .status(),
        404
    );
    let voided = lrs
        .get_json(&format!("?voidedStatementId={}", target[0]))
        .await;
    assert_eq!(voided["id"], target[0].as_str());
    assert_eq!(
        lrs.get(&format!("?voidedStatementId={}", voider[0]))
            .await
            .status(),
        404
    );

    let all = lrs.get_json("").await;
    assert_eq!(ids(&all), vec![voider[0].clone()]);
    // The voiding statement matches the filters its target matched.
    let by_activity = lrs
        .get_json("?activity=urn:kmh:course:reintegration-me/s01")
        .await;
    assert_eq!(ids(&by_activity), vec![voider[0].clone()]);
}

#[tokio::test]
async fn filters_are_exact_and_related() {
    let lrs = Lrs::start().await;
    let mut with_instructor = statement(3);
    with_instructor["context"]["instructor"] = json!({"mbox": "mailto:trainer@example.org"});
    with_instructor["context"]["registration"] = json!("11111111-2222-4333-8444-555555555555");
    let a: Vec<String> = lrs
        .post(&json!([statement(1), statement(2), with_instructor]))
        .await
        .json()
        .await
        .unwrap();

    let agent =
        urlencode(r#"{"account":{"homePage":"https://lms.example.org","name":"learner-2"}}"#);
    assert_eq!(
        ids(&lrs.get_json(&format!("?agent={agent}")).await),
        vec![a[1].clone()]
    );
    let trainer = urlencode(r#"{"mbox":"mailto:trainer@example.org"}"#);
    assert!(ids(&lrs.get_json(&format!("?agent={trainer}")).await).is_empty());
    assert_eq!(
        ids(&lrs
            .get_json(&format!("?agent={trainer}&related_agents=true"))
            .await),
        vec![a[2].clone()]
    );

    let parent = "urn:kmh:course:reintegration-me";
    assert!(ids(&lrs.get_json(&format!("?activity={parent}")).await).is_empty());
    assert_eq!(
        ids(&lrs
            .get_json(&format!("?activity={parent}&related_activities=true"))
            .await)
        .len(),
        3
    );
    assert_eq!(
        ids(&lrs
            .get_json("?registration=11111111-2222-4333-8444-555555555555")
            .await),
        vec![a[2].clone()]
    );
    assert!(
        ids(&lrs
            .get_json("?verb=http://adlnet.gov/expapi/verbs/failed")
            .await)
        .is_empty()
    );
    assert_eq!(
        ids(&lrs
            .get_json("?verb=http://adlnet.gov/expapi/verbs/completed&ascending=true")
            .await),
        a
    );

    for bad in [
        "?agent=notjson",
        "?agent=%7B%22name%22%3A%22x%22%7D",
        "?verb=nope",
        "?registration=123",
        "?since=yesterday",
        "?Verb=http://x.org/v",
        "?limit=ten",
    ] {
        assert_eq!(lrs.get(bad).await.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn since_and_until_bound_stored_time() {
    let lrs = Lrs::start().await;
    let first: Vec<String> = lrs.post(&statement(1)).await.json().await.unwrap();
    let stored = lrs.get_json(&format!("?statementId={}", first[0])).await["stored"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second: Vec<String> = lrs.post(&statement(2)).await.json().await.unwrap();
    assert_eq!(
        ids(&lrs.get_json(&format!("?since={stored}")).await),
        second
    );
    assert_eq!(ids(&lrs.get_json(&format!("?until={stored}")).await), first);
}

#[tokio::test]
async fn more_links_page_stably_while_statements_arrive() {
    let lrs = Lrs::start().await;
    let batch: Vec<Value> = (0..7).map(statement).collect();
    let posted: Vec<String> = lrs.post(&Value::Array(batch)).await.json().await.unwrap();
    let mut seen = Vec::new();
    let mut page = lrs.get_json("?limit=3").await;
    loop {
        seen.extend(ids(&page));
        lrs.post(&statement(99)).await; // arrives while paging
        let more = page["more"].as_str().unwrap().to_owned();
        if more.is_empty() {
            break;
        }
        assert!(more.starts_with("/xapi/statements?more="), "{more}");
        let r = lrs
            .client
            .get(format!("{}{more}", lrs.url))
            .basic_auth(&lrs.key, Some(&lrs.secret))
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        page = r.json().await.unwrap();
    }
    let expected: Vec<String> = posted.iter().rev().cloned().collect();
    assert_eq!(
        seen, expected,
        "newest first, each once, nothing that arrived later"
    );
}

#[tokio::test]
async fn formats_ids_and_canonical() {
    let lrs = Lrs::start().await;
    let id: Vec<String> = lrs.post(&statement(1)).await.json().await.unwrap();
    let s = lrs
        .get_json(&format!("?statementId={}&format=ids", id[0]))
        .await;
    assert_eq!(
        s["verb"],
        json!({"id": "http://adlnet.gov/expapi/verbs/completed"})
    );
    assert!(s["object"].get("definition").is_none());
    assert!(s["actor"].get("name").is_none());

    let r = lrs
        .req(
            Method::GET,
            &format!("/statements?statementId={}&format=canonical", id[0]),
        )
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["verb"]["display"], json!({"fr": "a terminé"}));
    assert_eq!(s["object"]["definition"]["name"], json!({"fr": "Séance 1"}));
}

#[tokio::test]
async fn head_answers_headers_without_a_body() {
    let lrs = Lrs::start().await;
    let id: Vec<String> = lrs.post(&statement(1)).await.json().await.unwrap();
    let r = lrs
        .req(Method::HEAD, &format!("/statements?statementId={}", id[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("last-modified"));
    assert!(
        r.headers()
            .contains_key("x-experience-api-consistent-through")
    );
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn read_mine_sees_only_its_own_statements() {
    let lrs = Lrs::start().await;
    let theirs: Vec<String> = lrs.post(&statement(1)).await.json().await.unwrap();
    let (key, secret) = lrs.credential(&[Scope::StatementsWrite, Scope::StatementsReadMine], &[]);
    let url = format!("{}/xapi/statements", lrs.url);
    let r = lrs
        .client
        .post(&url)
        .basic_auth(&key, Some(&secret))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&statement(2))
        .send()
        .await
        .unwrap();
    let mine: Vec<String> = r.json().await.unwrap();
    let r = lrs
        .client
        .get(&url)
        .basic_auth(&key, Some(&secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&r.json().await.unwrap()), mine);
    let r = lrs
        .client
        .get(format!("{url}?statementId={}", theirs[0]))
        .basic_auth(&key, Some(&secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn cors_lets_an_lms_origin_post_and_enforces_allowlists() {
    let lrs = Lrs::start().await;
    let url = format!("{}/xapi/statements", lrs.url);
    let r = lrs
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", "https://lms.example.org")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,x-experience-api-version",
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://lms.example.org"
    );
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("x-experience-api-version"));

    let (key, secret) = lrs.credential(&[Scope::StatementsWrite], &["https://lms.example.org"]);
    let post = |origin: &'static str| {
        lrs.client
            .post(&url)
            .basic_auth(&key, Some(&secret))
            .header("Origin", origin)
            .header("X-Experience-API-Version", "1.0.3")
            .json(&statement(1))
            .send()
    };
    let r = post("https://lms.example.org").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://lms.example.org"
    );
    assert_eq!(
        post("https://elsewhere.example").await.unwrap().status(),
        403
    );
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    let lrs = Lrs::start().await;
    let big = "x".repeat(17 * 1024 * 1024);
    let r = lrs
        .req(Method::POST, "/statements")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let many: Vec<Value> = (0..10_001).map(|_| json!({})).collect();
    let r = lrs.post(&Value::Array(many)).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("at most 10000"));
    // Nesting deeper than the parser allows is refused, not a crash.
    let deep = format!(
        r#"{{"actor":{{"mbox":"mailto:a@example.org"}},"verb":{{"id":"http://example.org/v"}},"object":{{"id":"urn:x","definition":{{"extensions":{{"urn:e":{}1{}}}}}}}}}"#,
        "[".repeat(300),
        "]".repeat(300)
    );
    let r = lrs
        .req(Method::POST, "/statements")
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("recursion limit"));
}

#[tokio::test]
async fn statements_survive_a_restart() {
    let lrs = Lrs::start().await;
    let id: Vec<String> = lrs.post(&statement(1)).await.json().await.unwrap();
    let dir = lrs.stop().await;
    let lrs = Lrs::start_in(dir).await;
    let s = lrs.get_json(&format!("?statementId={}", id[0])).await;
    assert_eq!(s["id"], id[0].as_str());
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_package_credential_writes_only_about_its_own_activities() {
    let lrs = Lrs::start().await;
    let issued = kmh::lrs::credentials::issue_limited(
        &[Scope::StatementsWrite, Scope::State],
        vec![],
        vec!["urn:kmh:course:reintegration-me/".into()],
        "package".into(),
    );
    lrs.state.store.put_credential(&issued.record).unwrap();
    lrs.state.reload_credentials().unwrap();
    let (key, secret) = (issued.record.key, issued.secret);
    let url = format!("{}/xapi", lrs.url);
    let send = |path: String, body: Value| {
        lrs.client
            .post(format!("{url}{path}"))
            .basic_auth(&key, Some(&secret))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&body)
            .send()
    };
    assert_eq!(
        send("/statements".into(), statement(1))
            .await
            .unwrap()
            .status(),
        200
    );
    let mut elsewhere = statement(1);
    elsewhere["object"]["id"] = json!("urn:other:course");
    let r = send("/statements".into(), json!([statement(2), elsewhere]))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("urn:other:course"));
    let agent =
        form_urlencoded::byte_serialize(br#"{"mbox":"mailto:a@example.org"}"#).collect::<String>();
    let own = format!(
        "/activities/state?activityId=urn:kmh:course:reintegration-me/s01&agent={agent}&stateId=bookmark"
    );
    assert_eq!(send(own, json!({"page": 2})).await.unwrap().status(), 204);
    let other =
        format!("/activities/state?activityId=urn:other:course&agent={agent}&stateId=bookmark");
    assert_eq!(send(other, json!({"page": 2})).await.unwrap().status(), 403);
    let r = lrs
        .client
        .get(format!("{url}/statements"))
        .basic_auth(&key, Some(&secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a package credential cannot read statements"
    );
}
