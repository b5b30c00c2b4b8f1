//! What the LRS changes in a statement before storing it, where the
//! specification asks for one representation: a single context activity is
//! returned as an array of one (xAPI 1.0.3 part 2, §2.4.6.2: "the LRS
//! MUST return every value in the contextActivities Object as an array").

use serde_json::{Map, Value};

/// Wraps single context activities in arrays, in the statement and in a
/// SubStatement object.
pub fn context_activities_as_arrays(statement: &mut Map<String, Value>) {
    wrap(statement.get_mut("context"));
    if let Some(Value::Object(object)) = statement.get_mut("object")
        && object.get("objectType").and_then(Value::as_str) == Some("SubStatement")
    {
        wrap(object.get_mut("context"));
    }
}

fn wrap(context: Option<&mut Value>) {
    let Some(cas) = context
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for list in cas.values_mut() {
        if list.is_object() {
            *list = Value::Array(vec![list.take()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_context_activities_become_arrays() {
        let mut s = json!({
            "context": {"contextActivities": {"parent": {"id": "urn:a"}, "grouping": [{"id": "urn:b"}]}},
            "object": {"objectType": "SubStatement",
                       "context": {"contextActivities": {"other": {"id": "urn:c"}}}}
        });
        context_activities_as_arrays(s.as_object_mut().unwrap());
        assert_eq!(
            s["context"]["contextActivities"]["parent"],
            json!([{"id": "urn:a"}])
        );
        assert_eq!(
            s["context"]["contextActivities"]["grouping"],
            json!([{"id": "urn:b"}])
        );
        assert_eq!(
            s["object"]["context"]["contextActivities"]["other"],
            json!([{"id": "urn:c"}])
        );
    }
}

/// An RFC 3339 timestamp rewritten in UTC (`Z`), keeping every fractional
/// digit it had and at least milliseconds (xAPI 2.0, IEEE 9274.1.1:
/// timestamps are stored normalised). `None` when it does not parse.
pub fn timestamp_utc(ts: &str) -> Option<String> {
    let t = super::validate::timestamp(ts)
        .ok()?
        .to_offset(time::UtcOffset::UTC);
    let given = ts
        .split_once('.')
        .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).count())
        .unwrap_or(0);
    let digits = given.clamp(3, 9);
    let fraction = format!("{:09}", t.nanosecond());
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        &fraction[..digits]
    ))
}

#[cfg(test)]
mod timestamp_tests {
    use super::timestamp_utc;

    #[test]
    fn offsets_become_utc_without_losing_precision() {
        assert_eq!(
            timestamp_utc("2026-03-01T10:00:00+01:00").unwrap(),
            "2026-03-01T09:00:00.000Z"
        );
        assert_eq!(
            timestamp_utc("2026-03-01T10:00:00.25Z").unwrap(),
            "2026-03-01T10:00:00.250Z"
        );
        assert_eq!(
            timestamp_utc("2026-03-01T10:00:00.123456-02:30").unwrap(),
            "2026-03-01T12:30:00.123456Z"
        );
        assert!(timestamp_utc("yesterday").is_none());
    }
}
