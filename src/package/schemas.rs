//! The SCORM control documents (XSDs and the DTDs they name) that every
//! SCORM package carries at its root, embedded from `schemas/` (see
//! `schemas/README.md` for their sources and licences).

use crate::package::build::Target;

macro_rules! embed {
    ($dir:literal, [$($name:literal),* $(,)?]) => {
        &[$(($name, include_bytes!(concat!("../../schemas/", $dir, "/", $name)) as &[u8])),*]
    };
}

const SCORM12: &[(&str, &[u8])] = embed!(
    "scorm12",
    [
        "adlcp_rootv1p2.xsd",
        "ims_xml.xsd",
        "imscp_rootv1p1p2.xsd",
        "imsmd_rootv1p2p1.xsd",
    ]
);

const SCORM2004: &[(&str, &[u8])] = embed!(
    "scorm2004-4th",
    [
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
    ]
);

/// File name and bytes of each control document for a target.
pub fn control_documents(target: Target) -> &'static [(&'static str, &'static [u8])] {
    match target {
        Target::Scorm12 => SCORM12,
        Target::Scorm2004 => SCORM2004,
        // cmi5 LMSs know the course structure schema by its namespace;
        // the spec does not ask for it in the package.
        Target::Cmi5 => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::manifest::{scorm12, scorm2004};

    #[test]
    fn embedded_sets_match_what_the_manifests_name() {
        let names = |t| {
            control_documents(t)
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Target::Scorm12), scorm12::SCHEMA_FILES);
        assert_eq!(names(Target::Scorm2004), scorm2004::SCHEMA_FILES);
    }
}
