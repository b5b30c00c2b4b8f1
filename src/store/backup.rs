//! Backups and exports. A backup is every keyspace read from one snapshot
//! (a consistent point in time: writers are not paused), as a framed stream
//! ending in a SHA-256 of everything before it; restoring checks that sum
//! before the restored folder takes the target's place. An export is the
//! statements alone, one JSON object per line.

use std::io::{Read, Write};
use std::path::Path;

use fjall::Readable;
use sha2::{Digest, Sha256};

use super::{Result, Store, StoreError};

const MAGIC: &[u8; 8] = b"KMHDUMP1";
const KEYSPACE: u8 = 1;
const RECORD: u8 = 2;
const END: u8 = 0;
/// The name the pseudonym mapping (a database of its own) has in a backup.
const IDENTITIES: &str = "identities";

/// How an export is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Replace free-text answers ([`crate::xapi::redact`]) with `[redacted]`.
    pub redact_free_text: bool,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What a backup or restore moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DumpStats {
    pub records: u64,
    pub statements: u64,
    pub bytes: u64,
}

struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Engine(format!("backup stream: {e}"))
}

impl Store {
    /// Writes a consistent backup of the whole store to `out`.
    pub fn backup(&self, out: impl Write, mut progress: impl FnMut(u64)) -> Result<DumpStats> {
        let snapshot = self.inner.db.snapshot();
        let mut w = Hashing {
            inner: out,
            hash: Sha256::new(),
            bytes: 0,
        };
        let mut stats = DumpStats::default();
        w.write_all(MAGIC).map_err(io)?;
        for (name, ks) in self.inner.ks.named() {
            w.write_all(&[KEYSPACE]).map_err(io)?;
            w.write_all(&(name.len() as u16).to_be_bytes())
                .map_err(io)?;
            w.write_all(name.as_bytes()).map_err(io)?;
            for row in snapshot.iter(ks) {
                let (k, v) = row.into_inner()?;
                w.write_all(&[RECORD]).map_err(io)?;
                w.write_all(&(k.len() as u32).to_be_bytes()).map_err(io)?;
                w.write_all(&k).map_err(io)?;
                w.write_all(&(v.len() as u32).to_be_bytes()).map_err(io)?;
                w.write_all(&v).map_err(io)?;
                stats.records += 1;
                if name == "statements" {
                    stats.statements += 1;
                    progress(stats.statements);
                }
            }
        }
        // The pseudonym mapping, from its own database.
        let identities = self.inner.identities_db.snapshot();
        w.write_all(&[KEYSPACE]).map_err(io)?;
        w.write_all(&(IDENTITIES.len() as u16).to_be_bytes())
            .map_err(io)?;
        w.write_all(IDENTITIES.as_bytes()).map_err(io)?;
        for row in identities.iter(&self.inner.identities) {
            let (k, v) = row.into_inner()?;
            w.write_all(&[RECORD]).map_err(io)?;
            w.write_all(&(k.len() as u32).to_be_bytes()).map_err(io)?;
            w.write_all(&k).map_err(io)?;
            w.write_all(&(v.len() as u32).to_be_bytes()).map_err(io)?;
            w.write_all(&v).map_err(io)?;
            stats.records += 1;
        }
        w.write_all(&[END]).map_err(io)?;
        let sum = w.hash.clone().finalize();
        w.inner.write_all(&sum).map_err(io)?;
        w.inner.flush().map_err(io)?;
        stats.bytes = w.bytes + sum.len() as u64;
        Ok(stats)
    }

    /// Writes every statement as stored, oldest first, one per line.
    pub fn export_ndjson(&self, out: impl Write, progress: impl FnMut(u64)) -> Result<u64> {
        self.export_ndjson_with(out, &ExportOptions::default(), progress)
    }

    /// Like [`Store::export_ndjson`], with options.
    pub fn export_ndjson_with(
        &self,
        mut out: impl Write,
        options: &ExportOptions,
        mut progress: impl FnMut(u64),
    ) -> Result<u64> {
        let snapshot = self.inner.db.snapshot();
        let mut n = 0;
        for row in snapshot.iter(&self.inner.ks.statements) {
            let (_, v) = row.into_inner()?;
            // Only statements with a response can need redaction: the others
            // go out as stored, without a parse.
            let redacted = if options.redact_free_text && contains(&v, b"\"response\"") {
                let mut statement: serde_json::Value = serde_json::from_slice(&v)
                    .map_err(|e| StoreError::Corrupt(format!("stored statement: {e}")))?;
                let lookup = |iri: &str| self.activity_definition(iri).ok().flatten();
                crate::xapi::redact::redact_free_text(&mut statement, lookup)
                    .then(|| serde_json::to_vec(&statement))
                    .transpose()
                    .map_err(|e| StoreError::Engine(e.to_string()))?
            } else {
                None
            };
            out.write_all(redacted.as_deref().unwrap_or(&v))
                .map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
            n += 1;
            progress(n);
        }
        out.flush().map_err(io)?;
        Ok(n)
    }
}

/// Restores a backup into `dir`, which must not hold a store. The data is
/// loaded into a sibling folder and moved into place only once the whole
/// stream has been read and its checksum matches.
pub fn restore(
    dir: &Path,
    mut input: impl Read,
    mut progress: impl FnMut(u64),
) -> Result<DumpStats> {
    if dir.join("store").exists() || dir.join("identities").exists() {
        return Err(StoreError::Engine(format!(
            "{} already holds a store; restore into an empty folder",
            dir.display()
        )));
    }
    let staging = dir.with_extension("restoring");
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| {
        let store = Store::open(&staging)?;
        let mut hash = Sha256::new();
        let mut read = |buf: &mut [u8]| -> Result<()> {
            input
                .read_exact(buf)
                .map_err(|e| StoreError::Corrupt(format!("backup ends early: {e}")))?;
            hash.update(&*buf);
            Ok(())
        };
        let mut magic = [0u8; 8];
        read(&mut magic)?;
        if &magic != MAGIC {
            return Err(StoreError::Corrupt("not a kmh backup (bad magic)".into()));
        }
        let named = store.inner.ks.named();
        let mut current = None;
        let mut skipping = false;
        let mut stats = DumpStats::default();
        let mut batch = store.inner.sealer.batch();
        let mut identities = store.inner.identities_sealer.batch();
        loop {
            let mut tag = [0u8; 1];
            read(&mut tag)?;
            match tag[0] {
                END => break,
                KEYSPACE => {
                    let mut len = [0u8; 2];
                    read(&mut len)?;
                    let mut name = vec![0u8; u16::from_be_bytes(len) as usize];
                    read(&mut name)?;
                    let name = String::from_utf8_lossy(&name).into_owned();
                    if name == IDENTITIES {
                        current = Some((IDENTITIES, &store.inner.identities));
                        continue;
                    }
                    if name == super::migrate::RETIRED_AUTHORITY_INDEX {
                        // A layout-1 backup: its meta record says so, and
                        // the next open rebuilds what this index held.
                        current = None;
                        skipping = true;
                        continue;
                    }
                    skipping = false;
                    current = Some(
                        named
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map(|(n, ks)| (*n, *ks))
                            .ok_or_else(|| {
                                StoreError::Corrupt(format!(
                                    "backup names an unknown keyspace {name:?}"
                                ))
                            })?,
                    );
                }
                RECORD if skipping => {
                    let mut len = [0u8; 4];
                    for _ in 0..2 {
                        read(&mut len)?;
                        let mut skip = vec![0u8; u32::from_be_bytes(len) as usize];
                        read(&mut skip)?;
                    }
                }
                RECORD => {
                    let (name, ks) = current
                        .ok_or_else(|| StoreError::Corrupt("record before any keyspace".into()))?;
                    let mut len = [0u8; 4];
                    read(&mut len)?;
                    let mut key = vec![0u8; u32::from_be_bytes(len) as usize];
                    read(&mut key)?;
                    read(&mut len)?;
                    let mut value = vec![0u8; u32::from_be_bytes(len) as usize];
                    read(&mut value)?;
                    if name == IDENTITIES {
                        identities.insert(ks, key, value);
                    } else {
                        batch.insert(ks, key, value);
                    }
                    stats.records += 1;
                    if name == "statements" {
                        stats.statements += 1;
                        progress(stats.statements);
                    }
                    if batch.len() >= 10_000 {
                        std::mem::replace(&mut batch, store.inner.sealer.batch()).commit()?;
                    }
                }
                other => return Err(StoreError::Corrupt(format!("unknown record tag {other}"))),
            }
        }
        let expected = hash.finalize();
        let mut sum = [0u8; 32];
        input
            .read_exact(&mut sum)
            .map_err(|e| StoreError::Corrupt(format!("backup has no checksum: {e}")))?;
        if sum[..] != expected[..] {
            return Err(StoreError::Corrupt(
                "backup checksum mismatch: the file is damaged".into(),
            ));
        }
        batch.commit()?;
        identities.commit()?;
        store.inner.db.persist(fjall::PersistMode::SyncAll)?;
        store
            .inner
            .identities_db
            .persist(fjall::PersistMode::SyncAll)?;
        Ok(stats)
    })();
    match result {
        Ok(stats) => {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Engine(e.to_string()))?;
            // The mapping first: a folder with `store/` counts as restored.
            std::fs::rename(staging.join("identities"), dir.join("identities"))
                .map_err(|e| StoreError::Engine(e.to_string()))?;
            std::fs::rename(staging.join("store"), dir.join("store"))
                .map_err(|e| StoreError::Engine(e.to_string()))?;
            let _ = std::fs::remove_dir_all(&staging);
            Ok(stats)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            // Damage can show before the checksum at the end is reached
            // (a flipped byte in a record's tag or length): say it is the
            // file, not the store, that is damaged.
            Err(match e {
                StoreError::Corrupt(msg) if !msg.contains("backup") => StoreError::Corrupt(
                    format!("the backup file is damaged and was not restored: {msg}"),
                ),
                other => other,
            })
        }
    }
}
