//! Whole-statement tests: the spec's examples, the public API, and the
//! cases of the ADL conformance suite that involve more than one object.
//! Rules local to one object are tested beside their code.

use serde_json::{Value, json};

use super::*;

const V1: Version = Version::V1_0_3;
const V2: Version = Version::V2_0_0;

fn base() -> Value {
    json!({
        "actor": {"mbox": "mailto:xapi@adlnet.gov"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/created", "display": {"en-US": "created"}},
        "object": {"id": "http://example.adlnet.gov/xapi/example/activity"}
    })
}

fn with(mut s: Value, key: &str, v: Value) -> Value {
    if let Some(map) = s.as_object_mut() {
        map.insert(key.to_owned(), v);
    }
    s
}

fn without(mut s: Value, key: &str) -> Value {
    if let Some(map) = s.as_object_mut() {
        map.remove(key);
    }
    s
}

/// `"ok"` or `"path: rule"`.
fn check(s: &Value, version: Version) -> String {
    match statement(s, version) {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

fn both(s: &Value) -> String {
    let v1 = check(s, V1);
    assert_eq!(v1, check(s, V2), "1.0.3 and 2.0.0 disagree on {s}");
    v1
}

fn substatement(object: Value) -> Value {
    with(
        base(),
        "object",
        json!({
            "objectType": "SubStatement",
            "actor": {"objectType": "Agent", "mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": object
        }),
    )
}

fn sub_with(key: &str, v: Value) -> Value {
    let mut s = substatement(json!({"id": "http://example.com/website"}));
    s["object"][key] = v;
    s
}

#[test]
fn spec_examples_are_valid() {
    // §2.4 "the simplest possible Statement", Appendix A and B.
    let simplest = with(base(), "id", json!("12345678-1234-5678-1234-567812345678"));
    assert_eq!(both(&simplest), "ok");
    let long = json!({
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "actor": {
            "name": "Team PB", "mbox": "mailto:teampb@example.com", "objectType": "Group",
            "member": [
                {"name": "Andrew Downes", "account": {"homePage": "http://www.example.com", "name": "13936749"}, "objectType": "Agent"},
                {"name": "Toby Nichols", "openid": "http://toby.openid.example.org/", "objectType": "Agent"},
                {"name": "Ena Hills", "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9", "objectType": "Agent"}
            ]
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended", "en-US": "attended"}},
        "result": {
            "extensions": {"http://example.com/profiles/meetings/resultextensions/minuteslocation": "X:\\meetings\\minutes\\examplemeeting.one"},
            "success": true, "completion": true, "response": "We agreed on some example actions.", "duration": "PT1H0M0S"
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "contextActivities": {
                "parent": [{"id": "http://www.example.com/meetings/series/267", "objectType": "Activity"}],
                "category": [{"id": "http://www.example.com/meetings/categories/teammeeting", "objectType": "Activity",
                    "definition": {"name": {"en": "team meeting"}, "description": {"en": "A category of meeting used for regular team meetings."},
                    "type": "http://example.com/expapi/activities/meetingcategory"}}],
                "other": [{"id": "http://www.example.com/meetings/occurances/34257", "objectType": "Activity"},
                          {"id": "http://www.example.com/meetings/occurances/3425567", "objectType": "Activity"}]
            },
            "instructor": {"name": "Andrew Downes", "account": {"homePage": "http://www.example.com", "name": "13936749"}, "objectType": "Agent"},
            "team": {"name": "Team PB", "mbox": "mailto:teampb@example.com", "objectType": "Group"},
            "platform": "Example virtual meeting software",
            "language": "tlh",
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}
        },
        "timestamp": "2013-05-18T05:32:34.804+00:00",
        "stored": "2013-05-18T05:32:34.804+00:00",
        "authority": {"account": {"homePage": "http://cloud.scorm.com/", "name": "anonymous"}, "objectType": "Agent"},
        "version": "1.0.0",
        "object": {
            "id": "http://www.example.com/meetings/occurances/34534",
            "definition": {
                "extensions": {"http://example.com/profiles/meetings/activitydefinitionextensions/room": {"name": "Kilby", "id": "http://example.com/rooms/342"}},
                "name": {"en-GB": "example meeting", "en-US": "example meeting"},
                "description": {"en-GB": "An example meeting.", "en-US": "An example meeting."},
                "type": "http://adlnet.gov/expapi/activities/meeting",
                "moreInfo": "http://virtualmeeting.example.com/345256"
            },
            "objectType": "Activity"
        }
    });
    assert_eq!(both(&long), "ok");
    let voiding = json!({
        "actor": {"objectType": "Agent", "name": "Example Admin", "mbox": "mailto:admin@example.adlnet.gov"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}
    });
    assert_eq!(both(&voiding), "ok");
    let sub = with(
        base(),
        "object",
        json!({
            "objectType": "SubStatement",
            "actor": {"objectType": "Agent", "mbox": "mailto:agent@example.com"},
            "verb": {"id": "http://example.com/confirmed", "display": {"en": "confirmed"}},
            "object": {"objectType": "StatementRef", "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"}
        }),
    );
    assert_eq!(both(&sub), "ok");
}

#[test]
fn statement_must_be_an_object() {
    assert_eq!(both(&json!([])), "a Statement must be a JSON object");
    assert_eq!(both(&json!(null)), "a Statement must be a JSON object");
}

#[test]
fn actor_verb_and_object_are_required() {
    for key in ["actor", "verb", "object"] {
        assert_eq!(both(&without(base(), key)), format!("{key}: is required"));
    }
    assert_eq!(both(&json!({})), "actor: is required");
}

#[test]
fn null_values_are_rejected_outside_extensions() {
    for key in [
        "actor",
        "verb",
        "object",
        "context",
        "result",
        "id",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    ] {
        assert_eq!(
            both(&with(base(), key, Value::Null)),
            format!("{key}: must not be null")
        );
    }
    let ext = with(
        base(),
        "context",
        json!({"extensions": {"http://example.com/null": null}}),
    );
    assert_eq!(both(&ext), "ok");
}

#[test]
fn unknown_and_miscased_properties_are_rejected() {
    assert_eq!(
        both(&with(base(), "foo", json!(1))),
        "foo: is not a property of Statement"
    );
    for key in [
        "iD",
        "Actor",
        "Verb",
        "Object",
        "Result",
        "Context",
        "Timestamp",
        "Stored",
        "Authority",
        "Version",
        "Attachments",
    ] {
        assert_eq!(
            both(&with(base(), key, json!({}))),
            format!("{key}: is not a property of Statement")
        );
    }
}

#[test]
fn statement_id() {
    assert_eq!(
        both(&with(
            base(),
            "id",
            json!("fd41c918-b88b-4b20-a0a5-a4c32391aaa0")
        )),
        "ok"
    );
    for bad in [
        json!("AA97B177-9383-4934-8543-0F91A7A028368"),
        json!("MA97B177-9383-4934-8543-0F91A7A02836"),
        json!(""),
    ] {
        assert_eq!(
            both(&with(base(), "id", bad)),
            "id: must be a UUID in standard form (8-4-4-4-12 hex digits)"
        );
    }
    assert_eq!(
        both(&with(base(), "id", json!(12345))),
        "id: must be a string"
    );
    assert_eq!(
        both(&with(base(), "id", json!({"key": "x"}))),
        "id: must be a string"
    );
}

#[test]
fn verb() {
    assert_eq!(
        both(&with(base(), "verb", json!({"id": "http://a.b/v"}))),
        "ok"
    );
    assert_eq!(
        both(&with(
            base(),
            "verb",
            json!({"id": "http://a.b/v", "display": {}})
        )),
        "ok"
    );
    assert_eq!(
        both(&with(base(), "verb", json!({"display": {"en": "x"}}))),
        "verb.id: is required"
    );
    assert_eq!(
        both(&with(
            base(),
            "verb",
            json!({"id": "ab=c://should.fail.com"})
        )),
        "verb.id: must be an absolute IRI (with a scheme)"
    );
    assert_eq!(
        both(&with(
            base(),
            "verb",
            json!({"id": "adlnet.gov/expapi/verbs/created"})
        )),
        "verb.id: must be an absolute IRI (with a scheme)"
    );
    assert_eq!(
        both(&with(
            base(),
            "verb",
            json!({"id": "http://a.b/v", "display": 12345})
        )),
        "verb.display: must be an object"
    );
    assert_eq!(
        both(&with(
            base(),
            "verb",
            json!({"id": "http://a.b/v", "display": "a12345 attended"})
        )),
        "verb.display: must be an object"
    );
    assert_eq!(
        both(&with(
            base(),
            "verb",
            json!({"id": "http://a.b/v", "display": {"something": "besucht"}})
        )),
        "verb.display.something: is not a valid RFC 5646 language tag"
    );
    assert_eq!(
        both(&with(
            base(),
            "verb",
            json!({"id": "http://a.b/v", "Display": {}})
        )),
        "verb.Display: is not a property of Verb"
    );
    assert_eq!(
        both(&with(base(), "verb", json!("http://a.b/v"))),
        "verb: must be an object"
    );
}

#[test]
fn object_types() {
    let agent = json!({"objectType": "Agent", "mbox": "mailto:a@b.c"});
    let group = json!({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]});
    let sref = json!({"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"});
    for ok in [agent, group, sref] {
        assert_eq!(both(&with(base(), "object", ok)), "ok");
    }
    for bad in [
        "activity",
        "agent",
        "group",
        "statementref",
        "substatement",
        "Person",
    ] {
        let o = json!({"objectType": bad, "id": "http://a.b/c"});
        assert_eq!(
            both(&with(base(), "object", o)),
            "object.objectType: must be \"Activity\", \"Agent\", \"Group\", \"StatementRef\" or \"SubStatement\""
        );
    }
    // §2.4.4.2: an Agent or Group as object needs its objectType.
    let r = both(&with(base(), "object", json!({"mbox": "mailto:a@b.c"})));
    assert_eq!(
        r,
        "object.mbox: is not a property of Activity (an Agent or Group used as an object must have \"objectType\")"
    );
    assert!(
        both(&with(
            base(),
            "object",
            json!({"member": [{"mbox": "mailto:a@b.c"}]})
        ))
        .contains("must have \"objectType\"")
    );
    assert_eq!(
        both(&with(
            base(),
            "object",
            json!({"objectType": "Agent", "name": "x"})
        ))
        .split(':')
        .next(),
        Some("object")
    );
}

#[test]
fn statement_refs() {
    let o = |v: Value| both(&with(base(), "object", v));
    assert_eq!(
        o(json!({"objectType": "StatementRef"})),
        "object.id: is required"
    );
    assert_eq!(
        o(json!({"objectType": "StatementRef", "id": "should fail"})),
        "object.id: must be a UUID in standard form (8-4-4-4-12 hex digits)"
    );
    assert_eq!(
        o(json!({"objectType": "StatementRef", "id": 12345})),
        "object.id: must be a string"
    );
    assert_eq!(
        o(
            json!({"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0", "definition": {}})
        ),
        "object.definition: is not a property of StatementRef"
    );
}

#[test]
fn sub_statements() {
    assert_eq!(
        both(&substatement(json!({"id": "http://example.com/website"}))),
        "ok"
    );
    assert_eq!(
        both(&substatement(
            json!({"objectType": "Agent", "mbox": "mailto:a@b.c"})
        )),
        "ok"
    );
    assert_eq!(
        both(&substatement(
            json!({"objectType": "Group", "mbox": "mailto:g@b.c"})
        )),
        "ok"
    );
    assert_eq!(
        both(&substatement(
            json!({"objectType": "StatementRef", "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"})
        )),
        "ok"
    );
    let nested = substatement(json!({
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@b.c"},
        "verb": {"id": "http://a.b/v"},
        "object": {"id": "http://a.b/o"}
    }));
    assert_eq!(
        both(&nested),
        "object.object.objectType: a SubStatement must not contain a SubStatement"
    );
    for key in ["id", "stored", "version", "authority"] {
        assert_eq!(
            both(&sub_with(key, json!("x"))),
            format!("object.{key}: must not be used in a SubStatement")
        );
    }
    for key in ["actor", "verb", "object"] {
        let mut s = substatement(json!({"id": "http://example.com/website"}));
        if let Some(o) = s["object"].as_object_mut() {
            o.remove(key);
        }
        assert_eq!(both(&s), format!("object.{key}: is required"));
    }
    assert_eq!(
        both(&sub_with("foo", json!(1))),
        "object.foo: is not a property of SubStatement"
    );
    // Its own parts are validated as in a Statement.
    assert_eq!(
        both(&sub_with(
            "actor",
            json!({"mbox": "http://should.fail.com"})
        )),
        "object.actor.mbox: must be a mailto IRI (\"mailto:\" followed by an email address)"
    );
    assert_eq!(
        both(&sub_with("verb", json!({"id": "nope"}))),
        "object.verb.id: must be an absolute IRI (with a scheme)"
    );
    assert_eq!(
        both(&sub_with("result", json!({"duration": "PT1H0M0.1S"}))),
        "ok"
    );
    assert_eq!(
        both(&sub_with("result", json!({"success": "true"}))),
        "object.result.success: must be a boolean"
    );
    assert_eq!(
        both(&sub_with("context", json!({"registration": "x"}))),
        "object.context.registration: must be a UUID in standard form (8-4-4-4-12 hex digits)"
    );
    assert_eq!(
        both(&sub_with("timestamp", json!("2100-01-01T00:00:00Z"))),
        "ok",
        "a SubStatement may be in the future"
    );
    assert!(
        check(&sub_with("timestamp", json!("should fail")), V1)
            .starts_with("object.timestamp: must be an ISO 8601 timestamp")
    );
    assert!(
        check(&sub_with("timestamp", json!("should fail")), V2)
            .starts_with("object.timestamp: must be an RFC 3339 timestamp")
    );
    assert!(
        both(&sub_with("attachments", json!("x")))
            .starts_with("object.attachments: must be an array")
    );
    // The object of a SubStatement that is an Agent needs objectType too.
    assert!(
        both(&substatement(json!({"mbox": "mailto:a@b.c"}))).contains("must have \"objectType\"")
    );
}

#[test]
fn revision_and_platform_follow_the_object() {
    for key in ["revision", "platform"] {
        let ctx = json!({key: "1"});
        assert_eq!(both(&with(base(), "context", ctx.clone())), "ok");
        let activity = with(
            with(
                base(),
                "object",
                json!({"objectType": "Activity", "id": "http://a.b/c"}),
            ),
            "context",
            ctx.clone(),
        );
        assert_eq!(both(&activity), "ok");
        let not_activities = [
            json!({"objectType": "Agent", "mbox": "mailto:a@b.c"}),
            json!({"objectType": "Group", "mbox": "mailto:a@b.c"}),
            json!({"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}),
            substatement(json!({"id": "http://a.b/c"}))["object"].clone(),
        ];
        for object in not_activities {
            // Context before or after object in the document: same answer.
            let mut s = json!({"actor": base()["actor"].clone(), "verb": base()["verb"].clone(), "context": ctx.clone()});
            s["object"] = object;
            assert_eq!(
                both(&s),
                format!(
                    "context.{key}: may only be used when the Statement's object is an Activity"
                )
            );
        }
        // Inside a SubStatement, relative to the SubStatement's own object.
        let sub_agent = substatement(json!({"objectType": "Agent", "mbox": "mailto:a@b.c"}));
        let mut s = sub_agent.clone();
        s["object"]["context"] = ctx.clone();
        assert_eq!(
            both(&s),
            format!(
                "object.context.{key}: may only be used when the Statement's object is an Activity"
            )
        );
        let mut s = substatement(json!({"id": "http://a.b/c"}));
        s["object"]["context"] = ctx;
        assert_eq!(both(&s), "ok");
    }
}

#[test]
fn voiding_needs_a_statement_ref() {
    let voided =
        json!({"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}});
    let s = with(base(), "verb", voided);
    assert_eq!(
        both(&s),
        "object: the object of a voiding Statement (verb http://adlnet.gov/expapi/verbs/voided) must be a StatementRef"
    );
    let s = with(
        s,
        "object",
        json!({"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}),
    );
    assert_eq!(both(&s), "ok");
}

#[test]
fn timestamps_and_stored() {
    for key in ["timestamp", "stored"] {
        assert_eq!(
            both(&with(base(), key, json!("2015-11-18T12:17:00+00:00"))),
            "ok"
        );
        assert_eq!(
            both(&with(base(), key, json!("2008-09-15T15:53:00.601+00:00"))),
            "ok"
        );
        for bad in [
            "should fail",
            "01/011/2015",
            "2008-09-15T15:53:00.601-00",
            "2008-09-15T15:53:00.601-0000",
            "2008-09-15T15:53:00.601-00:00",
        ] {
            assert!(
                check(&with(base(), key, json!(bad)), V1)
                    .starts_with(&format!("{key}: must be an ISO 8601 timestamp: ")),
                "{bad}"
            );
            assert!(
                check(&with(base(), key, json!(bad)), V2)
                    .starts_with(&format!("{key}: must be an RFC 3339 timestamp: ")),
                "{bad}"
            );
        }
        assert_eq!(
            both(&with(base(), key, json!(1447849020))),
            format!("{key}: must be a string")
        );
        // 1.0.3 only SHOULD include a time zone; 2.0.0 requires RFC 3339.
        let local = with(base(), key, json!("2015-11-18T12:17:00"));
        assert_eq!(check(&local, V1), "ok");
        assert!(check(&local, V2).contains("time zone"));
        let basic = with(base(), key, json!("20151118T121700Z"));
        assert_eq!(check(&basic, V1), "ok");
        assert!(check(&basic, V2).starts_with(&format!("{key}: must be an RFC 3339 timestamp")));
    }
}

#[test]
fn version_property() {
    for ok in ["1.0", "1.0.0", "1.0.3", "1.0.9", "1.0.10"] {
        assert_eq!(both(&with(base(), "version", json!(ok))), "ok", "{ok}");
    }
    for bad in [
        "should fail",
        "0.9.9",
        "1.1.0",
        "1.0.",
        "1.0.x",
        "1",
        "10.0.0",
        "1.01",
        "",
    ] {
        assert_eq!(
            check(&with(base(), "version", json!(bad)), V1),
            "version: must be a 1.0.x version (\"1.0\" or starting with \"1.0.\")",
            "{bad}"
        );
        assert_eq!(
            check(&with(base(), "version", json!(bad)), V2),
            "version: must be a 1.0.x or 2.0.x version",
            "{bad}"
        );
    }
    for v2_only in ["2.0", "2.0.0"] {
        let s = with(base(), "version", json!(v2_only));
        assert_eq!(check(&s, V2), "ok");
        assert!(check(&s, V1).starts_with("version: must be a 1.0.x version"));
    }
    assert_eq!(
        both(&with(base(), "version", json!(1.0))),
        "version: must be a string"
    );
}

#[test]
fn authority_in_a_statement() {
    let pair = json!({"objectType": "Group", "member": [
        {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}},
        {"mbox": "mailto:bob@example.com"}
    ]});
    assert_eq!(both(&with(base(), "authority", pair)), "ok");
    let wrong = json!({"objectType": "Group", "name": "xAPI Group", "mbox": "mailto:xapigroup@example.com",
        "member": [{"name": "agentA", "mbox": "mailto:agentA@example.com"}, {"name": "agentB", "mbox": "mailto:agentB@example.com"}]});
    assert!(both(&with(base(), "authority", wrong)).starts_with("authority: "));
    assert_eq!(
        both(&with(base(), "authority", json!({"objectType": "Agent"})))
            .split(':')
            .next(),
        Some("authority")
    );
}

fn attachment() -> Value {
    json!({
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "description": {"en-US": "A test attachment (description)"},
        "contentType": "text/plain; charset=ascii",
        "length": 27,
        "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
        "fileUrl": "http://over.there.com/file.txt"
    })
}

#[test]
fn attachments() {
    let a = |v: Value| both(&with(base(), "attachments", v));
    assert_eq!(a(json!([attachment()])), "ok");
    assert_eq!(a(json!([])), "ok");
    assert_eq!(a(json!(attachment())), "attachments: must be an array");
    assert_eq!(a(json!([12345])), "attachments[0]: must be an object");
    assert_eq!(
        a(json!(["should fail"])),
        "attachments[0]: must be an object"
    );
    let field = |k: &str, v: Value| {
        let mut at = attachment();
        at[k] = v;
        a(json!([attachment(), at]))
    };
    assert_eq!(
        field("usageType", json!("should fail")),
        "attachments[1].usageType: must be an absolute IRI (with a scheme)"
    );
    assert_eq!(
        field("usageType", json!("example.com/attachment-usage/test")),
        "attachments[1].usageType: must be an absolute IRI (with a scheme)"
    );
    assert_eq!(
        field("contentType", json!(12345)),
        "attachments[1].contentType: must be a string"
    );
    assert_eq!(
        field("contentType", json!("should fail")),
        "attachments[1].contentType: must be an Internet Media Type (type/subtype)"
    );
    assert_eq!(
        field("length", json!("should fail")),
        "attachments[1].length: must be a number"
    );
    assert_eq!(
        field("length", json!(-1)),
        "attachments[1].length: must be a non-negative integer"
    );
    assert_eq!(
        field("length", json!(2.5)),
        "attachments[1].length: must be a non-negative integer"
    );
    assert_eq!(field("length", json!(0)), "ok");
    assert_eq!(
        field("sha2", json!(12345)),
        "attachments[1].sha2: must be a string"
    );
    assert_eq!(
        field("sha2", json!("should fail")),
        "attachments[1].sha2: must be a hex-encoded SHA-2 hash"
    );
    assert_eq!(
        field("fileUrl", json!("should fail")),
        "attachments[1].fileUrl: must be an absolute IRL (with a scheme)"
    );
    assert_eq!(
        field("fileUrl", json!("over.there.com/file.txt")),
        "attachments[1].fileUrl: must be an absolute IRL (with a scheme)"
    );
    assert_eq!(
        field("display", json!(12345)),
        "attachments[1].display: must be an object"
    );
    assert_eq!(
        field("display", json!({"a12345678": "should error"})),
        "attachments[1].display.a12345678: is not a valid RFC 5646 language tag"
    );
    assert_eq!(
        field("description", json!("should fail")),
        "attachments[1].description: must be an object"
    );
    assert_eq!(
        field("Length", json!(1)),
        "attachments[1].Length: is not a property of Attachment"
    );
    for required in ["usageType", "display", "contentType", "length", "sha2"] {
        let mut at = attachment();
        if let Some(m) = at.as_object_mut() {
            m.remove(required);
        }
        assert_eq!(
            a(json!([at])),
            format!("attachments[0].{required}: is required")
        );
    }
    let mut no_optional = attachment();
    if let Some(m) = no_optional.as_object_mut() {
        m.remove("description");
        m.remove("fileUrl");
    }
    assert_eq!(a(json!([no_optional])), "ok");
}

#[test]
fn context_agents_depend_on_the_version() {
    let ctx = json!({"contextAgents": [{
        "objectType": "contextAgent",
        "agent": {"objectType": "Agent", "mbox": "mailto:player-1@example.com"},
        "relevantTypes": ["https://example.com/xapi/american-footbal/activity-types/position/quarterback"]
    }]});
    let s = with(base(), "context", ctx.clone());
    assert_eq!(check(&s, V2), "ok");
    assert_eq!(
        check(&s, V1),
        "context.contextAgents: is not a property of Context in xAPI 1.0.3 (it was added in 2.0.0)"
    );
    let mut sub = substatement(json!({"id": "http://a.b/c"}));
    sub["object"]["context"] = ctx;
    assert_eq!(check(&sub, V2), "ok");
    assert!(check(&sub, V1).starts_with("object.context.contextAgents: "));
}

#[test]
fn extensions_everywhere() {
    let ext = json!({"http://example.com/ex": null, "http://example.com/o": {}, "http://example.com/s": ""});
    assert_eq!(
        both(&with(base(), "result", json!({"extensions": ext.clone()}))),
        "ok"
    );
    assert_eq!(
        both(&with(base(), "context", json!({"extensions": ext.clone()}))),
        "ok"
    );
    let obj = json!({"id": "http://a.b/c", "definition": {"extensions": ext}});
    assert_eq!(both(&with(base(), "object", obj)), "ok");
    assert_eq!(
        both(&with(
            base(),
            "result",
            json!({"extensions": {"should fail": true}})
        )),
        "result.extensions[\"should fail\"]: extension keys must be absolute IRIs"
    );
}

#[test]
fn agent_api() {
    assert_eq!(agent(&json!({"mbox": "mailto:a@b.c"}), "agent"), Ok(()));
    assert_eq!(
        agent(
            &json!({"objectType": "Group", "mbox": "mailto:g@b.c"}),
            "agent"
        ),
        Ok(())
    );
    let e = agent(&json!({"mbox": "a@b.c"}), "agent").err();
    assert_eq!(e.as_ref().map(|e| e.path.as_str()), Some("agent.mbox"));
    let e = agent(&json!({"name": "x"}), "agent").err();
    assert_eq!(e.map(|e| e.to_string()), Some("agent: exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account) is required (found none)".into()));
    assert!(agent(&json!("mailto:a@b.c"), "agent").is_err());
    assert!(
        agent(&json!({"mbox": "mailto:a@b.c", "extra": 1}), "").is_err_and(|e| e.path == "extra")
    );
}

#[test]
fn invalid_display() {
    let e = Invalid {
        path: "actor.mbox".into(),
        rule: "must be a mailto IRI".into(),
    };
    assert_eq!(e.to_string(), "actor.mbox: must be a mailto IRI");
    let e = Invalid {
        path: String::new(),
        rule: "a Statement must be a JSON object".into(),
    };
    assert_eq!(e.to_string(), "a Statement must be a JSON object");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-2.0f64..2.0).prop_map(Value::from),
            "[a-zA-Z0-9:/.@ -]{0,12}".prop_map(Value::from),
            prop::sample::select(vec![
                "mailto:a@b.c",
                "http://a.b/c",
                "Agent",
                "Group",
                "Activity",
                "SubStatement",
                "StatementRef",
                "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
                "PT1H",
                "en-US",
                "choice",
                "2015-11-18T12:17:00Z",
                "1.0.0",
            ])
            .prop_map(Value::from),
        ];
        let keys = prop::sample::select(vec![
            "actor",
            "verb",
            "object",
            "id",
            "objectType",
            "mbox",
            "member",
            "display",
            "definition",
            "result",
            "score",
            "scaled",
            "raw",
            "min",
            "max",
            "context",
            "contextActivities",
            "parent",
            "instructor",
            "team",
            "revision",
            "interactionType",
            "choices",
            "attachments",
            "en-US",
            "account",
            "homePage",
            "name",
            "extensions",
            "timestamp",
            "version",
            "authority",
        ]);
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_json(v in any_json()) {
            let _ = statement(&v, V1);
            let _ = statement(&v, V2);
            let _ = agent(&v, "agent");
        }

        #[test]
        fn never_panics_with_arbitrary_parts(actor in any_json(), verb in any_json(), object in any_json(), context in any_json()) {
            let s = json!({"actor": actor, "verb": verb, "object": object, "context": context});
            if let Err(e) = statement(&s, V1) {
                prop_assert!(!e.rule.is_empty());
            }
            let _ = statement(&s, V2);
        }
    }
}
