//! Reaching a running `kmh serve` from another `kmh` command. The server
//! holds the store's lock, so commands that need the store while it runs
//! call its admin endpoints instead, with the URL and bearer token it wrote
//! into the data folder (the token file is readable only by its owner).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use super::serve::{ADMIN_TOKEN_FILE, SERVER_FILE};

/// Opens the store of an existing data folder, for the commands that read
/// or maintain one (report, audit, backup, export, forget, prune,
/// identities): a mistyped `--data` is an error, not a new empty store.
pub fn open_existing(data: &Path) -> Result<crate::store::Store, crate::store::StoreError> {
    if !data.join("store").is_dir() {
        return Err(crate::store::StoreError::Engine(format!(
            "{} holds no kmh store (is --data or KMH_DATA right?)",
            data.display()
        )));
    }
    crate::store::Store::open(data)
}

/// Runs a maintenance job that must not interleave with writes (forget,
/// prune) on the writer of the store in `data`, then `finish` on that store;
/// when a running server holds the store, posts `request` to its admin
/// `path` instead, which does the same there.
pub fn exclusive_here_or_on_server<Req, R>(
    data: &Path,
    path: &str,
    request: &Req,
    job: impl FnOnce(&crate::store::Store) -> crate::store::Result<R> + Send + 'static,
    finish: impl FnOnce(&crate::store::Store, &R) -> crate::store::Result<()>,
) -> anyhow::Result<R>
where
    Req: serde::Serialize,
    R: serde::de::DeserializeOwned + Send + 'static,
{
    match open_existing(data) {
        Ok(store) => {
            let (writer, thread) = crate::store::Writer::start(store.clone());
            let outcome = writer.exclusive_blocking(job);
            drop(writer);
            let _ = thread.join();
            let outcome = outcome?;
            finish(&store, &outcome)?;
            Ok(outcome)
        }
        Err(crate::store::StoreError::Locked(_)) => admin_post_json(data, path, request),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", data.display())),
    }
}

/// The URL and admin token of the server that holds `data`.
pub fn server_contact(data: &Path) -> anyhow::Result<(String, String)> {
    let server = std::fs::read(data.join(SERVER_FILE)).with_context(|| {
        format!(
            "{} is locked by another process, but it left no {SERVER_FILE}",
            data.display()
        )
    })?;
    let server: serde_json::Value = serde_json::from_slice(&server)?;
    let url = server
        .get("url")
        .and_then(|u| u.as_str())
        .with_context(|| format!("{SERVER_FILE} has no url"))?
        .to_owned();
    let token = std::fs::read_to_string(data.join(ADMIN_TOKEN_FILE)).with_context(|| {
        format!("reading {ADMIN_TOKEN_FILE} (only the data folder's owner may)")
    })?;
    Ok((url, token.trim().to_owned()))
}

/// Calls `/admin{path}` on the server that holds `data` (with a body and
/// its content type, if any); answers the response body,
/// or an error carrying the server's message.
pub fn admin_call(
    data: &Path,
    method: reqwest::Method,
    path: &str,
    body: Option<(Vec<u8>, &str)>,
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    admin_transfer(data, method, path, body, &mut out, |_| {})?;
    Ok(out)
}

/// POSTs `request` as JSON to `/admin{path}` and reads the JSON answer.
pub fn admin_post_json<Req, Resp>(data: &Path, path: &str, request: &Req) -> anyhow::Result<Resp>
where
    Req: serde::Serialize,
    Resp: serde::de::DeserializeOwned,
{
    let body = serde_json::to_vec(request)?;
    let answer = admin_call(
        data,
        reqwest::Method::POST,
        path,
        Some((body, "application/json")),
    )?;
    serde_json::from_slice(&answer)
        .with_context(|| format!("reading the server's answer to POST /admin{path}"))
}

/// GETs `/admin{path}` into `out` as it arrives (a backup or an export can
/// be larger than memory); `progress` gets the bytes received so far.
/// Answers the byte count.
pub fn admin_download(
    data: &Path,
    path: &str,
    out: &mut dyn Write,
    progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    admin_transfer(data, reqwest::Method::GET, path, None, out, progress)
}

fn admin_transfer(
    data: &Path,
    method: reqwest::Method,
    path: &str,
    body: Option<(Vec<u8>, &str)>,
    out: &mut dyn Write,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let (url, token) = server_contact(data)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut request = reqwest::Client::new()
            .request(method, format!("{url}/admin{path}"))
            .bearer_auth(&token);
        if let Some((bytes, content_type)) = body {
            request = request.header("Content-Type", content_type).body(bytes);
        }
        let mut response = request
            .send()
            .await
            .with_context(|| format!("reaching the running server at {url}"))?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.bytes().await?;
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            bail!("the server answered {status}: {message}");
        }
        let mut received = 0u64;
        while let Some(chunk) = response.chunk().await.with_context(|| {
            format!("the server at {url} stopped sending after {received} bytes")
        })? {
            out.write_all(&chunk)?;
            received += chunk.len() as u64;
            progress(received);
        }
        Ok(received)
    })
}
