//! Files that kmh copies into every package, embedded in the binary so
//! that a package never depends on a CDN or on files next to the binary.

/// Package path of the shared stylesheet.
pub const CSS_PATH: &str = "kmh/kmh.css";
/// Package path of the content runtime (a placeholder until the "Content
/// runtime" issue replaces `assets/package/kmh-runtime.js`).
pub const RUNTIME_JS_PATH: &str = "kmh/kmh-runtime.js";
/// Package path of the runtime configuration (`schemas/kmh-runtime.schema.json`).
pub const RUNTIME_CONFIG_PATH: &str = "kmh-runtime.json";

pub const CSS: &[u8] = include_bytes!("../../assets/package/kmh.css");
pub const RUNTIME_JS: &[u8] = include_bytes!("../../assets/package/kmh-runtime.js");
