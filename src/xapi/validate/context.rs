//! Context (xAPI 1.0.3 part 2, §2.4.6; §2.4.6.2 ContextActivities) and the
//! xAPI 2.0.0 additions `contextAgents` and `contextGroups`.

use serde_json::Value;

use super::Invalid;
use super::activity;
use super::agent;
use super::formats;
use super::json;
use super::path::Path;
use super::statement::statement_ref;
use crate::xapi::Version;

/// The Context Object. `object_is_activity` says whether the statement's
/// object is an Activity: "The revision property MUST only be used if the
/// Statement's Object is an Activity", and the same for `platform`.
pub(crate) fn context(
    v: &Value,
    p: &Path,
    version: Version,
    object_is_activity: bool,
) -> Result<(), Invalid> {
    for (k, val) in json::object(v, p)? {
        let kp = p.key(k);
        match k.as_str() {
            "registration" => {
                json::uuid(val, &kp)?;
            }
            "instructor" => {
                agent::actor(val, &kp)?;
            }
            "team" => {
                agent::group_only(val, &kp)?;
            }
            "contextActivities" => context_activities(val, &kp)?,
            "revision" | "platform" => {
                json::string(val, &kp)?;
                if !object_is_activity {
                    return Err(
                        kp.err("may only be used when the Statement's object is an Activity")
                    );
                }
            }
            "language" => {
                if !formats::language_tag(json::string(val, &kp)?) {
                    return Err(kp.err("must be an RFC 5646 language tag"));
                }
            }
            "statement" => statement_ref(val, &kp)?,
            "extensions" => json::extensions(val, &kp)?,
            "contextAgents" | "contextGroups" if version == Version::V1_0_3 => {
                return Err(
                    kp.err("is not a property of Context in xAPI 1.0.3 (it was added in 2.0.0)")
                );
            }
            "contextAgents" => context_agents(val, &kp)?,
            "contextGroups" => context_groups(val, &kp)?,
            _ => return Err(json::unknown(&kp, "Context")),
        }
    }
    Ok(())
}

/// §2.4.6.2: "Every key in the contextActivities Object MUST be one of
/// parent, grouping, category, or other" and "Every value ... MUST be either
/// a single Activity Object or an array of Activity Objects".
fn context_activities(v: &Value, p: &Path) -> Result<(), Invalid> {
    for (k, val) in json::object(v, p)? {
        let kp = p.key(k);
        match k.as_str() {
            "parent" | "grouping" | "category" | "other" => match val {
                Value::Array(list) => {
                    for (i, a) in list.iter().enumerate() {
                        activity::activity(a, &kp.index(i))?;
                    }
                }
                Value::Object(map) => activity::activity_map(map, &kp)?,
                _ => {
                    return Err(json::wrong_type(
                        val,
                        &kp,
                        "an Activity or an array of Activities",
                    ));
                }
            },
            _ => {
                return Err(kp.err(
                    "is not a property of contextActivities (parent, grouping, category or other)",
                ));
            }
        }
    }
    Ok(())
}

/// xAPI 2.0.0 `contextAgents`: an array of `{"objectType": "contextAgent",
/// "agent": Agent, "relevantTypes": [IRI, ...]}`; `relevantTypes` is
/// optional but not empty when present.
fn context_agents(v: &Value, p: &Path) -> Result<(), Invalid> {
    for (i, item) in json::array(v, p)?.iter().enumerate() {
        let ip = p.index(i);
        let map = json::object(item, &ip)?;
        for (k, val) in map {
            let kp = ip.key(k);
            match k.as_str() {
                "objectType" => json::exact(val, &kp, "contextAgent")?,
                "agent" => agent::agent_only(val, &kp, "must be an Agent, not a Group")?,
                "relevantTypes" => relevant_types(val, &kp)?,
                _ => return Err(json::unknown(&kp, "a contextAgent")),
            }
        }
        for required in ["objectType", "agent"] {
            if !map.contains_key(required) {
                return Err(json::missing(&ip, required));
            }
        }
    }
    Ok(())
}

/// xAPI 2.0.0 `contextGroups`: an array of `{"objectType": "contextGroup",
/// "group": Group, "relevantTypes": [IRI, ...]}`.
fn context_groups(v: &Value, p: &Path) -> Result<(), Invalid> {
    for (i, item) in json::array(v, p)?.iter().enumerate() {
        let ip = p.index(i);
        let map = json::object(item, &ip)?;
        for (k, val) in map {
            let kp = ip.key(k);
            match k.as_str() {
                "objectType" => json::exact(val, &kp, "contextGroup")?,
                "group" => {
                    agent::group_only(val, &kp)?;
                }
                "relevantTypes" => relevant_types(val, &kp)?,
                _ => return Err(json::unknown(&kp, "a contextGroup")),
            }
        }
        for required in ["objectType", "group"] {
            if !map.contains_key(required) {
                return Err(json::missing(&ip, required));
            }
        }
    }
    Ok(())
}

fn relevant_types(v: &Value, p: &Path) -> Result<(), Invalid> {
    let list = json::array(v, p)?;
    if list.is_empty() {
        return Err(p.err("must contain at least one IRI"));
    }
    for (i, t) in list.iter().enumerate() {
        json::iri(t, &p.index(i))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule_in(v: Value, version: Version, object_is_activity: bool) -> String {
        match context(&v, &Path::root("context"), version, object_is_activity) {
            Ok(()) => "ok".into(),
            Err(e) => format!("{}: {}", e.path, e.rule),
        }
    }

    fn rule_of(v: Value) -> String {
        rule_in(v, Version::V1_0_3, true)
    }

    #[test]
    fn full_context() {
        let v = json!({
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "contextActivities": {
                "parent": [{"id": "http://www.example.com/meetings/series/267", "objectType": "Activity"}],
                "category": [{"id": "http://www.example.com/cat", "definition": {"type": "http://example.com/t"}}],
                "other": [{"id": "http://a.b/1"}, {"id": "http://a.b/2"}]
            },
            "instructor": {"name": "Andrew", "account": {"homePage": "http://www.example.com", "name": "13936749"}, "objectType": "Agent"},
            "team": {"name": "Team PB", "mbox": "mailto:teampb@example.com", "objectType": "Group"},
            "revision": "2",
            "platform": "Example virtual meeting software",
            "language": "tlh",
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "extensions": {"http://example.com/ext": null}
        });
        assert_eq!(rule_of(v), "ok");
        assert_eq!(rule_of(json!({})), "ok");
        assert_eq!(rule_of(json!(null)), "context: must not be null");
    }

    #[test]
    fn property_types() {
        assert_eq!(
            rule_of(json!({"registration": "should fail"})),
            "context.registration: must be a UUID in standard form (8-4-4-4-12 hex digits)"
        );
        assert_eq!(
            rule_of(json!({"registration": {"key": "x"}})),
            "context.registration: must be a string"
        );
        assert_eq!(
            rule_of(json!({"instructor": "should fail"})),
            "context.instructor: must be an object"
        );
        assert!(
            rule_of(json!({"instructor": {"key": "should fail"}}))
                .starts_with("context.instructor.key: is not a property of Agent")
        );
        assert!(
            rule_of(
                json!({"instructor": {"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}})
            ) == "ok"
        );
        assert_eq!(
            rule_of(json!({"team": {"mbox": "mailto:a@b.c"}})),
            "context.team: must be a Group (with \"objectType\": \"Group\")"
        );
        assert_eq!(
            rule_of(json!({"team": "should fail"})),
            "context.team: must be an object"
        );
        assert_eq!(
            rule_of(json!({"contextActivities": "should fail"})),
            "context.contextActivities: must be an object"
        );
        assert_eq!(
            rule_of(json!({"revision": 12345})),
            "context.revision: must be a string"
        );
        assert_eq!(
            rule_of(json!({"platform": {"key": "x"}})),
            "context.platform: must be a string"
        );
        assert_eq!(
            rule_of(json!({"language": 12345})),
            "context.language: must be a string"
        );
        assert_eq!(
            rule_of(json!({"language": "something"})),
            "context.language: must be an RFC 5646 language tag"
        );
        assert_eq!(rule_of(json!({"language": "cmn"})), "ok");
        assert_eq!(
            rule_of(json!({"extensions": {"example.com/extension/wrong": 1}})),
            "context.extensions[\"example.com/extension/wrong\"]: extension keys must be absolute IRIs"
        );
        assert_eq!(
            rule_of(json!({"Registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"})),
            "context.Registration: is not a property of Context"
        );
    }

    #[test]
    fn revision_and_platform_need_an_activity_object() {
        for k in ["revision", "platform"] {
            assert_eq!(rule_in(json!({k: "x"}), Version::V1_0_3, true), "ok");
            assert_eq!(
                rule_in(json!({k: "x"}), Version::V1_0_3, false),
                format!("context.{k}: may only be used when the Statement's object is an Activity")
            );
        }
    }

    #[test]
    fn context_statement_is_a_statement_ref() {
        assert_eq!(
            rule_of(
                json!({"statement": {"objectType": "statementref", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}})
            ),
            "context.statement.objectType: must be \"StatementRef\""
        );
        assert_eq!(
            rule_of(json!({"statement": {"objectType": "StatementRef", "id": "not-a-uuid"}})),
            "context.statement.id: must be a UUID in standard form (8-4-4-4-12 hex digits)"
        );
        assert_eq!(
            rule_of(json!({"statement": {"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}})),
            "context.statement.objectType: is required"
        );
    }

    #[test]
    fn context_activities() {
        let a = json!({"id": "http://www.example.com/meetings/occurances/34534"});
        for k in ["parent", "grouping", "category", "other"] {
            assert_eq!(
                rule_of(json!({"contextActivities": {k: [a.clone()]}})),
                "ok"
            );
            assert_eq!(
                rule_of(json!({"contextActivities": {k: a.clone()}})),
                "ok",
                "a single Activity is allowed"
            );
            assert_eq!(rule_of(json!({"contextActivities": {k: []}})), "ok");
        }
        assert_eq!(
            rule_of(json!({"contextActivities": {"parents": [a.clone()]}})),
            "context.contextActivities.parents: is not a property of contextActivities (parent, grouping, category or other)"
        );
        assert_eq!(
            rule_of(json!({"contextActivities": {"other": [a.clone(), {"key": "should fail"}]}})),
            "context.contextActivities.other[1].key: is not a property of Activity"
        );
        assert_eq!(
            rule_of(json!({"contextActivities": {"parent": "http://a.b"}})),
            "context.contextActivities.parent: must be an Activity or an array of Activities"
        );
        assert_eq!(
            rule_of(json!({"contextActivities": {"parent": null}})),
            "context.contextActivities.parent: must not be null"
        );
        assert_eq!(
            rule_of(
                json!({"contextActivities": {"parent": [{"objectType": "Agent", "mbox": "mailto:a@b.c"}]}})
            ),
            "context.contextActivities.parent[0].objectType: must be \"Activity\""
        );
        assert_eq!(
            rule_of(json!({"contextActivities": {"grouping": {"id": "nope"}}})),
            "context.contextActivities.grouping.id: must be an absolute IRI (with a scheme)"
        );
    }

    fn context_agents_v(agents: Value) -> Value {
        json!({"contextAgents": agents})
    }

    #[test]
    fn context_agents_and_groups_are_2_0_only() {
        let agents = json!([{
            "objectType": "contextAgent",
            "agent": {"objectType": "Agent", "mbox": "mailto:player-1@example.com"},
            "relevantTypes": ["https://example.com/xapi/activity-types/player"]
        }]);
        let groups = json!([{
            "objectType": "contextGroup",
            "group": {"objectType": "Group", "mbox": "mailto:team-1@example.com", "member": [{"mbox": "mailto:player-1@example.com"}]},
            "relevantTypes": ["https://example.com/xapi/activity-types/team/a"]
        }]);
        assert_eq!(
            rule_in(
                json!({"contextAgents": agents.clone()}),
                Version::V2_0_0,
                true
            ),
            "ok"
        );
        assert_eq!(
            rule_in(
                json!({"contextGroups": groups.clone()}),
                Version::V2_0_0,
                true
            ),
            "ok"
        );
        assert_eq!(
            rule_in(json!({"contextAgents": agents}), Version::V1_0_3, true),
            "context.contextAgents: is not a property of Context in xAPI 1.0.3 (it was added in 2.0.0)"
        );
        assert_eq!(
            rule_in(json!({"contextGroups": groups}), Version::V1_0_3, true),
            "context.contextGroups: is not a property of Context in xAPI 1.0.3 (it was added in 2.0.0)"
        );
    }

    #[test]
    fn context_agent_rules() {
        let v2 = |v: Value| rule_in(v, Version::V2_0_0, true);
        let agent = json!({"objectType": "Agent", "mbox": "mailto:player-1@example.com"});
        assert_eq!(
            v2(context_agents_v(
                json!([{"objectType": "contextAgent", "agent": agent.clone()}])
            )),
            "ok"
        );
        assert_eq!(v2(context_agents_v(json!([]))), "ok");
        assert_eq!(
            v2(context_agents_v(
                json!([{"objectType": "Should fail", "agent": agent.clone()}])
            )),
            "context.contextAgents[0].objectType: must be \"contextAgent\""
        );
        assert_eq!(
            v2(context_agents_v(json!([{"agent": agent.clone()}]))),
            "context.contextAgents[0].objectType: is required"
        );
        assert_eq!(
            v2(context_agents_v(json!([{"objectType": "contextAgent"}]))),
            "context.contextAgents[0].agent: is required"
        );
        assert_eq!(
            v2(context_agents_v(
                json!([{"objectType": "contextAgent", "agent": {"key": "Should fail"}}])
            )),
            "context.contextAgents[0].agent.key: is not a property of Agent"
        );
        assert_eq!(
            v2(context_agents_v(
                json!([{"objectType": "contextAgent", "agent": {"objectType": "Group", "mbox": "mailto:t@b.c"}}])
            )),
            "context.contextAgents[0].agent: must be an Agent, not a Group"
        );
        assert_eq!(
            v2(context_agents_v(
                json!([{"objectType": "contextAgent", "agent": agent.clone(), "relevantTypes": []}])
            )),
            "context.contextAgents[0].relevantTypes: must contain at least one IRI"
        );
        assert_eq!(
            v2(context_agents_v(
                json!([{"objectType": "contextAgent", "agent": agent.clone(), "relevantTypes": ["abc"]}])
            )),
            "context.contextAgents[0].relevantTypes[0]: must be an absolute IRI (with a scheme)"
        );
        assert_eq!(
            v2(context_agents_v(
                json!([{"objectType": "contextAgent", "agent": agent, "extra": 1}])
            )),
            "context.contextAgents[0].extra: is not a property of a contextAgent"
        );
        assert_eq!(
            v2(context_agents_v(json!({}))),
            "context.contextAgents: must be an array"
        );
    }

    #[test]
    fn context_group_rules() {
        let v2 = |v: Value| rule_in(json!({"contextGroups": v}), Version::V2_0_0, true);
        let group = json!({"objectType": "Group", "mbox": "mailto:team-1@example.com"});
        assert_eq!(
            v2(json!([{"objectType": "contextGroup", "group": group.clone()}])),
            "ok"
        );
        assert_eq!(
            v2(json!([{"objectType": "Should fail", "group": group.clone()}])),
            "context.contextGroups[0].objectType: must be \"contextGroup\""
        );
        assert_eq!(
            v2(json!([{"objectType": "contextGroup", "group": {"key": "Should fail"}}])),
            "context.contextGroups[0].group: must be a Group (with \"objectType\": \"Group\")"
        );
        assert_eq!(
            v2(json!([{"objectType": "contextGroup"}])),
            "context.contextGroups[0].group: is required"
        );
        assert_eq!(
            v2(
                json!([{"objectType": "contextGroup", "group": group.clone(), "relevantTypes": []}])
            ),
            "context.contextGroups[0].relevantTypes: must contain at least one IRI"
        );
        assert_eq!(
            v2(json!([{"objectType": "contextGroup", "group": group.clone(), "extra": 1}])),
            "context.contextGroups[0].extra: is not a property of a contextGroup"
        );
        assert_eq!(v2(json!("x")), "context.contextGroups: must be an array");
        assert_eq!(
            v2(json!([{"objectType": "contextGroup", "group": group, "relevantTypes": ["abc"]}])),
            "context.contextGroups[0].relevantTypes[0]: must be an absolute IRI (with a scheme)"
        );
    }
}
