//! Course packager: curriculum sources (`packages/`, see `packages/FORMAT.md`)
//! → SCORM 1.2 / SCORM 2004 4th Ed. zips, and `kmh validate`.
//! (Being built; the command-line surface is fixed in `cli.rs`.)

pub mod cli;
