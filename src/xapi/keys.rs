//! What a statement can be found by: the values behind the `agent`, `verb`,
//! `activity`, `registration`, `related_agents` and `related_activities`
//! filters of GET /statements (xAPI 1.0.3 part 3, §2.1.3). The store keeps
//! one index row per key so that every filter is a range scan.

use serde_json::Value;

use super::ifi;

/// One value a statement is indexed under. `direct` is true when it matches
/// the narrow filter (actor/object for agents, object for activities), false
/// when it only matches with `related_agents` / `related_activities`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub value: String,
    pub direct: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IndexKeys {
    pub agents: Vec<Key>,
    pub activities: Vec<Key>,
    pub verbs: Vec<String>,
    pub registrations: Vec<String>,
}

impl IndexKeys {
    /// The keys of a statement's own properties. A statement whose object is
    /// a StatementRef also matches whatever its target matches; the store
    /// adds those with [`IndexKeys::inherit`], as it alone can look the
    /// target up.
    pub fn of(statement: &Value) -> Self {
        let mut keys = IndexKeys::default();
        if let Some(verb) = super::at(statement, &["verb", "id"]).and_then(Value::as_str) {
            keys.verbs.push(verb.to_owned());
        }
        if let Some(reg) =
            super::at(statement, &["context", "registration"]).and_then(Value::as_str)
        {
            keys.registrations.push(reg.to_ascii_lowercase());
        }
        keys.add_agents(statement.get("actor"), true);
        keys.add_agents(statement.get("authority"), false);
        keys.add_object(statement.get("object"), true);
        keys.add_context(statement.get("context"));
        keys.normalise();
        keys
    }

    /// Adds the keys of a statement this one targets with a StatementRef.
    pub fn inherit(&mut self, target: &IndexKeys) {
        self.agents.extend(target.agents.iter().cloned());
        self.activities.extend(target.activities.iter().cloned());
        self.verbs.extend(target.verbs.iter().cloned());
        self.registrations
            .extend(target.registrations.iter().cloned());
        self.normalise();
    }

    fn add_agents(&mut self, agent: Option<&Value>, direct: bool) {
        let Some(agent) = agent else { return };
        let mut ids = Vec::new();
        ifi::identities_with_members(agent, &mut ids);
        self.agents
            .extend(ids.into_iter().map(|value| Key { value, direct }));
    }

    fn add_object(&mut self, object: Option<&Value>, direct: bool) {
        let Some(object) = object else { return };
        match object.get("objectType").and_then(Value::as_str) {
            Some("Agent") | Some("Group") => self.add_agents(Some(object), direct),
            Some("SubStatement") => {
                // Inside a SubStatement everything counts as "related" only.
                self.add_agents(object.get("actor"), false);
                self.add_object(object.get("object"), false);
                self.add_context(object.get("context"));
            }
            Some("StatementRef") => {}
            _ => {
                if let Some(id) = object.get("id").and_then(Value::as_str) {
                    self.activities.push(Key {
                        value: id.to_owned(),
                        direct,
                    });
                }
            }
        }
    }

    fn add_context(&mut self, context: Option<&Value>) {
        let Some(context) = context else { return };
        self.add_agents(context.get("instructor"), false);
        self.add_agents(context.get("team"), false);
        if let Some(cas) = context.get("contextActivities").and_then(Value::as_object) {
            for list in cas.values() {
                let items: &[Value] = match list {
                    Value::Array(items) => items,
                    single => std::slice::from_ref(single),
                };
                for item in items {
                    if let Some(id) = item.get("id").and_then(Value::as_str) {
                        self.activities.push(Key {
                            value: id.to_owned(),
                            direct: false,
                        });
                    }
                }
            }
        }
        // xAPI 2.0 context agents and groups are related agents too.
        for (list, field) in [("contextAgents", "agent"), ("contextGroups", "group")] {
            if let Some(items) = context.get(list).and_then(Value::as_array) {
                for item in items {
                    self.add_agents(item.get(field), false);
                }
            }
        }
    }

    /// Sorts and removes duplicates; a value that is both direct and related
    /// is kept once, as direct.
    fn normalise(&mut self) {
        for keys in [&mut self.agents, &mut self.activities] {
            keys.sort_by(|a, b| a.value.cmp(&b.value).then(b.direct.cmp(&a.direct)));
            keys.dedup_by(|later, first| later.value == first.value);
        }
        self.verbs.sort();
        self.verbs.dedup();
        self.registrations.sort();
        self.registrations.dedup();
    }
}

/// The id of the statement that `statement` targets, when its object is a
/// StatementRef.
pub fn statement_ref_target(statement: &Value) -> Option<&str> {
    let object = statement.get("object")?;
    if object.get("objectType")?.as_str()? == "StatementRef" {
        object.get("id")?.as_str()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statement() -> Value {
        json!({
            "actor": {"mbox": "mailto:ana@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": "urn:kmh:q1"},
            "authority": {"account": {"homePage": "http://lrs", "name": "key1"}},
            "context": {
                "registration": "ABCDEF01-2345-6789-abcd-ef0123456789",
                "instructor": {"mbox": "mailto:ana@example.org"},
                "contextActivities": {
                    "parent": {"id": "urn:kmh:module"},
                    "grouping": [{"id": "urn:kmh:course"}, {"id": "urn:kmh:q1"}]
                }
            }
        })
    }

    #[test]
    fn direct_and_related_keys() {
        let keys = IndexKeys::of(&statement());
        assert_eq!(keys.verbs, vec!["http://adlnet.gov/expapi/verbs/answered"]);
        assert_eq!(
            keys.registrations,
            vec!["abcdef01-2345-6789-abcd-ef0123456789"]
        );
        let acts: Vec<_> = keys
            .activities
            .iter()
            .map(|k| (k.value.as_str(), k.direct))
            .collect();
        assert_eq!(
            acts,
            vec![
                ("urn:kmh:course", false),
                ("urn:kmh:module", false),
                ("urn:kmh:q1", true)
            ]
        );
        let agents: Vec<_> = keys
            .agents
            .iter()
            .map(|k| (k.value.as_str(), k.direct))
            .collect();
        assert_eq!(
            agents,
            vec![
                ("account:http://lrs\u{1f}key1", false),
                ("mbox:mailto:ana@example.org", true)
            ]
        );
    }

    #[test]
    fn substatement_contents_are_related_only() {
        let s = json!({
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://example.org/planned"},
            "object": {"objectType": "SubStatement",
                "actor": {"mbox": "mailto:b@example.org"},
                "verb": {"id": "http://example.org/visit"},
                "object": {"id": "urn:kmh:place"}}
        });
        let keys = IndexKeys::of(&s);
        assert!(keys.agents.contains(&Key {
            value: "mbox:mailto:b@example.org".into(),
            direct: false
        }));
        assert_eq!(
            keys.activities,
            vec![Key {
                value: "urn:kmh:place".into(),
                direct: false
            }]
        );
        assert_eq!(keys.verbs, vec!["http://example.org/planned"]);
    }

    #[test]
    fn statement_refs_inherit_their_target() {
        let voiding = json!({
            "actor": {"mbox": "mailto:admin@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"}
        });
        assert_eq!(
            statement_ref_target(&voiding),
            Some("9e13cefd-53d3-4eac-b5ed-2cf6693903bb")
        );
        let mut keys = IndexKeys::of(&voiding);
        keys.inherit(&IndexKeys::of(&statement()));
        assert!(keys.activities.contains(&Key {
            value: "urn:kmh:q1".into(),
            direct: true
        }));
        assert_eq!(keys.verbs.len(), 2);
    }
}
