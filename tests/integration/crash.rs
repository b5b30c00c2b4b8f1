//! Crash safety, proven: the server is killed with SIGKILL while clients
//! post statements (single and batches); after every restart each
//! acknowledged statement is there with the content that was sent, and the
//! store opens without repair.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::statement;

struct Server {
    child: Child,
    url: String,
}

fn start(data: &str, creds: &mut Option<(String, String)>) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmh"))
        // Statements are compared as sent, so learners keep their identifiers.
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data,
            "--no-pseudonymise",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut key, mut url) = (None, String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(k) = line.trim().strip_prefix("key:") {
            key = Some(k.trim().to_owned());
        } else if let Some(s) = line.trim().strip_prefix("secret:") {
            *creds = Some((key.clone().unwrap(), s.trim().to_owned()));
        } else if let Some(u) = line.strip_prefix("kmh serve: listening on ") {
            url = u.trim().to_owned();
            break;
        }
    }
    assert!(
        !url.is_empty(),
        "kmh serve did not start (store not reopened after a crash?)"
    );
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

/// Statements the server acknowledged, by id, with what was sent.
type Acked = Arc<Mutex<Vec<(String, Value)>>>;

async fn client(url: String, key: String, secret: String, acked: Acked, batch: usize, seed: usize) {
    let http = reqwest::Client::new();
    for round in 0.. {
        let mut sent = Vec::new();
        for i in 0..batch {
            let mut s = statement(seed * 1_000_000 + round * 100 + i);
            let id = uuid::Uuid::new_v4().to_string();
            s["id"] = json!(id);
            sent.push((id, s));
        }
        let body = if batch == 1 {
            sent[0].1.clone()
        } else {
            Value::Array(sent.iter().map(|(_, s)| s.clone()).collect())
        };
        let r = http
            .post(format!("{url}/xapi/statements"))
            .basic_auth(&key, Some(&secret))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&body)
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 200 => acked.lock().unwrap().extend(sent),
            // The server died mid-request: nothing was acknowledged.
            _ => return,
        }
    }
}

#[test]
fn acknowledged_statements_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut creds = None;
    let acked: Acked = Arc::default();
    let kills = std::env::var("KMH_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(8);
    for kill in 0..kills {
        let mut server = start(&data, &mut creds);
        let (key, secret) = creds.clone().expect("the first start shows a credential");
        runtime.block_on(async {
            let clients: Vec<_> = [(1, 0), (1, 1), (25, 2), (100, 3)]
                .into_iter()
                .map(|(batch, seed)| {
                    tokio::spawn(client(
                        server.url.clone(),
                        key.clone(),
                        secret.clone(),
                        acked.clone(),
                        batch,
                        seed + kill * 10,
                    ))
                })
                .collect();
            // Let writes flow, then pull the plug mid-stream.
            tokio::time::sleep(Duration::from_millis(300 + 97 * (kill as u64 % 5))).await;
            Command::new("kill")
                .args(["-KILL", &server.child.id().to_string()])
                .status()
                .unwrap();
            for c in clients {
                let _ = c.await;
            }
        });
        server.child.wait().unwrap();
    }

    // Restart once more and check every acknowledged statement.
    let mut server = start(&data, &mut creds);
    let (key, secret) = creds.clone().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "the clients got too few statements in ({}) to prove anything",
        acked.len()
    );
    let http = reqwest::blocking::Client::new();
    for (id, sent) in &acked {
        let got: Value = http
            .get(format!("{}/xapi/statements?statementId={id}", server.url))
            .basic_auth(&key, Some(&secret))
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .unwrap()
            .json()
            .unwrap();
        // Every property sent comes back as sent (the test statements
        // already use arrays for context activities).
        for (k, v) in sent.as_object().unwrap() {
            assert_eq!(
                &got[k], v,
                "statement {id}, property {k}, after {kills} SIGKILLs"
            );
        }
    }
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(server.child.wait().unwrap().success());
    eprintln!(
        "{} acknowledged statements intact after {kills} SIGKILLs",
        acked.len()
    );
}
