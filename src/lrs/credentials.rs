//! Credentials: a key/secret pair with scopes (xAPI 1.0.3 part 4, §4 "OAuth
//! scopes", used here with HTTP Basic). The secret is shown once when it is
//! issued and kept only as a SHA-256 digest, compared in constant time.
//! Secrets are 256 random bits, so a plain digest is as strong as a slow
//! password hash would be.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::analytics::Slice;
use crate::store::CredentialRecord;

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    StatementsWrite,
    StatementsRead,
    StatementsReadMine,
    AllRead,
    All,
    State,
    Profile,
    Define,
    /// Read the analytics (`/analytics`, the dashboard), learners by pseudonym.
    AnalyticsRead,
    /// See learners' identities: in the analytics instead of pseudonyms,
    /// through `GET /identities` (re-identification), and as statement
    /// query filters in a store that keeps learners by pseudonym.
    Identities,
}

impl Scope {
    pub const ALL: [Scope; 10] = [
        Scope::StatementsWrite,
        Scope::StatementsRead,
        Scope::StatementsReadMine,
        Scope::AllRead,
        Scope::All,
        Scope::State,
        Scope::Profile,
        Scope::Define,
        Scope::AnalyticsRead,
        Scope::Identities,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::StatementsWrite => "statements/write",
            Scope::StatementsRead => "statements/read",
            Scope::StatementsReadMine => "statements/read/mine",
            Scope::AllRead => "all/read",
            Scope::All => "all",
            Scope::State => "state",
            Scope::Profile => "profile",
            Scope::Define => "define",
            Scope::AnalyticsRead => "analytics/read",
            Scope::Identities => "identities",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope {s:?}; known scopes: {}", known.join(", "))
            })
    }
}

/// A credential as the server uses it.
#[derive(Debug, Clone)]
pub struct Credential {
    pub key: String,
    pub scopes: Vec<Scope>,
    pub origins: Vec<String>,
    /// Activity IRI prefixes this credential may write about; empty = any.
    pub activities: Vec<String>,
    /// The learners it may read about; everyone when empty.
    pub slice: Slice,
    pub label: String,
    /// Learners this credential writes about are stored by pseudonym.
    pub pseudonymise: bool,
    secret_digest: [u8; 32],
}

impl Credential {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::All) || self.scopes.contains(&scope)
    }

    /// May read every statement.
    pub fn reads_all_statements(&self) -> bool {
        self.has(Scope::StatementsRead) || self.has(Scope::AllRead)
    }

    /// May read at least the statements it wrote.
    pub fn reads_statements(&self) -> bool {
        self.reads_all_statements() || self.has(Scope::StatementsReadMine)
    }

    /// True when the credential may write about this activity: one under
    /// one of its prefixes. A prefix ending in `/` also covers the IRI
    /// without that slash, so that `…/m1/` covers module `…/m1` and its
    /// pages but not module `…/m10`.
    pub fn allows_activity(&self, iri: &str) -> bool {
        self.activities.is_empty()
            || self.activities.iter().any(|p| {
                iri.starts_with(p.as_str())
                    || p.strip_suffix('/').is_some_and(|folder| iri == folder)
            })
    }

    /// True when a browser at `origin` may use this credential.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.is_empty() || self.origins.iter().any(|o| o == origin || o == "*")
    }

    fn secret_matches(&self, secret: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        digest.ct_eq(&self.secret_digest).into()
    }
}

impl Credential {
    /// The credential the server itself acts under for maintenance work
    /// (`kmh import`): every scope, and no secret anyone could present.
    pub fn system(label: &str) -> Credential {
        let mut secret_digest = [0u8; 32];
        getrandom::fill(&mut secret_digest).expect("the operating system's random source failed");
        Credential {
            key: format!("kmh-{label}"),
            scopes: vec![Scope::All],
            origins: Vec::new(),
            activities: Vec::new(),
            slice: Slice::default(),
            label: format!("kmh {label}"),
            pseudonymise: false,
            secret_digest,
        }
    }
}

impl TryFrom<&CredentialRecord> for Credential {
    type Error = String;
    fn try_from(r: &CredentialRecord) -> Result<Self, String> {
        let mut secret_digest = [0u8; 32];
        hex::decode_to_slice(&r.secret_sha256, &mut secret_digest)
            .map_err(|e| format!("credential {}: bad digest: {e}", r.key))?;
        let scopes = r
            .scopes
            .iter()
            .map(|s| s.parse())
            .collect::<Result<Vec<Scope>, _>>()?;
        Ok(Credential {
            key: r.key.clone(),
            scopes,
            origins: r.origins.clone(),
            activities: r.activities.clone(),
            slice: Slice {
                courses: r.courses.clone(),
                cohorts: r.cohorts.clone(),
                countries: r.countries.clone(),
            },
            label: r.label.clone(),
            pseudonymise: r.pseudonymise,
            secret_digest,
        })
    }
}

/// A newly issued credential: the record to store and the secret to show once.
pub struct Issued {
    pub record: CredentialRecord,
    pub secret: String,
}

/// Issues a credential with a random key and secret.
pub fn issue(scopes: &[Scope], origins: Vec<String>, label: String) -> Issued {
    issue_limited(scopes, origins, Vec::new(), label)
}

/// Issues a credential limited to activities under the given IRI prefixes
/// (a package's credential: it may only write about its own activities).
pub fn issue_limited(
    scopes: &[Scope],
    origins: Vec<String>,
    activities: Vec<String>,
    label: String,
) -> Issued {
    let key = random_token(12);
    let secret = random_token(32);
    let mut scopes: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    scopes.sort();
    scopes.dedup();
    let now = time::OffsetDateTime::now_utc();
    Issued {
        record: CredentialRecord {
            key,
            secret_sha256: hex::encode(Sha256::digest(secret.as_bytes())),
            scopes,
            origins,
            activities,
            courses: Vec::new(),
            cohorts: Vec::new(),
            countries: Vec::new(),
            label,
            created: now
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            pseudonymise: false,
        },
        secret,
    }
}

/// `bytes` random bytes as lowercase hex: safe to paste into any shell,
/// URL or command line (a token starting with `-` would read as a flag).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    hex::encode(buf)
}

/// The credentials the server knows, by key.
#[derive(Default)]
pub struct CredentialSet {
    by_key: HashMap<String, Credential>,
}

impl CredentialSet {
    pub fn from_records(records: &[CredentialRecord]) -> Self {
        let by_key = records
            .iter()
            .filter_map(|r| match Credential::try_from(r) {
                Ok(c) => Some((c.key.clone(), c)),
                Err(e) => {
                    tracing::error!("ignoring credential: {e}");
                    None
                }
            })
            .collect();
        CredentialSet { by_key }
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The credential for a key/secret pair, when both match.
    pub fn authenticate(&self, key: &str, secret: &str) -> Option<&Credential> {
        let cred = self.by_key.get(key)?;
        cred.secret_matches(secret).then_some(cred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_secret_authenticates_and_is_not_stored() {
        let issued = issue(&[Scope::StatementsWrite], vec![], "lms".into());
        assert!(
            !serde_json::to_string(&issued.record)
                .unwrap()
                .contains(&issued.secret)
        );
        let set = CredentialSet::from_records(std::slice::from_ref(&issued.record));
        assert!(
            set.authenticate(&issued.record.key, &issued.secret)
                .is_some()
        );
        assert!(set.authenticate(&issued.record.key, "wrong").is_none());
        assert!(set.authenticate("nobody", &issued.secret).is_none());
    }

    #[test]
    fn a_folder_prefix_covers_its_activity_and_below_but_not_a_longer_sibling() {
        let issued = issue_limited(
            &[Scope::StatementsWrite],
            vec![],
            vec!["urn:kmh:course:c/m1/".into()],
            String::new(),
        );
        let c = Credential::try_from(&issued.record).unwrap();
        assert!(c.allows_activity("urn:kmh:course:c/m1"));
        assert!(c.allows_activity("urn:kmh:course:c/m1/pages/01-intro"));
        assert!(!c.allows_activity("urn:kmh:course:c/m10"));
        assert!(!c.allows_activity("urn:kmh:course:c/m10/pages/01-intro"));
        assert!(!c.allows_activity("urn:kmh:course:c"));
    }

    #[test]
    fn all_scope_implies_every_other() {
        let issued = issue(&[Scope::All], vec![], String::new());
        let c = Credential::try_from(&issued.record).unwrap();
        assert!(c.has(Scope::StatementsWrite) && c.reads_all_statements());
        let issued = issue(&[Scope::StatementsReadMine], vec![], String::new());
        let c = Credential::try_from(&issued.record).unwrap();
        assert!(
            c.reads_statements() && !c.reads_all_statements() && !c.has(Scope::StatementsWrite)
        );
    }

    #[test]
    fn unknown_scopes_are_named() {
        let err = "statements/delete".parse::<Scope>().unwrap_err();
        assert!(err.contains("statements/delete") && err.contains("statements/write"));
    }

    #[test]
    fn origin_allowlist() {
        let issued = issue(
            &[Scope::StatementsWrite],
            vec!["https://lms.example.org".into()],
            String::new(),
        );
        let c = Credential::try_from(&issued.record).unwrap();
        assert!(c.allows_origin("https://lms.example.org"));
        assert!(!c.allows_origin("https://evil.example"));
    }
}
