//! Statement comparison (xAPI 1.0.3 part 2, §2.3.1 "Statement Comparison
//! Requirements"): a re-sent statement with a known id is a no-op when it
//! matches the stored one and a conflict otherwise. Differences that the
//! immutability exceptions allow (LRS-assigned properties, activity
//! definitions, verb display, timestamp serialisation, member order,
//! attachments) are ignored; every other difference counts.

use serde_json::Value;
use sha1::{Digest, Sha1};

/// A 20-byte digest of what a statement asserts, equal for two statements
/// exactly when they match under the comparison rules.
pub fn fingerprint(statement: &Value) -> [u8; 20] {
    let mut s = statement.clone();
    if let Some(obj) = s.as_object_mut() {
        for key in ["id", "authority", "stored", "version", "attachments"] {
            obj.remove(key);
        }
        if let Some(ts) = obj.get_mut("timestamp") {
            normalise_timestamp(ts);
        }
    }
    strip_mutable_parts(&mut s);
    let mut canonical = String::with_capacity(1024);
    write_sorted(&s, &mut canonical);
    Sha1::digest(canonical.as_bytes()).into()
}

fn normalise_timestamp(ts: &mut Value) {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    if let Some(parsed) = ts
        .as_str()
        .and_then(|t| time::OffsetDateTime::parse(t, rfc3339).ok())
    {
        *ts = Value::String(parsed.unix_timestamp_nanos().to_string());
    }
}

/// Removes verb displays and activity definitions, and sorts group members,
/// wherever they occur (object, context activities, SubStatements).
fn strip_mutable_parts(s: &mut Value) {
    let Some(obj) = s.as_object_mut() else { return };
    if let Some(verb) = obj.get_mut("verb").and_then(Value::as_object_mut) {
        verb.remove("display");
    }
    for agent_key in ["actor", "object"] {
        if let Some(members) = obj.get_mut(agent_key).and_then(|a| a.get_mut("member")) {
            sort_members(members);
        }
    }
    if let Some(object) = obj.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str) {
            Some("SubStatement") => {
                if let Some(ts) = object.get_mut("timestamp") {
                    normalise_timestamp(ts);
                }
                strip_mutable_parts(object);
            }
            None | Some("Activity") => strip_definition(object),
            _ => {}
        }
    }
    if let Some(cas) = obj
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    {
        for list in cas.values_mut() {
            // A single activity and a one-element array say the same thing.
            if list.is_object() {
                *list = Value::Array(vec![list.take()]);
            }
            if let Some(items) = list.as_array_mut() {
                items.iter_mut().for_each(strip_definition);
            }
        }
    }
}

fn strip_definition(activity: &mut Value) {
    if let Some(a) = activity.as_object_mut() {
        a.remove("definition");
        a.remove("objectType");
    }
}

fn sort_members(members: &mut Value) {
    if let Some(list) = members.as_array_mut() {
        list.sort_by_cached_key(|m| {
            let mut key = String::new();
            write_sorted(m, &mut key);
            key
        });
    }
}

/// JSON with object keys sorted, so that property order never matters.
fn write_sorted(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_sorted(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb",
            "actor": {"mbox": "mailto:ana@example.org", "name": "Ana"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
            "object": {"id": "urn:kmh:m1", "definition": {"name": {"en": "Module 1"}}},
            "timestamp": "2026-01-02T10:00:00Z"
        })
    }

    #[test]
    fn allowed_differences_are_ignored() {
        let mut other = json!({
            "timestamp": "2026-01-02T11:00:00+01:00",
            "object": {"objectType": "Activity", "id": "urn:kmh:m1"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "actor": {"name": "Ana", "mbox": "mailto:ana@example.org"},
        });
        other["stored"] = json!("2026-01-03T00:00:00Z");
        assert_eq!(fingerprint(&base()), fingerprint(&other));
    }

    #[test]
    fn real_differences_count() {
        let mut other = base();
        other["actor"]["name"] = json!("Ana B.");
        assert_ne!(fingerprint(&base()), fingerprint(&other));
        let mut other = base();
        other["timestamp"] = json!("2026-01-02T10:00:01Z");
        assert_ne!(fingerprint(&base()), fingerprint(&other));
    }
}
