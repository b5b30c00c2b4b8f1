//! The `format` parameter of GET /statements (xAPI 1.0.3 part 3, §2.1.3):
//! `exact` returns what was stored; `ids` keeps only what identifies agents,
//! activities and verbs; `canonical` replaces activity definitions with the
//! LRS's canonical ones and keeps one language per language map.

use serde_json::{Map, Value};

use super::ifi::reduce_to_ids;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Exact,
    Ids,
    Canonical,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "exact" => Some(Self::Exact),
            "ids" => Some(Self::Ids),
            "canonical" => Some(Self::Canonical),
            _ => None,
        }
    }
}

/// Rewrites a stored statement for `format=ids`.
pub fn to_ids(statement: &mut Value) {
    let Some(obj) = statement.as_object_mut() else {
        return;
    };
    for key in ["actor", "authority"] {
        if let Some(agent) = obj.get_mut(key) {
            *agent = reduce_to_ids(agent);
        }
    }
    if let Some(verb) = obj.get_mut("verb").and_then(Value::as_object_mut) {
        verb.retain(|k, _| k == "id");
    }
    if let Some(object) = obj.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str) {
            Some("Agent") | Some("Group") => *object = reduce_to_ids(object),
            Some("SubStatement") => to_ids(object),
            Some("StatementRef") => {}
            _ => reduce_activity(object),
        }
    }
    if let Some(context) = obj.get_mut("context").and_then(Value::as_object_mut) {
        for key in ["instructor", "team"] {
            if let Some(agent) = context.get_mut(key) {
                *agent = reduce_to_ids(agent);
            }
        }
        if let Some(cas) = context
            .get_mut("contextActivities")
            .and_then(Value::as_object_mut)
        {
            for list in cas.values_mut() {
                match list {
                    Value::Array(items) => items.iter_mut().for_each(reduce_activity),
                    single => reduce_activity(single),
                }
            }
        }
    }
}

/// An activity is identified by its id alone.
fn reduce_activity(activity: &mut Value) {
    if let Some(a) = activity.as_object_mut() {
        a.retain(|k, _| k == "id");
    }
}

/// Rewrites a stored statement for `format=canonical`: each activity gets
/// `canonical(id)` as its definition when the LRS has one, and every
/// language map in activity definitions and verb displays keeps the one
/// language that best fits `languages` (the client's Accept-Language, in
/// order of preference).
pub fn to_canonical(
    statement: &mut Value,
    canonical: &dyn Fn(&str) -> Option<Value>,
    languages: &[String],
) {
    let Some(obj) = statement.as_object_mut() else {
        return;
    };
    if let Some(display) = obj.get_mut("verb").and_then(|v| v.get_mut("display")) {
        pick_language(display, languages);
    }
    if let Some(object) = obj.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str) {
            Some("SubStatement") => to_canonical(object, canonical, languages),
            None | Some("Activity") => canonical_activity(object, canonical, languages),
            _ => {}
        }
    }
    if let Some(cas) = obj
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    {
        for list in cas.values_mut() {
            match list {
                Value::Array(items) => items
                    .iter_mut()
                    .for_each(|a| canonical_activity(a, canonical, languages)),
                single => canonical_activity(single, canonical, languages),
            }
        }
    }
}

fn canonical_activity(
    activity: &mut Value,
    canonical: &dyn Fn(&str) -> Option<Value>,
    languages: &[String],
) {
    let Some(a) = activity.as_object_mut() else {
        return;
    };
    if let Some(def) = a.get("id").and_then(Value::as_str).and_then(canonical) {
        a.insert("definition".into(), def);
    }
    let Some(def) = a.get_mut("definition").and_then(Value::as_object_mut) else {
        return;
    };
    for key in ["name", "description"] {
        if let Some(map) = def.get_mut(key) {
            pick_language(map, languages);
        }
    }
    for key in ["choices", "scale", "source", "target", "steps"] {
        if let Some(items) = def.get_mut(key).and_then(Value::as_array_mut) {
            for item in items {
                if let Some(map) = item.get_mut("description") {
                    pick_language(map, languages);
                }
            }
        }
    }
}

/// Keeps one entry of a language map: the first preferred language present
/// (exact tag, then primary subtag), else `und`, else the first entry.
fn pick_language(map: &mut Value, languages: &[String]) {
    let Some(m) = map.as_object() else { return };
    if m.len() <= 1 {
        return;
    }
    let chosen = languages
        .iter()
        .find_map(|want| {
            m.keys().find(|k| k.eq_ignore_ascii_case(want)).or_else(|| {
                let primary = want.split('-').next().unwrap_or(want);
                m.keys().find(|k| {
                    k.split('-')
                        .next()
                        .is_some_and(|p| p.eq_ignore_ascii_case(primary))
                })
            })
        })
        .or_else(|| m.keys().find(|k| k.as_str() == "und"))
        .or_else(|| m.keys().next())
        .cloned();
    if let Some(key) = chosen {
        let mut out = Map::new();
        if let Some(v) = m.get(&key) {
            out.insert(key, v.clone());
        }
        *map = Value::Object(out);
    }
}

/// Parses an `Accept-Language` header into tags ordered by quality.
pub fn accept_language(header: &str) -> Vec<String> {
    let mut tags: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            if tag.is_empty() || tag == "*" {
                return None;
            }
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then(|| (q, i, tag.to_owned()))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_format_strips_descriptions() {
        let mut s = json!({
            "actor": {"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.org"},
            "verb": {"id": "http://example.org/v", "display": {"en": "did"}},
            "object": {"id": "urn:kmh:a", "definition": {"name": {"en": "A"}}},
        });
        to_ids(&mut s);
        assert_eq!(
            s,
            json!({
                "actor": {"objectType": "Agent", "mbox": "mailto:ana@example.org"},
                "verb": {"id": "http://example.org/v"},
                "object": {"id": "urn:kmh:a"},
            })
        );
    }

    #[test]
    fn canonical_format_picks_the_preferred_language() {
        let mut s = json!({
            "verb": {"id": "http://example.org/v", "display": {"en-US": "did", "fr": "a fait"}},
            "object": {"id": "urn:kmh:a", "definition": {"name": {"en": "A", "fr": "A (fr)"}}},
        });
        let langs = accept_language("fr-CA, en;q=0.5");
        to_canonical(&mut s, &|_| None, &langs);
        assert_eq!(s["verb"]["display"], json!({"fr": "a fait"}));
        assert_eq!(s["object"]["definition"]["name"], json!({"fr": "A (fr)"}));
    }

    #[test]
    fn canonical_format_uses_the_stored_definition() {
        let mut s = json!({"object": {"id": "urn:kmh:a"}});
        to_canonical(&mut s, &|_| Some(json!({"name": {"en": "Stored"}})), &[]);
        assert_eq!(s["object"]["definition"]["name"], json!({"en": "Stored"}));
    }

    #[test]
    fn accept_language_orders_by_quality() {
        assert_eq!(
            accept_language("en;q=0.3, fr, de;q=0.7"),
            vec!["fr", "de", "en"]
        );
    }
}

/// True when a stored statement (compact JSON, as the store writes it)
/// uses xAPI 2.0 and needs [`downgrade_to_1_0`] before a 1.0.3 client reads it.
pub fn needs_downgrade(json: &[u8]) -> bool {
    let has = |needle: &[u8]| json.windows(needle.len()).any(|w| w == needle);
    has(b"\"version\":\"2.") || has(b"\"contextAgents\"") || has(b"\"contextGroups\"")
}

/// Shows a statement written under xAPI 2.0 to a 1.0.3 client: the 2.0-only
/// context properties have no 1.0.3 form and are left out, and `version`
/// says what the client now holds.
pub fn downgrade_to_1_0(statement: &mut Value) {
    let Some(obj) = statement.as_object_mut() else {
        return;
    };
    if obj
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("2."))
    {
        obj.insert("version".into(), Value::String("1.0.3".into()));
    }
    if let Some(c) = obj.get_mut("context").and_then(Value::as_object_mut) {
        c.remove("contextAgents");
        c.remove("contextGroups");
    }
    if let Some(sub) = obj
        .get_mut("object")
        .and_then(|o| o.get_mut("context"))
        .and_then(Value::as_object_mut)
    {
        sub.remove("contextAgents");
        sub.remove("contextGroups");
    }
}

#[cfg(test)]
mod downgrade_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_2_0_statement_reads_as_1_0_3() {
        let mut s =
            json!({"version": "2.0.0", "context": {"contextAgents": [], "registration": "x"}});
        assert!(needs_downgrade(
            serde_json::to_string(&s).unwrap().as_bytes()
        ));
        downgrade_to_1_0(&mut s);
        assert_eq!(
            s,
            json!({"version": "1.0.3", "context": {"registration": "x"}})
        );
        assert!(!needs_downgrade(br#"{"version":"1.0.0"}"#));
    }
}
