//! Statements (xAPI 1.0.3 part 2, §2.2 Formatting Requirements, §2.3.2
//! Voiding, §2.4 Statement Properties: §2.4.1 ID, §2.4.3 Verb, §2.4.4 Object
//! with Statement References and SubStatements, §2.4.7 Timestamp, §2.4.8
//! Stored, §2.4.10 Version, §2.4.11 Attachments).

use serde_json::Value;

use super::Invalid;
use super::activity;
use super::agent;
use super::context;
use super::formats;
use super::json::{self, Obj};
use super::path::Path;
use super::result;
use super::timestamp;
use crate::xapi::Version;

/// The reserved voiding Verb (§2.3.2).
const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

/// What a statement's (or SubStatement's) `object` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    Activity,
    Agent,
    Group,
    StatementRef,
    SubStatement,
}

/// A full statement as a client sends it (§2.4): `actor`, `verb` and
/// `object` required; `id`, `stored`, `authority` and `version`, which the
/// LRS may set or overwrite, are validated when present.
pub(crate) fn statement(v: &Value, version: Version) -> Result<(), Invalid> {
    let root = Path::root("");
    let map = v
        .as_object()
        .ok_or_else(|| root.err("a Statement must be a JSON object"))?;
    let object_is_activity = is_activity(map.get("object"));
    let mut verb_id = None;
    let mut object_kind = None;
    for (k, val) in map {
        let kp = root.key(k);
        match k.as_str() {
            "id" => {
                json::uuid(val, &kp)?;
            }
            "actor" => {
                agent::actor(val, &kp)?;
            }
            "verb" => verb_id = Some(verb(val, &kp)?),
            "object" => object_kind = Some(object(val, &kp, version, false)?),
            "result" => result::result(val, &kp)?,
            "context" => context::context(val, &kp, version, object_is_activity)?,
            "timestamp" | "stored" => time_value(val, &kp, version)?,
            "authority" => agent::authority(val, &kp)?,
            "version" => version_value(val, &kp, version)?,
            "attachments" => attachments(val, &kp)?,
            _ => return Err(json::unknown(&kp, "Statement")),
        }
    }
    let (Some(verb_id), Some(object_kind)) = (verb_id, object_kind) else {
        return Err(first_missing(map, &root));
    };
    if !map.contains_key("actor") {
        return Err(json::missing(&root, "actor"));
    }
    // §2.3.2: "When issuing a Statement that voids another, the Object of that
    // voiding Statement MUST have the objectType property set to StatementRef".
    if verb_id == VOIDED && object_kind != ObjectKind::StatementRef {
        return Err(root.key("object").err(
            "the object of a voiding Statement (verb http://adlnet.gov/expapi/verbs/voided) \
             must be a StatementRef",
        ));
    }
    Ok(())
}

fn first_missing(map: &Obj, root: &Path) -> Invalid {
    let key = ["actor", "verb", "object"]
        .into_iter()
        .find(|k| !map.contains_key(*k))
        .unwrap_or("object");
    json::missing(root, key)
}

/// Whether `object` reads as an Activity (no `objectType`, or `Activity`),
/// for the `revision` / `platform` rule. A malformed object is reported by
/// the object's own validation.
fn is_activity(object: Option<&Value>) -> bool {
    match object.and_then(Value::as_object) {
        Some(map) => match map.get("objectType") {
            None => true,
            Some(t) => t.as_str() == Some("Activity"),
        },
        None => true,
    }
}

/// `timestamp` and `stored` (§2.4.7, §2.4.8, §4.5).
fn time_value(v: &Value, p: &Path, version: Version) -> Result<(), Invalid> {
    let s = json::string(v, p)?;
    match timestamp::timestamp_for(s, version) {
        Ok(_) => Ok(()),
        Err(why) => Err(p.err(match version {
            Version::V1_0_3 => format!("must be an ISO 8601 timestamp: {why}"),
            Version::V2_0_0 => format!("must be an RFC 3339 timestamp: {why}"),
        })),
    }
}

/// §2.4.10: "An LRS MUST reject all Statements with a version specified that
/// does not start with 1.0."; the conformance suite accepts `1.0` itself.
/// Under 2.0.0, `2.0` / `2.0.x` are accepted as well.
fn version_value(v: &Value, p: &Path, version: Version) -> Result<(), Invalid> {
    let s = json::string(v, p)?;
    let ok = is_version(s, "1.0") || (version == Version::V2_0_0 && is_version(s, "2.0"));
    if ok {
        Ok(())
    } else {
        Err(p.err(match version {
            Version::V1_0_3 => "must be a 1.0.x version (\"1.0\" or starting with \"1.0.\")",
            Version::V2_0_0 => "must be a 1.0.x or 2.0.x version",
        }))
    }
}

/// `major_minor` itself, or `major_minor.PATCH` with an optional Semantic
/// Versioning 1.0.0 pre-release suffix (`1.0.0-beta`).
fn is_version(s: &str, major_minor: &str) -> bool {
    let Some(rest) = s.strip_prefix(major_minor) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix('.') else {
        return false;
    };
    let (patch, pre) = match rest.split_once('-') {
        Some((patch, pre)) => (patch, Some(pre)),
        None => (rest, None),
    };
    !patch.is_empty()
        && patch.bytes().all(|c| c.is_ascii_digit())
        && pre.is_none_or(|pre| {
            !pre.is_empty()
                && pre
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        })
}

/// The Verb (§2.4.3): `id` (IRI, required) and `display` (Language Map).
/// Returns the id, for the voiding rule.
fn verb<'v>(v: &'v Value, p: &Path) -> Result<&'v str, Invalid> {
    let map = json::object(v, p)?;
    let mut id = None;
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "id" => id = Some(json::iri(val, &kp)?),
            "display" => json::language_map(val, &kp)?,
            _ => return Err(json::unknown(&kp, "Verb")),
        }
    }
    id.ok_or_else(|| json::missing(p, "id"))
}

/// The Object (§2.4.4), chosen by `objectType` (absent means Activity).
/// `in_sub_statement`: "A SubStatement MUST NOT contain a SubStatement of its
/// own, i.e., cannot be nested."
fn object(
    v: &Value,
    p: &Path,
    version: Version,
    in_sub_statement: bool,
) -> Result<ObjectKind, Invalid> {
    let map = json::object(v, p)?;
    let Some(t) = map.get("objectType") else {
        activity::activity_map(map, p)?;
        return Ok(ObjectKind::Activity);
    };
    let tp = p.key("objectType");
    match json::string(t, &tp)? {
        "Activity" => activity::activity_map(map, p).map(|()| ObjectKind::Activity),
        "Agent" => agent::agent_map(map, p).map(|()| ObjectKind::Agent),
        "Group" => agent::group_map(map, p).map(|_| ObjectKind::Group),
        "StatementRef" => statement_ref_map(map, p).map(|()| ObjectKind::StatementRef),
        "SubStatement" if in_sub_statement => {
            Err(tp.err("a SubStatement must not contain a SubStatement"))
        }
        "SubStatement" => sub_statement(map, p, version).map(|()| ObjectKind::SubStatement),
        _ => Err(tp.err(
            "must be \"Activity\", \"Agent\", \"Group\", \"StatementRef\" or \"SubStatement\"",
        )),
    }
}

/// A Statement Reference (§2.4.4.3): `objectType` `StatementRef` and `id` a
/// UUID, both required. Also the type of `context.statement`.
pub(crate) fn statement_ref(v: &Value, p: &Path) -> Result<(), Invalid> {
    statement_ref_map(json::object(v, p)?, p)
}

fn statement_ref_map(map: &Obj, p: &Path) -> Result<(), Invalid> {
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "objectType" => json::exact(val, &kp, "StatementRef")?,
            "id" => {
                json::uuid(val, &kp)?;
            }
            _ => return Err(json::unknown(&kp, "StatementRef")),
        }
    }
    for required in ["objectType", "id"] {
        if !map.contains_key(required) {
            return Err(json::missing(p, required));
        }
    }
    Ok(())
}

/// A SubStatement (§2.4.4.3): validated as a Statement, but it "MUST NOT
/// have the id, stored, version or authority properties" and cannot nest.
fn sub_statement(map: &Obj, p: &Path, version: Version) -> Result<(), Invalid> {
    let object_is_activity = is_activity(map.get("object"));
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "objectType" => json::exact(val, &kp, "SubStatement")?,
            "actor" => {
                agent::actor(val, &kp)?;
            }
            "verb" => {
                verb(val, &kp)?;
            }
            "object" => {
                object(val, &kp, version, true)?;
            }
            "result" => result::result(val, &kp)?,
            "context" => context::context(val, &kp, version, object_is_activity)?,
            "timestamp" => time_value(val, &kp, version)?,
            "attachments" => attachments(val, &kp)?,
            "id" | "stored" | "version" | "authority" => {
                return Err(kp.err("must not be used in a SubStatement"));
            }
            _ => return Err(json::unknown(&kp, "SubStatement")),
        }
    }
    for required in ["actor", "verb", "object"] {
        if !map.contains_key(required) {
            return Err(json::missing(p, required));
        }
    }
    Ok(())
}

/// Attachments (§2.4.11): an array of Attachment Objects.
fn attachments(v: &Value, p: &Path) -> Result<(), Invalid> {
    for (i, a) in json::array(v, p)?.iter().enumerate() {
        attachment(a, &p.index(i))?;
    }
    Ok(())
}

/// `usageType` (IRI), `display` (Language Map), `contentType` (Internet
/// Media Type), `length` (integer, octets), `sha2` (hex SHA-2) required;
/// `description` (Language Map) and `fileUrl` (IRL) optional.
fn attachment(v: &Value, p: &Path) -> Result<(), Invalid> {
    let map = json::object(v, p)?;
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "usageType" => {
                json::iri(val, &kp)?;
            }
            "display" | "description" => json::language_map(val, &kp)?,
            "contentType" => {
                if !formats::is_media_type(json::string(val, &kp)?) {
                    return Err(kp.err("must be an Internet Media Type (type/subtype)"));
                }
            }
            "length" => {
                let n = json::number(val, &kp)?;
                if !(val.is_u64() || (n >= 0.0 && n.fract() == 0.0)) {
                    return Err(kp.err("must be a non-negative integer"));
                }
            }
            "sha2" => {
                if !formats::is_sha2_hex(json::string(val, &kp)?) {
                    return Err(kp.err("must be a hex-encoded SHA-2 hash"));
                }
            }
            "fileUrl" => {
                json::irl(val, &kp)?;
            }
            _ => return Err(json::unknown(&kp, "Attachment")),
        }
    }
    for required in ["usageType", "display", "contentType", "length", "sha2"] {
        if !map.contains_key(required) {
            return Err(json::missing(p, required));
        }
    }
    Ok(())
}
