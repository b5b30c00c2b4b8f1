//! The part of storing a statement that needs no store state: serialising
//! it, working out its index keys and what it tells the activity, agent and
//! analytics records. It runs on the request's own thread, before the
//! statement reaches the single writer thread, so that the writer (the
//! bottleneck of ingest: it serialises every group commit) only assigns
//! `stored`, checks conflicts and inserts rows.

use serde_json::Value;
use uuid::Uuid;

use super::definitions::{Carried, KnownDefinitions};
use super::keys::{IndexDigest, index_digest};
use super::writer::{NewStatement, StoredAttachment};
use crate::analytics::Fact;
use crate::xapi::keys::{IndexKeys, statement_ref_target};

type Digest = IndexDigest;

/// Bytes reserved for a statement's serialised JSON (most are 1–2 KB).
const BODY_CAPACITY: usize = 2048;

/// Flag of an agent or activity index row: the value matches the narrow
/// filter (actor or object), not only `related_agents`/`related_activities`.
pub(super) const DIRECT: u8 = 1;
/// Flag of an agent index row: the agent is the statement's authority.
pub(super) const AUTHORITY: u8 = 2;

/// A statement ready for the writer.
pub(super) struct Prepared {
    pub id: Uuid,
    pub fingerprint: [u8; 20],
    /// The statement's JSON without `stored`, and without its closing
    /// brace: the writer appends `stored` (and `timestamp` when the
    /// statement has none) once it knows the time.
    pub body: Vec<u8>,
    pub has_timestamp: bool,
    /// Digests of the identities of the statement's authority, for the
    /// rows it inherits from a statement it targets.
    pub authorities: Vec<Digest>,
    /// Its index rows. The writer gets digests, not the values they digest:
    /// a value handed over is freed on the writer thread, which costs the
    /// allocator more than one freed where it was made.
    pub rows: IndexRows,
    /// The statement this one refers to with a StatementRef.
    pub target: Option<Uuid>,
    /// True when it voids `target`.
    pub voiding: bool,
    /// Activity definitions it carries.
    pub definitions: Vec<Carried>,
    /// Names it gives agents, by agent identity.
    pub names: Vec<(String, String)>,
    /// What the analytics read models take from it (strings not yet shared).
    pub fact: Option<Fact>,
    pub attachments: Vec<StoredAttachment>,
}

/// The digests of a statement's index keys, in the order the writer writes
/// their rows, with the flags each row's value holds.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub(super) struct IndexRows {
    pub agents: Vec<(Digest, u8)>,
    pub activities: Vec<(Digest, u8)>,
    pub verbs: Vec<Digest>,
    pub registrations: Vec<Digest>,
}

impl IndexRows {
    /// `authorities` are the identities of the statement's authority: their
    /// agent rows carry [`AUTHORITY`], so `statements/read/mine` is a scan
    /// of the agent index rather than one more row per statement.
    pub fn of(keys: &IndexKeys, authorities: &[String]) -> IndexRows {
        IndexRows {
            agents: keys
                .agents
                .iter()
                .map(|k| {
                    let mut flags = if k.direct { DIRECT } else { 0 };
                    if authorities.contains(&k.value) {
                        flags |= AUTHORITY;
                    }
                    (index_digest(&k.value), flags)
                })
                .collect(),
            activities: keys
                .activities
                .iter()
                .map(|k| (index_digest(&k.value), if k.direct { DIRECT } else { 0 }))
                .collect(),
            verbs: keys.verbs.iter().map(|v| index_digest(v)).collect(),
            registrations: keys.registrations.iter().map(|r| index_digest(r)).collect(),
        }
    }

    /// Adds the rows of a statement this one targets with a StatementRef
    /// (what [`IndexKeys::inherit`] adds to its keys): an inherited agent
    /// row keeps its [`DIRECT`] flag and is marked [`AUTHORITY`] when it is
    /// one of `authorities`, this statement's authority.
    pub fn inherit(&mut self, target: &IndexRows, authorities: &[Digest]) {
        for (d, flags) in &target.agents {
            let mut flags = flags & DIRECT;
            if authorities.contains(d) {
                flags |= AUTHORITY;
            }
            self.agents.push((*d, flags));
        }
        self.activities.extend(target.activities.iter().copied());
        self.verbs.extend(target.verbs.iter().copied());
        self.registrations
            .extend(target.registrations.iter().copied());
        for rows in [&mut self.agents, &mut self.activities] {
            rows.sort_unstable_by_key(|(d, _)| *d);
            // One row per digest, with the flags of all.
            rows.dedup_by(|later, first| {
                let same = later.0 == first.0;
                if same {
                    first.1 |= later.1;
                }
                same
            });
        }
        for rows in [&mut self.verbs, &mut self.registrations] {
            rows.sort_unstable();
            rows.dedup();
        }
    }
}

impl Prepared {
    /// `known` tells which of the definitions it carries the store holds.
    pub fn of(st: NewStatement, known: &KnownDefinitions) -> Result<Prepared, serde_json::Error> {
        let NewStatement {
            id,
            mut json,
            fingerprint,
            attachments,
        } = st;
        // `stored` is the LRS's to set; whatever the client sent goes.
        json.remove("stored");
        let has_timestamp = json.contains_key("timestamp");
        let mut statement = Value::Object(json);

        let keys = IndexKeys::of(&statement);
        let authorities = authorities(&statement);
        let target = statement_ref_target(&statement).and_then(|t| Uuid::parse_str(t).ok());
        // A target that is no UUID voids nothing (validation refuses it).
        let voiding = target.is_some() && crate::xapi::is_voiding(&statement);
        let names = names(&statement);
        let fact = crate::analytics::fact_of(&statement);

        // Room for a typical statement at once, rather than growing from
        // serde_json's 128 bytes through four copies.
        let mut body = Vec::with_capacity(BODY_CAPACITY);
        serde_json::to_writer(&mut body, &statement)?;
        // A statement is a non-empty object, so it ends in `}` and the
        // writer's `,"stored":…}` continues it correctly.
        body.pop();
        // Last: this takes the definitions out of the statement rather than
        // copying them, now that nothing else reads it.
        // Dropped here, on the checking thread, when the store's own
        // definition already subsumes them (`definitions.rs`).
        let definitions = take_definitions(&mut statement)
            .into_iter()
            .enumerate()
            .map(|(i, (iri, definition))| known.carry(iri, definition, i))
            .collect();
        let rows = IndexRows::of(&keys, &authorities);
        // Every identity of the authority has an agent row (the keys hold
        // the authority), marked as such: no need to digest them again.
        let authorities = rows
            .agents
            .iter()
            .filter(|(_, flags)| flags & AUTHORITY != 0)
            .map(|(d, _)| *d)
            .collect();
        Ok(Prepared {
            id,
            fingerprint,
            body,
            has_timestamp,
            rows,
            authorities,
            target,
            voiding,
            definitions,
            names,
            fact,
            attachments,
        })
    }

    /// The stored JSON, now that `stored` is known.
    pub fn finish_body(&mut self, stored: &str) -> Vec<u8> {
        let mut body = std::mem::take(&mut self.body);
        body.reserve(2 * (stored.len() + 16) + 1);
        body.extend_from_slice(b",\"stored\":\"");
        body.extend_from_slice(stored.as_bytes());
        body.push(b'"');
        if !self.has_timestamp {
            body.extend_from_slice(b",\"timestamp\":\"");
            body.extend_from_slice(stored.as_bytes());
            body.push(b'"');
        }
        body.push(b'}');
        body
    }
}

/// The identities of a statement's authority (an Agent, or the members of
/// an OAuth Group).
pub(super) fn authorities(statement: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    if let Some(authority) = statement.get("authority") {
        crate::xapi::ifi::identities_with_members(authority, &mut ids);
    }
    ids
}

/// The activity definitions a statement carries, on its object (or its
/// SubStatement's object) and on its context activities, taken out of it.
pub(super) fn take_definitions(statement: &mut Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    let mut take = |activity: &mut Value| {
        let Some(obj) = activity.as_object_mut() else {
            return;
        };
        let Some(Value::String(id)) = obj.get("id") else {
            return;
        };
        let id = id.clone();
        if let Some(def) = obj.remove("definition") {
            found.push((id, def));
        }
    };
    if let Some(object) = statement.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => take(object),
            Some("SubStatement") => {
                if let Some(o) = object.get_mut("object")
                    && matches!(
                        o.get("objectType").and_then(Value::as_str),
                        None | Some("Activity")
                    )
                {
                    take(o);
                }
            }
            _ => {}
        }
    }
    if let Some(cas) = statement
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    {
        for list in cas.values_mut() {
            match list {
                Value::Array(items) => items.iter_mut().for_each(&mut take),
                single => take(single),
            }
        }
    }
    found
}

/// The names a statement gives agents (its actor, the actor's members and
/// an Agent or Group object), for the Agents resource's Person.
fn names(statement: &Value) -> Vec<(String, String)> {
    let mut agents: Vec<&Value> = Vec::new();
    if let Some(actor) = statement.get("actor") {
        agents.push(actor);
        agents.extend(
            actor
                .get("member")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
    if let Some(object) = statement.get("object")
        && matches!(
            object.get("objectType").and_then(Value::as_str),
            Some("Agent") | Some("Group")
        )
    {
        agents.push(object);
    }
    agents
        .into_iter()
        .filter_map(|agent| {
            let name = agent.get("name").and_then(Value::as_str)?;
            Some((crate::xapi::ifi::identity(agent)?, name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prepared(statement: Value) -> Prepared {
        let Value::Object(json) = statement else {
            unreachable!()
        };
        Prepared::of(
            NewStatement {
                id: Uuid::nil(),
                json,
                fingerprint: [0; 20],
                attachments: Vec::new(),
            },
            &KnownDefinitions::default(),
        )
        .unwrap()
    }

    #[test]
    fn authority_digests_are_those_of_every_authority_identity() {
        let p = prepared(json!({
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://example.org/v"},
            "object": {"id": "http://example.org/a"},
            "authority": {"objectType": "Group", "member": [
                {"account": {"homePage": "https://lms.example.org", "name": "app"}},
                {"mbox": "mailto:teacher@example.org"}
            ]}
        }));
        let mut expected = vec![
            index_digest("account:https://lms.example.org\u{1f}app"),
            index_digest("mbox:mailto:teacher@example.org"),
        ];
        expected.sort();
        let mut found = p.authorities.clone();
        found.sort();
        assert_eq!(found, expected);
    }

    /// Inheriting rows gives the rows of the inherited keys: the target's
    /// own authority marks nothing, this statement's authority does, and
    /// a value both direct and related is one direct row.
    #[test]
    fn inherited_rows_are_the_rows_of_inherited_keys() {
        let own = IndexKeys::of(&json!({
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://example.org/v"},
            "object": {"objectType": "StatementRef", "id": "5e9f7e6c-8a0e-4f5c-9d56-0b2b9a6f6b11"},
            "authority": {"mbox": "mailto:lms@example.org"},
            "context": {"contextActivities": {"grouping": [{"id": "http://example.org/course"}]}}
        }));
        let target = IndexKeys::of(&json!({
            "actor": {"mbox": "mailto:lms@example.org"},
            "verb": {"id": "http://example.org/w"},
            "object": {"id": "http://example.org/course"},
            "authority": {"mbox": "mailto:other-lms@example.org"},
            "context": {"registration": "6e9f7e6c-8a0e-4f5c-9d56-0b2b9a6f6b12",
                        "instructor": {"mbox": "mailto:a@example.org"}}
        }));
        let authorities = vec!["mbox:mailto:lms@example.org".to_string()];
        let target_authorities = vec!["mbox:mailto:other-lms@example.org".to_string()];

        let mut keys = own.clone();
        keys.inherit(&target);
        let expected = IndexRows::of(&keys, &authorities);

        let mut rows = IndexRows::of(&own, &authorities);
        let digests: Vec<Digest> = authorities.iter().map(|a| index_digest(a)).collect();
        rows.inherit(&IndexRows::of(&target, &target_authorities), &digests);
        let sorted = |mut r: IndexRows| {
            r.agents.sort();
            r.activities.sort();
            r.verbs.sort();
            r.registrations.sort();
            r
        };
        assert_eq!(sorted(rows), sorted(expected));
    }

    #[test]
    fn body_gets_stored_and_a_missing_timestamp() {
        let mut p = prepared(json!({
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://example.org/v"},
            "object": {"id": "http://example.org/a"},
            "stored": "1999-01-01T00:00:00.000Z"
        }));
        let body = p.finish_body("2026-01-02T03:04:05.678Z");
        let back: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(back["stored"], "2026-01-02T03:04:05.678Z");
        assert_eq!(back["timestamp"], "2026-01-02T03:04:05.678Z");
        assert_eq!(back["actor"]["mbox"], "mailto:a@example.org");
    }

    #[test]
    fn body_keeps_the_clients_timestamp() {
        let mut p = prepared(json!({
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://example.org/v"},
            "object": {"id": "http://example.org/a"},
            "timestamp": "2020-05-05T05:05:05.000Z"
        }));
        let back: Value =
            serde_json::from_slice(&p.finish_body("2026-01-02T03:04:05.678Z")).unwrap();
        assert_eq!(back["timestamp"], "2020-05-05T05:05:05.000Z");
        assert_eq!(back["stored"], "2026-01-02T03:04:05.678Z");
    }

    #[test]
    fn voiding_and_definitions_and_names_are_found() {
        let p = prepared(json!({
            "actor": {"mbox": "mailto:a@example.org", "name": "Awa"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": "5e9f7e6c-8a0e-4f5c-9d56-0b2b9a6f6b11"},
            "context": {"contextActivities": {"parent": [
                {"id": "http://example.org/course", "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}
            ]}}
        }));
        assert!(p.voiding);
        assert_eq!(
            p.target,
            Uuid::parse_str("5e9f7e6c-8a0e-4f5c-9d56-0b2b9a6f6b11").ok()
        );
        assert_eq!(p.definitions.len(), 1);
        assert_eq!(p.definitions[0].iri(), "http://example.org/course");
        assert_eq!(
            p.names,
            vec![("mbox:mailto:a@example.org".to_string(), "Awa".to_string())]
        );
    }
}
