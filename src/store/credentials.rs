//! Credential records. The store keeps them as opaque JSON records; what a
//! scope means and how secrets are checked is the HTTP layer's business.

use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub key: String,
    /// SHA-256 of the secret, hex. The secret itself is never stored.
    pub secret_sha256: String,
    pub scopes: Vec<String>,
    /// Origins allowed to use the credential from a browser; empty = any.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Activity IRI prefixes the credential is limited to; empty = any.
    #[serde(default)]
    pub activities: Vec<String>,
    /// Staff credentials limited to part of the learners (course IRIs or
    /// ids, cohorts, countries); empty = all. See [`crate::analytics::Slice`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub courses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cohorts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    #[serde(default)]
    pub label: String,
    pub created: String,
    /// Learners in the statements and documents this credential writes are
    /// replaced by pseudonyms (also when the store as a whole does not).
    #[serde(default)]
    pub pseudonymise: bool,
}

impl Store {
    /// Saves a credential durably (replacing one with the same key).
    pub fn put_credential(&self, record: &CredentialRecord) -> Result<()> {
        let bytes = serde_json::to_vec(record).map_err(|e| StoreError::Engine(e.to_string()))?;
        self.inner
            .sealer
            .insert(&self.inner.ks.credentials, record.key.as_bytes(), bytes)?;
        self.inner.db.persist(fjall::PersistMode::SyncAll)?;
        Ok(())
    }

    /// Deletes a credential; false when there was none with that key.
    pub fn delete_credential(&self, key: &str) -> Result<bool> {
        if !self.inner.ks.credentials.contains_key(key.as_bytes())? {
            return Ok(false);
        }
        self.inner
            .sealer
            .remove(&self.inner.ks.credentials, key.as_bytes())?;
        self.inner.db.persist(fjall::PersistMode::SyncAll)?;
        Ok(true)
    }

    /// Every credential, ordered by key.
    pub fn credentials(&self) -> Result<Vec<CredentialRecord>> {
        let mut out = Vec::new();
        for row in self.inner.ks.credentials.iter() {
            let (key, value) = row.into_inner()?;
            let record = serde_json::from_slice(&value).map_err(|e| {
                StoreError::Corrupt(format!("credential {}: {e}", String::from_utf8_lossy(&key)))
            })?;
            out.push(record);
        }
        Ok(out)
    }
}
