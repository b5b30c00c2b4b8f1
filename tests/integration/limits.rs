//! Hostile input and a hostile environment: oversized request heads,
//! clients that send a byte at a time, and a data folder that refuses
//! writes, each against the real `kmh serve`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::{Server, serve_command, serve_with, sigterm};
use crate::common::statement;

fn host(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// Sends `head` on a fresh connection and reads until the server closes it
/// or `limit` passes; answers what was read.
fn exchange(server: &Server, head: &[u8], limit: Duration) -> String {
    let mut conn = TcpStream::connect(host(server)).unwrap();
    conn.set_read_timeout(Some(limit)).unwrap();
    conn.write_all(head).unwrap();
    let mut out = Vec::new();
    let _ = conn.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn an_oversized_request_head_gets_431() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(dir.path().to_str().unwrap(), &[]);
    let big = "a".repeat(40 * 1024);
    let answer = exchange(
        &server,
        format!("GET /xapi/about HTTP/1.1\r\nHost: x\r\nX-Padding: {big}\r\n\r\n").as_bytes(),
        Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // A normal head on the same server is fine.
    let answer = exchange(
        &server,
        b"GET /xapi/about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Trickles `bytes` one at a time, every `gap`, until the server hangs up
/// (a write fails or a read sees the end); answers how long that took and
/// what the server said.
fn trickle(server: &Server, bytes: &[u8], gap: Duration) -> (Duration, String) {
    let mut conn = TcpStream::connect(host(server)).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let start = Instant::now();
    let mut said = Vec::new();
    for b in bytes.iter().cycle().take(200) {
        if conn.write_all(&[*b]).is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => said.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        std::thread::sleep(gap);
    }
    (start.elapsed(), String::from_utf8_lossy(&said).into_owned())
}

#[test]
fn slow_clients_are_cut_off_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(
        dir.path().to_str().unwrap(),
        &["--header-timeout", "1", "--request-timeout", "2"],
    );
    // Headers a byte at a time, never finished: disconnected after the
    // header timeout (200 bytes at 100 ms would take 20 s).
    let (took, _) = trickle(
        &server,
        b"GET /xapi/about HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        Duration::from_millis(100),
    );
    assert!(
        took < Duration::from_secs(6),
        "headers trickled for {took:?}"
    );

    // A complete head, then the body a byte at a time: 408 after the
    // request timeout.
    let mut conn = TcpStream::connect(host(&server)).unwrap();
    let head = format!(
        "POST /xapi/statements HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nX-Experience-API-Version: 1.0.3\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        base64_basic(&server.key, &server.secret)
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let start = Instant::now();
    let mut said = Vec::new();
    while start.elapsed() < Duration::from_secs(20) {
        if conn.write_all(b" ").is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                said.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let said = String::from_utf8_lossy(&said);
    assert!(
        said.starts_with("HTTP/1.1 408"),
        "{said:?} after {:?}",
        start.elapsed()
    );
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
}

fn base64_basic(key: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
}

fn post(server: &Server, creds: (&str, &str), body: &Value) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(format!("{}/xapi/statements", server.url))
        .basic_auth(creds.0, Some(creds.1))
        .header("X-Experience-API-Version", "1.0.3")
        .json(body)
        .send()
        .unwrap()
}

fn get(server: &Server, creds: (&str, &str), query: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .get(format!("{}/xapi/statements{query}", server.url))
        .basic_auth(creds.0, Some(creds.1))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .unwrap()
}

/// Every statement id the server returns, following `more` links.
fn all_ids(server: &Server, creds: (&str, &str)) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = "?limit=500".to_owned();
    loop {
        let page: Value = get(server, creds, &next).json().unwrap();
        for s in page["statements"].as_array().unwrap() {
            ids.push(s["id"].as_str().unwrap().to_owned());
        }
        match page["more"].as_str() {
            Some(more) if !more.is_empty() => {
                next = format!("?{}", more.split_once('?').unwrap().1);
            }
            _ => return ids,
        }
    }
}

#[test]
fn a_data_folder_that_refuses_writes_answers_503_keeps_reads_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    // Created without limits (the engine preallocates its 64 MiB journal),
    // then served with a 2 MiB file-size limit (bash counts in KiB): a
    // write that grows a file past it fails with EFBIG, as on a full disk.
    let mut first = serve_with(data, &[]);
    let (key, secret) = (first.key.clone(), first.secret.clone());
    let creds = (key.as_str(), secret.as_str());
    assert!(sigterm(&mut first.child).success());
    let mut cmd = Command::new("bash");
    cmd.args(["-c", "ulimit -f 2048 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_kmh"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data", data]);
    let mut server = serve_command(cmd);

    let mut acked = Vec::new();
    let mut refused = None;
    for round in 0..2_000 {
        let batch: Vec<Value> = (0..20)
            .map(|i| {
                let mut s = statement(round * 20 + i);
                s["id"] = json!(uuid::Uuid::new_v4().to_string());
                s
            })
            .collect();
        let r = post(&server, creds, &Value::Array(batch.clone()));
        if r.status() == 200 {
            acked.extend(batch.iter().map(|s| s["id"].as_str().unwrap().to_owned()));
            continue;
        }
        refused = Some(r);
        break;
    }
    let r = refused.expect("the file-size limit was never reached");
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let message = r.text().unwrap();
    assert!(
        message.contains("refused a write") && message.contains("restart"),
        "{message}"
    );
    assert!(!acked.is_empty(), "nothing acknowledged before the limit");

    // Reads go on; writes stay refused with the same clear message.
    let mut ids = all_ids(&server, creds);
    ids.sort();
    let mut expected = acked.clone();
    expected.sort();
    assert_eq!(ids, expected);
    let r = post(&server, creds, &statement(1));
    assert_eq!(r.status(), 503);
    assert!(r.text().unwrap().contains("refused a write"));
    let about = reqwest::blocking::Client::new()
        .get(format!("{}/xapi/about", server.url))
        .send()
        .unwrap();
    assert_eq!(about.status(), 200);
    assert!(sigterm(&mut server.child).success());

    // Restarted with room, the store opens as it was and takes writes.
    let server = serve_with(data, &[]);
    let mut ids = all_ids(&server, creds);
    ids.sort();
    assert_eq!(
        ids, expected,
        "every acknowledged statement, and only those"
    );
    assert_eq!(post(&server, creds, &statement(7)).status(), 200);
}

#[test]
fn writes_are_refused_while_the_disk_is_below_its_reserve_and_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut first = serve_with(data, &[]);
    let (key, secret) = (first.key.clone(), first.secret.clone());
    let creds = (key.as_str(), secret.as_str());
    assert_eq!(post(&first, creds, &statement(1)).status(), 200);
    assert!(sigterm(&mut first.child).success());

    // A reserve larger than any disk: every write is refused up front,
    // before the engine meets a full disk, so nothing needs a restart.
    let mut server = serve_with(data, &["--min-free-disk-mb", "999999999999"]);
    let r = post(&server, creds, &statement(2));
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let message = r.text().unwrap();
    assert!(
        message.contains("almost full") && message.contains("reserve"),
        "{message}"
    );
    let state = reqwest::blocking::Client::new()
        .put(format!(
            "{}/xapi/activities/state?activityId=urn:kmh:a&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.org%22%7D&stateId=s",
            server.url
        ))
        .basic_auth(creds.0, Some(creds.1))
        .header("X-Experience-API-Version", "1.0.3")
        .body("x")
        .send()
        .unwrap();
    assert_eq!(state.status(), 503);
    assert_eq!(all_ids(&server, creds).len(), 1, "reads go on");
    assert!(sigterm(&mut server.child).success());
}
