//! A real LRS on 127.0.0.1:0 over a temporary store, and a client for it.

use std::sync::Arc;

use kmh::lrs::credentials::{self, Scope};
use kmh::lrs::{AppState, Config};
use kmh::store::{Store, Writer};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct Lrs {
    pub url: String,
    pub key: String,
    pub secret: String,
    pub client: reqwest::Client,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    pub dir: Arc<tempfile::TempDir>,
}

impl Lrs {
    /// Starts a server on a fresh store.
    pub async fn start() -> Lrs {
        Self::start_in(Arc::new(tempfile::tempdir().unwrap())).await
    }

    /// Starts a server on a fresh store that keeps learners by pseudonym.
    pub async fn start_pseudonymising() -> Lrs {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Store::open(dir.path())
            .unwrap()
            .settle_pseudonymisation(Some(true), true)
            .unwrap();
        Self::start_in(dir).await
    }

    /// Starts a server on the store in `dir` (which may hold data already).
    pub async fn start_in(dir: Arc<tempfile::TempDir>) -> Lrs {
        let store = Store::open(dir.path()).unwrap();
        let issued = credentials::issue(&[Scope::All], vec![], "test admin".into());
        store.put_credential(&issued.record).unwrap();
        let (writer, writer_thread) = Writer::start(store.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let config = Config {
            public_url: url.clone(),
            admin_token: "test-admin-token".into(),
            default_version: kmh::xapi::Version::V1_0_3,
            rate_limit: 0,
            limits: Default::default(),
        };
        let state = AppState::new(store, writer, config).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = state.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            kmh::lrs::serve(listener, serving, shutdown)
                .await
                .expect("server failed");
        });
        Lrs {
            url,
            key: issued.record.key,
            secret: issued.secret,
            client: reqwest::Client::new(),
            state,
            stop: Some(stop),
            task: Some(task),
            writer_thread: Some(writer_thread),
            dir,
        }
    }

    /// Stops the server and waits for it to finish its requests.
    /// Returns the data folder once the store is closed.
    pub async fn stop(self) -> Arc<tempfile::TempDir> {
        let Lrs {
            stop,
            task,
            writer_thread,
            dir,
            state,
            ..
        } = self;
        drop(state);
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(task) = task {
            let _ = task.await;
        }
        // With every handle gone the writer drains its queue and stops.
        if let Some(thread) = writer_thread {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .unwrap()
                .unwrap();
        }
        dir
    }

    /// Issues a credential with these scopes; returns (key, secret).
    pub fn credential(&self, scopes: &[Scope], origins: &[&str]) -> (String, String) {
        let issued = credentials::issue(
            scopes,
            origins.iter().map(|s| s.to_string()).collect(),
            String::new(),
        );
        self.state.store.put_credential(&issued.record).unwrap();
        self.state.reload_credentials().unwrap();
        (issued.record.key, issued.secret)
    }

    /// A request to `path` (under /xapi) with auth and the 1.0.3 version header.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.req_as("1.0.3", method, path)
    }

    /// A request naming another xAPI version.
    pub fn req_as(&self, version: &str, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/xapi{path}", self.url))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", version)
    }

    pub async fn post(&self, body: &Value) -> Response {
        self.req(Method::POST, "/statements")
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, query: &str) -> Response {
        self.req(Method::GET, &format!("/statements{query}"))
            .send()
            .await
            .unwrap()
    }

    /// GET of any resource under /xapi that must answer 200, as JSON.
    pub async fn get_resource(&self, path: &str) -> Value {
        let r = self.req(Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    pub async fn get_json(&self, query: &str) -> Value {
        let r = self.get(query).await;
        assert_eq!(r.status(), 200, "GET /statements{query}");
        r.json().await.unwrap()
    }
}

/// A realistic statement: `n` varies the actor and activity.
pub fn statement(n: usize) -> Value {
    json!({
        "actor": {"objectType": "Agent", "name": format!("Learner {n}"),
                  "account": {"homePage": "https://lms.example.org", "name": format!("learner-{n}")}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed", "fr": "a terminé"}},
        "object": {"objectType": "Activity", "id": format!("urn:kmh:course:reintegration-me/s0{}", n % 8),
                   "definition": {"name": {"en": format!("Session {}", n % 8), "fr": format!("Séance {}", n % 8)},
                                  "type": "http://adlnet.gov/expapi/activities/lesson"}},
        "result": {"completion": true, "success": true, "score": {"scaled": 0.9, "raw": 9, "min": 0, "max": 10}, "duration": "PT25M"},
        "context": {"registration": "6c6a8c8e-3c1d-4f6e-9a54-0d7b8f0a1b2c",
                    "contextActivities": {"parent": [{"id": "urn:kmh:course:reintegration-me"}]},
                    "language": "en"}
    })
}
