//! kmh: course packager, xAPI learning record store and training analytics
//! for a knowledge-management hub.
//!
//! Map of the crate (dependencies point one way, top to bottom):
//!
//! - [`cli`]: the `kmh` command line; each subcommand calls one layer below.
//! - [`analytics`]: read models kept at ingest, programme indicators, the
//!   dashboard and `kmh report`.
//! - [`bench`]: `kmh bench`, the LRS load generator.
//! - [`package`]: curriculum sources → SCORM zips, and `kmh validate`. Pure:
//!   files in, zip out.
//! - [`lrs`]: the xAPI HTTP API (axum). Thin handlers over [`xapi`] and [`store`].
//! - [`store`]: the embedded, durable store; the only module that names the
//!   storage engine.
//! - [`xapi`]: xAPI value rules (validation, identifiers, index keys). No I/O.
//! - [`memory`]: the allocator, and handing memory back after a burst.

pub mod analytics;
pub mod bench;
pub mod cli;
pub mod lrs;
pub mod memory;
pub mod package;
pub mod store;
pub mod xapi;
