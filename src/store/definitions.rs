//! Which activity definitions the store already holds, as the threads that
//! check statements can see it.
//!
//! Most statements repeat a definition the store has (a quiz sends its
//! question's definition with every answer). Handing each copy to the
//! writer made the single writer thread compare it with the one it holds
//! and free it, about 3 µs of its time per statement (BENCHMARKS.md,
//! "Definitions the store already holds"). Instead, the checking thread
//! looks the definition's digest up here and, when the store's definition
//! already subsumes it, drops it and tells the writer only which version
//! of the store's definition it relied on.
//!
//! Only the writer changes the store's definitions, and it records every
//! change here by giving the activity a new generation; a statement checked
//! against an older generation is merged the long way, from its body.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, RwLock};

use serde_json::Value;

/// Activities tracked at most; the set starts again empty past this (a
/// forgotten activity costs one merge the long way).
const MAX_ACTIVITIES: usize = 50_000;

/// Digests kept per activity: the variants of a definition that clients
/// send (in other languages, with more or fewer properties) and that the
/// store's definition subsumes.
const MAX_VARIANTS: usize = 8;

/// An activity definition a statement carries, as the writer receives it.
pub(crate) enum Carried {
    /// One the store's definition did not subsume when it was checked.
    New {
        iri: String,
        definition: Value,
        digest: u64,
    },
    /// One the store's definition of `iri` subsumed at `generation`; the
    /// statement's body still holds it, as its definition at `position`
    /// (of those it carries, in order).
    Known {
        iri: Arc<str>,
        generation: u64,
        position: usize,
    },
}

#[cfg(test)]
impl Carried {
    pub fn iri(&self) -> &str {
        match self {
            Carried::New { iri, .. } => iri,
            Carried::Known { iri, .. } => iri,
        }
    }
}

struct Activity {
    generation: u64,
    /// Digests of definitions the store's definition subsumes, oldest first.
    subsumed: Vec<u64>,
}

pub(crate) struct KnownDefinitions {
    /// Keyed per process, so that no client can make two definitions
    /// collide on purpose.
    hasher: RandomState,
    activities: RwLock<Known>,
}

#[derive(Default)]
struct Known {
    by_iri: HashMap<Arc<str>, Activity>,
    next_generation: u64,
}

impl Default for KnownDefinitions {
    fn default() -> Self {
        KnownDefinitions {
            hasher: RandomState::new(),
            activities: RwLock::new(Known::default()),
        }
    }
}

impl KnownDefinitions {
    /// The digest of `definition` as the definition of `iri`: equal
    /// definitions (`Value::eq`) have equal digests.
    pub fn digest(&self, iri: &str, definition: &Value) -> u64 {
        let mut h = self.hasher.build_hasher();
        iri.hash(&mut h);
        hash_value(definition, &mut h);
        h.finish()
    }

    /// What a checking thread hands the writer for `definition`, the
    /// statement's definition at `position`.
    pub fn carry(&self, iri: String, definition: Value, position: usize) -> Carried {
        let digest = self.digest(&iri, &definition);
        if let Ok(known) = self.activities.read()
            && let Some((key, activity)) = known.by_iri.get_key_value(iri.as_str())
            && activity.subsumed.contains(&digest)
        {
            return Carried::Known {
                iri: Arc::clone(key),
                generation: activity.generation,
                position,
            };
        }
        Carried::New {
            iri,
            definition,
            digest,
        }
    }

    /// True when the store's definition of `iri` is still the one of
    /// `generation`.
    pub fn is_current(&self, iri: &str, generation: u64) -> bool {
        self.activities.read().is_ok_and(|k| {
            k.by_iri
                .get(iri)
                .is_some_and(|a| a.generation == generation)
        })
    }

    /// The writer found the definition of `digest` subsumed by the store's
    /// (unchanged) definition of `iri`.
    pub fn note_subsumed(&self, iri: &str, digest: u64) {
        let Ok(mut known) = self.activities.write() else {
            return;
        };
        if let Some(activity) = known.by_iri.get_mut(iri) {
            if !activity.subsumed.contains(&digest) {
                if activity.subsumed.len() == MAX_VARIANTS {
                    activity.subsumed.remove(0);
                }
                activity.subsumed.push(digest);
            }
            return;
        }
        known.start(iri, digest);
    }

    /// The writer changed the store's definition of `iri` by merging the
    /// definition of `digest` into it: definitions it subsumed before may
    /// not be subsumed any more.
    pub fn note_changed(&self, iri: &str, digest: u64) {
        if let Ok(mut known) = self.activities.write() {
            known.by_iri.remove(iri);
            known.start(iri, digest);
        }
    }

    /// Forgets everything: after a failed commit or a job that may have
    /// rewritten definitions.
    pub fn forget_all(&self) {
        if let Ok(mut known) = self.activities.write() {
            known.by_iri.clear();
        }
    }
}

impl Known {
    /// Tracks `iri` anew, under a generation never used before (so that a
    /// statement checked before [`KnownDefinitions::forget_all`] is never
    /// taken as current).
    fn start(&mut self, iri: &str, digest: u64) {
        if self.by_iri.len() >= MAX_ACTIVITIES {
            self.by_iri.clear();
        }
        self.next_generation += 1;
        self.by_iri.insert(
            Arc::from(iri),
            Activity {
                generation: self.next_generation,
                subsumed: vec![digest],
            },
        );
    }
}

/// Hashes a JSON value consistently with `Value::eq`: numbers by their
/// kind (`1` and `1.0` differ) and value, objects in key order.
fn hash_value(value: &Value, h: &mut impl Hasher) {
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => {
            h.write_u8(1);
            h.write_u8(u8::from(*b));
        }
        Value::Number(n) => {
            h.write_u8(2);
            if let Some(u) = n.as_u64() {
                h.write_u8(0);
                h.write_u64(u);
            } else if let Some(i) = n.as_i64() {
                h.write_u8(1);
                h.write_i64(i);
            } else {
                h.write_u8(2);
                h.write_u64(n.as_f64().unwrap_or_default().to_bits());
            }
        }
        Value::String(s) => {
            h.write_u8(3);
            s.hash(h);
        }
        Value::Array(items) => {
            h.write_u8(4);
            h.write_usize(items.len());
            for item in items {
                hash_value(item, h);
            }
        }
        Value::Object(map) => {
            h.write_u8(5);
            h.write_usize(map.len());
            // In key order: equal objects may list their keys in other
            // orders when serde_json's `preserve_order` is on.
            for (k, v) in crate::xapi::compare::sorted(map) {
                k.hash(h);
                hash_value(v, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const IRI: &str = "http://example.org/q1";

    fn known(carried: &Carried) -> Option<u64> {
        match carried {
            Carried::Known { generation, .. } => Some(*generation),
            Carried::New { .. } => None,
        }
    }

    #[test]
    fn equal_definitions_have_equal_digests_and_others_differ() {
        let k = KnownDefinitions::default();
        let a = json!({"type": "http://example.org/t", "name": {"en": "Q", "fr": "Q"}});
        let b = json!({"name": {"fr": "Q", "en": "Q"}, "type": "http://example.org/t"});
        assert_eq!(k.digest(IRI, &a), k.digest(IRI, &b));
        assert_ne!(k.digest(IRI, &a), k.digest("http://example.org/q2", &a));
        for other in [
            json!({"type": "http://example.org/t", "name": {"en": "Q"}}),
            json!({"type": "http://example.org/u", "name": {"en": "Q", "fr": "Q"}}),
            json!({"type": "http://example.org/t", "name": {"en": "Q", "fr": "R"}}),
        ] {
            assert_ne!(k.digest(IRI, &a), k.digest(IRI, &other), "{other}");
        }
        assert_ne!(
            k.digest(IRI, &json!({"n": 1})),
            k.digest(IRI, &json!({"n": 1.0}))
        );
        assert_ne!(
            k.digest(IRI, &json!(["a", "b"])),
            k.digest(IRI, &json!(["ab"]))
        );
    }

    #[test]
    fn a_definition_is_known_once_the_writer_noted_it_and_until_it_changes() {
        let k = KnownDefinitions::default();
        let def = json!({"type": "http://example.org/t"});
        let first = k.carry(IRI.into(), def.clone(), 0);
        assert_eq!(known(&first), None, "nothing is known at first");
        let Carried::New { digest, .. } = first else {
            unreachable!()
        };
        k.note_changed(IRI, digest);
        let generation = known(&k.carry(IRI.into(), def.clone(), 0)).expect("known now");
        assert!(k.is_current(IRI, generation));

        let other = json!({"type": "http://example.org/u"});
        assert_eq!(known(&k.carry(IRI.into(), other.clone(), 0)), None);
        k.note_changed(IRI, k.digest(IRI, &other));
        assert!(
            !k.is_current(IRI, generation),
            "a change ends the generation"
        );
        assert_eq!(
            known(&k.carry(IRI.into(), def, 0)),
            None,
            "what the old definition subsumed is not known any more"
        );
        assert!(known(&k.carry(IRI.into(), other, 0)).is_some());
    }

    #[test]
    fn subsumed_variants_are_known_under_the_same_generation() {
        let k = KnownDefinitions::default();
        let full = json!({"name": {"en": "Q", "fr": "Q"}});
        let english = json!({"name": {"en": "Q"}});
        k.note_changed(IRI, k.digest(IRI, &full));
        let generation = known(&k.carry(IRI.into(), full, 0)).unwrap();
        k.note_subsumed(IRI, k.digest(IRI, &english));
        assert_eq!(known(&k.carry(IRI.into(), english, 0)), Some(generation));
    }

    #[test]
    fn forgetting_never_lets_an_old_generation_pass_as_current() {
        let k = KnownDefinitions::default();
        let def = json!({"type": "http://example.org/t"});
        k.note_changed(IRI, k.digest(IRI, &def));
        let generation = known(&k.carry(IRI.into(), def.clone(), 0)).unwrap();
        k.forget_all();
        assert!(!k.is_current(IRI, generation));
        k.note_subsumed(IRI, k.digest(IRI, &def));
        assert!(!k.is_current(IRI, generation), "generations are not reused");
    }
}
