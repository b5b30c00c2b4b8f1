//! A small namespace-aware element tree with line numbers, built with
//! quick-xml, for checking manifests (XML 1.0 well-formedness, Namespaces
//! in XML 1.0). Manifests are small, so a tree is simpler than streaming.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Debug, Clone)]
pub struct Element {
    /// Resolved namespace URI; `None` when the name is in no namespace.
    pub ns: Option<String>,
    pub local: String,
    /// The name as written, with its prefix.
    pub qname: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// Text directly inside the element, entities resolved.
    pub text: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub ns: Option<String>,
    pub local: String,
    pub qname: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// `xml-malformed`, or `xml-too-deep` when the document hit the
    /// nesting limit.
    pub code: &'static str,
    pub line: usize,
    pub message: String,
}

impl XmlError {
    fn malformed(line: usize, message: impl Into<String>) -> Self {
        XmlError {
            code: "xml-malformed",
            line,
            message: message.into(),
        }
    }
}

impl Element {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }

    /// An attribute in no namespace (as CP's own attributes are).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// An `xs:ID` / `xs:IDREF` attribute: XML Schema collapses their
    /// whitespace, so `identifier="  RES-1 "` is `RES-1` (ADL's conformance
    /// packages test exactly this).
    pub fn id_attr(&self, local: &str) -> Option<&str> {
        self.attr(local).map(str::trim)
    }

    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local == local)
            .map(|a| a.value.as_str())
    }

    pub fn children<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// This element and all below it, depth first, in document order.
    pub fn walk(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            out.push(e);
            stack.extend(e.children.iter().rev());
        }
        out
    }
}

/// Line index for byte offsets.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    fn line(&self, offset: u64) -> usize {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

fn owned_ns(r: ResolveResult) -> Result<Option<String>, String> {
    match r {
        ResolveResult::Bound(ns) => Ok(Some(ns.0.to_string())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => Err(prefix),
    }
}

/// Parses a whole document into its root element. Elements nested deeper
/// than `max_depth` end the parse with an `xml-too-deep` error: the tree
/// and the checks that walk it recursively stay within a known depth.
pub fn parse(text: &str, max_depth: usize) -> Result<Element, XmlError> {
    let lines = Lines::new(text);
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().enable_all_checks(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;

    loop {
        let start = reader.buffer_position();
        let err = |reader: &NsReader<&[u8]>, message: String| {
            XmlError::malformed(lines.line(reader.error_position().max(start)), message)
        };
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (owned_ns(ns), event),
            Err(e) => {
                let line = lines.line(reader.error_position());
                return Err(XmlError::malformed(
                    line,
                    format!("not well-formed XML: {e}"),
                ));
            }
        };
        let line = lines.line(start);
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() && stack.is_empty() => {
                return Err(XmlError::malformed(
                    line,
                    "a second root element: a document has exactly one",
                ));
            }
            Event::Start(ref e) | Event::Empty(ref e) if stack.len() >= max_depth => {
                return Err(XmlError {
                    code: "xml-too-deep",
                    line,
                    message: format!(
                        "<{}> is nested more than {max_depth} elements deep, the limit of kmh validate (real manifests nest fewer than 30); not checked further",
                        e.name().0
                    ),
                });
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let ns = ns.map_err(|p| {
                    XmlError::malformed(line, format!("prefix {p:?} is not declared (xmlns:{p}=…)"))
                })?;
                let qname = e.name().0.to_string();
                let local = e.local_name().as_ref().to_string();
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|x| {
                        XmlError::malformed(line, format!("bad attribute on <{qname}>: {x}"))
                    })?;
                    let key = a.key.0;
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        continue;
                    }
                    let (ans, alocal) = reader.resolver().resolve_attribute(a.key);
                    let ans = owned_ns(ans).map_err(|p| {
                        XmlError::malformed(
                            line,
                            format!("prefix {p:?} of attribute {key} is not declared"),
                        )
                    })?;
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|x| {
                            XmlError::malformed(line, format!("attribute {key} on <{qname}>: {x}"))
                        })?
                        .into_owned();
                    attrs.push(Attr {
                        ns: ans,
                        local: alocal.as_ref().to_string(),
                        qname: key.to_string(),
                        value,
                    });
                }
                let el = Element {
                    ns,
                    local,
                    qname,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                    line,
                };
                if matches!(event, Event::Start(_)) {
                    stack.push(el);
                } else {
                    attach(&mut stack, &mut root, el);
                }
            }
            Event::End(_) => match stack.pop() {
                Some(el) => attach(&mut stack, &mut root, el),
                None => return Err(err(&reader, "closing tag without an opening tag".into())),
            },
            Event::Text(t) => push_text(&mut stack, &t.xml10_content(), line)?,
            Event::CData(t) => push_text(&mut stack, &t.xml10_content(), line)?,
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => {
                            return Err(XmlError::malformed(
                                line,
                                format!("bad character reference &{};", r.as_ref()),
                            ));
                        }
                    }
                } else {
                    match r.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => {
                            return Err(XmlError::malformed(
                                line,
                                format!("undefined entity &{other};"),
                            ));
                        }
                    }
                };
                push_text(&mut stack, &c, line)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError::malformed(
            open.line,
            format!("<{}> is never closed (the document ends first)", open.qname),
        ));
    }
    root.ok_or(XmlError::malformed(1, "no root element"))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], text: &str, line: usize) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::malformed(line, "text outside the root element")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_namespaces_and_entities() {
        let xml = "<?xml version=\"1.0\"?>\n<m xmlns=\"urn:a\" xmlns:b=\"urn:b\" id=\"1\">\n  <t>S&amp;E &#233;</t>\n  <b:x b:y=\"&lt;z\"/>\n</m>\n";
        let root = parse(xml, 256).expect("well-formed");
        assert!(root.is("urn:a", "m"));
        assert_eq!(root.line, 2);
        assert_eq!(root.attr("id"), Some("1"));
        assert_eq!(root.children[0].text, "S&E é");
        assert_eq!(root.children[0].line, 3);
        let x = &root.children[1];
        assert!(x.is("urn:b", "x"));
        assert_eq!(x.attr_ns("urn:b", "y"), Some("<z"));
        assert_eq!(x.line, 4);
    }

    #[test]
    fn reports_malformed_xml_with_line() {
        let e = parse("<a>\n<b>\n</a>\n", 256).unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        let e = parse("<a>\n<b x=\"1\" x=\"2\"/>\n</a>", 256).unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        let e = parse("<a>\n<p:b/>\n</a>", 256).unwrap_err();
        assert!(e.message.contains("prefix \"p\" is not declared"), "{e:?}");
        let e = parse("<a>\n<b>\n", 256).unwrap_err();
        assert!(e.message.contains("never closed"), "{e:?}");
    }
}
