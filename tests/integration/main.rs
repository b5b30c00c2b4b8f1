//! One integration-test binary: HTTP, CLI and packaging behaviour, each
//! through the real interface (a server on 127.0.0.1:0, the `kmh` binary).

mod analytics;
mod browser;
mod cli;
mod common;
mod courses;
mod crash;
mod documents;
mod lifecycle;
mod limits;
mod lrs;
mod package;
mod privacy;
