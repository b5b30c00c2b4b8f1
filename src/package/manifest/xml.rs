//! A minimal, indenting XML writer for manifests. Hand-written rather than
//! quick-xml's writer so that attribute order and layout are exactly what
//! we choose (stable bytes, readable diffs).

pub struct XmlWriter {
    out: String,
    depth: usize,
    stack: Vec<&'static str>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    pub fn new() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
            stack: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(v));
            self.out.push('"');
        }
    }

    /// Like [`start`](Self::start), one attribute per line: for the root
    /// element, whose namespace declarations would make one very long line.
    pub fn start_multiline(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (i, (k, v)) in attrs.iter().enumerate() {
            if i == 0 {
                self.out.push(' ');
            } else {
                self.out.push_str("\n    ");
            }
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(v));
            self.out.push('"');
        }
        self.out.push_str(">\n");
        self.depth += 1;
        self.stack.push(name);
    }

    pub fn start(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        self.open_tag(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
        self.stack.push(name);
    }

    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.open_tag(name, attrs);
        self.out.push_str("/>\n");
    }

    pub fn text_element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open_tag(name, attrs);
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    pub fn end(&mut self) {
        let name = self.stack.pop().unwrap_or("?");
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    pub fn finish(mut self) -> String {
        while !self.stack.is_empty() {
            self.end();
        }
        self.out
    }
}

/// Escapes text and attribute values. Characters XML 1.0 forbids are
/// dropped: they cannot be written at all, even escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_escaped_xml() {
        let mut w = XmlWriter::new();
        w.start("a", &[("x", "1 & \"2\"")]);
        w.text_element("t", &[], "S&E <ok>");
        w.empty("e", &[]);
        let s = w.finish();
        assert_eq!(
            s,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1 &amp; &quot;2&quot;\">\n  <t>S&amp;E &lt;ok&gt;</t>\n  <e/>\n</a>\n"
        );
    }
}
