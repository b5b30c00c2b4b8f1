//! Document records for the State, Activity Profile and Agent Profile
//! resources (xAPI 1.0.3 part 3, §2.2–2.7). A document is stored with its
//! content type, its SHA-1 (the ETag) and the time it was last changed.
//! Writes are read-modify-write under one lock, so a precondition check
//! (`If-Match`) and the write it guards cannot interleave with another.

use sha1::{Digest, Sha1};

use super::keys::{DIGEST_LEN, digest};
use super::{Result, Store, StoreError};

/// Where a set of documents lives: everything but the document's own id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocScope {
    prefix: Vec<u8>,
}

impl DocScope {
    /// States of one agent in one activity, for one registration (`None`:
    /// the states saved without a registration).
    pub fn state(activity: &str, agent: &str, registration: Option<&str>) -> Self {
        let mut prefix = Self::state_all(activity, agent).prefix;
        prefix.extend_from_slice(&digest(registration.unwrap_or("")));
        DocScope { prefix }
    }

    /// States of one agent in one activity, whatever the registration.
    pub fn state_all(activity: &str, agent: &str) -> Self {
        let mut prefix = Vec::with_capacity(1 + 3 * DIGEST_LEN);
        prefix.push(b'S');
        prefix.extend_from_slice(&digest(activity));
        prefix.extend_from_slice(&digest(agent));
        DocScope { prefix }
    }

    pub fn activity_profile(activity: &str) -> Self {
        let mut prefix = vec![b'A'];
        prefix.extend_from_slice(&digest(activity));
        DocScope { prefix }
    }

    pub fn agent_profile(agent: &str) -> Self {
        let mut prefix = vec![b'G'];
        prefix.extend_from_slice(&digest(agent));
        DocScope { prefix }
    }

    /// Keys are `prefix ++ 0 ++ id`: the 0 ends the fixed-length prefix,
    /// so that a scope's listing never reaches into a longer scope
    /// (a state scope with a registration digest after the agent's).
    fn key(&self, id: &str) -> Vec<u8> {
        let mut key = self.list_prefix();
        key.extend_from_slice(id.as_bytes());
        key
    }

    fn list_prefix(&self) -> Vec<u8> {
        let mut p = self.prefix.clone();
        p.push(0);
        p
    }
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub content_type: String,
    pub body: Vec<u8>,
    /// Unix milliseconds of the last change.
    pub updated_ms: i64,
    /// SHA-1 of `body`, lowercase hex.
    pub sha1: String,
}

impl Document {
    pub fn new(content_type: String, body: Vec<u8>, updated_ms: i64) -> Self {
        let sha1 = hex::encode(Sha1::digest(&body));
        Document {
            content_type,
            body,
            updated_ms,
            sha1,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let ct = self.content_type.as_bytes();
        let mut out = Vec::with_capacity(8 + 2 + ct.len() + self.body.len());
        out.extend_from_slice(&self.updated_ms.to_be_bytes());
        out.extend_from_slice(&(ct.len().min(u16::MAX as usize) as u16).to_be_bytes());
        out.extend_from_slice(&ct[..ct.len().min(u16::MAX as usize)]);
        out.extend_from_slice(&self.body);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let bad = || StoreError::Corrupt("document record".into());
        let ms = i64::from_be_bytes(
            bytes
                .get(..8)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        );
        let len = u16::from_be_bytes(
            bytes
                .get(8..10)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize;
        let ct = bytes.get(10..10 + len).ok_or_else(bad)?;
        let body = bytes.get(10 + len..).ok_or_else(bad)?;
        Ok(Document::new(
            String::from_utf8_lossy(ct).into_owned(),
            body.to_vec(),
            ms,
        ))
    }
}

impl Store {
    pub fn document(&self, scope: &DocScope, id: &str) -> Result<Option<Document>> {
        self.inner
            .ks
            .documents
            .get(scope.key(id))?
            .map(|b| Document::decode(&b))
            .transpose()
    }

    /// The ids of a scope's documents changed after `since_ms` (all when None).
    pub fn document_ids(&self, scope: &DocScope, since_ms: Option<i64>) -> Result<Vec<String>> {
        let prefix = scope.list_prefix();
        let mut ids = Vec::new();
        for row in self.inner.ks.documents.prefix(&prefix) {
            let (key, value) = row.into_inner()?;
            let doc = Document::decode(&value)?;
            if since_ms.is_some_and(|s| doc.updated_ms <= s) {
                continue;
            }
            ids.push(String::from_utf8_lossy(&key[prefix.len()..]).into_owned());
        }
        Ok(ids)
    }

    /// Atomically replaces one document with what `change` makes of the
    /// current one: `Ok(Some(doc))` writes it, `Ok(None)` deletes it, an
    /// error leaves the document as it was.
    pub fn update_document<E>(
        &self,
        scope: &DocScope,
        id: &str,
        change: impl FnOnce(Option<Document>) -> std::result::Result<Option<Document>, E>,
    ) -> std::result::Result<(), E>
    where
        E: From<StoreError>,
    {
        let _guard = self
            .inner
            .documents_lock
            .lock()
            .map_err(|_| StoreError::Engine("document lock poisoned".into()))?;
        self.ensure_room()?;
        let key = scope.key(id);
        let current = self.document(scope, id)?;
        match change(current)? {
            Some(doc) => self
                .inner
                .sealer
                .insert(&self.inner.ks.documents, key, doc.encode())?,
            None => self.inner.sealer.remove(&self.inner.ks.documents, key)?,
        }
        self.inner
            .db
            .persist(fjall::PersistMode::SyncAll)
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// Deletes every document of a scope (State DELETE without `stateId`).
    pub fn delete_documents(&self, scope: &DocScope) -> Result<usize> {
        let _guard = self
            .inner
            .documents_lock
            .lock()
            .map_err(|_| StoreError::Engine("document lock poisoned".into()))?;
        let mut batch = self
            .inner
            .sealer
            .batch()
            .durability(Some(fjall::PersistMode::SyncAll));
        let mut n = 0;
        for row in self.inner.ks.documents.prefix(&scope.prefix) {
            let key = row.key()?;
            batch.remove(&self.inner.ks.documents, key);
            n += 1;
        }
        batch.commit()?;
        Ok(n)
    }
}
