//! Analytics: indicators computed by a real server from known statements,
//! compared with values worked out by hand; voiding, pseudonyms, filters,
//! the CSV export, persistence and `kmh report` / `kmh reindex`.
//!
//! The cohort (course reintegration-me; modules s00 pre-assessment, s01
//! lesson with a pass mark, s09 post-assessment, s10 survey; question k1
//! tagged knowledge and s1 tagged skills in both assessments):
//!
//! | learner | country, lang, cohort | enrolled | pre (k1, s1) | s01 | post (k1, s1) | survey |
//! |---|---|---|---|---|---|---|
//! | L1 | SN fr A | 01-05 | 0.5 (✓ ✗) | failed 0.6 then passed 0.9, 30 min | 1.0 (✓ ✓) | 5, a comment; done 01-15 |
//! | L2 | ML fr A | 01-06 | 0.0 (✗ ✗) | completed, failed 0.5, 20 min | 0.5 (✓ ✗) | 4; done 01-20 |
//! | L3 | NG en B | 01-07 | 1.0 (✓ ✓) | – | – | – |
//! | L4 | NG en B | 01-08 | – (registered only) | – | – | – |
//! | L5 | SN fr A | 01-09 | 0.5 (✓ ✗) | passed 1.0 | 0.5 (✗ ✓) | – |

use std::process::Command;

use kmh::lrs::credentials::Scope;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::Lrs;

const C: &str = "urn:kmh:course:reintegration-me";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";

struct Who {
    name: &'static str,
    country: &'static str,
    lang: &'static str,
    cohort: &'static str,
}

const L1: Who = Who {
    name: "l1",
    country: "SN",
    lang: "fr",
    cohort: "A",
};
const L2: Who = Who {
    name: "l2",
    country: "ML",
    lang: "fr",
    cohort: "A",
};
const L3: Who = Who {
    name: "l3",
    country: "NG",
    lang: "en",
    cohort: "B",
};
const L4: Who = Who {
    name: "l4",
    country: "NG",
    lang: "en",
    cohort: "B",
};
const L5: Who = Who {
    name: "l5",
    country: "SN",
    lang: "fr",
    cohort: "A",
};

fn role(module: &str) -> &'static str {
    match module {
        "s00-pre-assessment" => "pre-assessment",
        "s09-post-assessment" => "post-assessment",
        "s10-satisfaction-survey" => "survey",
        _ => "lesson",
    }
}

/// A statement by `who` about `module` (or the course when empty), or
/// about a question of it when `question` is given.
fn st(
    who: &Who,
    verb: &str,
    module: &str,
    question: Option<(&str, Option<&str>, &str)>,
    result: Value,
    day_time: &str,
) -> Value {
    let module_iri = format!("{C}/{module}");
    let (object, parent) = match (module, question) {
        ("", _) => (
            json!({"id": C, "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}),
            None,
        ),
        (_, None) => (
            json!({"id": module_iri, "definition": {"name": {"en": format!("Module {module}")},
                   "extensions": {"urn:kmh:ext:role": role(module)}}}),
            None,
        ),
        (_, Some((q, tag, kind))) => {
            let mut def = json!({"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                                 "interactionType": kind, "name": {"en": format!("Question {q}")}});
            if let Some(t) = tag {
                def["extensions"] = json!({"urn:kmh:ext:tag": t});
            }
            (
                json!({"id": format!("{module_iri}/interactions/{q}"), "definition": def}),
                Some(json!([{"id": module_iri}])),
            )
        }
    };
    let mut ca = json!({"grouping": [{"id": C, "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}]});
    if let Some(p) = parent {
        ca["parent"] = p;
    }
    json!({
        "actor": {"objectType": "Agent", "name": format!("Learner {}", who.name),
                  "account": {"homePage": "https://lms.example.org", "name": who.name}},
        "verb": {"id": format!("{ADL}{verb}")},
        "object": object,
        "result": result,
        "context": {"language": who.lang, "contextActivities": ca,
                    "extensions": {"urn:kmh:ext:country": who.country, "urn:kmh:ext:cohort": who.cohort}},
        "timestamp": format!("2026-{day_time}:00Z"),
    })
}

fn answer(who: &Who, module: &str, q: &str, ok: bool, at: &str) -> Value {
    let tag = if q == "k1" { "knowledge" } else { "skills" };
    st(
        who,
        "answered",
        module,
        Some((q, Some(tag), "choice")),
        json!({"success": ok, "response": if ok { "a" } else { "b" }}),
        at,
    )
}

fn assessment(who: &Who, module: &str, k1: bool, s1: bool, score: f64, day: &str) -> Vec<Value> {
    vec![
        st(
            who,
            "initialized",
            module,
            None,
            json!({}),
            &format!("{day}T10:00"),
        ),
        answer(who, module, "k1", k1, &format!("{day}T10:01")),
        answer(who, module, "s1", s1, &format!("{day}T10:02")),
        st(
            who,
            "completed",
            module,
            None,
            json!({"completion": true, "score": {"scaled": score}}),
            &format!("{day}T10:05"),
        ),
    ]
}

fn survey(who: &Who, value: &str, comment: Option<&str>, day: &str) -> Vec<Value> {
    let m = "s10-satisfaction-survey";
    let mut out = vec![st(
        who,
        "answered",
        m,
        Some(("objectives-clear", None, "likert")),
        json!({"response": value}),
        &format!("{day}T08:00"),
    )];
    if let Some(text) = comment {
        out.push(st(
            who,
            "answered",
            m,
            Some(("most-useful", None, "long-fill-in")),
            json!({"response": text}),
            &format!("{day}T08:01"),
        ));
    }
    out.push(st(
        who,
        "completed",
        m,
        None,
        json!({"completion": true}),
        &format!("{day}T09:00"),
    ));
    out
}

fn cohort() -> Vec<Value> {
    let s01 = "s01-intro";
    let mut all = Vec::new();
    // L1
    all.push(st(&L1, "registered", "", None, json!({}), "01-05T09:00"));
    all.extend(assessment(
        &L1,
        "s00-pre-assessment",
        true,
        false,
        0.5,
        "01-05",
    ));
    all.push(st(&L1, "initialized", s01, None, json!({}), "01-06T10:00"));
    all.push(st(
        &L1,
        "failed",
        s01,
        None,
        json!({"score": {"scaled": 0.6}, "success": false}),
        "01-06T10:20",
    ));
    all.push(st(
        &L1,
        "passed",
        s01,
        None,
        json!({"score": {"scaled": 0.9}, "success": true, "completion": true}),
        "01-07T10:20",
    ));
    all.push(st(
        &L1,
        "terminated",
        s01,
        None,
        json!({"duration": "PT30M"}),
        "01-07T10:30",
    ));
    all.extend(assessment(
        &L1,
        "s09-post-assessment",
        true,
        true,
        1.0,
        "01-12",
    ));
    all.extend(survey(&L1, "5", Some("Great course"), "01-15"));
    // L2
    all.push(st(&L2, "registered", "", None, json!({}), "01-06T09:00"));
    all.extend(assessment(
        &L2,
        "s00-pre-assessment",
        false,
        false,
        0.0,
        "01-06",
    ));
    all.push(st(&L2, "initialized", s01, None, json!({}), "01-08T10:00"));
    all.push(st(
        &L2,
        "completed",
        s01,
        None,
        json!({"completion": true}),
        "01-08T10:15",
    ));
    all.push(st(
        &L2,
        "failed",
        s01,
        None,
        json!({"score": {"scaled": 0.5}, "success": false}),
        "01-08T10:16",
    ));
    all.push(st(
        &L2,
        "terminated",
        s01,
        None,
        json!({"duration": "PT20M"}),
        "01-08T10:20",
    ));
    all.extend(assessment(
        &L2,
        "s09-post-assessment",
        true,
        false,
        0.5,
        "01-14",
    ));
    all.extend(survey(&L2, "4", None, "01-20"));
    // L3: the pre-assessment only.
    all.push(st(&L3, "registered", "", None, json!({}), "01-07T09:00"));
    all.extend(assessment(
        &L3,
        "s00-pre-assessment",
        true,
        true,
        1.0,
        "01-07",
    ));
    // L4: enrolled, never started.
    all.push(st(&L4, "registered", "", None, json!({}), "01-08T09:00"));
    // L5: no survey.
    all.push(st(&L5, "registered", "", None, json!({}), "01-09T09:00"));
    all.extend(assessment(
        &L5,
        "s00-pre-assessment",
        true,
        false,
        0.5,
        "01-09",
    ));
    all.push(st(&L5, "initialized", s01, None, json!({}), "01-10T10:00"));
    all.push(st(
        &L5,
        "passed",
        s01,
        None,
        json!({"score": {"scaled": 1.0}, "success": true, "completion": true}),
        "01-10T10:20",
    ));
    all.extend(assessment(
        &L5,
        "s09-post-assessment",
        false,
        true,
        0.5,
        "01-16",
    ));
    all
}

async fn get_as(lrs: &Lrs, (key, secret): (&str, &str), path: &str) -> reqwest::Response {
    lrs.client
        .get(format!("{}{path}", lrs.url))
        .basic_auth(key, Some(secret))
        .send()
        .await
        .unwrap()
}

async fn analytics(lrs: &Lrs, path: &str) -> Value {
    let r = get_as(lrs, (&lrs.key, &lrs.secret), path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

macro_rules! assert_close {
    ($v:expr, $want:expr) => {
        assert!(
            close(&$v, $want),
            "{} = {}, want {}",
            stringify!($v),
            $v,
            $want
        )
    };
}

async fn load(lrs: &Lrs) -> Vec<String> {
    let r = lrs.post(&Value::Array(cohort())).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn module<'a>(o: &'a Value, id: &str) -> &'a Value {
    o["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == id)
        .unwrap_or_else(|| panic!("no module {id}"))
}

#[tokio::test]
async fn indicators_match_hand_worked_values() {
    let lrs = Lrs::start().await;
    load(&lrs).await;
    let o = analytics(&lrs, "/analytics/overview").await;

    assert_eq!(o["course"]["id"], "reintegration-me");
    let s = &o["summary"];
    assert_eq!(s["enrolled"], 5);
    assert_eq!(s["started"], 4);
    // The course's modules are s00, s01, s09, s10: L1 and L2 did them all.
    assert_eq!(s["completed"], 2);
    // Only L1 passed s01, the one module with a pass mark.
    assert_eq!(s["passed"], 1);
    assert_close!(s["completion_rate"], 0.4);
    assert_close!(s["pass_rate"], 0.2);
    // L1: 01-05 09:00 → 01-15 09:00 = 10 days; L2: 01-06 → 01-20 = 14 days.
    assert_close!(s["median_days_to_complete"], 12.0);
    // L1 30 min, L2 20 min.
    assert_close!(s["median_hours_spent"], 25.0 / 60.0);

    let ids: Vec<&str> = o["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "s00-pre-assessment",
            "s01-intro",
            "s09-post-assessment",
            "s10-satisfaction-survey"
        ]
    );
    let pre = module(&o, "s00-pre-assessment");
    assert_eq!(
        (pre["started"].clone(), pre["completed"].clone()),
        (json!(4), json!(4))
    );
    assert_eq!(
        pre["stopped_here"], 1,
        "L3 stopped after the pre-assessment"
    );
    let s01 = module(&o, "s01-intro");
    assert_eq!(s01["started"], 3);
    assert_eq!(s01["completed"], 3);
    assert_eq!(s01["passed"], 2);
    assert_eq!(s01["failed"], 1);
    assert_close!(s01["mean_score"], (0.9 + 0.5 + 1.0) / 3.0);
    assert_eq!(module(&o, "s09-post-assessment")["stopped_here"], 1, "L5");
    assert_eq!(module(&o, "s10-satisfaction-survey")["completed"], 2);

    let a = &o["assessment"];
    assert_eq!(a["pre_module"], "s00-pre-assessment");
    assert_eq!(a["post_module"], "s09-post-assessment");
    assert_eq!(a["pre_takers"], 4);
    assert_eq!(a["post_takers"], 3);
    assert_eq!(a["pairs"], 3);
    // Pairs: L1 0.5 → 1.0, L2 0.0 → 0.5, L5 0.5 → 0.5.
    assert_close!(a["pre_mean"], 1.0 / 3.0);
    assert_close!(a["post_mean"], 2.0 / 3.0);
    assert_close!(a["gain_mean"], 1.0 / 3.0);
    assert_close!(a["improved_share"], 2.0 / 3.0);
    // Normalised gains 1.0, 0.5, 0.0.
    assert_close!(a["normalized_gain_mean"], 0.5);
    let tag = |name: &str| {
        a["by_tag"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == name)
            .unwrap()
            .clone()
    };
    // k1: pre 1, 0, 1; post 1, 1, 0.
    let k = tag("knowledge");
    assert_close!(k["pre_mean"], 2.0 / 3.0);
    assert_close!(k["post_mean"], 2.0 / 3.0);
    assert_close!(k["gain_mean"], 0.0);
    // s1: pre 0, 0, 0; post 1, 0, 1.
    let sk = tag("skills");
    assert_close!(sk["pre_mean"], 0.0);
    assert_close!(sk["post_mean"], 2.0 / 3.0);
    assert_eq!(a["pre_histogram"].as_array().unwrap().len(), 10);
    assert_eq!(a["pre_histogram"][0], 1, "L2's 0.0");
    assert_eq!(a["post_histogram"][9], 1, "L1's 1.0");

    let sat = &o["satisfaction"];
    assert_eq!(sat["module"], "s10-satisfaction-survey");
    assert_eq!(sat["respondents"], 2);
    let q = &sat["questions"][0];
    assert_eq!(q["question"], "objectives-clear");
    assert_eq!(q["counts"], json!([0, 0, 0, 1, 1]));
    assert_close!(q["mean"], 4.5);
    assert_eq!(sat["comments"][0]["text"], "Great course");
    assert!(sat["comments"][0].get("learner").is_none());

    let qs = o["questions"].as_array().unwrap();
    let rate = |m: &str, q: &str| {
        qs.iter()
            .find(|x| x["module"] == m && x["question"] == q)
            .unwrap()["correct_rate"]
            .clone()
    };
    assert_close!(rate("s00-pre-assessment", "k1"), 0.75);
    assert_close!(rate("s00-pre-assessment", "s1"), 0.25);
    assert_close!(rate("s09-post-assessment", "k1"), 2.0 / 3.0);
    assert_eq!(
        qs.len(),
        4,
        "survey questions are not in the difficulty table"
    );

    // Weekly buckets from the week of 01-05 (a Monday) to that of 01-20.
    let points = o["over_time"]["points"].as_array().unwrap();
    assert_eq!(o["over_time"]["unit"], "week");
    assert_eq!(points[0]["start"], "2026-01-05");
    assert_eq!(points.last().unwrap()["cumulative_started"], 5);
    assert_eq!(points.last().unwrap()["cumulative_completed"], 2);
    lrs.stop().await;
}

#[tokio::test]
async fn filters_select_learners() {
    let lrs = Lrs::start().await;
    load(&lrs).await;
    let summary = |o: &Value| {
        let s = &o["summary"];
        (
            s["enrolled"].as_u64().unwrap(),
            s["started"].as_u64().unwrap(),
            s["completed"].as_u64().unwrap(),
            s["passed"].as_u64().unwrap(),
        )
    };
    let o = analytics(&lrs, "/analytics/overview?country=sn").await;
    assert_eq!(summary(&o), (2, 2, 1, 1));
    let o = analytics(&lrs, "/analytics/overview?language=en").await;
    assert_eq!(summary(&o), (2, 1, 0, 0));
    let o = analytics(&lrs, "/analytics/overview?cohort=B").await;
    assert_eq!(summary(&o), (2, 1, 0, 0));
    let o = analytics(&lrs, "/analytics/overview?from=2026-01-06&to=2026-01-08").await;
    assert_eq!(summary(&o), (3, 2, 1, 0));
    // A module: its learners, and that module's completion and passes.
    let o = analytics(
        &lrs,
        "/analytics/overview?module=s01-intro&course=reintegration-me",
    )
    .await;
    assert_eq!(summary(&o), (3, 3, 3, 2));
    assert_eq!(o["questions"].as_array().unwrap().len(), 0);
    // The options list what can be chosen, with counts.
    assert_eq!(
        o["options"]["countries"],
        json!([{"value": "ML", "learners": 1}, {"value": "NG", "learners": 2}, {"value": "SN", "learners": 2}])
    );
    assert_eq!(o["options"]["modules"][0]["role"], "pre-assessment");
    for bad in ["from=yesterday", "module=s99", "course=nope"] {
        let r = get_as(
            &lrs,
            (&lrs.key, &lrs.secret),
            &format!("/analytics/overview?{bad}"),
        )
        .await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().len() > 5);
    }
    lrs.stop().await;
}

#[tokio::test]
async fn voiding_takes_statements_back_out() {
    let lrs = Lrs::start().await;
    let ids = load(&lrs).await;
    // L1's `passed` of s01 is the 8th statement of the cohort.
    let cohort = cohort();
    let passed = cohort
        .iter()
        .position(|s| {
            s["verb"]["id"] == format!("{ADL}passed") && s["actor"]["account"]["name"] == "l1"
        })
        .unwrap();
    let r = lrs
        .post(&json!({
            "actor": {"mbox": "mailto:registrar@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": ids[passed]},
        }))
        .await;
    assert_eq!(r.status(), 200);
    let o = analytics(&lrs, "/analytics/overview").await;
    assert_eq!(o["summary"]["passed"], 0, "L1 no longer passed s01");
    let s01 = module(&o, "s01-intro");
    assert_eq!(
        (s01["passed"].clone(), s01["failed"].clone()),
        (json!(1), json!(2))
    );
    assert_close!(s01["mean_score"], (0.6 + 0.5 + 1.0) / 3.0);
    // Without the `passed`, L1's s01 has no completion either.
    assert_eq!(s01["completed"], 2);
    assert_eq!(o["summary"]["completed"], 1);
    lrs.stop().await;
}

#[tokio::test]
async fn learners_are_pseudonymous_without_the_identities_scope() {
    let lrs = Lrs::start().await;
    load(&lrs).await;
    let (rk, rs) = lrs.credential(&[Scope::AnalyticsRead], &[]);
    let page: Value = get_as(&lrs, (&rk, &rs), "/analytics/learners?limit=10")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 5);
    let text = page.to_string();
    assert!(!text.contains("l1") && !text.contains("Learner"), "{text}");
    let first = &page["learners"][0];
    let pid = first["id"].as_str().unwrap();
    assert!(pid.starts_with("P-") && pid.len() == 12, "{pid}");
    assert!(first.get("identity").is_none());
    // Most recent first: L1 finished last (01-15 survey)? No: L2 (01-20).
    assert_eq!(first["country"], "ML");
    assert_eq!(first["status"], "completed");

    // A pseudonym is stable and finds the learner's progress.
    let detail: Value = get_as(&lrs, (&rk, &rs), &format!("/analytics/learners/{pid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["learner"]["id"], pid);
    let statuses: Vec<&str> = detail["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["completed", "failed", "completed", "completed"]);
    let overall = &detail["pre_post"][0];
    assert_eq!(overall["tag"], "overall");
    assert_close!(overall["pre_mean"], 0.0);
    assert_close!(overall["post_mean"], 0.5);
    // Search by pseudonym prefix, never by name without the scope.
    let found: Value = get_as(
        &lrs,
        (&rk, &rs),
        &format!("/analytics/learners?q={}", &pid[..6]),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(found["learners"][0]["id"], pid);
    let none: Value = get_as(&lrs, (&rk, &rs), "/analytics/learners?q=Learner")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);

    // With the identities scope, names and accounts show and can be searched.
    let (ik, is) = lrs.credential(&[Scope::AnalyticsRead, Scope::Identities], &[]);
    let named: Value = get_as(&lrs, (&ik, &is), "/analytics/learners?q=learner%20l3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(named["total"], 1);
    assert_eq!(named["learners"][0]["name"], "Learner l3");
    assert_eq!(
        named["learners"][0]["identity"],
        "https://lms.example.org l3"
    );

    // Other credentials: no read scope, none at all, a wrong secret.
    let (wk, ws) = lrs.credential(&[Scope::StatementsWrite], &[]);
    assert_eq!(
        get_as(&lrs, (&wk, &ws), "/analytics/overview")
            .await
            .status(),
        403
    );
    assert_eq!(
        get_as(&lrs, (&rk, "nope"), "/analytics/overview")
            .await
            .status(),
        401
    );
    let anonymous = lrs
        .client
        .get(format!("{}/analytics/overview", lrs.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let missing = get_as(&lrs, (&rk, &rs), "/analytics/learners/P-0000000000").await;
    assert_eq!(missing.status(), 404);
    lrs.stop().await;
}

#[tokio::test]
async fn progress_export_is_one_row_per_learner_and_module() {
    let lrs = Lrs::start().await;
    load(&lrs).await;
    let (rk, rs) = lrs.credential(&[Scope::AnalyticsRead], &[]);
    let r = get_as(&lrs, (&rk, &rs), "/analytics/progress.csv?country=SN").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"kmh-progress-reintegration-me-")
    );
    let text = r.text().await.unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "learner,country,language,cohort,course,module,module_title,status,first,last,attempts,minutes,best_score,latest_score,page"
    );
    // L1 and L5 × 4 modules.
    assert_eq!(lines.len(), 1 + 2 * 4);
    let l1_s01 = lines
        .iter()
        .find(|l| l.contains(",s01-intro,") && l.contains(",passed,") && l.contains(",30.0,"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        l1_s01.ends_with(",SN,fr,A,reintegration-me,s01-intro,Module s01-intro,passed,2026-01-06,2026-01-07,1,30.0,0.900,0.900,")
            || l1_s01.contains(",passed,2026-01-06,2026-01-07,1,30.0,0.900,0.900,"),
        "{l1_s01}"
    );
    assert!(!text.contains("l1") && !text.contains("Learner "));
    let r = get_as(&lrs, (&rk, &rs), "/analytics/progress?country=SN").await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let rows: Value = r.json().await.unwrap();
    // The same table as the CSV export, cell for cell (no cell here needs
    // CSV quoting).
    let joined: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            cells.join(",")
        })
        .collect();
    assert_eq!(joined, lines);
    lrs.stop().await;
}

#[tokio::test]
async fn dashboard_page_is_served_behind_a_read_credential_with_its_assets() {
    let lrs = Lrs::start().await;
    let get = |path: &str, who: Option<(&str, &str)>| {
        let mut r = lrs.client.get(format!("{}{path}", lrs.url));
        if let Some((k, s)) = who {
            r = r.basic_auth(k, Some(s));
        }
        r.send()
    };
    // Without a credential: the browser's sign-in prompt, and a page that
    // says what is needed (no part of the dashboard).
    let anonymous = get("/dashboard", None).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Basic realm=\"kmh\", charset=\"UTF-8\""
    );
    let text = anonymous.text().await.unwrap();
    assert!(
        text.contains("analytics/read") && text.contains("lang=\"fr\""),
        "{text}"
    );
    assert!(!text.contains("chart-funnel") && !text.contains("app.js"));
    let (rk, rs) = lrs.credential(&[Scope::AnalyticsRead], &[]);
    let wrong = get("/dashboard", Some((&rk, "wrong"))).await.unwrap();
    assert_eq!(wrong.status(), 401);
    let (wk, ws) = lrs.credential(&[Scope::StatementsWrite], &[]);
    let writer = get("/dashboard", Some((&wk, &ws))).await.unwrap();
    assert_eq!(writer.status(), 403);
    assert!(writer.text().await.unwrap().contains("lacks a read scope"));
    // Signing out: always 401, which makes a browser drop what it sent.
    let out = get("/dashboard/signout", Some((&rk, &rs))).await.unwrap();
    assert_eq!(out.status(), 401);
    assert!(out.headers().contains_key("www-authenticate"));

    let page = get("/dashboard", Some((&rk, &rs))).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"));
    let html = page.text().await.unwrap();
    for id in [
        "chart-funnel",
        "chart-prepost",
        "chart-time",
        "chart-satisfaction",
        "/dashboard/app.js",
    ] {
        assert!(html.contains(id), "{id}");
    }
    for (path, kind) in [
        ("/dashboard/app.js", "javascript"),
        ("/dashboard/app.css", "css"),
    ] {
        let r = lrs
            .client
            .get(format!("{}{path}", lrs.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().contains(kind));
        assert!(!r.text().await.unwrap().contains("http://cdn"));
    }
    lrs.stop().await;
}

fn kmh() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kmh"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn read_models_survive_restarts_and_reindex_and_feed_kmh_report() {
    let lrs = Lrs::start().await;
    load(&lrs).await;
    let before = analytics(&lrs, "/analytics/overview").await;

    // Through a running server (the store is locked): `kmh report` uses
    // the admin token the server leaves in the data folder.
    let data = lrs.dir.path().to_owned();
    std::fs::write(
        data.join("server.json"),
        json!({"url": lrs.url}).to_string(),
    )
    .unwrap();
    std::fs::write(data.join("admin.token"), "test-admin-token").unwrap();
    let remote = tokio::task::spawn_blocking({
        let data = data.clone();
        move || {
            run(kmh()
                .args(["report", "--format", "json", "--data"])
                .arg(&data))
        }
    })
    .await
    .unwrap();
    let remote: Value = serde_json::from_str(&remote).unwrap();
    assert_eq!(remote["summary"], before["summary"]);

    let dir = lrs.stop().await;
    std::fs::remove_file(data.join("server.json")).unwrap();
    let strip = |mut v: Value| {
        v["generated"] = Value::Null;
        v
    };
    // Reopened: the rows written at ingest are read back.
    let lrs = Lrs::start_in(dir).await;
    assert_eq!(
        strip(analytics(&lrs, "/analytics/overview").await),
        strip(before.clone())
    );
    let dir = lrs.stop().await;

    // On the data folder directly.
    let reindex = run(kmh().args(["reindex", "--data"]).arg(dir.path()));
    assert!(reindex.contains("5 learner enrolments"), "{reindex}");
    let table = run(kmh().args(["report", "--data"]).arg(dir.path()));
    assert!(
        table.contains("Enrolled 5 · started 4 (80%) · completed 2 (40%) · passed 1 (20%)"),
        "{table}"
    );
    assert!(table.contains("s01-intro"), "{table}");
    let csv = run(kmh()
        .args(["report", "--format", "csv", "--country", "NG", "--data"])
        .arg(dir.path()));
    assert!(csv.starts_with("section,indicator,key,value\r\n"), "{csv}");
    assert!(csv.contains("summary,enrolled,,2\r\n"), "{csv}");
    let out = dir.path().join("progress.csv");
    run(kmh()
        .args(["report", "progress", "--format", "csv", "--out"])
        .arg(&out)
        .arg("--data")
        .arg(dir.path()));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        1 + 5 * 4
    );

    let lrs = Lrs::start_in(dir).await;
    assert_eq!(
        strip(analytics(&lrs, "/analytics/overview").await),
        strip(before)
    );
    lrs.stop().await;
}

#[tokio::test]
async fn statements_outside_any_course_leave_the_indicators_alone() {
    let lrs = Lrs::start().await;
    let r = lrs
        .req(Method::POST, "/statements")
        .json(&json!([crate::common::statement(1), {
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "https://elsewhere.example.org/page"}
        }]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let o = analytics(&lrs, "/analytics/overview").await;
    // The common test statement is a module completion in the course.
    assert_eq!(o["summary"]["enrolled"], 1);
    assert_eq!(o["options"]["courses"].as_array().unwrap().len(), 1);
    lrs.stop().await;
}

// ---------------------------------------------------------------- browser

/// Whether Debian's Chromium can run. Outside CI a missing Chromium skips
/// the browser test with a message; in CI (`CI=true`) it fails it.
fn chromium_available() -> bool {
    let found = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is missing in CI: run .ci/install-test-deps");
        }
        eprintln!(
            "SKIPPED dashboard browser test: chromium not found (apt-get install chromium, or run .ci/install-test-deps)"
        );
    }
    found
}

/// Runs headless Chromium on `url` with `args` and returns its stdout.
fn chromium(profile: &std::path::Path, url: &str, args: &[&str]) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--force-device-scale-factor=1",
            "--window-size=1280,1400",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn dashboard_draws_its_charts_in_headless_chromium() {
    if !chromium_available() {
        return;
    }
    let lrs = Lrs::start().await;
    let cfg = kmh::analytics::demo::Config {
        learners: 60,
        seed: 7,
        now_ms: 1_790_000_000_000,
    };
    let all: Vec<Value> = (0..cfg.learners)
        .flat_map(|n| kmh::analytics::demo::learner_statements(&cfg, n))
        .collect();
    for chunk in all.chunks(1000) {
        let r = lrs.post(&Value::Array(chunk.to_vec())).await;
        assert_eq!(r.status(), 200);
    }
    let (key, secret) = lrs.credential(&[Scope::AnalyticsRead], &[]);
    // What the browser does after its sign-in prompt: the credential goes
    // with the page's request and, from the browser's cache, with the
    // page's own requests for data.
    let url = format!(
        "{}/dashboard",
        lrs.url
            .replacen("http://", &format!("http://{key}:{secret}@"), 1)
    );
    let work = tempfile::tempdir().unwrap();
    let shot = work.path().join("dashboard.png");
    let (dom, png) = tokio::task::spawn_blocking({
        let (url, work, shot) = (url.clone(), work.path().to_owned(), shot.clone());
        move || {
            let dom = chromium(&work.join("profile-dom"), &url, &["--dump-dom"]);
            chromium(
                &work.join("profile-shot"),
                &url,
                &[&format!("--screenshot={}", shot.display())],
            );
            (
                dom,
                std::fs::read(&shot).expect("the screenshot was written"),
            )
        }
    })
    .await
    .unwrap();

    // The page was let in with the credential and drew every chart as SVG
    // from data fetched with it.
    assert!(dom.contains("data-ready=\"true\""), "not ready:\n{dom}");
    assert!(!dom.contains(&secret), "the secret stays out of the page");
    for chart in [
        "chart-funnel",
        "chart-prepost",
        "chart-time",
        "chart-satisfaction",
    ] {
        let at = dom.find(&format!("id=\"{chart}\"")).unwrap();
        let rest = &dom[at..];
        assert!(
            rest[..rest.find("</section>").unwrap()].contains("<svg"),
            "{chart} has no chart"
        );
    }
    assert!(dom.contains(">60<"), "the enrolled count shows: {dom}");

    // The screenshot shows each chart's colours, in its place: funnel and
    // pre/post side by side above enrolments over time and satisfaction.
    let img = png::decode(&png);
    assert_eq!(img.width, 1280);
    let count = |rgb: (u8, u8, u8), left: bool| {
        img.count(rgb, 6, |x, _| if left { x < 640 } else { x >= 640 })
    };
    let completed_bars = count((0x1d, 0x4e, 0xd8), true);
    let pre_bars = count((0xf5, 0x9e, 0x0b), false);
    let post_bars = count((0x05, 0x96, 0x69), false);
    let completion_area = count((0xc4, 0xb5, 0xfd), true);
    let strongly_agree = count((0x04, 0x78, 0x57), false);
    for (what, n) in [
        ("funnel bars", completed_bars),
        ("pre-assessment bars", pre_bars),
        ("post-assessment bars", post_bars),
        ("completions over time", completion_area),
        ("satisfaction bars", strongly_agree),
    ] {
        assert!(n > 2000, "{what}: only {n} pixels of its colour");
    }

    // Without a credential the browser gets a sign-in prompt (headless
    // Chromium cancels it), not the dashboard.
    let anonymous = tokio::task::spawn_blocking({
        let (url, work) = (format!("{}/dashboard", lrs.url), work.path().to_owned());
        move || chromium(&work.join("profile-anon"), &url, &["--dump-dom"])
    })
    .await
    .unwrap();
    assert!(
        !anonymous.contains("data-ready") && !anonymous.contains("chart-funnel"),
        "{anonymous}"
    );

    // A credential limited to one country: the page shows that country's
    // learners only, and offers no other country to filter by.
    let all = analytics(&lrs, "/analytics/overview").await;
    let countries: Vec<String> = all["options"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap().to_owned())
        .collect();
    assert!(countries.len() > 2, "{countries:?}");
    let one = &countries[0];
    let theirs = analytics(&lrs, &format!("/analytics/overview?country={one}")).await;
    let enrolled = theirs["summary"]["enrolled"].as_u64().unwrap();
    let issued: Value = admin_credential(
        &lrs,
        json!({"scopes": ["analytics/read"], "countries": [one]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let url = format!(
        "{}/dashboard",
        lrs.url.replacen(
            "http://",
            &format!(
                "http://{}:{}@",
                issued["key"].as_str().unwrap(),
                issued["secret"].as_str().unwrap()
            ),
            1
        )
    );
    let scoped = tokio::task::spawn_blocking({
        let work = work.path().to_owned();
        move || chromium(&work.join("profile-scoped"), &url, &["--dump-dom"])
    })
    .await
    .unwrap();
    assert!(
        scoped.contains("data-ready=\"true\""),
        "not ready:\n{scoped}"
    );
    assert!(
        scoped.contains(&format!(">{enrolled}<")),
        "{enrolled} enrolled: {scoped}"
    );
    let select = &scoped[scoped.find("id=\"f-country\"").unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    for c in &countries {
        assert_eq!(
            select.contains(&format!("value=\"{c}\"")),
            c == one,
            "country {c} in the filter: {select}"
        );
    }
    lrs.stop().await;
}

/// A minimal PNG reader (8-bit RGB/RGBA, no interlace: what Chromium
/// writes) with its own inflate (RFC 1951), so the test needs no crate.
mod png {
    pub struct Image {
        pub width: usize,
        pub height: usize,
        channels: usize,
        pixels: Vec<u8>,
    }

    impl Image {
        /// Pixels within `tolerance` of `rgb` where `keep(x, y)` holds.
        pub fn count(
            &self,
            rgb: (u8, u8, u8),
            tolerance: u8,
            keep: impl Fn(usize, usize) -> bool,
        ) -> usize {
            let near = |a: u8, b: u8| a.abs_diff(b) <= tolerance;
            let mut n = 0;
            for y in 0..self.height {
                for x in 0..self.width {
                    let p = &self.pixels[(y * self.width + x) * self.channels..];
                    if near(p[0], rgb.0) && near(p[1], rgb.1) && near(p[2], rgb.2) && keep(x, y) {
                        n += 1;
                    }
                }
            }
            n
        }
    }

    pub fn decode(png: &[u8]) -> Image {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        let (mut width, mut height, mut channels) = (0, 0, 0);
        let mut idat = Vec::new();
        let mut at = 8;
        while at + 8 <= png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + len];
            match kind {
                b"IHDR" => {
                    width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                    height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                    assert_eq!(data[8], 8, "bit depth");
                    channels = match data[9] {
                        2 => 3,
                        6 => 4,
                        t => panic!("colour type {t}"),
                    };
                    assert_eq!(data[12], 0, "interlaced");
                }
                b"IDAT" => idat.extend_from_slice(data),
                b"IEND" => break,
                _ => {}
            }
            at += 12 + len;
        }
        let raw = inflate(&idat[2..]);
        let stride = width * channels;
        let mut pixels = vec![0u8; stride * height];
        for y in 0..height {
            let filter = raw[y * (stride + 1)];
            let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
            for i in 0..stride {
                let a = if i >= channels {
                    pixels[y * stride + i - channels]
                } else {
                    0
                };
                let b = if y > 0 {
                    pixels[(y - 1) * stride + i]
                } else {
                    0
                };
                let c = if y > 0 && i >= channels {
                    pixels[(y - 1) * stride + i - channels]
                } else {
                    0
                };
                let predicted = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((a as u16 + b as u16) / 2) as u8,
                    4 => {
                        let p = a as i16 + b as i16 - c as i16;
                        let (pa, pb, pc) = (
                            (p - a as i16).abs(),
                            (p - b as i16).abs(),
                            (p - c as i16).abs(),
                        );
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                    f => panic!("filter {f}"),
                };
                pixels[y * stride + i] = line[i].wrapping_add(predicted);
            }
        }
        Image {
            width,
            height,
            channels,
            pixels,
        }
    }

    struct Bits<'a> {
        data: &'a [u8],
        pos: usize,
        buf: u32,
        count: u32,
    }

    impl Bits<'_> {
        fn bits(&mut self, n: u32) -> u32 {
            while self.count < n {
                self.buf |= (self.data[self.pos] as u32) << self.count;
                self.pos += 1;
                self.count += 8;
            }
            let v = self.buf & ((1u32 << n) - 1);
            self.buf >>= n;
            self.count -= n;
            v
        }

        fn decode(&mut self, h: &Huffman) -> usize {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= self.bits(1) as i32;
                let count = h.count[len] as i32;
                if code - count < first {
                    return h.symbol[(index + code - first) as usize] as usize;
                }
                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }
            panic!("bad Huffman code");
        }
    }

    struct Huffman {
        count: [u16; 16],
        symbol: Vec<u16>,
    }

    fn huffman(lengths: &[u8]) -> Huffman {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + count[len];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        Huffman { count, symbol }
    }

    const LBASE: [usize; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEXT: [u32; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DBASE: [usize; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DEXT: [u32; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];

    fn inflate(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = Bits {
            data,
            pos: 0,
            buf: 0,
            count: 0,
        };
        loop {
            let last = s.bits(1);
            match s.bits(2) {
                0 => {
                    s.buf = 0;
                    s.count = 0;
                    let len = u16::from_le_bytes([data[s.pos], data[s.pos + 1]]) as usize;
                    s.pos += 4;
                    out.extend_from_slice(&data[s.pos..s.pos + len]);
                    s.pos += len;
                }
                kind => {
                    let (lit, dist) = if kind == 1 {
                        let mut l = [8u8; 288];
                        l[144..256].fill(9);
                        l[256..280].fill(7);
                        (huffman(&l), huffman(&[5u8; 30]))
                    } else {
                        let nlen = s.bits(5) as usize + 257;
                        let ndist = s.bits(5) as usize + 1;
                        let ncode = s.bits(4) as usize + 4;
                        const ORDER: [usize; 19] = [
                            16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                        ];
                        let mut cl = [0u8; 19];
                        for &i in &ORDER[..ncode] {
                            cl[i] = s.bits(3) as u8;
                        }
                        let clh = huffman(&cl);
                        let mut lengths = Vec::with_capacity(nlen + ndist);
                        while lengths.len() < nlen + ndist {
                            match s.decode(&clh) {
                                sym @ 0..=15 => lengths.push(sym as u8),
                                16 => {
                                    let prev = *lengths.last().unwrap();
                                    let n = 3 + s.bits(2) as usize;
                                    lengths.extend(std::iter::repeat_n(prev, n));
                                }
                                17 => {
                                    let n = 3 + s.bits(3) as usize;
                                    lengths.extend(std::iter::repeat_n(0, n));
                                }
                                _ => {
                                    let n = 11 + s.bits(7) as usize;
                                    lengths.extend(std::iter::repeat_n(0, n));
                                }
                            }
                        }
                        (huffman(&lengths[..nlen]), huffman(&lengths[nlen..]))
                    };
                    loop {
                        let sym = s.decode(&lit);
                        if sym < 256 {
                            out.push(sym as u8);
                        } else if sym == 256 {
                            break;
                        } else {
                            let i = sym - 257;
                            let len = LBASE[i] + s.bits(LEXT[i]) as usize;
                            let d = s.decode(&dist);
                            let back = DBASE[d] + s.bits(DEXT[d]) as usize;
                            let start = out.len() - back;
                            for k in 0..len {
                                out.push(out[start + k]);
                            }
                        }
                    }
                }
            }
            if last == 1 {
                break;
            }
        }
        out
    }
}

/// Issues a credential through the admin HTTP API (as `kmh creds add` does
/// while the server runs).
async fn admin_credential(lrs: &Lrs, request: Value) -> reqwest::Response {
    lrs.client
        .post(format!("{}/admin/credentials", lrs.url))
        .bearer_auth("test-admin-token")
        .json(&request)
        .send()
        .await
        .unwrap()
}

/// Every statement a credential may read, following `more` links.
async fn all_statements(lrs: &Lrs, (key, secret): (&str, &str), query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = format!("/xapi/statements?{query}");
    loop {
        let r = lrs
            .client
            .get(format!("{}{next}", lrs.url))
            .basic_auth(key, Some(secret))
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET {next}");
        let page: Value = r.json().await.unwrap();
        out.extend(page["statements"].as_array().unwrap().iter().cloned());
        match page["more"].as_str() {
            Some(m) if !m.is_empty() => next = m.to_owned(),
            _ => return out,
        }
    }
}

#[tokio::test]
async fn scoped_credentials_read_only_their_slice_of_learners() {
    let server = Lrs::start().await;
    let lrs = &server;
    let mut sent = cohort();
    // L1 in a page statement without extensions: placed by their enrolment.
    let mut bare = st(
        &L1,
        "experienced",
        "s01-intro",
        None,
        json!({}),
        "01-07T10:25",
    );
    bare["context"]
        .as_object_mut()
        .unwrap()
        .remove("extensions");
    sent.push(bare);
    // A learner from Senegal in another course, and a statement outside any course.
    let mut other = st(&L5, "registered", "", None, json!({}), "01-11T09:00");
    other["object"]["id"] = json!("urn:kmh:course:other");
    other["context"]["contextActivities"]["grouping"][0]["id"] = json!("urn:kmh:course:other");
    sent.push(other);
    let mut outside = st(&L1, "experienced", "", None, json!({}), "01-11T09:00");
    outside["object"] = json!({"id": "https://elsewhere.example/page"});
    outside["context"]
        .as_object_mut()
        .unwrap()
        .remove("contextActivities");
    sent.push(outside);
    let r = lrs.post(&Value::Array(sent.clone())).await;
    assert_eq!(r.status(), 200);
    let ids: Vec<String> = r.json().await.unwrap();

    // Senegal only, through the admin HTTP API.
    let r = admin_credential(
        lrs,
        json!({"scopes": ["analytics/read", "statements/read"], "countries": ["sn"], "label": "SN officer"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let issued: Value = r.json().await.unwrap();
    assert_eq!(issued["countries"], json!(["SN"]));
    let sn = (
        issued["key"].as_str().unwrap().to_owned(),
        issued["secret"].as_str().unwrap().to_owned(),
    );
    let sn = (sn.0.as_str(), sn.1.as_str());

    // The indicators: the same numbers as the country=SN filter, and no more.
    let get = |path: &'static str| async move {
        let r = get_as(lrs, sn, path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json::<Value>().await.unwrap()
    };
    let o = get("/analytics/overview?course=reintegration-me").await;
    let s = &o["summary"];
    assert_eq!(
        [&s["enrolled"], &s["started"], &s["completed"], &s["passed"]],
        [2, 2, 1, 1]
    );
    assert_eq!(
        o["options"]["countries"],
        json!([{"value": "SN", "learners": 2}])
    );
    let courses: Vec<(&str, u64)> = o["options"]["courses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["learners"].as_u64().unwrap()))
        .collect();
    assert_eq!(courses, [("reintegration-me", 2), ("other", 1)]);
    let ml = get("/analytics/overview?course=reintegration-me&country=ML").await;
    assert_eq!(
        ml["summary"]["enrolled"], 0,
        "a filter cannot widen the slice"
    );
    let learners = get("/analytics/learners?course=reintegration-me&limit=50").await;
    assert_eq!(learners["total"], 2);
    assert!(
        learners["learners"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["country"] == "SN")
    );
    // Another country's learner is not found by pseudonym either.
    let everyone = analytics(lrs, "/analytics/learners?course=reintegration-me&limit=50").await;
    let l2 = everyone["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["country"] == "ML")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = get_as(lrs, sn, &format!("/analytics/learners/{l2}")).await;
    assert_eq!(r.status(), 404);
    let r = get_as(
        lrs,
        (&lrs.key, &lrs.secret),
        &format!("/analytics/learners/{l2}"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let csv = get_as(lrs, sn, "/analytics/progress.csv?course=reintegration-me")
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = csv.trim_end().lines().skip(1).collect();
    assert_eq!(rows.len(), 2 * 4, "two learners × four modules");
    assert!(
        rows.iter().all(|r| r.split(',').nth(1) == Some("SN")),
        "{csv}"
    );

    // Statements: those about Senegal's learners, in every page size.
    let want: Vec<&str> = sent
        .iter()
        .zip(&ids)
        .filter(|(s, _)| {
            let learner = s["actor"]["account"]["name"].as_str().unwrap();
            let in_course = s["object"]["id"] != "https://elsewhere.example/page";
            in_course && (learner == "l1" || learner == "l5")
        })
        .map(|(_, id)| id.as_str())
        .collect();
    assert!(want.len() > 20, "{}", want.len());
    for query in ["ascending=true", "ascending=true&limit=3"] {
        let got = all_statements(lrs, sn, query).await;
        let got: Vec<&str> = got.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(got, want, "{query}");
    }
    let by_id = |id: &str| {
        let url = format!("{}/xapi/statements?statementId={id}", lrs.url);
        let client = lrs.client.clone();
        async move {
            client
                .get(url)
                .basic_auth(sn.0, Some(sn.1))
                .header("X-Experience-API-Version", "1.0.3")
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let l2_statement = sent
        .iter()
        .position(|s| s["actor"]["account"]["name"] == "l2")
        .unwrap();
    assert_eq!(by_id(&ids[l2_statement]).await, 404);
    assert_eq!(by_id(&ids[sent.len() - 3]).await, 200, "the bare statement");
    assert_eq!(by_id(&ids[sent.len() - 1]).await, 404, "outside any course");
    let agents = lrs
        .client
        .get(format!("{}/xapi/agents", lrs.url))
        .query(&[(
            "agent",
            r#"{"account":{"homePage":"https://lms.example.org","name":"l2"}}"#,
        )])
        .basic_auth(sn.0, Some(sn.1))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(agents.status(), 403);

    // Cohort B of one course; and another course only.
    let r = admin_credential(
        lrs,
        json!({"scopes": ["analytics/read"], "cohorts": ["B"], "courses": ["reintegration-me"]}),
    )
    .await;
    let b: Value = r.json().await.unwrap();
    let b = (b["key"].as_str().unwrap(), b["secret"].as_str().unwrap());
    let o: Value = get_as(lrs, b, "/analytics/overview")
        .await
        .json()
        .await
        .unwrap();
    let s = &o["summary"];
    assert_eq!([&s["enrolled"], &s["started"], &s["completed"]], [2, 1, 0]);
    let r = lrs
        .client
        .get(format!("{}/xapi/statements", lrs.url))
        .basic_auth(b.0, Some(b.1))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "analytics/read alone does not read statements"
    );
    let r = admin_credential(
        lrs,
        json!({"scopes": ["analytics/read"], "courses": ["urn:kmh:course:other"]}),
    )
    .await;
    let other: Value = r.json().await.unwrap();
    let other = (
        other["key"].as_str().unwrap(),
        other["secret"].as_str().unwrap(),
    );
    let o: Value = get_as(lrs, other, "/analytics/overview")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(o["course"]["id"], "other");
    assert_eq!(o["summary"]["enrolled"], 1);
    let r = get_as(lrs, other, "/analytics/overview?course=reintegration-me").await;
    assert_eq!(
        r.status(),
        400,
        "a course outside the slice does not exist for it"
    );

    // Limits only make sense on read credentials, with real country codes.
    for (request, message) in [
        (
            json!({"scopes": ["statements/write"], "cohorts": ["A"]}),
            "may only read",
        ),
        (
            json!({"scopes": ["all"], "countries": ["SN"]}),
            "may only read",
        ),
        (
            json!({"scopes": ["analytics/read"], "countries": ["SEN"]}),
            "not an ISO 3166-1 alpha-2 code",
        ),
        (
            json!({"scopes": ["analytics/read"], "cohorts": [" "]}),
            "empty cohort",
        ),
    ] {
        let r = admin_credential(lrs, request.clone()).await;
        assert_eq!(r.status(), 400, "{request}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains(message),
            "{request}: {body}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn kmh_creds_and_kmh_report_with_a_scoped_credential() {
    // `kmh creds add` on a data folder: limits are checked and kept.
    let folder = tempfile::tempdir().unwrap();
    let creds = |args: &[&str]| {
        kmh()
            .args(["creds", "--data"])
            .arg(folder.path())
            .args(args)
            .output()
            .unwrap()
    };
    let bad = creds(&["add", "--scope", "statements/write", "--cohort", "A"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("may only read"));
    let bad = creds(&["add", "--scope", "analytics/read", "--country", "Senegal"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("country \"Senegal\" is not an ISO 3166-1 alpha-2 code")
    );
    let ok = creds(&[
        "add",
        "--scope",
        "analytics/read",
        "--country",
        "sn,ml",
        "--cohort",
        "A",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout)
            .contains("countries: SN, ML (reads only these learners)")
    );
    let list: Value = serde_json::from_slice(&creds(&["list", "--json"]).stdout).unwrap();
    assert_eq!(list[0]["countries"], json!(["SN", "ML"]));
    assert_eq!(list[0]["cohorts"], json!(["A"]));

    // `kmh report --server` as a staff member of Senegal.
    let lrs = Lrs::start().await;
    load(&lrs).await;
    let r = admin_credential(
        &lrs,
        json!({"scopes": ["analytics/read"], "countries": ["SN"]}),
    )
    .await;
    let issued: Value = r.json().await.unwrap();
    let (key, secret) = (
        issued["key"].as_str().unwrap().to_owned(),
        issued["secret"].as_str().unwrap().to_owned(),
    );
    let url = lrs.url.clone();
    let report = move |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (url, key, secret) = (url.clone(), key.clone(), secret.clone());
        tokio::task::spawn_blocking(move || {
            kmh()
                .arg("report")
                .args(&args)
                .args(["--server", &format!("{url}/xapi/"), "--key", &key])
                .env("KMH_SECRET", &secret)
                .env_remove("KMH_DATA")
                .output()
                .unwrap()
        })
    };
    let out = report(&["--format", "json"]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(o["summary"]["enrolled"], 2);
    assert_eq!(
        o["options"]["countries"],
        json!([{"value": "SN", "learners": 2}])
    );
    let out = report(&["learners", "--format", "csv"]).await.unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        csv.trim_end().lines().count(),
        3,
        "header and two learners:\n{csv}"
    );
    assert!(!csv.contains(",ML,") && csv.contains(",SN,"), "{csv}");
    let out = report(&["--identities", "learners", "--format", "csv"])
        .await
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("Learner l"),
        "no identities without the scope"
    );
    let wrong = tokio::task::spawn_blocking({
        let url = lrs.url.clone();
        move || {
            kmh()
                .args(["report", "--server", &url, "--key", "nobody"])
                .env("KMH_SECRET", "nothing")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"));
    lrs.stop().await;
}

/// No view names a learner without the identities scope: every analytics
/// endpoint, the CSV, and `kmh report` on the data folder.
#[tokio::test]
async fn no_view_names_learners_without_the_identities_scope() {
    let lrs = Lrs::start().await;
    load(&lrs).await;
    let (rk, rs) = lrs.credential(&[Scope::AnalyticsRead], &[]);
    let (sk, ss) = lrs.credential(&[Scope::StatementsRead], &[]);
    let (ik, is) = lrs.credential(&[Scope::AnalyticsRead, Scope::Identities], &[]);
    let names = |text: &str| text.contains("lms.example.org") || text.contains("Learner l");
    let page: Value = get_as(&lrs, (&rk, &rs), "/analytics/learners")
        .await
        .json()
        .await
        .unwrap();
    let pid = page["learners"][0]["id"].as_str().unwrap().to_owned();
    let paths = [
        "/analytics/overview".to_owned(),
        "/analytics/learners?limit=500".to_owned(),
        "/analytics/learners?q=l1".to_owned(),
        format!("/analytics/learners/{pid}"),
        "/analytics/progress".to_owned(),
        "/analytics/progress.csv".to_owned(),
    ];
    for path in &paths {
        for who in [(&rk, &rs), (&sk, &ss)] {
            let r = get_as(&lrs, (who.0, who.1), path).await;
            assert_eq!(r.status(), 200, "{path}");
            let text = r.text().await.unwrap();
            assert!(!names(&text), "{path} names a learner: {text}");
        }
    }
    // The identities scope is what shows them (so the check above can fail).
    for path in &paths[1..] {
        if path.contains("q=") {
            continue;
        }
        let text = get_as(&lrs, (&ik, &is), path).await.text().await.unwrap();
        assert!(names(&text), "{path} with identities: {text}");
    }
    let dir = lrs.stop().await;
    for view in ["indicators", "progress", "learners", "questions"] {
        for format in ["table", "csv", "json"] {
            let out = run(kmh()
                .args(["report", view, "--format", format, "--data"])
                .arg(dir.path()));
            assert!(!names(&out), "kmh report {view} --format {format}: {out}");
        }
    }
    let out = run(kmh()
        .args([
            "report",
            "learners",
            "--identities",
            "--format",
            "csv",
            "--data",
        ])
        .arg(dir.path()));
    assert!(names(&out), "--identities shows them: {out}");
}

/// A statement by a learner of some LMS (`actor`) starting module s01,
/// with `country` as its `urn:kmh:ext:country` when given.
fn started_by(actor: Value, country: Option<&str>) -> Value {
    let mut extensions = json!({"urn:kmh:ext:cohort": "A"});
    if let Some(c) = country {
        extensions["urn:kmh:ext:country"] = json!(c);
    }
    json!({
        "actor": actor,
        "verb": {"id": format!("{ADL}initialized")},
        "object": {"id": format!("{C}/s01-intro")},
        "context": {"contextActivities": {"grouping": [{"id": C, "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}]},
                    "extensions": extensions},
        "timestamp": "2026-01-05T10:00:00Z",
    })
}

/// Learners counted in the country of their LMS (`kmh serve
/// --country-of-lms`, `--lms-countries`), in a store that keeps them by
/// pseudonym; through `/analytics`, `kmh report` on the running server and
/// on the data folder after a restart with another mapping.
///
/// | learner | account homePage | `urn:kmh:ext:country` | first mapping | second mapping |
/// |---|---|---|---|---|
/// | s1 | https://moodle.example.sn | – | SN | – |
/// | s2 | HTTPS://MOODLE.example.sn/ | – | SN | – |
/// | s3 | https://moodle.example.sn | CI | CI | CI |
/// | m1 | https://totara.example.ml | – | ML (file) | – |
/// | o1 | https://other.example | – | – | GH |
/// | e1 | (mbox) | – | – | – |
#[test]
fn learners_count_in_the_country_of_their_lms() {
    use crate::cli::{output, serve_with, sigterm};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let account = |home: &str, name: &str| json!({"account": {"homePage": home, "name": name}});

    // Bad values are refused before anything is stored, naming the value.
    let (ok, _, err) = output(kmh().args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data,
        "--country-of-lms",
        "https://moodle.example.sn=SEN",
    ]));
    assert!(
        !ok && err.contains("\"SEN\"") && err.contains("ISO 3166-1"),
        "{err}"
    );
    let file = dir.path().join("lms-countries.txt");
    std::fs::write(&file, "# partner LMSs\nhttps://totara.example.ml Mali\n").unwrap();
    let (ok, _, err) = output(
        kmh()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data",
                data,
                "--lms-countries",
            ])
            .arg(&file),
    );
    assert!(
        !ok && err.contains("line 2") && err.contains("\"Mali\""),
        "{err}"
    );

    std::fs::write(&file, "# partner LMSs\nhttps://totara.example.ml ML\n").unwrap();
    let mut server = serve_with(
        data,
        &[
            "--no-courses",
            "--country-of-lms",
            "https://moodle.example.sn/=SN",
            "--lms-countries",
            file.to_str().unwrap(),
        ],
    );
    let client = reqwest::blocking::Client::new();
    let r = client
        .post(format!("{}/xapi/statements", server.url))
        .basic_auth(&server.key, Some(&server.secret))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&json!([
            started_by(account("https://moodle.example.sn", "s1"), None),
            started_by(account("HTTPS://MOODLE.example.sn/", "s2"), None),
            started_by(account("https://moodle.example.sn", "s3"), Some("CI")),
            started_by(account("https://totara.example.ml", "m1"), None),
            started_by(account("https://other.example", "o1"), None),
            started_by(json!({"mbox": "mailto:e1@example.org"}), None),
        ]))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    // A restarted server prints no credential: the first one stays valid.
    let (key, secret) = (server.key.clone(), server.secret.clone());
    let enrolled = |server: &crate::cli::Server, country: &str| -> Value {
        let r = client
            .get(format!(
                "{}/analytics/overview?country={country}",
                server.url
            ))
            .basic_auth(&key, Some(&secret))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["summary"]["enrolled"].clone()
    };
    assert_eq!(enrolled(&server, "SN"), 2);
    assert_eq!(enrolled(&server, "sn"), 2);
    assert_eq!(enrolled(&server, "CI"), 1);
    assert_eq!(enrolled(&server, "ML"), 1);
    assert_eq!(enrolled(&server, "GH"), 0);
    let r = client
        .get(format!("{}/analytics/overview", server.url))
        .basic_auth(&server.key, Some(&server.secret))
        .send()
        .unwrap();
    let all: Value = r.json().unwrap();
    assert_eq!(all["summary"]["enrolled"], 6);
    assert_eq!(
        all["options"]["countries"],
        json!([{"value": "CI", "learners": 1}, {"value": "ML", "learners": 1},
               {"value": "SN", "learners": 2}])
    );
    // Pseudonymised: no LMS account is stored with the statements.
    let r = client
        .get(format!("{}/xapi/statements?limit=10", server.url))
        .basic_auth(&server.key, Some(&server.secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .unwrap();
    assert!(!r.text().unwrap().contains("moodle.example.sn"));

    // `kmh report` through the running server counts the same.
    let (ok, csv, err) = output(kmh().args([
        "report",
        "--format",
        "csv",
        "--country",
        "SN",
        "--data",
        data,
    ]));
    assert!(ok, "{err}");
    assert!(csv.contains("summary,enrolled,,2\r\n"), "{csv}");
    assert!(sigterm(&mut server.child).success());

    // Another mapping replaces the kept one; the statements already
    // stored count by it at once.
    let mut server = serve_with(
        data,
        &[
            "--no-courses",
            "--country-of-lms",
            "https://other.example=gh",
        ],
    );
    assert_eq!(enrolled(&server, "GH"), 1);
    assert_eq!(enrolled(&server, "SN"), 0);
    assert_eq!(enrolled(&server, "ML"), 0);
    assert_eq!(enrolled(&server, "CI"), 1, "the extension still wins");
    assert!(sigterm(&mut server.child).success());

    // The data folder keeps the mapping for `kmh report` and `kmh reindex`.
    let (ok, csv, err) = output(kmh().args([
        "report",
        "--format",
        "csv",
        "--country",
        "GH",
        "--data",
        data,
    ]));
    assert!(ok && csv.contains("summary,enrolled,,1\r\n"), "{csv}{err}");
    let (ok, _, err) = output(kmh().args(["reindex", "--data", data]));
    assert!(ok, "{err}");
    let (ok, csv, err) = output(kmh().args([
        "report",
        "--format",
        "csv",
        "--country",
        "GH",
        "--data",
        data,
    ]));
    assert!(ok && csv.contains("summary,enrolled,,1\r\n"), "{csv}{err}");
}
