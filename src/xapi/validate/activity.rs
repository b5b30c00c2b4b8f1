//! Activities (xAPI 1.0.3 part 2, §2.4.4.1 "When the ObjectType is
//! Activity": Activity Definition, Interaction Activities, Interaction
//! Components).

use serde_json::Value;

use super::Invalid;
use super::json::{self, Obj};
use super::path::Path;

/// An Activity where only an Activity may appear (`contextActivities`).
pub(crate) fn activity(v: &Value, p: &Path) -> Result<(), Invalid> {
    activity_map(json::object(v, p)?, p)
}

/// An Activity's properties: `id` (IRI, required), `objectType` (`Activity`
/// when present), `definition`.
pub(crate) fn activity_map(map: &Obj, p: &Path) -> Result<(), Invalid> {
    // objectType first: when it names something else, that is the error to
    // report, whatever order the properties come in.
    if let Some(t) = map.get("objectType") {
        json::exact(t, &p.key("objectType"), "Activity")?;
    }
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "objectType" => json::exact(val, &kp, "Activity")?,
            "id" => {
                json::iri(val, &kp)?;
            }
            "definition" => definition(val, &kp)?,
            // §2.4.4.2: an Agent or Group as object MUST say so; without
            // objectType the object is read as an Activity.
            "mbox" | "mbox_sha1sum" | "openid" | "account" | "member" => {
                return Err(kp.err(
                    "is not a property of Activity (an Agent or Group used as an object \
                     must have \"objectType\")",
                ));
            }
            _ => return Err(json::unknown(&kp, "Activity")),
        }
    }
    if !map.contains_key("id") {
        return Err(json::missing(p, "id"));
    }
    Ok(())
}

/// The interaction types (§2.4.4.1, Interaction Activities), exact case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InteractionType {
    TrueFalse,
    Choice,
    FillIn,
    LongFillIn,
    Matching,
    Performance,
    Sequencing,
    Likert,
    Numeric,
    Other,
}

impl InteractionType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "true-false" => Self::TrueFalse,
            "choice" => Self::Choice,
            "fill-in" => Self::FillIn,
            "long-fill-in" => Self::LongFillIn,
            "matching" => Self::Matching,
            "performance" => Self::Performance,
            "sequencing" => Self::Sequencing,
            "likert" => Self::Likert,
            "numeric" => Self::Numeric,
            "other" => Self::Other,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::TrueFalse => "true-false",
            Self::Choice => "choice",
            Self::FillIn => "fill-in",
            Self::LongFillIn => "long-fill-in",
            Self::Matching => "matching",
            Self::Performance => "performance",
            Self::Sequencing => "sequencing",
            Self::Likert => "likert",
            Self::Numeric => "numeric",
            Self::Other => "other",
        }
    }

    /// The interaction component lists this type supports (the table
    /// "supported interaction component list(s)").
    fn lists(self) -> &'static [&'static str] {
        match self {
            Self::Choice | Self::Sequencing => &["choices"],
            Self::Likert => &["scale"],
            Self::Matching => &["source", "target"],
            Self::Performance => &["steps"],
            Self::TrueFalse | Self::FillIn | Self::LongFillIn | Self::Numeric | Self::Other => &[],
        }
    }
}

/// The Activity Definition. Interaction properties (`correctResponsesPattern`
/// and the component lists) need a valid `interactionType` ("Interaction
/// Activities MUST have a valid interactionType"), and each component list
/// is only allowed with the types that support it.
fn definition(v: &Value, p: &Path) -> Result<(), Invalid> {
    let map = json::object(v, p)?;
    let interaction = match map.get("interactionType") {
        None => None,
        Some(t) => {
            let tp = p.key("interactionType");
            let s = json::string(t, &tp)?;
            Some(InteractionType::parse(s).ok_or_else(|| {
                tp.err(
                    "must be one of true-false, choice, fill-in, long-fill-in, matching, \
                     performance, sequencing, likert, numeric, other",
                )
            })?)
        }
    };
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "name" | "description" => json::language_map(val, &kp)?,
            "type" => {
                json::iri(val, &kp)?;
            }
            "moreInfo" => {
                json::irl(val, &kp)?;
            }
            "extensions" => json::extensions(val, &kp)?,
            "interactionType" => {}
            "correctResponsesPattern" => {
                if interaction.is_none() {
                    return Err(kp.err("requires \"interactionType\""));
                }
                for (i, pattern) in json::array(val, &kp)?.iter().enumerate() {
                    json::string(pattern, &kp.index(i))?;
                }
            }
            "choices" | "scale" | "source" | "target" | "steps" => {
                let Some(it) = interaction else {
                    return Err(kp.err("requires \"interactionType\""));
                };
                if !it.lists().contains(&k.as_str()) {
                    return Err(kp.err(format!(
                        "is not allowed with interactionType \"{}\"{}",
                        it.as_str(),
                        match it.lists() {
                            [] => " (it has no component lists)".to_string(),
                            lists => format!(" (only {})", lists.join(" and ")),
                        }
                    )));
                }
                components(val, &kp)?;
            }
            _ => return Err(json::unknown(&kp, "Activity Definition")),
        }
    }
    Ok(())
}

/// An interaction component list: `{id, description}` objects whose ids are
/// distinct ("Within an array of interaction components, all id values MUST
/// be distinct").
fn components(v: &Value, p: &Path) -> Result<(), Invalid> {
    let list = json::array(v, p)?;
    for (i, c) in list.iter().enumerate() {
        let cp = p.index(i);
        let map = json::object(c, &cp)?;
        for (k, val) in map {
            let kp = cp.key(k);
            match k.as_str() {
                "id" => {
                    json::string(val, &kp)?;
                }
                "description" => json::language_map(val, &kp)?,
                _ => return Err(json::unknown(&kp, "an interaction component")),
            }
        }
        if !map.contains_key("id") {
            return Err(json::missing(&cp, "id"));
        }
    }
    // All ids are strings now. Lists are short, so compare pairwise without
    // allocating; a long (hostile) list gets a set instead.
    let id = |c: &Value| {
        c.get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let duplicate = if list.len() <= 32 {
        (1..list.len()).find(|&j| {
            let idj = list[j].get("id").and_then(Value::as_str);
            list[..j]
                .iter()
                .any(|c| c.get("id").and_then(Value::as_str) == idj)
        })
    } else {
        let mut seen = std::collections::HashSet::with_capacity(list.len());
        (0..list.len()).find(|&j| !seen.insert(list[j].get("id").and_then(Value::as_str)))
    };
    match duplicate {
        Some(j) => Err(p.index(j).key("id").err(format!(
            "duplicate interaction component id {:?}",
            id(&list[j])
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule_of(v: Value) -> String {
        match activity(&v, &Path::root("object")) {
            Ok(()) => "ok".into(),
            Err(e) => format!("{}: {}", e.path, e.rule),
        }
    }

    fn with_definition(d: Value) -> Value {
        json!({"id": "http://example.com/a", "definition": d})
    }

    #[test]
    fn activity_id_and_object_type() {
        assert_eq!(rule_of(json!({"id": "http://example.com/a"})), "ok");
        assert_eq!(
            rule_of(json!({"objectType": "Activity", "id": "http://example.com/a"})),
            "ok"
        );
        assert_eq!(
            rule_of(json!({"objectType": "Activity"})),
            "object.id: is required"
        );
        assert_eq!(
            rule_of(json!({"id": "ab=c://should.fail.com"})),
            "object.id: must be an absolute IRI (with a scheme)"
        );
        assert_eq!(
            rule_of(json!({"id": "www.example.com/a"})),
            "object.id: must be an absolute IRI (with a scheme)"
        );
        assert_eq!(
            rule_of(json!({"objectType": "activity", "id": "http://example.com/a"})),
            "object.objectType: must be \"Activity\""
        );
        assert_eq!(
            rule_of(json!({"id": "http://example.com/a", "Definition": {}})),
            "object.Definition: is not a property of Activity"
        );
        assert!(rule_of(json!({"mbox": "mailto:a@b.c"})).contains("must have \"objectType\""));
        assert_eq!(
            rule_of(json!({"id": "http://example.com/a", "definition": "x"})),
            "object.definition: must be an object"
        );
    }

    #[test]
    fn definition_properties() {
        let full = json!({
            "name": {"en-GB": "example meeting"},
            "description": {"en-US": "An example meeting"},
            "type": "http://adlnet.gov/expapi/activities/meeting",
            "moreInfo": "http://virtualmeeting.example.com/345256",
            "extensions": {"http://example.com/room": {"name": "Kilby"}}
        });
        assert_eq!(rule_of(with_definition(full)), "ok");
        assert_eq!(rule_of(with_definition(json!({}))), "ok");
        assert_eq!(
            rule_of(with_definition(json!({"name": "x"}))),
            "object.definition.name: must be an object"
        );
        assert_eq!(
            rule_of(with_definition(json!({"description": {"a12345": "x"}}))),
            "object.definition.description.a12345: is not a valid RFC 5646 language tag"
        );
        assert_eq!(
            rule_of(with_definition(json!({"type": "meeting"}))),
            "object.definition.type: must be an absolute IRI (with a scheme)"
        );
        assert_eq!(
            rule_of(with_definition(json!({"moreInfo": "example.com"}))),
            "object.definition.moreInfo: must be an absolute IRL (with a scheme)"
        );
        assert!(
            rule_of(with_definition(
                json!({"extensions": {"not.valid.com/extension": 1234}})
            ))
            .contains("extension keys must be absolute IRIs")
        );
        assert_eq!(
            rule_of(with_definition(json!({"other": 1}))),
            "object.definition.other: is not a property of Activity Definition"
        );
    }

    #[test]
    fn interaction_types() {
        for t in [
            "true-false",
            "choice",
            "fill-in",
            "long-fill-in",
            "matching",
            "performance",
            "sequencing",
            "likert",
            "numeric",
            "other",
        ] {
            assert_eq!(
                rule_of(with_definition(
                    json!({"interactionType": t, "correctResponsesPattern": ["x"]})
                )),
                "ok",
                "{t}"
            );
        }
        for t in [
            "true-faLse",
            "choiCe",
            "Other",
            "http://example.com/choice",
            "should error",
        ] {
            assert!(
                rule_of(with_definition(json!({"interactionType": t})))
                    .starts_with("object.definition.interactionType: must be one of"),
                "{t}"
            );
        }
        assert_eq!(
            rule_of(with_definition(json!({"interactionType": 12}))),
            "object.definition.interactionType: must be a string"
        );
        assert_eq!(
            rule_of(with_definition(json!({"interactionType": {"x": 1}}))),
            "object.definition.interactionType: must be a string"
        );
    }

    #[test]
    fn correct_responses_pattern() {
        assert_eq!(
            rule_of(with_definition(
                json!({"interactionType": "choice", "correctResponsesPattern": []})
            )),
            "ok"
        );
        assert_eq!(
            rule_of(with_definition(
                json!({"correctResponsesPattern": ["true"]})
            )),
            "object.definition.correctResponsesPattern: requires \"interactionType\""
        );
        assert_eq!(
            rule_of(with_definition(
                json!({"interactionType": "choice", "correctResponsesPattern": "golf"})
            )),
            "object.definition.correctResponsesPattern: must be an array"
        );
        assert_eq!(
            rule_of(with_definition(
                json!({"interactionType": "numeric", "correctResponsesPattern": ["1", 4]})
            )),
            "object.definition.correctResponsesPattern[1]: must be a string"
        );
    }

    fn list(ids: &[&str]) -> Value {
        Value::Array(
            ids.iter()
                .map(|id| json!({"id": id, "description": {"en-US": id}}))
                .collect(),
        )
    }

    #[test]
    fn component_lists_follow_the_interaction_type() {
        let ok = [
            ("choice", "choices"),
            ("sequencing", "choices"),
            ("likert", "scale"),
            ("matching", "source"),
            ("matching", "target"),
            ("performance", "steps"),
        ];
        for (t, l) in ok {
            let d = json!({"interactionType": t, l: list(&["a", "b"])});
            assert_eq!(rule_of(with_definition(d)), "ok", "{t} {l}");
        }
        let bad = [
            ("true-false", "choices"),
            ("choice", "scale"),
            ("likert", "choices"),
            ("matching", "steps"),
            ("performance", "source"),
            ("fill-in", "choices"),
            ("numeric", "steps"),
            ("other", "target"),
        ];
        for (t, l) in bad {
            let d = json!({"interactionType": t, l: list(&["a"])});
            let r = rule_of(with_definition(d));
            assert!(
                r.starts_with(&format!(
                    "object.definition.{l}: is not allowed with interactionType \"{t}\""
                )),
                "{r}"
            );
        }
        for l in ["choices", "scale", "source", "target", "steps"] {
            let d = json!({l: list(&["a"])});
            assert_eq!(
                rule_of(with_definition(d)),
                format!("object.definition.{l}: requires \"interactionType\"")
            );
        }
    }

    #[test]
    fn components() {
        let d = |c: Value| with_definition(json!({"interactionType": "choice", "choices": c}));
        assert_eq!(rule_of(d(json!([]))), "ok");
        assert_eq!(rule_of(d(json!([{"id": "golf"}]))), "ok");
        assert_eq!(
            rule_of(d(json!([{"description": {"en": "x"}}]))),
            "object.definition.choices[0].id: is required"
        );
        assert_eq!(
            rule_of(d(json!([{"id": 1}]))),
            "object.definition.choices[0].id: must be a string"
        );
        assert_eq!(
            rule_of(d(json!([{"id": "a", "description": {"a12345": "x"}}]))),
            "object.definition.choices[0].description.a12345: is not a valid RFC 5646 language tag"
        );
        assert_eq!(
            rule_of(d(json!([{"id": "a", "name": "x"}]))),
            "object.definition.choices[0].name: is not a property of an interaction component"
        );
        assert_eq!(
            rule_of(d(json!({"id": "a"}))),
            "object.definition.choices: must be an array"
        );
        assert_eq!(
            rule_of(d(json!(["a"]))),
            "object.definition.choices[0]: must be an object"
        );
        assert_eq!(
            rule_of(d(list(&["golf", "tetris", "golf"]))),
            "object.definition.choices[2].id: duplicate interaction component id \"golf\""
        );
        // Ids are unique per list, not across lists.
        let m = json!({"interactionType": "matching", "source": list(&["a", "b"]), "target": list(&["a", "b"])});
        assert_eq!(rule_of(with_definition(m)), "ok");
        // Long lists take the set path.
        let many: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
        let mut ids: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(rule_of(d(list(&ids))), "ok");
        ids.push("c42");
        assert_eq!(
            rule_of(d(list(&ids))),
            "object.definition.choices[100].id: duplicate interaction component id \"c42\""
        );
    }
}
