//! `imsmanifest.xml` for SCORM 1.2 (IMS CP 1.1.2 + ADL CP, SCORM 1.2 CAM
//! §2.3) and SCORM 2004 4th Edition (IMS CP 1.1.4 + ADL CP/SN, CAM §3,
//! SN §5). Both writers work from one [`Plan`]: what the package contains,
//! independent of the target's XML. [`cmi5`] writes the cmi5 course
//! structure from its own, simpler plan.

pub mod cmi5;
pub mod scorm12;
pub mod scorm2004;
pub mod xml;

use crate::package::source::paths::encode_path;
use xml::XmlWriter;

/// The package as the manifest must describe it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `manifest/@identifier` (an XML ID).
    pub identifier: String,
    pub version: String,
    pub org_identifier: String,
    pub title: String,
    pub items: Vec<PlanItem>,
    /// Files every item needs (styles, runtime, runtime config): one shared
    /// asset resource that every item's resource depends on.
    pub common_files: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PlanItem {
    /// Module id; item and resource identifiers derive from it.
    pub id: String,
    pub title: String,
    /// Package path of the launch page.
    pub launch: String,
    /// Every package file of the item, sorted; includes `launch`.
    pub files: Vec<String>,
    pub kind: ItemKind,
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    /// A module: a SCO.
    Sco {
        /// Scaled pass mark, when the module decides pass/fail.
        mastery: Option<f64>,
        /// Learning objective ids (SCORM 2004 local objectives).
        objectives: Vec<String>,
    },
    /// An external activity's local link page: an asset the LMS cannot track.
    Link,
}

impl PlanItem {
    pub fn item_identifier(&self) -> String {
        format!("ITEM-{}", self.id)
    }

    pub fn resource_identifier(&self) -> String {
        format!("RES-{}", self.id)
    }

    /// The launch file first (as ADL's examples do), then the rest sorted.
    pub fn files_launch_first(&self) -> Vec<&str> {
        let mut v = vec![self.launch.as_str()];
        v.extend(
            self.files
                .iter()
                .map(String::as_str)
                .filter(|f| *f != self.launch),
        );
        v
    }
}

/// Identifier of the shared asset resource; upper case, so it can never
/// equal a module's `RES-<id>` (module ids are lower case).
pub const COMMON_RESOURCE: &str = "RES-KMH-COMMON";

/// `0.8` → `"0.8"`, without float noise such as `0.80000001`.
pub fn decimal(v: f64) -> String {
    let rounded = (v * 10_000.0).round() / 10_000.0;
    format!("{rounded}")
}

/// `<resources>`: one per item, each depending on the shared asset resource
/// that holds [`Plan::common_files`]. The SCORM type attribute is the only
/// difference between the versions (`adlcp:scormtype` in 1.2,
/// `adlcp:scormType` in 2004).
pub fn write_resources(w: &mut XmlWriter, plan: &Plan, scorm_type_attr: &str) {
    w.start("resources", &[]);
    for item in &plan.items {
        let scorm_type = match item.kind {
            ItemKind::Sco { .. } => "sco",
            ItemKind::Link => "asset",
        };
        let href = encode_path(&item.launch);
        w.start(
            "resource",
            &[
                ("identifier", &item.resource_identifier()),
                ("type", "webcontent"),
                (scorm_type_attr, scorm_type),
                ("href", &href),
            ],
        );
        for f in item.files_launch_first() {
            w.empty("file", &[("href", &encode_path(f))]);
        }
        w.empty("dependency", &[("identifierref", COMMON_RESOURCE)]);
        w.end();
    }
    w.start(
        "resource",
        &[
            ("identifier", COMMON_RESOURCE),
            ("type", "webcontent"),
            (scorm_type_attr, "asset"),
        ],
    );
    for f in &plan.common_files {
        w.empty("file", &[("href", &encode_path(f))]);
    }
    w.end();
    w.end();
}

#[cfg(test)]
pub(crate) mod test_plan {
    use super::*;

    /// Two SCOs (one without a pass mark) and an external link.
    pub fn plan() -> Plan {
        Plan {
            identifier: "kmh-demo-en".into(),
            version: "1.0.0".into(),
            org_identifier: "ORG-demo".into(),
            title: "Demo & co".into(),
            common_files: vec![
                "kmh-runtime.json".into(),
                "kmh/kmh-runtime.js".into(),
                "kmh/kmh.css".into(),
            ],
            items: vec![
                PlanItem {
                    id: "m1".into(),
                    title: "One".into(),
                    launch: "m1/index.html".into(),
                    files: vec!["m1/index.html".into(), "m1/media/a b.svg".into()],
                    kind: ItemKind::Sco {
                        mastery: Some(0.8),
                        objectives: vec!["obj-a".into(), "obj-b".into()],
                    },
                },
                PlanItem {
                    id: "pre".into(),
                    title: "Pre".into(),
                    launch: "pre/index.html".into(),
                    files: vec!["pre/index.html".into()],
                    kind: ItemKind::Sco {
                        mastery: None,
                        objectives: vec![],
                    },
                },
                PlanItem {
                    id: "ext".into(),
                    title: "Elsewhere".into(),
                    launch: "external/ext.html".into(),
                    files: vec!["external/ext.html".into()],
                    kind: ItemKind::Link,
                },
            ],
        }
    }
}
