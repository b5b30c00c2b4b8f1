//! Document resources, Agents and Activities, attachments, the alternate
//! request syntax and xAPI 2.0 requests, over real HTTP.

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{Lrs, statement};

const ACTIVITY: &str = "urn:kmh:course:reintegration-me/s03-me-of-reintegration";
const AGENT: &str = r#"{"account":{"homePage":"https://lms.example.org","name":"learner-7"}}"#;

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn state_path(id: &str) -> String {
    format!(
        "/activities/state?activityId={}&agent={}&stateId={id}",
        enc(ACTIVITY),
        enc(AGENT)
    )
}

#[tokio::test]
async fn state_documents_round_trip_byte_for_byte() {
    let lrs = Lrs::start().await;
    let bytes: Vec<u8> = (0u8..=255).collect();
    let r = lrs
        .req(Method::PUT, &state_path("bookmark"))
        .header("Content-Type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = lrs
        .req(Method::GET, &state_path("bookmark"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        etag,
        format!("\"{}\"", hex::encode(sha1::Sha1::digest(&bytes)))
    );
    assert!(r.headers().contains_key("last-modified"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);

    // Listing ids, then deleting the whole set.
    lrs.req(Method::PUT, &state_path("suspend_data"))
        .header("Content-Type", "text/plain")
        .body("p3")
        .send()
        .await
        .unwrap();
    let list_path = format!(
        "/activities/state?activityId={}&agent={}",
        enc(ACTIVITY),
        enc(AGENT)
    );
    let ids: Vec<String> = lrs
        .req(Method::GET, &list_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids, vec!["bookmark", "suspend_data"]);
    assert_eq!(
        lrs.req(Method::DELETE, &list_path)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        lrs.req(Method::GET, &state_path("bookmark"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn post_merges_json_objects_and_refuses_anything_else() {
    let lrs = Lrs::start().await;
    let path = state_path("progress");
    lrs.req(Method::POST, &path)
        .json(&json!({"page": 2, "answers": {"q1": "b"}}))
        .send()
        .await
        .unwrap();
    let r = lrs
        .req(Method::POST, &path)
        .json(&json!({"page": 3, "done": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let doc: Value = lrs
        .req(Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc,
        json!({"page": 3, "answers": {"q1": "b"}, "done": false})
    );
    let r = lrs
        .req(Method::POST, &path)
        .header("Content-Type", "application/json")
        .body("[1,2]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = lrs
        .req(Method::POST, &path)
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let doc: Value = lrs
        .req(Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["page"], 3, "a refused POST leaves the document alone");
}

#[tokio::test]
async fn profiles_need_preconditions_and_honour_them() {
    let lrs = Lrs::start().await;
    let path = format!(
        "/activities/profile?activityId={}&profileId=settings",
        enc(ACTIVITY)
    );
    // 1.0.3: a profile PUT must say what it expects.
    let r = lrs
        .req(Method::PUT, &path)
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = lrs
        .req(Method::PUT, &path)
        .header("If-None-Match", "*")
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = lrs
        .req(Method::PUT, &path)
        .header("If-None-Match", "*")
        .json(&json!({"a": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let r = lrs
        .req(Method::PUT, &path)
        .json(&json!({"a": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("If-Match"));
    let etag = lrs.req(Method::GET, &path).send().await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = lrs
        .req(Method::PUT, &path)
        .header("If-Match", "\"0000\"")
        .json(&json!({"a": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let r = lrs
        .req(Method::PUT, &path)
        .header("If-Match", &etag)
        .json(&json!({"a": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let doc: Value = lrs
        .req(Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc, json!({"a": 4}));

    let agent_path = format!("/agents/profile?agent={}", enc(AGENT));
    let r = lrs
        .req(Method::PUT, &format!("{agent_path}&profileId=prefs"))
        .header("If-None-Match", "*")
        .json(&json!({"lang": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ids: Vec<String> = lrs
        .req(Method::GET, &agent_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids, vec!["prefs"]);
}

#[tokio::test]
async fn state_put_without_precondition_is_fine_in_1_0_but_conflicts_in_2_0() {
    let lrs = Lrs::start().await;
    let path = state_path("bookmark");
    for _ in 0..2 {
        let r = lrs
            .req(Method::PUT, &path)
            .json(&json!({"page": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            204,
            "1.0.x clients send State PUTs blind, sometimes twice"
        );
    }
    let r = lrs
        .req_as("2.0.0", Method::PUT, &path)
        .json(&json!({"page": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["x-experience-api-version"], "2.0.0");
}

#[tokio::test]
async fn document_parameters_are_checked() {
    let lrs = Lrs::start().await;
    for bad in [
        format!("/activities/state?agent={}&stateId=x", enc(AGENT)),
        format!("/activities/state?activityId={}&stateId=x", enc(ACTIVITY)),
        format!(
            "/activities/state?activityId={}&agent=notjson&stateId=x",
            enc(ACTIVITY)
        ),
        format!(
            "/activities/state?activityId={}&agent={}&stateId=x&registration=123",
            enc(ACTIVITY),
            enc(AGENT)
        ),
        format!(
            "/activities/state?activityId={}&agent={}&since=yesterday",
            enc(ACTIVITY),
            enc(AGENT)
        ),
        "/activities/profile?activityId=not-an-iri&profileId=x".to_owned(),
    ] {
        let r = lrs.req(Method::GET, &bad).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn a_browser_on_the_lms_origin_may_preflight_the_state_resource() {
    let lrs = Lrs::start().await;
    let r = lrs
        .client
        .request(
            Method::OPTIONS,
            format!("{}/xapi/activities/state", lrs.url),
        )
        .header("Origin", "https://lms.example.org")
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,x-experience-api-version,if-match",
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://lms.example.org"
    );
    let methods = r.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("PUT") && methods.contains("DELETE"),
        "{methods}"
    );
}

#[tokio::test]
async fn agents_and_activities_resources() {
    let lrs = Lrs::start().await;
    let mut s = statement(7);
    s["object"]["definition"]["description"] = json!({"en": "Session 7 of the course"});
    lrs.post(&s).await;
    let mut later = statement(7);
    later["actor"]["name"] = json!("Learner Seven");
    later["object"]["definition"] = json!({"name": {"es": "Sesión 7"}});
    lrs.post(&later).await;

    let person = lrs
        .get_resource(&format!("/agents?agent={}", enc(AGENT)))
        .await;
    assert_eq!(person["objectType"], "Person");
    assert_eq!(person["name"], json!(["Learner 7", "Learner Seven"]));
    assert_eq!(person["account"][0]["name"], "learner-7");

    let id = "urn:kmh:course:reintegration-me/s07";
    let a = lrs
        .get_resource(&format!("/activities?activityId={}", enc(id)))
        .await;
    assert_eq!(a["id"], id);
    assert_eq!(
        a["definition"]["name"],
        json!({"en": "Session 7", "fr": "Séance 7", "es": "Sesión 7"})
    );
    assert_eq!(
        a["definition"]["description"],
        json!({"en": "Session 7 of the course"})
    );
    assert_eq!(
        lrs.req(Method::GET, "/activities")
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
}

/// The activity's definition follows the statements as they arrive, also
/// when one sends again a definition that another has replaced since, and
/// when the same definition comes in a batch, many times over.
#[tokio::test]
async fn a_definition_sent_again_after_a_change_is_taken_again() {
    let lrs = Lrs::start().await;
    let id = "urn:kmh:course:reintegration-me/s07";
    let with = |definition: Value| {
        let mut s = statement(7);
        s["object"]["definition"] = definition;
        s
    };
    let choice = json!({"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                        "interactionType": "choice", "name": {"en": "Session 7"}});
    let fill_in = json!({"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                         "interactionType": "fill-in"});
    let definition = || async {
        lrs.get_resource(&format!("/activities?activityId={}", enc(id)))
            .await["definition"]
            .clone()
    };
    let batch: Vec<Value> = (0..50).map(|_| with(choice.clone())).collect();
    assert_eq!(lrs.post(&json!(batch)).await.status(), 200);
    assert_eq!(definition().await["interactionType"], "choice");
    assert_eq!(lrs.post(&with(fill_in)).await.status(), 200);
    assert_eq!(definition().await["interactionType"], "fill-in");
    assert_eq!(lrs.post(&with(choice.clone())).await.status(), 200);
    assert_eq!(definition().await, choice);
}

/// One part of a multipart body: its Content-Type, other headers, data.
pub(crate) type PartSpec<'a> = (&'a str, &'a [(&'a str, String)], &'a [u8]);

pub(crate) fn multipart(parts: &[PartSpec]) -> (String, Vec<u8>) {
    let boundary = "----kmh-test-boundary";
    let mut body = Vec::new();
    for (content_type, headers, data) in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: {content_type}\r\n").as_bytes(),
        );
        for (k, v) in *headers {
            body.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/mixed; boundary={boundary}"), body)
}

#[tokio::test]
async fn attachments_travel_in_multipart_and_are_stored_once() {
    let lrs = Lrs::start().await;
    let handout = b"Data protection checklist for a monitoring visit".to_vec();
    let sha2 = hex::encode(Sha256::digest(&handout));
    let mut s = statement(1);
    s["attachments"] = json!([{
        "usageType": "http://id.tincanapi.com/attachment/supporting_media",
        "display": {"en": "Checklist"}, "contentType": "text/plain",
        "length": handout.len(), "sha2": sha2
    }]);
    let hdrs = [
        ("Content-Transfer-Encoding", "binary".to_owned()),
        ("X-Experience-API-Hash", sha2.clone()),
    ];
    let batch = serde_json::to_vec(&json!([s, s.clone()])).unwrap();
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
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let r = lrs.get("?attachments=true").await;
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("multipart/mixed; boundary="), "{ct}");
    let text = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
    assert_eq!(
        text.matches("Data protection checklist").count(),
        1,
        "one part per attachment:\n{text}"
    );
    assert!(text.contains(&format!("X-Experience-API-Hash: {sha2}")));
    let r = lrs.get("?attachments=false").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // A part whose hash lies, a missing part, an extra part: 400 each.
    let wrong = [
        ("Content-Transfer-Encoding", "binary".to_owned()),
        ("X-Experience-API-Hash", "ab".repeat(32)),
    ];
    let one = serde_json::to_vec(&s).unwrap();
    for parts in [
        vec![
            ("application/json", &[][..], &one[..]),
            ("text/plain", &wrong[..], &handout[..]),
        ],
        vec![("application/json", &[][..], &one[..])],
        vec![
            (
                "application/json",
                &[][..],
                &serde_json::to_vec(&statement(2)).unwrap()[..],
            ),
            ("text/plain", &hdrs[..], &handout[..]),
        ],
    ] {
        let (ct, body) = multipart(&parts);
        let r = lrs
            .req(Method::POST, "/statements")
            .header("Content-Type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    }
}

#[tokio::test]
async fn alternate_request_syntax_works_in_1_0_3_only() {
    let lrs = Lrs::start().await;
    let id = "7b0d6f0e-8d0a-4e1c-a9d2-0c5f1d7e3a42";
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("statementId", id)
        .append_pair("content", &statement(1).to_string())
        .append_pair("X-Experience-API-Version", "1.0.3")
        .append_pair(
            "Authorization",
            &format!("Basic {}", base64_auth(&lrs.key, &lrs.secret)),
        )
        .finish();
    let post = |form: String| {
        lrs.client
            .post(format!("{}/xapi/statements?method=PUT", lrs.url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    assert_eq!(post(form.clone()).await.unwrap().status(), 204);
    assert_eq!(lrs.get(&format!("?statementId={id}")).await.status(), 200);
    assert_eq!(
        post(form.replace("1.0.3", "2.0.0")).await.unwrap().status(),
        400
    );
    let r = lrs
        .client
        .post(format!(
            "{}/xapi/statements?method=PUT&statementId={id}",
            lrs.url
        ))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

fn base64_auth(key: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
}

#[tokio::test]
async fn xapi_2_0_statements_and_versions_side_by_side() {
    let lrs = Lrs::start().await;
    let mut s = statement(1);
    s["context"]["contextAgents"] = json!([{"objectType": "contextAgent",
        "agent": {"mbox": "mailto:trainer@example.org"}, "relevantTypes": ["https://w3id.org/xapi/kmh/roles/trainer"]}]);
    let r = lrs.post(&s).await;
    assert_eq!(r.status(), 400, "contextAgents is not xAPI 1.0.3");
    let r = lrs
        .req_as("2.0.0", Method::POST, "/statements")
        .json(&s)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-experience-api-version"], "2.0.0");
    let ids: Vec<String> = r.json().await.unwrap();
    let got: Value = lrs
        .req_as(
            "2.0.0",
            Method::GET,
            &format!("/statements?statementId={}", ids[0]),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["version"], "2.0.0");
    assert_eq!(
        got["context"]["contextAgents"][0]["agent"]["mbox"],
        "mailto:trainer@example.org"
    );
    let old: Value = lrs.get_json(&format!("?statementId={}", ids[0])).await;
    assert_eq!(
        old["version"], "1.0.3",
        "a 1.0.3 client reads a statement it can validate"
    );
    assert!(old["context"].get("contextAgents").is_none());
    let trainer = enc(r#"{"mbox":"mailto:trainer@example.org"}"#);
    let found = lrs
        .get_json(&format!("?agent={trainer}&related_agents=true"))
        .await;
    assert_eq!(found["statements"].as_array().unwrap().len(), 1);
}
