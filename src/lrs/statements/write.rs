//! PUT and POST /statements: validate every statement, fill in what the LRS
//! assigns (`id`, `authority`, `version`), then hand the request to the
//! group-commit writer. All-or-nothing: one bad statement rejects the batch.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::LazyLock;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rayon::iter::{IntoParallelIterator, ParallelIterator};
use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::multipart::{self, Part};
use super::params::split;
use crate::lrs::auth::Auth;
use crate::lrs::credentials::Scope;
use crate::lrs::error::ApiError;
use crate::lrs::{AppState, MAX_BATCH};
use crate::store::{NewStatement, PreparedStatements, StoredAttachment};
use crate::xapi::{Invalid, Version, compare, normalize, pseudonym, signature, validate};

/// PUT /statements?statementId=…: stores one statement under that id.
pub async fn put(
    State(state): State<AppState>,
    Extension(version): Extension<Version>,
    auth: Auth,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(Scope::StatementsWrite)?;
    let params = split(query.as_deref().unwrap_or(""))?;
    if let Some(other) = params.keys().find(|k| k.as_str() != "statementId") {
        return Err(ApiError::BadRequest(format!(
            "PUT /statements takes only statementId, not {other}"
        )));
    }
    let id = params.get("statementId").ok_or_else(|| {
        ApiError::BadRequest("PUT /statements requires the statementId parameter".into())
    })?;
    if !validate::is_uuid(id) {
        return Err(ApiError::BadRequest(format!(
            "statementId must be a UUID, not {id:?}"
        )));
    }
    let id = Uuid::parse_str(id)
        .map_err(|_| ApiError::BadRequest(format!("statementId must be a UUID, not {id:?}")))?;
    let (json, parts) = read_body(&headers, body).await?;
    let checking = (state.clone(), auth.clone());
    let prepared = off_the_runtime(json.len(), move || {
        let (state, auth) = checking;
        let mut statement = parse(&json)?;
        if !statement.is_object() {
            return Err(ApiError::BadRequest(
                "PUT /statements takes a single statement object".into(),
            ));
        }
        match statement.get("id").and_then(Value::as_str) {
            Some(body_id) if Uuid::parse_str(body_id).ok() != Some(id) => {
                return Err(ApiError::BadRequest(format!(
                    "the statement's id {body_id} differs from statementId {id}"
                )));
            }
            Some(_) => {}
            None => {
                if let Some(obj) = statement.as_object_mut() {
                    obj.insert("id".into(), Value::String(id.to_string()));
                }
            }
        }
        check(&state, &auth, version, vec![statement], false, parts, Ok)
    })
    .await?;
    append(&state, prepared).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// POST /statements: one statement or an array; answers their ids in order.
pub async fn post(
    State(state): State<AppState>,
    Extension(version): Extension<Version>,
    auth: Auth,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(Scope::StatementsWrite)?;
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        let params = split(&q)?;
        if let Some(name) = params.keys().next() {
            return Err(ApiError::BadRequest(format!(
                "POST /statements takes no query parameters, not {name}"
            )));
        }
    }
    let (json, parts) = read_body(&headers, body).await?;
    let checking = (state.clone(), auth.clone());
    let prepared = off_the_runtime(json.len(), move || {
        let (state, auth) = checking;
        // An array is split into its statements' JSON text first (a scan
        // that checks the syntax and builds nothing), so that each part of
        // a large batch is parsed where it is checked.
        let opening = json.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let batch = opening == Some(b'[');
        let statements: Vec<&RawValue> = match opening {
            Some(b'[') => serde_json::from_slice(&json).map_err(not_json)?,
            Some(b'{') => vec![serde_json::from_slice(&json).map_err(not_json)?],
            _ => {
                // Not JSON, or JSON of the wrong kind: say which.
                parse(&json)?;
                return Err(ApiError::BadRequest(
                    "the body must be a statement object or an array of statements".into(),
                ));
            }
        };
        if statements.is_empty() {
            return Err(ApiError::BadRequest("the statement array is empty".into()));
        }
        if statements.len() > MAX_BATCH {
            return Err(ApiError::TooLarge(format!(
                "a batch holds at most {MAX_BATCH} statements; this one has {}",
                statements.len()
            )));
        }
        // From the text, not its bytes: the split checked that it is UTF-8,
        // and parsing bytes would check every string again.
        check(&state, &auth, version, statements, batch, parts, |raw| {
            serde_json::from_str(raw.get()).map_err(not_json)
        })
    })
    .await?;
    let appended = append(&state, prepared).await?;
    let ids: Vec<String> = appended.iter().map(|a| a.id.to_string()).collect();
    Ok(Json(ids).into_response())
}

/// Bodies up to this size are checked on the async worker that read them;
/// larger ones on the blocking pool. Checking and preparing a statement
/// took 30–40 µs of CPU (25–30 since, BENCHMARKS.md, "Allocations handed
/// from thread to thread"), so a batch of 100 held a worker for 3–4 ms:
/// with one worker per core, two batches being checked left every other
/// connection (answers ready to send, bodies to read) waiting meanwhile,
/// and the CPU partly idle under load (BENCHMARKS.md, "Checking batches
/// off the async workers"). A blocking task costs a thread hand-off, which
/// single statements, the common case, are spared.
const INLINE_BODY_BYTES: usize = 32 * 1024;

/// Runs `work` (CPU-bound, synchronous) inline for a small body and on the
/// blocking pool for a large one.
async fn off_the_runtime<T: Send + 'static>(
    body_len: usize,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    if body_len <= INLINE_BODY_BYTES {
        return work();
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("checking the statements failed: {e}")))?
}

fn parse(json: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(json).map_err(not_json)
}

fn not_json(e: serde_json::Error) -> ApiError {
    ApiError::BadRequest(format!("the statements are not valid JSON: {e}"))
}

/// Hands prepared statements to the writer and, at the same time, makes
/// the pseudonym records they need durable; answers once both are on disk
/// (the two syncs overlap rather than add up).
pub(crate) async fn append(
    state: &AppState,
    prepared: PreparedStatements,
) -> Result<Vec<crate::store::Appended>, ApiError> {
    state.store.ensure_room()?;
    let store = state.store.clone();
    let identities = async {
        if !store.identities_pending() {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || store.sync_identities())
            .await
            .map_err(|e| ApiError::Internal(format!("identities sync task failed: {e}")))?
            .map_err(ApiError::from)
    };
    let statements = async { state.writer.submit(prepared).await.map_err(ApiError::from) };
    let (appended, ()) = tokio::try_join!(statements, identities)?;
    Ok(appended)
}

/// The JSON a request carries and, for `multipart/mixed`, the attachment
/// parts by SHA-256.
async fn read_body(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Bytes, BTreeMap<String, Part>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("multipart/mixed") {
        let mixed = multipart::parse(body, multipart::boundary(content_type)?).await?;
        Ok((mixed.json, mixed.parts))
    } else if media.eq_ignore_ascii_case("application/json") {
        Ok((body, BTreeMap::new()))
    } else {
        Err(ApiError::BadRequest(format!(
            "Content-Type must be application/json or multipart/mixed, not {content_type:?}"
        )))
    }
}

/// Validates and completes a request's statements (parsed from JSON by
/// `parse`) and prepares them for the writer. `batch` tells whether the
/// client sent an array, so error paths say `[i].…` only then.
///
/// A statement takes 25–30 µs of CPU here, about half of what it
/// costs the server, so a large batch is split over the machine's cores:
/// otherwise a lone client's batch is checked on one core while the others
/// wait for it (BENCHMARKS.md, "Checking batches off the async workers").
/// Each part is checked in order and stops at its first problem; the first
/// part with a problem gives the answer.
fn check<T: Send>(
    state: &AppState,
    auth: &Auth,
    version: Version,
    items: Vec<T>,
    batch: bool,
    parts: BTreeMap<String, Part>,
    parse: impl Fn(T) -> Result<Value, ApiError> + Sync,
) -> Result<PreparedStatements, ApiError> {
    let cx = Checking::new(state, auth, version, batch, &parts);
    let pool = CHECKERS.as_ref();
    let threads = pool
        .map_or(1, rayon::ThreadPool::current_num_threads)
        .min(items.len() / MIN_STATEMENTS_PER_THREAD)
        .max(1);
    let chunk_len = items.len().div_ceil(threads);
    let mut chunks = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    for first in (0..threads).map(|t| t * chunk_len) {
        chunks.push((first, items.by_ref().take(chunk_len).collect::<Vec<T>>()));
    }
    let run = |(first, chunk): (usize, Vec<T>)| check_chunk(&cx, first, chunk, &parse);
    let results: Vec<_> = match pool {
        Some(pool) if threads > 1 => pool.install(|| chunks.into_par_iter().map(run).collect()),
        _ => chunks.into_iter().map(run).collect(),
    };

    let mut unused: BTreeSet<&String> = parts.keys().collect();
    let mut seen_ids = HashSet::new();
    let mut seen_learners = Vec::new();
    let mut prepared = Vec::with_capacity(results.len());
    for result in results {
        let (checked, chunk) = result?;
        for c in checked {
            if !seen_ids.insert(c.id) {
                return Err(ApiError::BadRequest(format!(
                    "statement id {} appears more than once in the batch",
                    c.id
                )));
            }
            for sha2 in &c.parts_used {
                unused.remove(sha2);
            }
            seen_learners.extend(c.learners);
        }
        prepared.push(chunk);
    }
    if let Some(extra) = unused.into_iter().next() {
        return Err(ApiError::BadRequest(format!(
            "multipart part with X-Experience-API-Hash {extra} matches no attachment of the statements"
        )));
    }
    state.store.record_identities(&seen_learners)?;
    Ok(PreparedStatements::concat(prepared))
}

/// Below this many statements per thread a batch is checked on one: handing
/// a part to another thread and waiting for it costs microseconds.
const MIN_STATEMENTS_PER_THREAD: usize = 16;

/// Name (prefix) of the threads that check the parts of large batches.
pub const CHECK_THREADS: &str = "kmh-check";

/// How much lower than the rest of the server the checking threads run
/// (added to their nice value).
const CHECK_NICENESS: i32 = 10;

/// The threads that check the parts of large batches, one per core. Their
/// own pool, not the async runtime's blocking threads, so that a batch's
/// parts wait for a core and never for a thread to be started; their name
/// lets `kmh bench` count their CPU with the requests'. Without it (the
/// system refused the threads) batches are checked on the request's thread.
/// They run at a lower priority (see [`yield_to_the_pipeline`]).
static CHECKERS: LazyLock<Option<rayon::ThreadPool>> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("{CHECK_THREADS}-{i}"))
        .start_handler(|_| yield_to_the_pipeline())
        .build()
        .inspect_err(|e| tracing::warn!("batches are checked on one thread: {e}"))
        .ok()
});

/// Lowers the calling thread's priority by [`CHECK_NICENESS`]. Checking is
/// the one stage of the write pipeline that runs on every core; after it,
/// each group goes through one writer thread and one commit thread. When
/// those two waited for a core behind the checking threads, the batches
/// already checked queued up behind them, new ones stopped arriving (each
/// client waits for its answer) and 11-16 % of the two cores of the
/// benchmark machine stayed idle; with checking yielding to them, 4-9 %
/// (BENCHMARKS.md, "Checking yields to the writer; index keys kept
/// inline"). The requests' own threads (HTTP, reads, small batches) keep
/// their priority. Linux only, where a nice value belongs to one thread;
/// a failure only costs speed.
fn yield_to_the_pipeline() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let lowered = getpriority_process(me)
            .and_then(|nice| setpriority_process(me, (nice + CHECK_NICENESS).min(19)));
        if let Err(e) = lowered {
            tracing::debug!("checking threads keep their priority: {e}");
        }
    }
}

/// What every statement of a request is checked with.
struct Checking<'a> {
    state: &'a AppState,
    auth: &'a Auth,
    version: Version,
    batch: bool,
    parts: &'a BTreeMap<String, Part>,
    authority: Value,
    pseudonymise: bool,
}

impl<'a> Checking<'a> {
    fn new(
        state: &'a AppState,
        auth: &'a Auth,
        version: Version,
        batch: bool,
        parts: &'a BTreeMap<String, Part>,
    ) -> Self {
        Checking {
            state,
            auth,
            version,
            batch,
            parts,
            authority: auth.authority(&state.config.public_url),
            pseudonymise: state.privacy.applies_to(&auth.credential),
        }
    }
}

/// Validates and completes one statement sent without attachments, as a
/// PUT would, for callers that gather statements into requests of their
/// own (imports).
pub(crate) fn prepare_single(
    state: &AppState,
    auth: &Auth,
    version: Version,
    statement: Value,
) -> Result<NewStatement, ApiError> {
    let parts = BTreeMap::new();
    let cx = Checking::new(state, auth, version, false, &parts);
    let (checked, statement) = check_one(&cx, 0, statement)?;
    state.store.record_identities(&checked.learners)?;
    Ok(statement)
}

/// What the request-wide checks need to know of a checked statement.
struct Checked {
    id: Uuid,
    /// The multipart parts (by SHA-256) its attachments use.
    parts_used: Vec<String>,
    /// The learners it names, when stored by pseudonym.
    learners: Vec<pseudonym::Seen>,
}

/// Checks the statements of one part of a request, the first at index
/// `first`, and prepares them for the writer.
fn check_chunk<T>(
    cx: &Checking<'_>,
    first: usize,
    items: Vec<T>,
    parse: &impl Fn(T) -> Result<Value, ApiError>,
) -> Result<(Vec<Checked>, PreparedStatements), ApiError> {
    let mut checked = Vec::with_capacity(items.len());
    let mut statements = Vec::with_capacity(items.len());
    for (i, item) in (first..).zip(items) {
        let (c, statement) = check_one(cx, i, parse(item)?)?;
        checked.push(c);
        statements.push(statement);
    }
    Ok((checked, cx.state.writer.prepare(statements)?))
}

/// Validates and completes the statement at index `i` of a request.
fn check_one(
    cx: &Checking<'_>,
    i: usize,
    statement: Value,
) -> Result<(Checked, NewStatement), ApiError> {
    let at = |e: Invalid| {
        if cx.batch {
            Invalid {
                path: format!("[{i}].{}", e.path),
                rule: e.rule,
            }
        } else {
            e
        }
    };
    validate::statement(&statement, cx.version).map_err(|e| ApiError::Invalid(at(e)))?;
    check_activity_limit(&cx.auth.credential, &statement, i)?;
    let mut attachments = Vec::new();
    let mut parts_used = Vec::new();
    let list = statement
        .get("attachments")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (j, attachment) in list.iter().enumerate() {
        let invalid = |rule: String| {
            ApiError::Invalid(at(Invalid {
                path: format!("attachments[{j}]"),
                rule,
            }))
        };
        let sha2 = attachment
            .get("sha2")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let part = cx.parts.get(&sha2);
        if part.is_none() && attachment.get("fileUrl").is_none() {
            return Err(invalid(format!(
                "no multipart/mixed part carries this attachment's data (X-Experience-API-Hash {sha2}) and it has no fileUrl"
            )));
        }
        if attachment.get("usageType").and_then(Value::as_str) == Some(signature::SIGNATURE_USAGE) {
            let media = attachment
                .get("contentType")
                .and_then(Value::as_str)
                .unwrap_or("");
            if media != "application/octet-stream" {
                return Err(invalid(format!(
                    "a signature attachment must have contentType application/octet-stream, not {media:?}"
                )));
            }
            if cx.pseudonymise {
                return Err(invalid(
                    "signed statements cannot be stored by pseudonym: the signature carries the learner's identifiers (send them with a credential that does not pseudonymise, in a store that does not)".into(),
                ));
            }
            let part = part.ok_or_else(|| {
                invalid("a signature must be sent as a multipart/mixed part".into())
            })?;
            signature::verify(&statement, &part.data)
                .map_err(|e| invalid(format!("signature rejected: {e}")))?;
        }
        if let Some(part) = part {
            attachments.push(StoredAttachment {
                sha2: sha2.clone(),
                content_type: part.content_type.clone(),
                data: part.data.to_vec(),
            });
            parts_used.push(sha2);
        }
    }
    let fingerprint = compare::fingerprint(&statement);
    let Value::Object(mut json) = statement else {
        return Err(ApiError::Invalid(at(Invalid {
            path: String::new(),
            rule: "a statement must be a JSON object".into(),
        })));
    };
    let id = match json.get("id").and_then(Value::as_str) {
        Some(id) => Uuid::parse_str(id).map_err(|_| {
            ApiError::Invalid(at(Invalid {
                path: "id".into(),
                rule: "must be a UUID".into(),
            }))
        })?,
        None => {
            let id = Uuid::new_v4();
            json.insert("id".into(), Value::String(id.to_string()));
            id
        }
    };
    normalize::context_activities_as_arrays(&mut json);
    // After validation and the fingerprint (a statement sent again as the
    // client first sent it is still recognised), before the writer.
    let learners = if cx.pseudonymise {
        pseudonym::pseudonymise_statement(&cx.state.privacy.key, &mut json)
    } else {
        Vec::new()
    };
    if cx.version == Version::V2_0_0
        && let Some(Value::String(ts)) = json.get("timestamp")
        && let Some(utc) = normalize::timestamp_utc(ts)
    {
        json.insert("timestamp".into(), Value::String(utc));
    }
    json.insert("authority".into(), cx.authority.clone());
    if !json.contains_key("version") {
        let v = match cx.version {
            Version::V1_0_3 => "1.0.0",
            Version::V2_0_0 => "2.0.0",
        };
        json.insert("version".into(), Value::String(v.into()));
    }
    let checked = Checked {
        id,
        parts_used,
        learners,
    };
    let statement = NewStatement {
        id,
        json,
        fingerprint,
        attachments,
    };
    Ok((checked, statement))
}

/// A credential limited to some activities (a package's) may only write
/// statements whose object is one of them.
fn check_activity_limit(
    credential: &crate::lrs::credentials::Credential,
    statement: &Value,
    index: usize,
) -> Result<(), ApiError> {
    if credential.activities.is_empty() {
        return Ok(());
    }
    let object = statement.get("object");
    let is_activity = object
        .and_then(|o| o.get("objectType"))
        .and_then(Value::as_str)
        .is_none_or(|t| t == "Activity");
    let id = object
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if is_activity && credential.allows_activity(id) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "credential {} may only write statements about activities under {} (statement {index} is about {id:?})",
        credential.key,
        credential.activities.join(", ")
    )))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::process::getpriority_process;
    use rustix::thread::gettid;

    use super::{CHECK_NICENESS, CHECKERS};

    #[test]
    fn the_checking_threads_run_below_the_rest_of_the_server() {
        let mine = getpriority_process(Some(gettid())).unwrap();
        let pool = CHECKERS.as_ref().expect("the checking threads start");
        let theirs = pool.install(|| getpriority_process(Some(gettid())).unwrap());
        assert_eq!(theirs, (mine + CHECK_NICENESS).min(19));
        assert_eq!(
            getpriority_process(Some(gettid())).unwrap(),
            mine,
            "the caller keeps its priority"
        );
    }
}
