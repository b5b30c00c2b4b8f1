//! Agents and Groups (xAPI 1.0.3 part 2, §2.4.2 Actor: §2.4.2.1 Agent,
//! §2.4.2.2 Group, §2.4.2.3 Inverse Functional Identifier, §2.4.2.4 Account;
//! §2.4.9 Authority).

use serde_json::Value;

use super::Invalid;
use super::formats;
use super::json::{self, Obj};
use super::path::Path;

/// Which of the two an actor turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActorKind {
    Agent,
    Group,
}

/// An Agent or a Group where either may appear (statement `actor`,
/// `context.instructor`, the `agent` query parameter): `objectType` is
/// optional and means `Agent` when absent (§2.4.2.1).
pub(crate) fn actor(v: &Value, p: &Path) -> Result<ActorKind, Invalid> {
    let map = json::object(v, p)?;
    match map.get("objectType") {
        None => agent_map(map, p).map(|()| ActorKind::Agent),
        Some(t) => {
            let tp = p.key("objectType");
            match json::string(t, &tp)? {
                "Agent" => agent_map(map, p).map(|()| ActorKind::Agent),
                "Group" => group_map(map, p).map(|_| ActorKind::Group),
                _ => Err(tp.err("must be \"Agent\" or \"Group\"")),
            }
        }
    }
}

/// An Agent where only an Agent may appear: Group members ("An Anonymous
/// Group MUST NOT contain Group Objects in the member identifiers", same for
/// Identified Groups) and the 2.0.0 `contextAgents[].agent`.
pub(crate) fn agent_only(v: &Value, p: &Path, group_rule: &str) -> Result<(), Invalid> {
    let map = json::object(v, p)?;
    if let Some(t) = map.get("objectType") {
        let tp = p.key("objectType");
        match json::string(t, &tp)? {
            "Agent" => {}
            "Group" => return Err(p.err(group_rule)),
            _ => return Err(tp.err("must be \"Agent\"")),
        }
    }
    agent_map(map, p)
}

/// A Group where only a Group may appear (`context.team`, §2.4.6, and the
/// 2.0.0 `contextGroups[].group`): `objectType` must say `Group`, since an
/// object without it is an Agent.
pub(crate) fn group_only(v: &Value, p: &Path) -> Result<GroupShape, Invalid> {
    let map = json::object(v, p)?;
    match map.get("objectType") {
        None => Err(p.err("must be a Group (with \"objectType\": \"Group\")")),
        Some(t) => {
            let tp = p.key("objectType");
            if json::string(t, &tp)? != "Group" {
                return Err(tp.err("must be \"Group\""));
            }
            group_map(map, p)
        }
    }
}

/// The statement `authority` (§2.4.9): "Authority MUST be an Agent, except in
/// 3-legged OAuth, where it MUST be a Group with two Agents. The two Agents
/// represent an application and user together", and "The Agent representing
/// the OAuth consumer MUST be identified by account". The conformance suite
/// also rejects an identified Group here: the pair is an anonymous Group.
pub(crate) fn authority(v: &Value, p: &Path) -> Result<(), Invalid> {
    let map = json::object(v, p)?;
    let is_group = map.get("objectType").and_then(Value::as_str) == Some("Group");
    if !is_group {
        return actor(v, p).map(|_| ());
    }
    let shape = group_map(map, p)?;
    if shape.identified {
        return Err(p.err(
            "an authority Group (3-legged OAuth) must be an anonymous Group of two Agents, \
             without an inverse functional identifier of its own",
        ));
    }
    if shape.members != 2 {
        return Err(p.key("member").err(format!(
            "an authority Group (3-legged OAuth) must have exactly two members, \
             the application and the user (found {})",
            shape.members
        )));
    }
    if shape.members_with_account == 0 {
        return Err(p.key("member").err(
            "one member of an authority Group must be the OAuth consumer, identified by account",
        ));
    }
    Ok(())
}

const IFIS: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "account"];

/// The Inverse Functional Identifiers seen on one Agent or Group, as a bit
/// set in [`IFIS`] order.
#[derive(Default, Clone, Copy)]
struct Ifis(u8);

impl Ifis {
    fn add(&mut self, key: &str) {
        if let Some(i) = IFIS.iter().position(|k| *k == key) {
            self.0 |= 1 << i;
        }
    }

    fn count(self) -> u32 {
        self.0.count_ones()
    }

    fn describe(self) -> String {
        let names: Vec<&str> = IFIS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, k)| *k)
            .collect();
        if names.is_empty() {
            "exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account) \
             is required (found none)"
                .into()
        } else {
            format!(
                "exactly one inverse functional identifier is required (found {}: {})",
                names.len(),
                names.join(", ")
            )
        }
    }
}

/// One IFI property (§2.4.2.3): `mbox` a mailto IRI, `mbox_sha1sum` the hex
/// SHA-1 of one, `openid` a URI, `account` an Account Object.
fn ifi(key: &str, v: &Value, p: &Path) -> Result<(), Invalid> {
    match key {
        "mbox" => {
            if !formats::is_mailto_iri(json::string(v, p)?) {
                return Err(
                    p.err("must be a mailto IRI (\"mailto:\" followed by an email address)")
                );
            }
        }
        "mbox_sha1sum" => {
            if !formats::is_sha1_hex(json::string(v, p)?) {
                return Err(p.err("must be a hex-encoded SHA-1 hash (40 hex digits)"));
            }
        }
        "openid" => {
            if !formats::iri(json::string(v, p)?) {
                return Err(p.err("must be an absolute URI (with a scheme)"));
            }
        }
        _ => account(v, p)?,
    }
    Ok(())
}

/// The Account Object (§2.4.2.4): `homePage` (IRL) and `name` (string),
/// both required, nothing else.
fn account(v: &Value, p: &Path) -> Result<(), Invalid> {
    let map = json::object(v, p)?;
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "homePage" => {
                json::irl(val, &kp)?;
            }
            "name" => {
                json::string(val, &kp)?;
            }
            _ => return Err(json::unknown(&kp, "Account")),
        }
    }
    for required in ["homePage", "name"] {
        if !map.contains_key(required) {
            return Err(json::missing(p, required));
        }
    }
    Ok(())
}

/// An Agent's properties (§2.4.2.1): exactly one IFI, optional `name` and
/// `objectType` `Agent`.
pub(crate) fn agent_map(map: &Obj, p: &Path) -> Result<(), Invalid> {
    let mut ifis = Ifis::default();
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "objectType" => json::exact(val, &kp, "Agent")?,
            "name" => {
                json::string(val, &kp)?;
            }
            "mbox" | "mbox_sha1sum" | "openid" | "account" => {
                ifi(k, val, &kp)?;
                ifis.add(k);
            }
            "member" => {
                return Err(
                    kp.err("is not a property of Agent (a Group needs \"objectType\": \"Group\")")
                );
            }
            _ => return Err(json::unknown(&kp, "Agent")),
        }
    }
    if ifis.count() != 1 {
        return Err(p.err(ifis.describe()));
    }
    Ok(())
}

/// What the authority rule needs to know about a valid Group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupShape {
    pub identified: bool,
    pub members: usize,
    pub members_with_account: usize,
}

/// A Group's properties (§2.4.2.2). An Identified Group has exactly one IFI
/// and may list members; an Anonymous Group (no IFI) MUST list them. Members
/// are Agents only. An anonymous Group with an empty `member` list names
/// nobody and is rejected.
pub(crate) fn group_map(map: &Obj, p: &Path) -> Result<GroupShape, Invalid> {
    let mut ifis = Ifis::default();
    let mut shape = GroupShape {
        identified: false,
        members: 0,
        members_with_account: 0,
    };
    let mut has_member = false;
    for (k, val) in map {
        let kp = p.key(k);
        match k.as_str() {
            "objectType" => json::exact(val, &kp, "Group")?,
            "name" => {
                json::string(val, &kp)?;
            }
            "mbox" | "mbox_sha1sum" | "openid" | "account" => {
                ifi(k, val, &kp)?;
                ifis.add(k);
            }
            "member" => {
                has_member = true;
                let members = json::array(val, &kp)?;
                for (i, m) in members.iter().enumerate() {
                    agent_only(
                        m,
                        &kp.index(i),
                        "a Group's members must be Agents, not Groups",
                    )?;
                    if m.get("account").is_some() {
                        shape.members_with_account += 1;
                    }
                }
                shape.members = members.len();
            }
            _ => return Err(json::unknown(&kp, "Group")),
        }
    }
    match ifis.count() {
        0 if !has_member => Err(p.err(
            "an anonymous Group (one without an inverse functional identifier) \
             must list its members in \"member\"",
        )),
        0 if shape.members == 0 => Err(p
            .key("member")
            .err("an anonymous Group must have at least one member")),
        0 => Ok(shape),
        1 => {
            shape.identified = true;
            Ok(shape)
        }
        _ => Err(p.err(ifis.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<ActorKind, (String, String)> {
        actor(&v, &Path::root("actor")).map_err(|e| (e.path, e.rule))
    }

    fn rule_of(v: Value) -> String {
        match check(v) {
            Ok(_) => "ok".into(),
            Err((path, rule)) => format!("{path}: {rule}"),
        }
    }

    #[test]
    fn agent_with_each_ifi() {
        for v in [
            json!({"mbox": "mailto:xapi@adlnet.gov"}),
            json!({"objectType": "Agent", "name": "x", "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}),
            json!({"openid": "http://openid.example.org/12345"}),
            json!({"account": {"homePage": "http://www.example.com", "name": "1625378"}}),
        ] {
            assert_eq!(check(v), Ok(ActorKind::Agent));
        }
    }

    #[test]
    fn agent_needs_exactly_one_ifi() {
        assert_eq!(
            rule_of(json!({"name": "x"})),
            "actor: exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account) is required (found none)"
        );
        assert_eq!(
            rule_of(json!({"mbox": "mailto:a@b.c", "openid": "http://a.b/c"})),
            "actor: exactly one inverse functional identifier is required (found 2: mbox, openid)"
        );
        assert_eq!(
            rule_of(
                json!({"account": {"homePage": "http://a.b", "name": "n"}, "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"})
            ),
            "actor: exactly one inverse functional identifier is required (found 2: mbox_sha1sum, account)"
        );
    }

    #[test]
    fn ifi_formats() {
        assert_eq!(
            rule_of(json!({"mbox": "http://should.fail.com"})),
            "actor.mbox: must be a mailto IRI (\"mailto:\" followed by an email address)"
        );
        assert!(check(json!({"mbox": "mailto:should.fail.com"})).is_err());
        assert!(check(json!({"mbox": null})).is_err());
        assert_eq!(
            rule_of(json!({"mbox_sha1sum": {"key": "value"}})),
            "actor.mbox_sha1sum: must be a string"
        );
        assert!(check(json!({"mbox_sha1sum": "not a hash"})).is_err());
        assert!(check(json!({"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"})).is_ok());
        assert_eq!(
            rule_of(json!({"openid": "ab=c://should.fail.com"})),
            "actor.openid: must be an absolute URI (with a scheme)"
        );
        assert!(check(json!({"openid": "open.id.com/testUser"})).is_err());
    }

    #[test]
    fn account_object() {
        assert_eq!(
            rule_of(json!({"account": {"name": "n"}})),
            "actor.account.homePage: is required"
        );
        assert_eq!(
            rule_of(json!({"account": {"homePage": "http://a.b"}})),
            "actor.account.name: is required"
        );
        assert_eq!(
            rule_of(json!({"account": {"homePage": "homePage.com/testUser", "name": "1"}})),
            "actor.account.homePage: must be an absolute IRL (with a scheme)"
        );
        assert_eq!(
            rule_of(json!({"account": {"homePage": "http://a.b", "name": {"key": "x"}}})),
            "actor.account.name: must be a string"
        );
        assert_eq!(
            rule_of(json!({"account": {"homePage": "http://a.b", "name": "n", "Name": "n"}})),
            "actor.account.Name: is not a property of Account"
        );
    }

    #[test]
    fn agent_properties_and_object_type() {
        assert_eq!(
            rule_of(json!({"objectType": "agent", "mbox": "mailto:a@b.c"})),
            "actor.objectType: must be \"Agent\" or \"Group\""
        );
        assert_eq!(
            rule_of(json!({"objectType": 123, "mbox": "mailto:a@b.c"})),
            "actor.objectType: must be a string"
        );
        assert_eq!(
            rule_of(json!({"objectType": null, "mbox": "mailto:a@b.c"})),
            "actor.objectType: must not be null"
        );
        assert_eq!(
            rule_of(json!({"name": 123, "mbox": "mailto:a@b.c"})),
            "actor.name: must be a string"
        );
        assert_eq!(
            rule_of(json!({"Mbox": "mailto:a@b.c"})),
            "actor.Mbox: is not a property of Agent"
        );
        assert_eq!(
            rule_of(json!({"mbox": "mailto:a@b.c", "member": []})),
            "actor.member: is not a property of Agent (a Group needs \"objectType\": \"Group\")"
        );
        assert_eq!(rule_of(json!("agent")), "actor: must be an object");
        assert_eq!(rule_of(json!(null)), "actor: must not be null");
    }

    #[test]
    fn groups() {
        let member =
            json!([{"mbox": "mailto:a@b.c"}, {"objectType": "Agent", "openid": "http://x.y/z"}]);
        assert_eq!(
            check(json!({"objectType": "Group", "member": member})),
            Ok(ActorKind::Group)
        );
        assert_eq!(
            check(json!({"objectType": "Group", "name": "Team", "mbox": "mailto:team@b.c"})),
            Ok(ActorKind::Group)
        );
        assert_eq!(
            check(json!({"objectType": "Group", "mbox": "mailto:team@b.c", "member": member})),
            Ok(ActorKind::Group)
        );
        assert!(
            check(json!({"objectType": "Group", "mbox": "mailto:team@b.c", "member": []})).is_ok()
        );
        assert_eq!(
            rule_of(json!({"objectType": "group", "member": member})),
            "actor.objectType: must be \"Agent\" or \"Group\""
        );
        assert_eq!(
            rule_of(json!({"objectType": "Group", "name": "x"})),
            "actor: an anonymous Group (one without an inverse functional identifier) must list its members in \"member\""
        );
        assert_eq!(
            rule_of(json!({"objectType": "Group", "member": []})),
            "actor.member: an anonymous Group must have at least one member"
        );
        assert_eq!(
            rule_of(json!({"objectType": "Group", "member": {"mbox": "mailto:a@b.c"}})),
            "actor.member: must be an array"
        );
        assert_eq!(
            rule_of(
                json!({"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:a@b.c"}]})
            ),
            "actor.member[0]: a Group's members must be Agents, not Groups"
        );
        assert_eq!(
            rule_of(
                json!({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}, {"name": "no ifi"}]})
            ),
            "actor.member[1]: exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account) is required (found none)"
        );
        assert_eq!(
            rule_of(
                json!({"objectType": "Group", "mbox": "mailto:a@b.c", "openid": "http://a.b/c", "member": member})
            ),
            "actor: exactly one inverse functional identifier is required (found 2: mbox, openid)"
        );
        assert_eq!(
            rule_of(json!({"objectType": "Group", "mbox": "mailto:a@b.c", "extra": 1})),
            "actor.extra: is not a property of Group"
        );
    }

    #[test]
    fn team_must_be_a_group() {
        let p = Path::root("context.team");
        assert!(group_only(&json!({"objectType": "Group", "mbox": "mailto:t@b.c"}), &p).is_ok());
        let e = group_only(&json!({"mbox": "mailto:t@b.c"}), &p)
            .err()
            .map(|e| e.rule);
        assert_eq!(
            e.as_deref(),
            Some("must be a Group (with \"objectType\": \"Group\")")
        );
        assert!(group_only(&json!({"objectType": "Agent", "mbox": "mailto:t@b.c"}), &p).is_err());
    }

    fn authority_rule(v: Value) -> String {
        match authority(&v, &Path::root("authority")) {
            Ok(()) => "ok".into(),
            Err(e) => format!("{}: {}", e.path, e.rule),
        }
    }

    #[test]
    fn authority_agent_or_oauth_pair() {
        let consumer = json!({"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}});
        let user = json!({"mbox": "mailto:bob@example.com"});
        assert_eq!(authority_rule(user.clone()), "ok");
        assert_eq!(authority_rule(consumer.clone()), "ok");
        assert_eq!(
            authority_rule(json!({"objectType": "Group", "member": [consumer, user]})),
            "ok"
        );
        assert_eq!(
            authority_rule(json!({"objectType": "Group", "member": [user]})),
            "authority.member: an authority Group (3-legged OAuth) must have exactly two members, the application and the user (found 1)"
        );
        assert!(authority_rule(json!({"objectType": "Group", "member": [consumer, user, {"mbox": "mailto:james@example.com"}]})).contains("found 3"));
        assert_eq!(
            authority_rule(
                json!({"objectType": "Group", "member": [{"mbox": "mailto:agentA@example.com"}, {"mbox": "mailto:agentB@example.com"}]})
            ),
            "authority.member: one member of an authority Group must be the OAuth consumer, identified by account"
        );
        let identified = json!({"objectType": "Group", "mbox": "mailto:bob@example.com", "member": [consumer, user]});
        assert!(authority_rule(identified).starts_with(
            "authority: an authority Group (3-legged OAuth) must be an anonymous Group"
        ));
        assert!(
            authority_rule(json!({"objectType": "Group", "openid": "http://openid.example.org/1"}))
                .contains("anonymous")
        );
        assert!(authority_rule(json!({"objectType": "Group"})).contains("must list its members"));
        assert!(
            authority_rule(json!({"objectType": "agent", "mbox": "mailto:a@b.c"}))
                .contains("objectType")
        );
    }
}
