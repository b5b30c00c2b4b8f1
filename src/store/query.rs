//! GET /statements filters as range scans (xAPI 1.0.3 part 3, §2.1.3).
//! One filter drives the scan over its index prefix, in seq order within
//! the seq bounds that `since`/`until` and the paging cursor give; the
//! other filters are checked with point reads on their indexes.

use fjall::Keyspace;

use super::keys::{INDEX_DIGEST_LEN, IndexDigest, index_digest, index_key, seq_bytes, seq_from};
use super::prepare::{AUTHORITY, DIRECT};
use super::{Result, Store, StoreError, StoredStatement};

/// A statement query in store terms. Values are those the index holds:
/// agent identities from [`crate::xapi::ifi::identity`], IRIs, lowercase UUIDs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub agent: Option<String>,
    pub related_agents: bool,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub related_activities: bool,
    pub registration: Option<String>,
    /// Only statements whose authority has this identity
    /// (`statements/read/mine`).
    pub authority: Option<String>,
    /// Lowest seq included.
    pub min_seq: u64,
    /// Highest seq included.
    pub max_seq: u64,
    pub ascending: bool,
    pub limit: usize,
}

/// Decides, from a statement's stored JSON, whether a reader may see it.
pub type Keep<'a> = dyn Fn(&[u8]) -> bool + 'a;

/// One page of results and, when more match, the seq to continue from.
#[derive(Debug, Default)]
pub struct Page {
    pub statements: Vec<StoredStatement>,
    pub more: bool,
}

#[derive(Clone, Copy)]
enum Match {
    Any,
    /// Only rows flagged [`DIRECT`].
    Direct,
    /// Only agent rows flagged [`AUTHORITY`].
    Authority,
}

impl Match {
    fn admits(self, value: &[u8]) -> bool {
        let flags = value.first().copied().unwrap_or(0);
        match self {
            Match::Any => true,
            Match::Direct => flags & DIRECT != 0,
            Match::Authority => flags & AUTHORITY != 0,
        }
    }
}

struct Filter<'a> {
    ks: &'a Keyspace,
    digest: IndexDigest,
    mode: Match,
}

impl Filter<'_> {
    fn accepts(&self, seq: u64) -> Result<bool> {
        Ok(match self.ks.get(index_key(&self.digest, seq))? {
            None => false,
            Some(v) => self.mode.admits(&v),
        })
    }
}

impl Store {
    /// Runs a query; voided statements are never returned.
    pub fn query(&self, q: &Query) -> Result<Page> {
        self.query_where(q, None)
    }

    /// Runs a query, returning only the statements `keep` accepts (by
    /// their stored JSON): a reader limited to part of the learners. The
    /// page fills up with accepted statements only, so a restricted reader
    /// may scan far more statements than it gets.
    pub fn query_where(&self, q: &Query, keep: Option<&Keep<'_>>) -> Result<Page> {
        let ks = &self.inner.ks;
        let mode = |related: bool| if related { Match::Any } else { Match::Direct };
        // Most selective first: the first filter drives the scan.
        let mut filters: Vec<Filter> = Vec::new();
        if let Some(r) = &q.registration {
            filters.push(Filter {
                ks: &ks.idx_registration,
                digest: index_digest(r),
                mode: Match::Any,
            });
        }
        if let Some(a) = &q.agent {
            filters.push(Filter {
                ks: &ks.idx_agent,
                digest: index_digest(a),
                mode: mode(q.related_agents),
            });
        }
        if let Some(a) = &q.activity {
            filters.push(Filter {
                ks: &ks.idx_activity,
                digest: index_digest(a),
                mode: mode(q.related_activities),
            });
        }
        if let Some(v) = &q.verb {
            filters.push(Filter {
                ks: &ks.idx_verb,
                digest: index_digest(v),
                mode: Match::Any,
            });
        }
        if let Some(a) = &q.authority {
            filters.push(Filter {
                ks: &ks.idx_agent,
                digest: index_digest(a),
                mode: Match::Authority,
            });
        }

        let mut page = Page::default();
        if q.min_seq > q.max_seq {
            return Ok(page);
        }
        let voided = self
            .inner
            .voided
            .read()
            .map_err(|_| StoreError::Engine("voided set poisoned".into()))?;
        let read = |seq: u64| -> Result<Vec<u8>> {
            match ks.statements.get(seq_bytes(seq))? {
                Some(j) => Ok(j.to_vec()),
                None => Err(StoreError::Corrupt(format!(
                    "index points to missing statement seq {seq}"
                ))),
            }
        };
        let mut consider = |seq: u64, json: Option<Vec<u8>>, rest: &[Filter]| -> Result<bool> {
            if voided.contains(&seq) {
                return Ok(true);
            }
            for f in rest {
                if !f.accepts(seq)? {
                    return Ok(true);
                }
            }
            let json = match (json, keep) {
                (Some(j), _) => Some(j),
                (None, None) => None,
                (None, Some(_)) => Some(read(seq)?),
            };
            if let (Some(keep), Some(j)) = (keep, &json)
                && !keep(j)
            {
                return Ok(true);
            }
            if page.statements.len() == q.limit {
                page.more = true;
                return Ok(false);
            }
            let json = match json {
                Some(j) => j,
                None => read(seq)?,
            };
            page.statements.push(StoredStatement {
                seq,
                json,
                voided: false,
            });
            Ok(true)
        };

        match filters.split_first() {
            Some((driver, rest)) => {
                let lo = index_key(&driver.digest, q.min_seq);
                let hi = index_key(&driver.digest, q.max_seq);
                let iter = driver.ks.range(lo..=hi);
                let rows: Box<dyn Iterator<Item = fjall::Guard>> = if q.ascending {
                    Box::new(iter)
                } else {
                    Box::new(iter.rev())
                };
                for row in rows {
                    let (key, value) = row.into_inner()?;
                    if !driver.mode.admits(&value) {
                        continue;
                    }
                    let seq = seq_from(&key[INDEX_DIGEST_LEN..])
                        .ok_or_else(|| StoreError::Corrupt("index key".into()))?;
                    if !consider(seq, None, rest)? {
                        break;
                    }
                }
            }
            None => {
                let iter = ks
                    .statements
                    .range(seq_bytes(q.min_seq)..=seq_bytes(q.max_seq));
                let rows: Box<dyn Iterator<Item = fjall::Guard>> = if q.ascending {
                    Box::new(iter)
                } else {
                    Box::new(iter.rev())
                };
                for row in rows {
                    let (key, value) = row.into_inner()?;
                    let seq = seq_from(&key)
                        .ok_or_else(|| StoreError::Corrupt("statement key".into()))?;
                    if !consider(seq, Some(value.to_vec()), &[])? {
                        break;
                    }
                }
            }
        }
        Ok(page)
    }
}
