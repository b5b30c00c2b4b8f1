//! Inverse functional identifiers (xAPI 1.0.3 part 2, §2.4.2.4): the one
//! property that identifies an Agent or identified Group. Two agents are the
//! same when their IFIs are equal, whatever else (name, objectType) differs.

use serde_json::Value;

/// The identity of an Agent or identified Group as one string, e.g.
/// `mbox:mailto:ana@example.org` or `account:https://lms.example\u{1f}42`.
/// `None` for anonymous Groups and values that are not agents.
pub fn identity(agent: &Value) -> Option<String> {
    // `concat` rather than `format!`: this runs several times for every
    // statement written, and one exact allocation beats the formatter.
    let obj = agent.as_object()?;
    if let Some(mbox) = obj.get("mbox").and_then(Value::as_str) {
        return Some(["mbox:", mbox].concat());
    }
    if let Some(sum) = obj.get("mbox_sha1sum").and_then(Value::as_str) {
        // Hex digests are case-insensitive; a client may send either case.
        let mut id = ["mbox_sha1sum:", sum].concat();
        id.make_ascii_lowercase();
        return Some(id);
    }
    if let Some(openid) = obj.get("openid").and_then(Value::as_str) {
        return Some(["openid:", openid].concat());
    }
    let account = obj.get("account")?.as_object()?;
    let home = account.get("homePage")?.as_str()?;
    let name = account.get("name")?.as_str()?;
    // U+001F (unit separator) cannot occur in an IRI, so the pair is unambiguous.
    Some(["account:", home, "\u{1f}", name].concat())
}

/// The identities an agent filter matches in `agent`: its own IFI and, for
/// a Group, the IFIs of its members ("Groups that have members which match
/// the specified Agent ... are considered a match", part 3 §2.1.3).
pub fn identities_with_members(agent: &Value, out: &mut Vec<String>) {
    if let Some(id) = identity(agent) {
        out.push(id);
    }
    if let Some(members) = agent.get("member").and_then(Value::as_array) {
        out.extend(members.iter().filter_map(identity));
    }
}

/// Reduces an Agent or Group to what identifies it (`format=ids`): its
/// objectType and IFI; an anonymous Group keeps its members, each reduced.
pub fn reduce_to_ids(agent: &Value) -> Value {
    let Some(obj) = agent.as_object() else {
        return agent.clone();
    };
    let mut out = serde_json::Map::new();
    if let Some(t) = obj.get("objectType") {
        out.insert("objectType".into(), t.clone());
    }
    for key in ["mbox", "mbox_sha1sum", "openid", "account"] {
        if let Some(v) = obj.get(key) {
            out.insert(key.into(), v.clone());
            return Value::Object(out);
        }
    }
    if let Some(members) = obj.get("member").and_then(Value::as_array) {
        out.insert(
            "member".into(),
            Value::Array(members.iter().map(reduce_to_ids).collect()),
        );
    }
    Value::Object(out)
}

/// Calls `f` on every agent or group a statement's `context` names: the
/// instructor, the team, and the xAPI 2.0 `contextAgents` and
/// `contextGroups`. Pseudonymising and forgetting must reach the same
/// places, so both walk them through here.
pub fn each_context_agent_mut(context: &mut Value, mut f: impl FnMut(&mut Value)) {
    for field in ["instructor", "team"] {
        if let Some(agent) = context.get_mut(field) {
            f(agent);
        }
    }
    for (list, field) in [("contextAgents", "agent"), ("contextGroups", "group")] {
        let items = context.get_mut(list).and_then(Value::as_array_mut);
        for item in items.into_iter().flatten() {
            if let Some(agent) = item.get_mut(field) {
                f(agent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_ignores_name_and_object_type() {
        let a = json!({"name": "Ana", "mbox": "mailto:ana@example.org"});
        let b = json!({"objectType": "Agent", "mbox": "mailto:ana@example.org"});
        assert_eq!(identity(&a), identity(&b));
    }

    #[test]
    fn account_identity_keeps_home_page_and_name_apart() {
        let a = json!({"account": {"homePage": "https://a.example/x", "name": "1"}});
        let b = json!({"account": {"homePage": "https://a.example/", "name": "x1"}});
        assert_ne!(identity(&a), identity(&b));
    }

    #[test]
    fn sha1sum_case_does_not_matter() {
        let a = json!({"mbox_sha1sum": "ABCDEF0123456789ABCDEF0123456789ABCDEF01"});
        let b = json!({"mbox_sha1sum": "abcdef0123456789abcdef0123456789abcdef01"});
        assert_eq!(identity(&a), identity(&b));
    }

    #[test]
    fn group_members_are_matched() {
        let g = json!({"objectType": "Group", "member": [
            {"mbox": "mailto:a@example.org"}, {"openid": "https://id.example/b"}]});
        let mut ids = Vec::new();
        identities_with_members(&g, &mut ids);
        assert_eq!(
            ids,
            vec!["mbox:mailto:a@example.org", "openid:https://id.example/b"]
        );
    }

    #[test]
    fn ids_format_keeps_only_the_identifier() {
        let a = json!({"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.org"});
        assert_eq!(
            reduce_to_ids(&a),
            json!({"objectType": "Agent", "mbox": "mailto:ana@example.org"})
        );
    }
}
