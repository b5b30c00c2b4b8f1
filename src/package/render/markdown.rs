//! Markdown pages and handouts → HTML fragments, with comrak (CommonMark +
//! GitHub extensions, `packages/FORMAT.md` section "Pages"). On the way the
//! AST is checked and rewritten: raw HTML and remote images are refused,
//! images need alt text, local links are pointed at their packaged
//! `.html`/media paths, and `> [!NOTE]`-style callouts (plus our own
//! `[!EXERCISE]`) become labelled boxes.

use std::path::{Path, PathBuf};

use comrak::nodes::{AstNode, NodeLink, NodeValue};
use comrak::{Arena, Options};

use super::html::esc;
use super::i18n::Strings;
use crate::package::source::paths::{decode_path, has_scheme, relative_url, split_suffix};
use crate::package::source::{Diagnostics, LoadedModule};

/// What the page being rendered needs to know about its surroundings.
pub struct MarkdownContext<'a> {
    pub module: &'a LoadedModule,
    /// The source file (for messages and relative links).
    pub source: &'a Path,
    /// Its output path, relative to the module's package folder.
    pub out: &'a str,
    pub strings: &'static Strings,
    /// Output paths of the module's steps: links to them stay in the
    /// window; links to anything else (handouts, files) open a new one so
    /// the SCO page stays loaded.
    pub step_outs: &'a [String],
}

#[derive(Debug, Default)]
pub struct RenderedMarkdown {
    /// Text of the first `# Heading`.
    pub title: Option<String>,
    pub html: String,
    /// Local files the page links to or shows, with their output paths.
    pub references: Vec<(PathBuf, String)>,
}

pub fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.strikethrough = true;
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.tasklist = true;
    o.extension.footnotes = true;
    // Raw HTML is refused before rendering; keep comrak's own guard too.
    o.render.r#unsafe = false;
    o
}

pub fn render_markdown(
    text: &str,
    ctx: &MarkdownContext,
    diags: &mut Diagnostics,
) -> RenderedMarkdown {
    let arena = Arena::new();
    let opts = options();
    let root = comrak::parse_document(&arena, text, &opts);
    let mut out = RenderedMarkdown::default();

    let nodes: Vec<&AstNode> = root.descendants().collect();
    for node in nodes {
        let line = node.data().sourcepos.start.line;
        let value = node.data().value.clone();
        match value {
            NodeValue::HtmlBlock(ref block) => raw_html(node, &block.literal, ctx, line, diags),
            NodeValue::HtmlInline(ref literal) => raw_html(node, literal, ctx, line, diags),
            NodeValue::Heading(h) if h.level == 1 => {
                let title = plain_text(node);
                if out.title.is_none() {
                    if title.trim().is_empty() {
                        diags.error(ctx.source, Some(line), "the page title (`# …`) is empty");
                    }
                    out.title = Some(title.trim().to_string());
                } else {
                    diags.warning(
                        ctx.source,
                        Some(line),
                        "a second `# ` heading: a page has one title; use `## ` for its sections",
                    );
                }
            }
            NodeValue::Image(link) => {
                if plain_text(node).trim().is_empty() {
                    diags.error(
                        ctx.source,
                        Some(line),
                        format!(
                            "image {:?} has no alt text: write ![what the image shows]({})",
                            link.url, link.url
                        ),
                    );
                }
                if has_scheme(&link.url) {
                    diags.error(
                        ctx.source,
                        Some(line),
                        format!(
                            "remote image {:?}: packages are self-contained, save it under media/",
                            link.url
                        ),
                    );
                    continue;
                }
                if let Some((url, source, target_out)) = local_link(&link.url, ctx, line, diags) {
                    out.references.push((source, target_out));
                    if let NodeValue::Image(l) = &mut node.data_mut().value {
                        l.url = url;
                    }
                }
            }
            NodeValue::Link(link) => rewrite_link(&arena, node, &link, ctx, line, diags, &mut out),
            NodeValue::BlockQuote => callout(&arena, node, ctx.strings),
            NodeValue::Table(_) => {
                // Wide tables scroll inside their own box on small screens
                // instead of widening the page.
                node.insert_before(raw(&arena, "<div class=\"kmh-table\">"));
                node.insert_after(raw(&arena, "</div>"));
            }
            _ => {}
        }
    }
    if out.title.is_none() {
        diags.error(
            ctx.source,
            Some(1),
            "the page has no title: start it with a `# Title` heading",
        );
    }

    let mut html = String::new();
    if let Err(e) = comrak::format_html(root, &opts, &mut html) {
        diags.error(ctx.source, None, format!("cannot render: {e}"));
    }
    out.html = localize(html, ctx.strings);
    out
}

/// comrak writes a few words and controls of its own: footnote back-links
/// labelled in English, and task-list checkboxes without a label. Both are
/// rewritten in the page's language; a read-only checklist reads better
/// as text than as disabled form controls.
fn localize(html: String, s: &Strings) -> String {
    html.replace("aria-label=\"Back to reference ", &format!("aria-label=\"{} ", esc(s.back_to_reference)))
        .replace(
            "<input type=\"checkbox\" checked=\"\" disabled=\"\" /> ",
            &format!(
                "<span class=\"kmh-task\" aria-hidden=\"true\">\u{2611}</span> <span class=\"kmh-sr\">{}</span> ",
                esc(s.task_done)
            ),
        )
        .replace(
            "<input type=\"checkbox\" disabled=\"\" /> ",
            &format!(
                "<span class=\"kmh-task\" aria-hidden=\"true\">\u{2610}</span> <span class=\"kmh-sr\">{}</span> ",
                esc(s.task_todo)
            ),
        )
}

fn raw<'a>(arena: &'a Arena<'a>, html: &str) -> &'a AstNode<'a> {
    arena.alloc(NodeValue::Raw(html.to_string()).into())
}

/// HTML comments are dropped (designers leave notes to each other); any
/// other raw HTML is an error, because it escapes the accessible templates
/// and may pull in remote content.
fn raw_html<'a>(
    node: &'a AstNode<'a>,
    literal: &str,
    ctx: &MarkdownContext,
    line: usize,
    diags: &mut Diagnostics,
) {
    let t = literal.trim();
    if t.starts_with("<!--") && t.ends_with("-->") {
        node.detach();
    } else {
        diags.error(
            ctx.source,
            Some(line),
            format!(
                "raw HTML is not allowed in pages ({}); write Markdown instead",
                short(t)
            ),
        );
    }
}

fn short(s: &str) -> String {
    let first = s.lines().next().unwrap_or_default();
    if first.chars().count() > 40 {
        format!("{}…", first.chars().take(40).collect::<String>())
    } else {
        first.to_string()
    }
}

/// The text content of a node (for titles and alt text).
fn plain_text<'a>(node: &'a AstNode<'a>) -> String {
    let mut s = String::new();
    for d in node.descendants() {
        match &d.data().value {
            NodeValue::Text(t) => s.push_str(t),
            NodeValue::Code(c) => s.push_str(&c.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => s.push(' '),
            _ => {}
        }
    }
    s
}

/// Resolves a local link: relative to the page first (as any Markdown
/// previewer does), then to the module folder (as FORMAT.md's examples
/// write `media/…` from `pages/…`). Returns the rewritten URL, the source
/// file and its output path.
fn local_link(
    url: &str,
    ctx: &MarkdownContext,
    line: usize,
    diags: &mut Diagnostics,
) -> Option<(String, PathBuf, String)> {
    let (path, suffix) = split_suffix(url);
    if path.starts_with('/') {
        diags.error(
            ctx.source,
            Some(line),
            format!("link {url:?}: use a path relative to the page, not from /"),
        );
        return None;
    }
    let decoded = decode_path(path);
    let page_dir = ctx.source.parent().unwrap_or(&ctx.module.dir);
    let candidates = [page_dir.join(&decoded), ctx.module.dir.join(&decoded)];
    let Some(source) = candidates
        .iter()
        .map(|c| crate::package::source::paths::normalize(c))
        .find(|c| c.is_file())
    else {
        diags.error(
            ctx.source,
            Some(line),
            format!("link {url:?}: no such file"),
        );
        return None;
    };
    let target_out = match ctx.module.out_path(&source) {
        Ok(o) => o,
        Err(why) => {
            diags.error(ctx.source, Some(line), format!("link {url:?} {why}"));
            return None;
        }
    };
    if source.extension().is_some_and(|e| e == "quiz") && !ctx.step_outs.contains(&target_out) {
        diags.error(
            ctx.source,
            Some(line),
            format!("link {url:?}: that quiz is not in module.toml's sequence"),
        );
        return None;
    }
    Some((
        format!("{}{suffix}", relative_url(ctx.out, &target_out)),
        source,
        target_out,
    ))
}

fn rewrite_link<'a>(
    arena: &'a Arena<'a>,
    node: &'a AstNode<'a>,
    link: &NodeLink,
    ctx: &MarkdownContext,
    line: usize,
    diags: &mut Diagnostics,
    out: &mut RenderedMarkdown,
) {
    let (url, title) = (link.url.as_str(), link.title.as_str());
    if url.starts_with('#') || url.is_empty() {
        return;
    }
    let lower = url.to_ascii_lowercase();
    let new_window_url = if lower.starts_with("mailto:") || lower.starts_with("tel:") {
        return;
    } else if lower.starts_with("http://") || lower.starts_with("https://") {
        url.to_string()
    } else if has_scheme(url) {
        diags.error(
            ctx.source,
            Some(line),
            format!("link {url:?}: only http, https, mailto and tel links are allowed"),
        );
        return;
    } else {
        let Some((new_url, source, target_out)) = local_link(url, ctx, line, diags) else {
            return;
        };
        out.references.push((source, target_out.clone()));
        if ctx.step_outs.contains(&target_out) {
            if let NodeValue::Link(l) = &mut node.data_mut().value {
                l.url = new_url;
            }
            return;
        }
        new_url
    };
    // Open in a new window so the learner keeps the SCO page (and its LMS
    // session) and is told so, as WCAG G201 advises.
    let title_attr = if title.is_empty() {
        String::new()
    } else {
        format!(" title=\"{}\"", esc(title))
    };
    let open = raw(
        arena,
        &format!(
            "<a href=\"{}\"{title_attr} target=\"_blank\" rel=\"noopener\">",
            esc(&new_window_url)
        ),
    );
    let close = raw(
        arena,
        &format!(
            "<span class=\"kmh-sr\"> {}</span></a>",
            esc(ctx.strings.new_window)
        ),
    );
    node.insert_before(open);
    let children: Vec<&AstNode> = node.children().collect();
    for c in children {
        c.detach();
        node.insert_before(c);
    }
    node.insert_before(close);
    node.detach();
}

/// `> [!NOTE]` (GitHub alerts) and `> [!EXERCISE]` (ours) → a labelled box.
fn callout<'a>(arena: &'a Arena<'a>, quote: &'a AstNode<'a>, s: &Strings) {
    let Some(para) = quote.first_child() else {
        return;
    };
    if !matches!(para.data().value, NodeValue::Paragraph) {
        return;
    }
    // The marker may be split over several text nodes (`[`, `!NOTE`, `]`).
    let mut marker = String::new();
    let mut marker_nodes = Vec::new();
    for child in para.children() {
        match &child.data().value {
            NodeValue::Text(t) => marker.push_str(t),
            NodeValue::SoftBreak | NodeValue::LineBreak => {
                marker_nodes.push(child);
                break;
            }
            _ => return,
        }
        marker_nodes.push(child);
    }
    let kind = marker.trim().to_ascii_uppercase();
    let (class, title) = match kind.as_str() {
        "[!NOTE]" => ("note", s.note),
        "[!TIP]" => ("tip", s.tip),
        "[!IMPORTANT]" => ("important", s.important),
        "[!WARNING]" => ("warning", s.warning),
        "[!CAUTION]" => ("caution", s.caution),
        "[!EXERCISE]" => ("exercise", s.exercise),
        _ => return,
    };
    for n in marker_nodes {
        n.detach();
    }
    if para.first_child().is_none() {
        para.detach();
    }
    quote.insert_before(raw(
        arena,
        &format!(
            "<div class=\"kmh-callout kmh-callout-{class}\" role=\"note\">\n<p class=\"kmh-callout-title\">{}</p>\n",
            esc(title)
        ),
    ));
    let children: Vec<&AstNode> = quote.children().collect();
    for c in children {
        c.detach();
        quote.insert_before(c);
    }
    quote.insert_before(raw(arena, "</div>\n"));
    quote.detach();
}
