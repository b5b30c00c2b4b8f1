//! Response bodies produced by blocking store work (a backup, an export)
//! and sent while they are produced, so a store of many gigabytes never
//! sits in memory. The work runs on a blocking thread and hands the body
//! over in chunks; a client that goes away stops it.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use tokio::sync::mpsc;

use super::audit::StreamedRows;
use crate::store::StoreError;

/// Bytes gathered before a chunk is handed to the connection.
const CHUNK: usize = 256 * 1024;

/// A `Write` that sends what it is given to the response body in chunks.
pub struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Runs `produce` on a blocking thread and streams what it writes. It is
/// given the writer and a counter of the rows written so far (for the
/// audit record, which is written when the body ends). A failure midway
/// ends the body with an error, so the client sees an incomplete transfer,
/// never a short file that looks whole.
pub fn body_from_blocking<F>(produce: F) -> (Body, StreamedRows)
where
    F: FnOnce(&mut ChunkWriter, &AtomicU64) -> Result<(), StoreError> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(4);
    let rows = Arc::new(AtomicU64::new(0));
    let counter = rows.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = produce(&mut out, &counter).and_then(|()| {
            out.flush()
                .map_err(|e| StoreError::Engine(format!("sending the body: {e}")))
        });
        if let Err(e) = result {
            tracing::error!("streamed response stopped: {e}");
            let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (Body::from_stream(stream), StreamedRows(rows))
}

/// Progress callbacks report a running total; the audit wants the last.
pub fn count(rows: &AtomicU64, n: u64) {
    rows.store(n, Ordering::Relaxed);
}
