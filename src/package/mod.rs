//! Course packager: curriculum sources (`packages/`, see
//! `packages/FORMAT.md`) → SCORM 1.2 / SCORM 2004 4th Ed. / cmi5 zips, and
//! `kmh validate` for any SCORM or cmi5 package.
//!
//! Pipeline, one module per stage:
//! - [`source`]: read and check `course.toml`, `module.toml`, pages and
//!   quizzes; every problem carries file and line.
//! - [`render`]: Markdown (comrak) and quizzes → accessible, self-contained
//!   HTML pages with the shared assets of [`assets`].
//! - [`manifest`]: `imsmanifest.xml` for each SCORM target, `cmi5.xml`
//!   for cmi5.
//! - [`zipper`]: deterministic zip.
//! - [`build`]: runs the stages for each language and target.
//! - [`validate`]: checks a package (ours before writing it, or anyone's).

pub mod assets;
pub mod build;
pub mod cli;
pub mod error;
pub mod manifest;
pub mod render;
pub mod schemas;
pub mod source;
pub mod validate;
pub mod web;
pub mod zipper;

pub use build::{BuildOptions, Built, Target, build};
pub use error::PackageError;
