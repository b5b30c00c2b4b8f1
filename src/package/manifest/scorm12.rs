//! SCORM 1.2 manifest (SCORM 1.2 CAM §2.3.4; schemas `imscp_rootv1p1p2.xsd`,
//! `adlcp_rootv1p2.xsd`).

use super::xml::XmlWriter;
use super::{ItemKind, Plan, write_resources};

pub const CP_NS: &str = "http://www.imsproject.org/xsd/imscp_rootv1p1p2";
pub const ADLCP_NS: &str = "http://www.adlnet.org/xsd/adlcp_rootv1p2";

/// The XSDs the manifest's `schemaLocation` names; shipped at the package root.
pub const SCHEMA_FILES: &[&str] = &[
    "adlcp_rootv1p2.xsd",
    "ims_xml.xsd",
    "imscp_rootv1p1p2.xsd",
    "imsmd_rootv1p2p1.xsd",
];

pub fn write(plan: &Plan) -> String {
    let mut w = XmlWriter::new();
    let schema_location = format!(
        "{CP_NS} imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd {ADLCP_NS} adlcp_rootv1p2.xsd"
    );
    w.start_multiline(
        "manifest",
        &[
            ("identifier", &plan.identifier),
            ("version", &plan.version),
            ("xmlns", CP_NS),
            ("xmlns:adlcp", ADLCP_NS),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &schema_location),
        ],
    );
    w.start("metadata", &[]);
    w.text_element("schema", &[], "ADL SCORM");
    w.text_element("schemaversion", &[], "1.2");
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
                ("isvisible", "true"),
            ],
        );
        w.text_element("title", &[], &item.title);
        // masteryscore is 0..100 (CAM 1.2 §2.3.4.6); the LMS sets passed or
        // failed from cmi.core.score.raw when the SCO reports a score.
        if let ItemKind::Sco {
            mastery: Some(m), ..
        } = &item.kind
        {
            w.text_element(
                "adlcp:masteryscore",
                &[],
                &format!("{}", (m * 100.0).round() as i64),
            );
        }
        w.end();
    }
    w.end();
    w.end();

    write_resources(&mut w, plan, "adlcp:scormtype");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::manifest::test_plan::plan;

    #[test]
    fn writes_mastery_score_and_scorm_types() {
        let xml = write(&plan());
        assert!(xml.contains("<schemaversion>1.2</schemaversion>"));
        assert!(xml.contains("<organizations default=\"ORG-demo\">"));
        assert!(xml.contains("<title>Demo &amp; co</title>"));
        assert!(xml.contains("<adlcp:masteryscore>80</adlcp:masteryscore>"));
        assert_eq!(
            xml.matches("adlcp:masteryscore>").count(),
            2,
            "only the module with a pass mark"
        );
        assert!(xml.contains("adlcp:scormtype=\"sco\" href=\"m1/index.html\""));
        assert!(xml.contains("adlcp:scormtype=\"asset\" href=\"external/ext.html\""));
        assert!(xml.contains("<file href=\"m1/media/a%20b.svg\"/>"));
        assert!(!xml.contains("scormType"), "1.2 spells it scormtype");
    }
}
