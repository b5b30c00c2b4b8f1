//! Keyed pseudonyms of learners (issue "Learner data protection", part 1).
//! Every Agent and Group a statement names, except its `authority`, can be
//! replaced at ingest by a pseudonym: an `account` with the fixed
//! [`HOME_PAGE`] whose `name` is HMAC-SHA256, under a key only the store
//! knows, of a canonical form of the agent's inverse functional identifier
//! (xAPI 1.0.3 part 2, §2.4.2.4). The same person arriving from two LMSs
//! with matching identifiers gets the same pseudonym; without the key the
//! pseudonym cannot be recomputed from an e-mail address or account.
//!
//! Pure functions: the caller keeps the key and the mapping back to the
//! original identifiers ([`Seen`]).

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// The `homePage` of every pseudonym account. An IRI no LMS uses, so a
/// pseudonym can never be mistaken for a real account.
pub const HOME_PAGE: &str = "urn:kmh:pseudonym";

/// Bytes of the HMAC kept in a pseudonym (128 bits, shown as 32 hex digits).
const PSEUDONYM_BYTES: usize = 16;

/// The server's secret pseudonym key, held as the HMAC state it starts
/// every pseudonym from: keying the HMAC hashes two blocks, which would
/// otherwise be repeated for every agent of every statement.
#[derive(Clone)]
pub struct Key(Hmac<Sha256>);

impl Key {
    pub fn new(bytes: [u8; 32]) -> Key {
        Key(<Hmac<Sha256> as KeyInit>::new_from_slice(&bytes).expect("HMAC takes any key length"))
    }

    /// The pseudonym (`account.name`) of a canonical identifier.
    pub fn pseudonym_of(&self, canonical: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(canonical.as_bytes());
        let digest = mac.finalize().into_bytes();
        hex::encode(&digest[..PSEUDONYM_BYTES])
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// One learner identifier replaced by a pseudonym: what the store keeps,
/// apart from the statements, so that a credential with the `identities`
/// scope can re-identify the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub pseudonym: String,
    /// The original identifier alone (`mbox`, `mbox_sha1sum`, `openid` or
    /// `account`), as [`crate::xapi::ifi::reduce_to_ids`] gives it.
    pub ifi: Value,
    /// The `name` the agent carried, if any.
    pub name: Option<String>,
}

/// The canonical form of an agent's identifier, which two LMSs that know
/// the same person by the same identifier agree on:
/// - `mbox` → `mbox_sha1sum:` + SHA-1 of `mailto:` + the address in lower
///   case (so an `mbox` and the `mbox_sha1sum` of the same lower-case
///   address meet);
/// - `mbox_sha1sum` → in lower-case hex;
/// - `openid` → with scheme and host in lower case and no trailing `/`;
/// - `account` → `homePage` normalised like `openid`, then the `name` as
///   given (account names are case-sensitive in many LMSs).
///
/// `None` for agents without an identifier (anonymous Groups).
pub fn canonical(agent: &Value) -> Option<String> {
    canonical_of(agent.as_object()?)
}

fn canonical_of(obj: &Map<String, Value>) -> Option<String> {
    if let Some(mbox) = obj.get("mbox").and_then(Value::as_str) {
        let address = mbox
            .trim()
            .strip_prefix("mailto:")
            .unwrap_or(mbox.trim())
            .to_lowercase();
        let sum = Sha1::digest(format!("mailto:{address}").as_bytes());
        return Some(format!("mbox_sha1sum:{}", hex::encode(sum)));
    }
    if let Some(sum) = obj.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("mbox_sha1sum:{}", sum.trim().to_ascii_lowercase()));
    }
    if let Some(openid) = obj.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{}", normalise_url(openid)));
    }
    let account = obj.get("account")?.as_object()?;
    let home = account.get("homePage")?.as_str()?;
    let name = account.get("name")?.as_str()?;
    // U+001F (unit separator) cannot occur in an IRI, so the pair is unambiguous.
    Some(format!("account:{}\u{1f}{name}", normalise_url(home)))
}

/// Lower-cases a URL's scheme and host (they are case-insensitive, RFC 3986
/// §6.2.2.1) and drops a trailing `/`.
pub fn normalise_url(url: &str) -> String {
    let url = url.trim();
    let (head, rest) = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            let end = after.find(['/', '?', '#']).map_or(url.len(), |j| i + 3 + j);
            (url[..end].to_ascii_lowercase(), &url[end..])
        }
        None => match url.find(':') {
            Some(i) => (url[..=i].to_ascii_lowercase(), &url[i + 1..]),
            None => (String::new(), url),
        },
    };
    let mut out = head + rest;
    if out.ends_with('/') && !out.ends_with("://") {
        out.pop();
    }
    out
}

/// The host of the agents kmh itself names (the placeholder of a
/// forgotten learner, the LRS as author of voidings): `.invalid` is
/// reserved (RFC 2606), so no person is ever known by it.
pub const RESERVED_HOME_PAGE_PREFIX: &str = "https://kmh.invalid/";

/// True for an agent kmh itself names (see [`RESERVED_HOME_PAGE_PREFIX`]):
/// it is nobody's identifier and is never pseudonymised.
pub fn is_reserved(agent: &Value) -> bool {
    super::at(agent, &["account", "homePage"])
        .and_then(Value::as_str)
        .is_some_and(|h| h.starts_with(RESERVED_HOME_PAGE_PREFIX))
}

/// True when the agent already is a pseudonym (it passes through unchanged,
/// so that an export of pseudonymous statements can be imported again).
pub fn is_pseudonym(agent: &Value) -> bool {
    agent.as_object().is_some_and(is_pseudonym_map)
}

fn is_pseudonym_map(agent: &Map<String, Value>) -> bool {
    agent
        .get("account")
        .and_then(|a| a.get("homePage"))
        .and_then(Value::as_str)
        == Some(HOME_PAGE)
}

/// The identity string ([`crate::xapi::ifi::identity`]) of a pseudonym.
pub fn pseudonym_identity(pseudonym: &str) -> String {
    format!("account:{HOME_PAGE}\u{1f}{pseudonym}")
}

/// The pseudonym of an agent's identifier, or `None` when it has none. A
/// pseudonym is its own pseudonym.
pub fn pseudonym_of_agent(key: &Key, agent: &Value) -> Option<String> {
    if is_pseudonym(agent) {
        return super::at(agent, &["account", "name"])
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    canonical(agent).map(|c| key.pseudonym_of(&c))
}

/// Replaces an Agent or Group by its pseudonymous form, in place: its
/// identifier becomes a pseudonym account (with `objectType`), its `name`
/// is dropped, and a
/// Group's members are pseudonymised in turn. Every replaced identifier is
/// added to `seen`.
pub fn pseudonymise_agent(key: &Key, agent: &mut Value, seen: &mut Vec<Seen>) {
    if is_reserved(agent) {
        return;
    }
    let Some(obj) = agent.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(members)) = obj.get_mut("member") {
        for member in members {
            pseudonymise_agent(key, member, seen);
        }
    }
    let name = match obj.remove("name") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    if is_pseudonym_map(obj) {
        return;
    }
    let Some(canonical) = canonical_of(obj) else {
        return;
    };
    let pseudonym = key.pseudonym_of(&canonical);
    let mut ifi = Map::new();
    for k in ["mbox", "mbox_sha1sum", "openid", "account"] {
        if let Some(v) = obj.remove(k) {
            ifi.insert(k.into(), v);
        }
    }
    obj.insert(
        "account".into(),
        json!({"homePage": HOME_PAGE, "name": pseudonym}),
    );
    // One person reads the same from every LMS, whether or not it named
    // the (default) objectType.
    obj.entry("objectType")
        .or_insert_with(|| Value::String("Agent".into()));
    seen.push(Seen {
        pseudonym,
        ifi: Value::Object(ifi),
        name,
    });
}

/// Pseudonymises every Agent and Group of a statement but its `authority`:
/// the actor, an Agent or Group object, `context.instructor`,
/// `context.team` and (xAPI 2.0) the agents of `context.contextAgents` and
/// groups of `context.contextGroups`, and the same inside a SubStatement.
/// Answers what was replaced.
pub fn pseudonymise_statement(key: &Key, statement: &mut Map<String, Value>) -> Vec<Seen> {
    let mut seen = Vec::new();
    pseudonymise_parts(key, statement, &mut seen);
    seen
}

fn pseudonymise_parts(key: &Key, statement: &mut Map<String, Value>, seen: &mut Vec<Seen>) {
    if let Some(actor) = statement.get_mut("actor") {
        pseudonymise_agent(key, actor, seen);
    }
    if let Some(context) = statement.get_mut("context") {
        super::ifi::each_context_agent_mut(context, |agent| pseudonymise_agent(key, agent, seen));
    }
    if let Some(object) = statement.get_mut("object").and_then(Value::as_object_mut) {
        match object.get("objectType").and_then(Value::as_str) {
            Some("Agent") | Some("Group") => {
                let mut value = Value::Object(std::mem::take(object));
                pseudonymise_agent(key, &mut value, seen);
                if let Value::Object(done) = value {
                    *object = done;
                }
            }
            Some("SubStatement") => pseudonymise_parts(key, object, seen),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> Key {
        Key::new([7; 32])
    }

    #[test]
    fn mbox_and_its_sha1sum_share_a_canonical_form_whatever_the_case() {
        let a = canonical(&json!({"mbox": "mailto:Ana@Example.org"})).unwrap();
        let b = canonical(&json!({"mbox": "mailto:ana@example.org"})).unwrap();
        let sum = hex::encode(Sha1::digest(b"mailto:ana@example.org"));
        let c = canonical(&json!({"mbox_sha1sum": sum.to_uppercase()})).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(
            !a.contains("ana"),
            "the address is not in the canonical form"
        );
    }

    #[test]
    fn account_home_pages_normalise_scheme_host_and_trailing_slash_only() {
        let a =
            canonical(&json!({"account": {"homePage": "HTTPS://LMS.Example.org/", "name": "42"}}));
        let b =
            canonical(&json!({"account": {"homePage": "https://lms.example.org", "name": "42"}}));
        assert_eq!(a, b);
        // Paths and account names stay case-sensitive.
        let c =
            canonical(&json!({"account": {"homePage": "https://lms.example.org/A", "name": "42"}}));
        let d =
            canonical(&json!({"account": {"homePage": "https://lms.example.org/a", "name": "42"}}));
        assert_ne!(c, d);
        let e =
            canonical(&json!({"account": {"homePage": "https://lms.example.org", "name": "Ab"}}));
        let f =
            canonical(&json!({"account": {"homePage": "https://lms.example.org", "name": "ab"}}));
        assert_ne!(e, f);
    }

    #[test]
    fn openid_and_account_never_collide() {
        let a = canonical(&json!({"openid": "https://id.example/x"})).unwrap();
        let b = canonical(&json!({"account": {"homePage": "https://id.example/x", "name": ""}}))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(
            canonical(&json!({"objectType": "Group", "member": []})),
            None
        );
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_between_keys() {
        let c = "mbox_sha1sum:abc";
        assert_eq!(key().pseudonym_of(c), key().pseudonym_of(c));
        assert_eq!(key().pseudonym_of(c).len(), 32);
        assert_ne!(key().pseudonym_of(c), Key::new([8; 32]).pseudonym_of(c));
    }

    #[test]
    fn a_statement_keeps_no_identifier_but_its_authority() {
        let mut st = json!({
            "actor": {"name": "Ana", "mbox": "mailto:ana@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/mentored"},
            "object": {"objectType": "SubStatement",
                "actor": {"objectType": "Group", "name": "Team", "member": [
                    {"name": "Bo", "account": {"homePage": "https://lms.example.org", "name": "bo"}}]},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/met"},
                "object": {"objectType": "Agent", "openid": "https://id.example/cy"},
                "context": {"instructor": {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}}},
            "context": {"instructor": {"name": "Di", "mbox": "mailto:di@example.org"},
                "team": {"objectType": "Group", "account": {"homePage": "https://lms.example.org", "name": "t1"}}},
            "authority": {"objectType": "Agent", "name": "lms", "account": {"homePage": "https://hub.example", "name": "k1"}}
        });
        let map = st.as_object_mut().unwrap();
        let seen = pseudonymise_statement(&key(), map);
        assert_eq!(seen.len(), 6);
        let text = serde_json::to_string(&st).unwrap();
        for original in [
            "ana@",
            "Ana",
            "Bo",
            "\"bo\"",
            "id.example",
            "ebd31e95",
            "di@",
            "Di",
            "t1",
            "Team",
        ] {
            assert!(!text.contains(original), "{original} left in {text}");
        }
        assert_eq!(st["authority"]["account"]["name"], "k1");
        assert_eq!(st["actor"]["account"]["homePage"], HOME_PAGE);
        assert_eq!(st["object"]["actor"]["objectType"], "Group");
        assert_eq!(
            st["object"]["actor"]["member"][0]["account"]["homePage"],
            HOME_PAGE
        );
        let ana = &seen[0];
        assert_eq!(ana.ifi, json!({"mbox": "mailto:ana@example.org"}));
        assert_eq!(ana.name.as_deref(), Some("Ana"));
        // What comes out validates as xAPI.
        crate::xapi::validate::statement(&st, crate::xapi::Version::V1_0_3).unwrap();
    }

    #[test]
    fn context_agents_and_groups_are_pseudonymised_and_kmh_agents_are_not() {
        let forgotten = json!({"objectType": "Agent",
            "account": {"homePage": "https://kmh.invalid/forgotten", "name": "forgotten"}});
        let mut st = json!({
            "actor": {"mbox": "mailto:ana@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": forgotten,
            "context": {
                "contextAgents": [{"objectType": "contextAgent",
                    "agent": {"name": "Di", "mbox": "mailto:di@example.org"}}],
                "contextGroups": [{"objectType": "contextGroup",
                    "group": {"objectType": "Group", "member": [{"openid": "https://id.example/cy"}]}}]
            }
        });
        let seen = pseudonymise_statement(&key(), st.as_object_mut().unwrap());
        assert_eq!(seen.len(), 3);
        let text = st.to_string();
        for original in ["ana@", "di@", "Di", "id.example"] {
            assert!(!text.contains(original), "{original} left in {text}");
        }
        assert_eq!(st["object"], forgotten);
        crate::xapi::validate::statement(&st, crate::xapi::Version::V2_0_0).unwrap();
    }

    #[test]
    fn a_pseudonym_passes_through_unchanged() {
        let mut st = json!({"actor": {"mbox": "mailto:ana@example.org"}});
        let first = pseudonymise_statement(&key(), st.as_object_mut().unwrap());
        let once = st.clone();
        let again = pseudonymise_statement(&key(), st.as_object_mut().unwrap());
        assert_eq!(st, once);
        assert!(again.is_empty());
        assert_eq!(
            pseudonym_of_agent(&key(), &once["actor"]),
            Some(first[0].pseudonym.clone())
        );
        assert_eq!(
            crate::xapi::ifi::identity(&once["actor"]),
            Some(pseudonym_identity(&first[0].pseudonym))
        );
    }
}
