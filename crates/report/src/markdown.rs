//! The report as Markdown (GitHub-flavoured: tables, `<a id>` anchors for the evidence index).

use std::fmt::Write;

use crate::catalog::fill;
use crate::rich::{Rich, Span, Tag};
use crate::sections::Report;

/// Section anchors, shared with the HTML rendering.
pub const ANCHORS: [&str; 10] = [
    "summary",
    "phases",
    "overview",
    "symptoms",
    "timeline",
    "cause",
    "classification",
    "recovery",
    "prevention",
    "evidence",
];

/// The section headings in order.
pub fn headings(r: &Report) -> [&'static str; 10] {
    let c = r.cat;
    [
        c.h_summary,
        c.h_phases,
        c.h_overview,
        c.h_symptoms,
        c.h_timeline,
        c.h_cause,
        c.h_classification,
        c.h_recovery,
        c.h_prevention,
        c.h_appendix,
    ]
}

/// The sections of this report in order, as (anchor, heading): "Seen before" follows the summary when
/// the analysis was looked up in a case database, "Why only this node" follows the cause analysis
/// when it carries a fleet comparison; without either the list is [`ANCHORS`].
pub fn sections(r: &Report) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&'static str, &'static str)> = ANCHORS.iter().copied().zip(headings(r)).collect();
    if r.seen.is_some() {
        v.insert(1, ("seen", r.cat.h_seen));
    }
    if r.peers.is_some() {
        let at = v.iter().position(|(a, _)| *a == "cause").map_or(v.len(), |i| i + 1);
        v.insert(at, ("peers", r.cat.h_peers));
    }
    v
}

fn esc(s: &str, table: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '*' | '_' | '[' | ']' | '\\' => {
                o.push('\\');
                o.push(ch);
            }
            '|' if table => o.push_str("\\|"),
            '\n' => o.push(' '),
            _ => o.push(ch),
        }
    }
    o
}

/// Inline code that survives backticks and table pipes in its content.
fn code(s: &str, table: bool) -> String {
    let s = s.replace('\n', " ");
    let s = if table { s.replace('|', "\\|") } else { s };
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn rich(r: &Report, x: &Rich, table: bool) -> String {
    let mut o = String::new();
    for s in &x.0 {
        match s {
            Span::Text(t) => o.push_str(&esc(t, table)),
            Span::Code(t) => o.push_str(&code(t, table)),
            Span::Strong(t) => {
                let _ = write!(o, "**{}**", esc(t, table));
            }
            Span::Ev(n) => {
                let _ = write!(o, "[E{n}](#ev-{n})");
                o.push(' ');
            }
            Span::Tag(t) => {
                let label = match t {
                    Tag::Hypothesis => format!("**[{}]** ", r.cat.hypothesis),
                    Tag::Context => format!("*[{}]* ", r.cat.context_not_proof),
                    Tag::Root => format!("**[{}]** ", r.cat.root_label),
                };
                o.push_str(&label);
            }
        }
    }
    o.trim_end().to_string()
}

fn excerpt(r: &Report, n: usize) -> String {
    match r.evidence.get(n.wrapping_sub(1)) {
        Some(e) => format!(
            "[E{n}](#ev-{n}) {} {}",
            code(&format!("{}:{}", short_path(&e.path), e.line), false),
            code(&clip(&e.text, 200), false)
        ),
        None => format!("E{n}"),
    }
}

/// The last two components of a path.
pub fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.rsplitn(3, '/').collect();
    if parts.len() >= 2 {
        format!("{}/{}", parts[1], parts[0])
    } else {
        p.to_string()
    }
}

/// At most `n` characters, with an ellipsis.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Free text on one line (a resolution typed with line breaks).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the report as Markdown.
pub fn render(r: &Report) -> String {
    let c = r.cat;
    let secs = sections(r);
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", esc(&r.title, false));
    let _ = writeln!(o, "{}\n", esc(&r.byline, false));
    let mut verdict = format!("**{}:** {}", c.verdict_label, c.verdict(&r.verdict));
    if let Some(conf) = r.confidence {
        let _ = write!(verdict, " · **{}:** {conf:.2}", c.confidence);
    }
    let _ = writeln!(o, "{verdict}\n");
    let _ = writeln!(o, "## {}\n", c.toc);
    for (i, (a, t)) in secs.iter().enumerate() {
        let _ = writeln!(o, "{}. [{}](#{a})", i + 1, t);
    }
    o.push('\n');

    let section = |o: &mut String, anchor: &str| {
        let i = secs.iter().position(|(a, _)| *a == anchor).expect("a known section");
        let _ = writeln!(o, "<a id=\"{anchor}\"></a>\n\n## {}. {}\n", i + 1, secs[i].1);
    };
    let list = |o: &mut String, items: &[Rich]| {
        for it in items {
            let _ = writeln!(o, "- {}", rich(r, it, false));
        }
        o.push('\n');
    };

    section(&mut o, "summary");
    for p in &r.summary {
        let _ = writeln!(o, "{}\n", rich(r, p, false));
    }

    if let Some(seen) = &r.seen {
        section(&mut o, "seen");
        let _ = writeln!(o, "{}\n", c.seen_intro);
        if seen.is_empty() {
            let _ = writeln!(o, "{}\n", c.seen_none);
        }
        for m in seen {
            let head = fill(c.seen_case, &[&m.case.to_string(), &m.score]);
            let _ = writeln!(o, "- **{}**: {}", esc(&m.title, false), head);
            for why in &m.reasons {
                let _ = writeln!(o, "  - {}", esc(&why.replace(" -> ", " → "), false));
            }
            let res =
                m.resolution.as_deref().map_or_else(|| c.seen_no_resolution.to_string(), |r| esc(&one_line(r), false));
            let _ = writeln!(o, "  - **{}**: {res}", c.seen_resolution);
        }
        o.push('\n');
    }

    section(&mut o, "phases");
    for (i, p) in r.phases.iter().enumerate() {
        let title = fill(c.phase_n, &[&(i + 1).to_string(), &p.title]);
        let _ = writeln!(o, "### {} ({})\n", esc(&title, false), p.range);
        let _ = writeln!(o, "**{}**\n", c.p_what);
        list(&mut o, &p.what);
        if !p.why.is_empty() {
            let _ = writeln!(o, "**{}**\n", c.p_why);
            list(&mut o, &p.why);
        }
        if !p.next.is_empty() {
            let _ = writeln!(o, "**{}**\n", c.p_next);
            list(&mut o, &p.next);
        }
        if !p.excerpts.is_empty() {
            let _ = writeln!(o, "**{}**\n", c.rc_proof);
            for n in &p.excerpts {
                let _ = writeln!(o, "- {}", excerpt(r, *n));
            }
            o.push('\n');
        }
    }

    section(&mut o, "overview");
    for (label, v) in &r.overview {
        let _ = writeln!(o, "- **{}**: {}", esc(label, false), rich(r, v, false));
    }
    o.push('\n');

    section(&mut o, "symptoms");
    let _ = writeln!(o, "{}\n", c.sym_intro);
    for s in &r.symptoms {
        let _ = writeln!(
            o,
            "- **{}** ({}), {}: {}",
            esc(&s.title, false),
            code(&s.signature, false),
            s.when,
            esc(&s.summary, false)
        );
        for n in &s.refs {
            let _ = writeln!(o, "  - {}", excerpt(r, *n));
        }
    }
    o.push('\n');

    section(&mut o, "timeline");
    let _ = writeln!(o, "{}\n", c.t_intro);
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {} |\n|---|---|---|---|---|",
        c.t_time, c.t_kind, c.t_event, c.t_source, c.t_evidence
    );
    for row in &r.timeline {
        let refs: Vec<String> = row.refs.iter().map(|n| format!("[E{n}](#ev-{n})")).collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            row.time,
            c.kind(&row.kind),
            rich(r, &row.event, true),
            esc(&row.source, true),
            refs.join(" ")
        );
    }
    o.push('\n');

    section(&mut o, "cause");
    let _ = writeln!(o, "### {}\n", c.h_root);
    for p in &r.root {
        let _ = writeln!(o, "{}\n", rich(r, p, false));
    }
    let _ = writeln!(o, "### {}\n", c.h_contributing);
    list(&mut o, &r.contributing);
    let _ = writeln!(o, "### {}\n", c.h_alternatives);
    list(&mut o, &r.alternatives);
    let _ = writeln!(o, "### {}\n", c.h_open);
    list(&mut o, &r.open);

    if let Some(p) = &r.peers {
        section(&mut o, "peers");
        for x in &p.intro {
            let _ = writeln!(o, "{}\n", rich(r, x, false));
        }
        let _ = writeln!(o, "### {}\n", c.h_peers_only);
        let _ = writeln!(o, "{}\n", c.peers_only_intro);
        list(&mut o, &p.only_here);
        let _ = writeln!(o, "### {}\n", c.h_peers_shared);
        let _ = writeln!(o, "{}\n", c.peers_shared_intro);
        list(&mut o, &p.shared);
        let _ = writeln!(o, "### {}\n", c.h_peers_diff);
        let _ = writeln!(o, "{}\n", c.peers_diff_intro);
        list(&mut o, &p.differences);
        let _ = writeln!(o, "### {}\n", c.h_peers_lowered);
        let _ = writeln!(o, "{}\n", c.peers_lowered_intro);
        list(&mut o, &p.lowered);
    }

    section(&mut o, "classification");
    if !r.classes.is_empty() {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |\n|---|---|---:|---:|---:|",
            c.c_family, c.c_layer, c.c_findings, c.c_hits, c.c_share
        );
        for row in &r.classes {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {:.0}% |",
                row.family,
                row.layer,
                row.findings,
                row.hits,
                row.share * 100.0
            );
        }
        o.push('\n');
    }
    for n in &r.class_notes {
        let _ = writeln!(o, "{}\n", rich(r, &Rich::parse(n), false));
    }

    section(&mut o, "recovery");
    if !r.recovery.is_empty() {
        let _ = writeln!(o, "{}\n", c.r_intro);
    }
    list(&mut o, &r.recovery);

    section(&mut o, "prevention");
    if !r.prevention.is_empty() {
        let _ = writeln!(o, "{}\n", c.pv_intro);
        list(&mut o, &r.prevention);
    }
    if !r.practice.is_empty() {
        let _ = writeln!(o, "{}\n", c.pv_upgrade);
        list(&mut o, &r.practice);
    }

    section(&mut o, "evidence");
    let _ = writeln!(o, "{}\n", c.a_intro);
    let mut current = "";
    for e in &r.evidence {
        if e.path != current {
            current = &e.path;
            let _ = writeln!(o, "\n### {}\n", code(&e.path, false));
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |\n|---|---:|---|---|---|",
                c.a_id, c.a_line, c.t_time, c.a_text, c.a_supports
            );
        }
        let time = e.time.as_deref().unwrap_or("");
        let sup: Vec<String> = e.supports.iter().map(|s| code(s, true)).collect();
        let _ = writeln!(
            o,
            "| <a id=\"ev-{n}\"></a>E{n} | {} | {} | {} | {} |",
            e.line,
            time,
            code(&e.text, true),
            sup.join(" "),
            n = e.n
        );
    }
    o
}
