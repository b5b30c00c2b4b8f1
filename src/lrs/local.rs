//! An LRS on a free loopback port inside this process, for the commands
//! that drive it over real HTTP (`kmh bench`, `kmh demo`): the same router,
//! limits and write path as `kmh serve`, stopped when the command is done.

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{AppState, Config, credentials};
use crate::store::{Store, StoreError, Writer};

pub struct LocalServer {
    /// `http://127.0.0.1:<port>`, also the authority accounts' `homePage`.
    pub url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalServerError {
    #[error("listening on 127.0.0.1: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl LocalServer {
    /// Starts serving `store` through `writer` (call from within a Tokio
    /// runtime).
    pub async fn start(store: Store, writer: Writer) -> Result<LocalServer, LocalServerError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = AppState::new(
            store,
            writer,
            Config {
                public_url: url.clone(),
                admin_token: credentials::random_token(32),
                default_version: crate::xapi::Version::V1_0_3,
                rate_limit: 0,
                limits: Default::default(),
            },
        )?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(super::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(LocalServer { url, stop, task })
    }

    /// Stops accepting, finishes the requests in flight and drops the
    /// server's writer handle.
    pub async fn stop(self) -> Result<(), LocalServerError> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}
