//! Rules shared by every object of a statement (xAPI 1.0.3 part 2):
//! the JSON types and the ban on `null` (§2.2), Language Maps (§4.2),
//! Extensions (§4.1), and the formatted strings (IRI, UUID) as values.

use serde_json::{Map, Value};

use super::Invalid;
use super::formats;
use super::path::Path;

pub(crate) type Obj = Map<String, Value>;

/// The error for a value of the wrong JSON type. §2.2: "The LRS MUST reject
/// Statements with any null values (except inside extensions)" and "where
/// the wrong data type is used".
pub(crate) fn wrong_type(v: &Value, p: &Path, expected: &str) -> Invalid {
    if v.is_null() {
        p.err("must not be null")
    } else {
        p.err(format!("must be {expected}"))
    }
}

pub(crate) fn object<'v>(v: &'v Value, p: &Path) -> Result<&'v Obj, Invalid> {
    v.as_object().ok_or_else(|| wrong_type(v, p, "an object"))
}

pub(crate) fn array<'v>(v: &'v Value, p: &Path) -> Result<&'v [Value], Invalid> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| wrong_type(v, p, "an array"))
}

pub(crate) fn string<'v>(v: &'v Value, p: &Path) -> Result<&'v str, Invalid> {
    v.as_str().ok_or_else(|| wrong_type(v, p, "a string"))
}

pub(crate) fn boolean(v: &Value, p: &Path) -> Result<bool, Invalid> {
    v.as_bool().ok_or_else(|| wrong_type(v, p, "a boolean"))
}

pub(crate) fn number(v: &Value, p: &Path) -> Result<f64, Invalid> {
    v.as_f64().ok_or_else(|| wrong_type(v, p, "a number"))
}

/// An absolute IRI, which has a scheme (§2.2, §4.3).
pub(crate) fn iri<'v>(v: &'v Value, p: &Path) -> Result<&'v str, Invalid> {
    let s = string(v, p)?;
    if formats::iri(s) {
        Ok(s)
    } else {
        Err(p.err("must be an absolute IRI (with a scheme)"))
    }
}

/// An IRL (a resolvable IRI); the LRS can only check it is an absolute IRI.
pub(crate) fn irl<'v>(v: &'v Value, p: &Path) -> Result<&'v str, Invalid> {
    let s = string(v, p)?;
    if formats::iri(s) {
        Ok(s)
    } else {
        Err(p.err("must be an absolute IRL (with a scheme)"))
    }
}

/// A UUID in standard string form (§4.4).
pub(crate) fn uuid<'v>(v: &'v Value, p: &Path) -> Result<&'v str, Invalid> {
    let s = string(v, p)?;
    if formats::is_uuid(s) {
        Ok(s)
    } else {
        Err(p.err("must be a UUID in standard form (8-4-4-4-12 hex digits)"))
    }
}

/// A Language Map (§4.2): keys are RFC 5646 tags, values strings. An empty
/// map is allowed (§2.2 only says empty objects SHOULD NOT be sent).
pub(crate) fn language_map(v: &Value, p: &Path) -> Result<(), Invalid> {
    for (tag, text) in object(v, p)? {
        let tp = p.key(tag);
        if !formats::language_tag(tag) {
            return Err(tp.err("is not a valid RFC 5646 language tag"));
        }
        string(text, &tp)?;
    }
    Ok(())
}

/// Extensions (§4.1): an object whose keys are IRIs; "An LRS MUST NOT reject
/// a Statement based on the values of the extensions map", so values
/// (including `null`) are not looked at.
pub(crate) fn extensions(v: &Value, p: &Path) -> Result<(), Invalid> {
    for key in object(v, p)?.keys() {
        if !formats::iri(key) {
            return Err(p.key(key).err("extension keys must be absolute IRIs"));
        }
    }
    Ok(())
}

/// §2.2: "The LRS MUST reject Statements where a key or value is not allowed
/// by this specification" (keys are case-sensitive).
pub(crate) fn unknown(p: &Path, what: &str) -> Invalid {
    p.err(format!("is not a property of {what}"))
}

pub(crate) fn missing(parent: &Path, key: &str) -> Invalid {
    parent.key(key).err("is required")
}

/// A value that must be exactly `expected` (§2.2: enumerated values are
/// case-sensitive).
pub(crate) fn exact(v: &Value, p: &Path, expected: &str) -> Result<(), Invalid> {
    if string(v, p)? == expected {
        Ok(())
    } else {
        Err(p.err(format!("must be \"{expected}\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at<T>(r: Result<T, Invalid>) -> (String, String) {
        match r {
            Ok(_) => (String::new(), "ok".into()),
            Err(e) => (e.path, e.rule),
        }
    }

    #[test]
    fn types_and_null() {
        let root = Path::root("x");
        assert_eq!(
            at(string(&json!(null), &root)),
            ("x".into(), "must not be null".into())
        );
        assert_eq!(
            at(string(&json!(1), &root)),
            ("x".into(), "must be a string".into())
        );
        assert_eq!(at(boolean(&json!("true"), &root)).1, "must be a boolean");
        assert_eq!(at(number(&json!("1"), &root)).1, "must be a number");
        assert_eq!(at(object(&json!([]), &root)).1, "must be an object");
        assert_eq!(at(array(&json!({}), &root)).1, "must be an array");
        assert!(number(&json!(-1.5), &root).is_ok());
        assert!(number(&json!(7), &root).is_ok());
    }

    #[test]
    fn language_maps() {
        let root = Path::root("verb");
        let display = root.key("display");
        assert!(language_map(&json!({"en-US": "sent", "es": "enviado"}), &display).is_ok());
        assert!(language_map(&json!({}), &display).is_ok());
        assert_eq!(
            at(language_map(&json!({"a12345": "x"}), &display)),
            (
                "verb.display.a12345".into(),
                "is not a valid RFC 5646 language tag".into()
            )
        );
        assert_eq!(
            at(language_map(&json!({"en": 1}), &display)).1,
            "must be a string"
        );
        assert_eq!(
            at(language_map(&json!({"en": null}), &display)).1,
            "must not be null"
        );
        assert_eq!(
            at(language_map(&json!("a12345 attended"), &display)).1,
            "must be an object"
        );
    }

    #[test]
    fn extension_maps() {
        let root = Path::root("result");
        let ext = root.key("extensions");
        let ok = json!({"http://example.com/ex": null, "http://example.com/b": {}, "urn:x:y": ""});
        assert!(extensions(&ok, &ext).is_ok());
        assert!(extensions(&json!({}), &ext).is_ok());
        assert_eq!(
            at(extensions(&json!({"should fail": true}), &ext)),
            (
                r#"result.extensions["should fail"]"#.into(),
                "extension keys must be absolute IRIs".into()
            )
        );
        assert!(extensions(&json!({"example.com/extension/wrong": 1}), &ext).is_err());
        assert_eq!(at(extensions(&json!(null), &ext)).1, "must not be null");
    }

    #[test]
    fn formatted_strings() {
        let root = Path::root("id");
        assert!(uuid(&json!("fd41c918-b88b-4b20-a0a5-a4c32391aaa0"), &root).is_ok());
        assert!(uuid(&json!(""), &root).is_err());
        assert!(iri(&json!("http://example.com"), &root).is_ok());
        assert!(iri(&json!(""), &root).is_err());
        assert!(irl(&json!("example.com"), &root).is_err());
        assert!(exact(&json!("Agent"), &root, "Agent").is_ok());
        assert_eq!(
            at(exact(&json!("agent"), &root, "Agent")).1,
            "must be \"Agent\""
        );
    }
}
