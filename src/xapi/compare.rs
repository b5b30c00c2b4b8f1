//! Statement comparison (xAPI 1.0.3 part 2, §2.3.1 "Statement Comparison
//! Requirements"): a re-sent statement with a known id is a no-op when it
//! matches the stored one and a conflict otherwise. Differences that the
//! immutability exceptions allow (LRS-assigned properties, activity
//! definitions, verb display, timestamp serialisation, member order,
//! attachments) are ignored; every other difference counts.

use std::io::Write;

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// A 20-byte digest of what a statement asserts, equal for two statements
/// exactly when they match under the comparison rules. Streams a canonical
/// form into the hash (object keys sorted, ignored parts skipped) without
/// copying the statement: this runs for every statement written.
pub fn fingerprint(statement: &Value) -> [u8; 20] {
    let mut h = HashWriter::default();
    write_statement(statement, &mut h);
    h.finish()
}

/// The canonical form is written in many pieces of a few bytes; they are
/// gathered and hashed at once, which costs less than feeding the hash
/// each piece. The digest is the same either way.
#[derive(Default)]
struct HashWriter(Vec<u8>);

impl HashWriter {
    fn finish(self) -> [u8; 20] {
        Sha1::digest(&self.0).into()
    }
}

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Properties the LRS assigns or that are not part of the statement.
const IGNORED: [&str; 5] = ["id", "authority", "stored", "version", "attachments"];

fn write_statement(v: &Value, h: &mut HashWriter) {
    let Some(obj) = v.as_object() else {
        plain(v, h);
        return;
    };
    for (k, v) in sorted(obj) {
        if IGNORED.contains(&k.as_str()) {
            continue;
        }
        key(k, h);
        match k.as_str() {
            "timestamp" => timestamp(v, h),
            "verb" => without(v, &["display"], h),
            "actor" => agent(v, h),
            "object" => match v.get("objectType").and_then(Value::as_str) {
                Some("SubStatement") => write_statement(v, h),
                Some("Agent") | Some("Group") => agent(v, h),
                None | Some("Activity") => without(v, &["definition", "objectType"], h),
                _ => plain(v, h),
            },
            "context" => context(v, h),
            _ => plain(v, h),
        }
    }
}

/// An object's entries in key order. serde_json keeps keys sorted unless
/// its `preserve_order` feature is on (which any crate of the build could
/// turn on): the entries are copied and sorted only then, since this runs
/// for every object of every statement written.
pub(crate) fn sorted(obj: &Map<String, Value>) -> Sorted<'_> {
    if obj.keys().is_sorted() {
        return Sorted::AsStored(obj.iter());
    }
    let mut entries: Vec<_> = obj.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Sorted::Copied(entries.into_iter())
}

pub(crate) enum Sorted<'a> {
    AsStored(serde_json::map::Iter<'a>),
    Copied(std::vec::IntoIter<(&'a String, &'a Value)>),
}

impl<'a> Iterator for Sorted<'a> {
    type Item = (&'a String, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Sorted::AsStored(entries) => entries.next(),
            Sorted::Copied(entries) => entries.next(),
        }
    }
}

fn key(k: &str, h: &mut HashWriter) {
    let _ = serde_json::to_writer(&mut *h, k);
    let _ = h.write_all(b":");
}

fn plain(v: &Value, h: &mut HashWriter) {
    match v {
        Value::Object(obj) => {
            let _ = h.write_all(b"{");
            for (k, v) in sorted(obj) {
                key(k, h);
                plain(v, h);
                let _ = h.write_all(b",");
            }
            let _ = h.write_all(b"}");
        }
        Value::Array(items) => {
            let _ = h.write_all(b"[");
            for item in items {
                plain(item, h);
                let _ = h.write_all(b",");
            }
            let _ = h.write_all(b"]");
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *h, scalar);
        }
    }
    let _ = h.write_all(b";");
}

fn without(v: &Value, skip: &[&str], h: &mut HashWriter) {
    match v.as_object() {
        Some(obj) => {
            let _ = h.write_all(b"{");
            for (k, v) in sorted(obj) {
                if !skip.contains(&k.as_str()) {
                    key(k, h);
                    plain(v, h);
                }
            }
            let _ = h.write_all(b"}");
        }
        None => plain(v, h),
    }
}

/// Timestamps compare as instants: how they are written does not matter.
fn timestamp(v: &Value, h: &mut HashWriter) {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    match v
        .as_str()
        .and_then(|t| time::OffsetDateTime::parse(t, rfc3339).ok())
    {
        Some(t) => {
            let _ = write!(h, "@{};", t.unix_timestamp_nanos());
        }
        None => plain(v, h),
    }
}

/// Group members are an unordered list.
fn agent(v: &Value, h: &mut HashWriter) {
    let Some(obj) = v.as_object() else {
        plain(v, h);
        return;
    };
    let _ = h.write_all(b"{");
    for (k, v) in sorted(obj) {
        key(k, h);
        match (k.as_str(), v.as_array()) {
            ("member", Some(members)) => {
                let mut canon: Vec<Vec<u8>> = members
                    .iter()
                    .map(|m| {
                        let mut inner = HashWriter::default();
                        plain(m, &mut inner);
                        inner.finish().to_vec()
                    })
                    .collect();
                canon.sort();
                for c in canon {
                    let _ = h.write_all(&c);
                }
            }
            _ => plain(v, h),
        }
    }
    let _ = h.write_all(b"}");
}

/// Context activities lose their definitions, and a single activity says
/// the same as a one-element array.
fn context(v: &Value, h: &mut HashWriter) {
    let Some(obj) = v.as_object() else {
        plain(v, h);
        return;
    };
    let _ = h.write_all(b"{");
    for (k, v) in sorted(obj) {
        key(k, h);
        match (k.as_str(), v.as_object()) {
            ("contextActivities", Some(cas)) => {
                for (list_name, list) in sorted(cas) {
                    key(list_name, h);
                    let items: &[Value] = match list {
                        Value::Array(items) => items,
                        single => std::slice::from_ref(single),
                    };
                    let _ = h.write_all(b"[");
                    for item in items {
                        without(item, &["definition", "objectType"], h);
                    }
                    let _ = h.write_all(b"]");
                }
            }
            _ => plain(v, h),
        }
    }
    let _ = h.write_all(b"}");
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

    /// Stores keep the fingerprints of their statements: a new way of
    /// computing them must give the same digests, or a re-sent statement
    /// would be taken for a conflict. The value was computed by the first
    /// implementation (which fed the hash piece by piece).
    #[test]
    fn fingerprints_stay_what_stores_hold() {
        let st = json!({
            "actor": {"objectType": "Group", "name": "Team", "member": [
                {"mbox": "mailto:b@example.org"}, {"mbox": "mailto:a@example.org", "name": "A"}]},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en": "answered"}},
            "object": {"id": "urn:kmh:q1", "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction"}},
            "result": {"score": {"scaled": 0.5}, "success": true, "response": "b"},
            "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                        "contextActivities": {"parent": {"id": "urn:kmh:m1"}},
                        "extensions": {"urn:kmh:ext:country": "SN"}},
            "timestamp": "2026-01-02T10:00:00.250+01:00"
        });
        assert_eq!(
            hex::encode(fingerprint(&st)),
            "b4a3ba72b1fc9a92985a2e6e10aeb5b1e87354bc"
        );
    }
}
