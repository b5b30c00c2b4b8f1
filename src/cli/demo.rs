//! `kmh demo`: sends a realistic demo cohort ([`crate::analytics::demo`])
//! through the LRS's HTTP API, so that a new user sees a living dashboard
//! in the first minute.
//!
//! - with a running `kmh serve` on the data folder: through it (a
//!   write credential is made with the server's admin token);
//! - `--serve`: starts the server itself (publishing the courses, as
//!   `kmh serve` does) and keeps serving afterwards;
//! - otherwise: through a temporary server on 127.0.0.1 over the data
//!   folder, stopped at the end;
//! - `--url` with `--key`/`--secret`: to any LRS.
//!
//! Each time it prints the dashboard's address with a read credential.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

use super::serve::SERVER_FILE;
use super::server::server_contact;
use crate::analytics::demo::{self, Config};
use crate::lrs::LocalServer;
use crate::lrs::credentials::{self, Scope};
use crate::store::{Store, StoreError, Writer};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    /// Learners in the demo cohorts.
    #[arg(long, default_value_t = 360)]
    pub learners: usize,
    /// Varies the learners; the same seed on the same day sends the same
    /// statements (sending them again changes nothing).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Start the server and keep serving after the demo (like `kmh serve`).
    #[arg(long)]
    pub serve: bool,
    /// Address to listen on with --serve.
    #[arg(long, env = "KMH_LISTEN", default_value = "127.0.0.1:8600")]
    pub listen: SocketAddr,
    /// Courses the server publishes with --serve (as `kmh serve`).
    #[command(flatten)]
    pub courses: super::courses::CoursesArgs,
    /// Send to this LRS (base URL, e.g. https://lrs.example.org) instead.
    #[arg(long, requires_all = ["key", "secret"])]
    pub url: Option<String>,
    /// Key of a credential with statements/write (with --url).
    #[arg(long, env = "KMH_DEMO_KEY")]
    pub key: Option<String>,
    /// Its secret.
    #[arg(long, env = "KMH_DEMO_SECRET")]
    pub secret: Option<String>,
    /// Statements per request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    // "Now" is the start of today (UTC), so that the same seed sends the
    // same statements all day long and sending them again is a no-op.
    let now = crate::store::now_ms();
    let cfg = Config {
        learners: args.learners,
        seed: args.seed,
        now_ms: now - now.rem_euclid(86_400_000),
    };
    if let Some(url) = &args.url {
        let runtime = tokio::runtime::Runtime::new()?;
        let (key, secret) = (
            args.key.clone().unwrap_or_default(),
            args.secret.clone().unwrap_or_default(),
        );
        runtime.block_on(send(&cfg, url, &key, &secret, args.batch))?;
        println!("Dashboard: {url}/dashboard (sign in with a credential that has analytics/read)");
        return Ok(());
    }
    if args.serve {
        return serve_and_send(&args, &cfg);
    }
    match Store::open(&args.data) {
        Ok(store) => through_temporary_server(&args, &cfg, store),
        Err(StoreError::Locked(_)) => through_running_server(&args, &cfg),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", args.data.display())),
    }
}

/// A running `kmh serve` holds the folder: use its admin API for credentials.
fn through_running_server(args: &DemoArgs, cfg: &Config) -> anyhow::Result<()> {
    let (url, token) = server_contact(&args.data)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let writer = admin_credential(&url, &token, &["statements/write"], "kmh demo").await?;
        send(cfg, &url, &writer.0, &writer.1, args.batch).await?;
        let reader = admin_credential(
            &url,
            &token,
            &["analytics/read", "identities"],
            "dashboard (kmh demo)",
        )
        .await?;
        print_dashboard(&url, &reader);
        anyhow::Ok(())
    })
}

async fn admin_credential(
    url: &str,
    token: &str,
    scopes: &[&str],
    label: &str,
) -> anyhow::Result<(String, String)> {
    let r = reqwest::Client::new()
        .post(format!("{url}/admin/credentials"))
        .bearer_auth(token)
        .json(&json!({"scopes": scopes, "label": label}))
        .send()
        .await
        .with_context(|| format!("reaching the running server at {url}"))?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("the server answered {status} when asked for a credential: {body}");
    }
    let field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("the server's credential has no {k}"))
    };
    Ok((field("key")?, field("secret")?))
}

fn print_dashboard(url: &str, (key, secret): &(String, String)) {
    println!("Dashboard: {url}/dashboard");
    println!("Sign in when the browser asks (a credential with analytics/read and identities):");
    println!("  key:    {key}");
    println!("  secret: {secret}");
}

/// `--serve`: run `kmh serve` in this process, send the demo through it,
/// then keep serving until Ctrl-C.
fn serve_and_send(args: &DemoArgs, cfg: &Config) -> anyhow::Result<()> {
    let server_file = args.data.join(SERVER_FILE);
    let _ = std::fs::remove_file(&server_file);
    let mut serve = vec![
        "kmh".to_owned(),
        "serve".into(),
        "--listen".into(),
        args.listen.to_string(),
        "--data".into(),
        args.data.display().to_string(),
    ];
    serve.extend(args.courses.to_args());
    let cli = super::Cli::try_parse_from(serve)?;
    let super::Command::Serve(serve_args) = cli.command else {
        bail!("could not prepare kmh serve");
    };
    let server = std::thread::spawn(move || super::serve::run(serve_args));
    let started = Instant::now();
    while !server_file.exists() {
        if server.is_finished() || started.elapsed() > Duration::from_secs(30) {
            return match server.join() {
                Ok(Err(e)) => Err(e),
                _ => bail!("kmh serve did not start"),
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    through_running_server(args, cfg)?;
    println!("Serving until Ctrl-C.");
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))?
}

/// No server is running: start one on 127.0.0.1 for the time of the demo,
/// so that the data still goes through the HTTP API.
fn through_temporary_server(args: &DemoArgs, cfg: &Config, store: Store) -> anyhow::Result<()> {
    // As `kmh serve` would: a new data folder keeps learners by pseudonym.
    store
        .settle_pseudonymisation(None, true)
        .with_context(|| format!("the data folder {}", args.data.display()))?;
    let writer_cred = credentials::issue(&[Scope::StatementsWrite], Vec::new(), "kmh demo".into());
    let reader_cred = credentials::issue(
        &[Scope::AnalyticsRead, Scope::Identities],
        Vec::new(),
        "dashboard (kmh demo)".into(),
    );
    store.put_credential(&writer_cred.record)?;
    store.put_credential(&reader_cred.record)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let (writer, writer_thread) = Writer::start(store.clone());
    let result = runtime.block_on(async {
        let server = LocalServer::start(store.clone(), writer).await?;
        let sent = send(
            cfg,
            &server.url,
            &writer_cred.record.key,
            &writer_cred.secret,
            args.batch,
        )
        .await;
        server.stop().await?;
        sent
    });
    drop(store);
    let _ = writer_thread.join();
    result?;
    println!(
        "Start the server with `kmh serve --data {}`, then open the dashboard:",
        args.data.display()
    );
    print_dashboard(
        "http://127.0.0.1:8600",
        &(reader_cred.record.key, reader_cred.secret),
    );
    Ok(())
}

/// Sends the demo cohort in batches from four concurrent clients.
async fn send(
    cfg: &Config,
    url: &str,
    key: &str,
    secret: &str,
    batch: usize,
) -> anyhow::Result<()> {
    let batch = batch.clamp(1, crate::lrs::MAX_BATCH);
    let started = Instant::now();
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let sent = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let endpoint = format!("{}/xapi/statements", url.trim_end_matches('/'));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (rx, sent, client, endpoint) =
            (rx.clone(), sent.clone(), client.clone(), endpoint.clone());
        let (key, secret) = (key.to_owned(), secret.to_owned());
        workers.push(tokio::spawn(async move {
            loop {
                let body = {
                    let mut rx = rx.lock().await;
                    rx.recv().await
                };
                let Some(body) = body else {
                    return anyhow::Ok(());
                };
                let r = client
                    .post(&endpoint)
                    .basic_auth(&key, Some(&secret))
                    .header("X-Experience-API-Version", "1.0.3")
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .with_context(|| format!("sending statements to {endpoint}"))?;
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                if !status.is_success() {
                    bail!("the LRS answered {status}: {text}");
                }
                let n = serde_json::from_str::<Vec<Value>>(&text).map_or(0, |v| v.len());
                sent.fetch_add(n, Ordering::Relaxed);
            }
        }));
    }
    let cfg2 = cfg.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let mut pending: Vec<Value> = Vec::with_capacity(batch);
        for n in 0..cfg2.learners {
            for s in demo::learner_statements(&cfg2, n) {
                pending.push(s);
                if pending.len() == batch {
                    let body = serde_json::to_vec(&pending).unwrap_or_default();
                    pending.clear();
                    if tx.blocking_send(body).is_err() {
                        return;
                    }
                }
            }
        }
        if !pending.is_empty() {
            let _ = tx.blocking_send(serde_json::to_vec(&pending).unwrap_or_default());
        }
    });
    let mut failure = None;
    for w in workers {
        if let Err(e) = w.await? {
            failure.get_or_insert(e);
        }
    }
    producer.await?;
    if let Some(e) = failure {
        return Err(e);
    }
    let n = sent.load(Ordering::Relaxed);
    println!(
        "kmh demo: sent {n} statements for {} learners in {} cohorts to {url} in {:.1} s",
        cfg.learners,
        cfg.cohorts(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
