//! SCORM 2004 4th Edition manifest (CAM §3.4; sequencing per SN §5 and the
//! `imsss` binding). Default sequencing for a course: the learner may pick
//! any module or go through them in order (`controlMode choice flow`);
//! each SCO's primary objective is satisfied by its score when the module
//! has a pass mark; modules without one (surveys, a pre-assessment) and
//! external links do not count towards the course's pass/fail.

use super::xml::XmlWriter;
use super::{ItemKind, Plan, decimal, write_resources};

pub const CP_NS: &str = "http://www.imsglobal.org/xsd/imscp_v1p1";
pub const ADLCP_NS: &str = "http://www.adlnet.org/xsd/adlcp_v1p3";
pub const ADLSEQ_NS: &str = "http://www.adlnet.org/xsd/adlseq_v1p3";
pub const ADLNAV_NS: &str = "http://www.adlnet.org/xsd/adlnav_v1p3";
pub const IMSSS_NS: &str = "http://www.imsglobal.org/xsd/imsss";

/// Root XSDs (and the DTDs `xml.xsd` names) shipped at the package root.
/// The LOM binding is left out: our manifests carry no LOM metadata.
pub const SCHEMA_FILES: &[&str] = &[
    "XMLSchema.dtd",
    "adlcp_v1p3.xsd",
    "adlnav_v1p3.xsd",
    "adlseq_v1p3.xsd",
    "datatypes.dtd",
    "imscp_v1p1.xsd",
    "imsss_v1p0.xsd",
    "imsss_v1p0auxresource.xsd",
    "imsss_v1p0control.xsd",
    "imsss_v1p0delivery.xsd",
    "imsss_v1p0limit.xsd",
    "imsss_v1p0objective.xsd",
    "imsss_v1p0random.xsd",
    "imsss_v1p0rollup.xsd",
    "imsss_v1p0seqrule.xsd",
    "imsss_v1p0util.xsd",
    "xml.xsd",
];

pub fn write(plan: &Plan) -> String {
    let mut w = XmlWriter::new();
    let schema_location = format!(
        "{CP_NS} imscp_v1p1.xsd {ADLCP_NS} adlcp_v1p3.xsd {ADLSEQ_NS} adlseq_v1p3.xsd {ADLNAV_NS} adlnav_v1p3.xsd {IMSSS_NS} imsss_v1p0.xsd"
    );
    w.start_multiline(
        "manifest",
        &[
            ("identifier", &plan.identifier),
            ("version", &plan.version),
            ("xmlns", CP_NS),
            ("xmlns:adlcp", ADLCP_NS),
            ("xmlns:adlseq", ADLSEQ_NS),
            ("xmlns:adlnav", ADLNAV_NS),
            ("xmlns:imsss", IMSSS_NS),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &schema_location),
        ],
    );
    w.start("metadata", &[]);
    w.text_element("schema", &[], "ADL SCORM");
    w.text_element("schemaversion", &[], "2004 4th Edition");
    w.end();

    w.start("organizations", &[("default", &plan.org_identifier)]);
    w.start("organization", &[("identifier", &plan.org_identifier)]);
    w.text_element("title", &[], &plan.title);
    for item in &plan.items {
        w.start(
            "item",
            &[
                ("identifier", &item.item_identifier()),
                ("identifierref", &item.resource_identifier()),
            ],
        );
        w.text_element("title", &[], &item.title);
        w.start("imsss:sequencing", &[]);
        match &item.kind {
            ItemKind::Sco {
                mastery,
                objectives,
            } => {
                if mastery.is_none() {
                    // Records a score (pre/post gains) without deciding
                    // whether the course is passed.
                    w.empty(
                        "imsss:rollupRules",
                        &[
                            ("rollupObjectiveSatisfied", "false"),
                            ("objectiveMeasureWeight", "0"),
                        ],
                    );
                }
                w.start("imsss:objectives", &[]);
                match mastery {
                    Some(m) => {
                        w.start(
                            "imsss:primaryObjective",
                            &[("objectiveID", &item.id), ("satisfiedByMeasure", "true")],
                        );
                        w.text_element("imsss:minNormalizedMeasure", &[], &decimal(*m));
                        w.end();
                    }
                    None => w.empty("imsss:primaryObjective", &[("objectiveID", &item.id)]),
                }
                for o in objectives.iter().filter(|o| **o != item.id) {
                    w.empty("imsss:objective", &[("objectiveID", o)]);
                }
                w.end();
                // The content, not the LMS, says when the module is
                // completed and passed (SN §5.1.8): opening it is not enough.
                w.empty(
                    "imsss:deliveryControls",
                    &[
                        ("completionSetByContent", "true"),
                        ("objectiveSetByContent", "true"),
                    ],
                );
            }
            ItemKind::Link => {
                // Taken elsewhere: the LMS cannot know the outcome, so the
                // link neither completes nor passes the course.
                w.empty(
                    "imsss:rollupRules",
                    &[
                        ("rollupObjectiveSatisfied", "false"),
                        ("rollupProgressCompletion", "false"),
                        ("objectiveMeasureWeight", "0"),
                    ],
                );
            }
        }
        w.end();
        w.end();
    }
    w.start("imsss:sequencing", &[]);
    w.empty("imsss:controlMode", &[("choice", "true"), ("flow", "true")]);
    w.end();
    w.end();
    w.end();

    write_resources(&mut w, plan, "adlcp:scormType");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::manifest::test_plan::plan;

    #[test]
    fn writes_sequencing_objectives_and_scorm_types() {
        let xml = write(&plan());
        assert!(xml.contains("<schemaversion>2004 4th Edition</schemaversion>"));
        assert!(xml.contains("<imsss:controlMode choice=\"true\" flow=\"true\"/>"));
        assert!(xml.contains(
            "<imsss:primaryObjective objectiveID=\"m1\" satisfiedByMeasure=\"true\">\n              <imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>"
        ));
        assert!(xml.contains("<imsss:objective objectiveID=\"obj-b\"/>"));
        assert!(xml.contains("adlcp:scormType=\"sco\" href=\"m1/index.html\""));
        assert!(xml.contains("adlcp:scormType=\"asset\" href=\"external/ext.html\""));
        assert!(!xml.contains("scormtype"), "2004 spells it scormType");
        assert!(
            !xml.contains("timeLimitAction"),
            "no time limit, so no time limit action"
        );
    }
}
