//! The report as one self-contained HTML file: inline CSS and SVG, no network, no framework. Readable
//! offline, printable (`@media print`), with a table of contents, collapsible evidence and an anchor
//! (`ev-N`) for every evidence line. The only script opens every `<details>` before printing.

use std::fmt::Write;

use crate::catalog::fill;
use crate::markdown::{clip, sections, short_path};
use crate::rich::{Rich, Span, Tag};
use crate::sections::Report;
use crate::svg::{self, esc};

const CSS: &str = r#"
:root{--ink:#1d2330;--muted:#5b6473;--line:#e2e6ec;--bg:#ffffff;--soft:#f6f7f9;--accent:#3451b2;
--fault:#c62828;--symptom:#e07b00;--context:#5468b8;--recovery:#2e7d32}
*{box-sizing:border-box}
html{scroll-behavior:smooth}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans","Noto Sans CJK KR","Apple SD Gothic Neo","Malgun Gothic",sans-serif}
code,.mono{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.86em}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{background:linear-gradient(135deg,#1f2a44,#2d3f6b);color:#fff;padding:28px 40px 24px}
header.top .eyebrow{margin:0;text-transform:uppercase;letter-spacing:.12em;font-size:12px;opacity:.75}
header.top h1{margin:6px 0 8px;font-size:28px;line-height:1.25;font-weight:700}
header.top .byline{margin:0;max-width:900px;opacity:.85;font-size:14px}
.badges{margin-top:14px;display:flex;gap:10px;flex-wrap:wrap;align-items:center}
.badge{display:inline-block;padding:3px 12px;border-radius:999px;font-size:13px;font-weight:600;background:rgba(255,255,255,.14)}
.badge.v-root_cause_found{background:#c62828}.badge.v-uncertain{background:#e07b00}.badge.v-no_incident{background:#2e7d32}
.conf{display:inline-flex;align-items:center;gap:8px;font-size:13px}
.conf .bar{width:120px;height:8px;border-radius:4px;background:rgba(255,255,255,.25);overflow:hidden}
.conf .bar i{display:block;height:100%;background:#ffd166}
.layout{display:flex;gap:32px;max-width:1240px;margin:0 auto;padding:24px 28px 60px}
nav.toc{flex:0 0 210px;position:sticky;top:16px;align-self:flex-start;font-size:14px}
nav.toc h2{font-size:12px;text-transform:uppercase;letter-spacing:.1em;color:var(--muted);margin:4px 0 8px}
nav.toc ol{list-style:none;margin:0;padding:0;counter-reset:toc}
nav.toc li{counter-increment:toc;margin:0}
nav.toc a{display:block;padding:5px 10px;border-left:2px solid var(--line);color:var(--ink)}
nav.toc a::before{content:counter(toc) ". ";color:var(--muted)}
nav.toc a:hover{border-left-color:var(--accent);background:var(--soft);text-decoration:none}
main{flex:1;min-width:0;max-width:960px}
section{margin:0 0 36px}
h2{font-size:21px;margin:0 0 14px;padding-bottom:6px;border-bottom:1px solid var(--line);display:flex;align-items:baseline;gap:10px}
h2 .num{color:var(--muted);font-weight:500;font-size:16px}
h3{font-size:16px;margin:22px 0 8px}
h4{font-size:13px;margin:14px 0 4px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
p{margin:0 0 10px}
ul{margin:0 0 10px;padding-left:20px}li{margin:3px 0}
.summary{background:#f3f6fd;border:1px solid #d9e1f5;border-left:4px solid var(--accent);border-radius:8px;padding:14px 18px}
.summary p:last-child{margin:0}
a.ev{display:inline-block;font:600 11px/1.5 ui-monospace,"DejaVu Sans Mono",monospace;padding:0 6px;margin:0 1px;border-radius:4px;
background:#eef1f6;color:#3b4252;border:1px solid #d5dbe5;vertical-align:1px}
a.ev:hover{background:var(--accent);color:#fff;text-decoration:none}
.tag{display:inline-block;font-size:11px;font-weight:700;padding:0 7px;border-radius:4px;margin-right:6px;vertical-align:1px;text-transform:uppercase;letter-spacing:.04em}
.tag.hypothesis{background:#fff4d6;color:#8a5a00;border:1px dashed #d9a400}
.tag.context{background:#eef0fa;color:#3e4f9c}
.tag.root{background:#fdecea;color:#b71c1c}
.phase{border:1px solid var(--line);border-radius:10px;padding:14px 18px 10px 18px;margin:0 0 16px;position:relative;background:#fff}
.phase::before{content:"";position:absolute;left:0;top:0;bottom:0;width:5px;border-radius:10px 0 0 10px;background:var(--k,#98a1b3)}
.phase.p0{--k:var(--context)}.phase.p1{--k:var(--fault)}.phase.p2{--k:var(--symptom)}.phase.p3{--k:#b8860b}.phase.p4{--k:var(--recovery)}
.phase h3{margin:0 0 6px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.phase h3 .range{font-weight:500;color:var(--muted);font-size:13px}
.step{display:inline-grid;place-items:center;width:24px;height:24px;border-radius:50%;background:var(--k,#98a1b3);color:#fff;font-size:13px}
details{margin:6px 0 8px}
summary{cursor:pointer;color:var(--muted);font-size:13px}
ul.lines{list-style:none;padding:0;margin:6px 0}
ul.lines li{font-size:13px;padding:3px 8px;border-left:3px solid var(--line);background:var(--soft);margin:2px 0;overflow-wrap:anywhere}
ul.lines .where{color:var(--muted);margin:0 6px}
dl.overview{display:grid;grid-template-columns:190px 1fr;gap:0;margin:0;border:1px solid var(--line);border-radius:8px;overflow:hidden}
dl.overview dt,dl.overview dd{margin:0;padding:8px 12px;border-bottom:1px solid var(--line)}
dl.overview dt{background:var(--soft);font-weight:600;font-size:14px}
dl.overview dt:last-of-type,dl.overview dd:last-of-type{border-bottom:0}
.symptom{padding:8px 0;border-bottom:1px dashed var(--line)}
.symptom .sig{color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:8px 0 12px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;font-size:12.5px;color:#3b4252}
td.num,th.num{text-align:right;white-space:nowrap}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.kind{display:inline-block;font-size:11px;font-weight:700;padding:0 7px;border-radius:999px;color:#fff}
.kind.fault{background:var(--fault)}.kind.symptom{background:var(--symptom)}.kind.context{background:var(--context)}.kind.recovery{background:var(--recovery)}
tr.k-fault td:first-child{box-shadow:inset 3px 0 var(--fault)}
.sharebar{display:inline-block;height:9px;border-radius:5px;background:var(--accent);vertical-align:middle;margin-right:6px}
figure{margin:10px 0 18px;border:1px solid var(--line);border-radius:10px;padding:10px 12px;background:#fff}
figcaption{font-size:12.5px;color:var(--muted);margin-top:4px}
svg.chart{display:block;height:auto}
svg a.mark:hover circle,svg a.node:hover rect:first-of-type{filter:brightness(.93)}
.note{color:var(--muted);font-size:13.5px}
.evidence-file summary{font:600 13px ui-monospace,"DejaVu Sans Mono",monospace;color:var(--ink);padding:6px 0}
table.ev td.text code{white-space:pre-wrap;overflow-wrap:anywhere}
table.ev tr:target{background:#fff6c8}
table.ev tr:target td{box-shadow:inset 0 0 0 9999px rgba(255,214,0,.18)}
table.ev td.id a{font-weight:700}
.supports code{display:inline-block;margin:1px 2px;color:var(--muted)}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
@media (max-width:900px){.layout{display:block}nav.toc{position:static;margin-bottom:20px}}
@media print{
 body{font-size:11pt}
 header.top{background:none;color:var(--ink);padding:0 0 10px;border-bottom:2px solid var(--ink)}
 .badge{border:1px solid var(--ink);color:var(--ink)!important;background:none!important}
 .conf .bar{border:1px solid var(--ink)}
 .layout{display:block;padding:0;max-width:none}
 nav.toc{position:static;margin:12px 0 18px}
 nav.toc a{border:0;padding:1px 0}
 section{break-inside:auto}
 h2,h3{break-after:avoid}
 .phase,figure,tr{break-inside:avoid}
 a{color:var(--ink)}
 a.ev{border-color:#999}
 summary{display:none}
}
"#;

/// Opens every collapsible block before printing, so the paper copy holds all the evidence.
const SCRIPT: &str = "window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});";

fn rich(r: &Report, x: &Rich) -> String {
    let mut o = String::new();
    for s in &x.0 {
        match s {
            Span::Text(t) => o.push_str(&esc(t)),
            Span::Code(t) => {
                let _ = write!(o, "<code>{}</code>", esc(t));
            }
            Span::Strong(t) => {
                let _ = write!(o, "<strong>{}</strong>", esc(t));
            }
            Span::Ev(n) => o.push_str(&ev_link(r, *n)),
            Span::Tag(t) => {
                let (class, label) = match t {
                    Tag::Hypothesis => ("hypothesis", r.cat.hypothesis),
                    Tag::Context => ("context", r.cat.context_not_proof),
                    Tag::Root => ("root", r.cat.root_label),
                };
                let _ = write!(o, r#"<span class="tag {class}">{}</span>"#, esc(label));
            }
        }
    }
    o
}

fn ev_link(r: &Report, n: usize) -> String {
    let title = r
        .evidence
        .get(n.wrapping_sub(1))
        .map(|e| format!("{}:{} {}", short_path(&e.path), e.line, clip(&e.text, 160)))
        .unwrap_or_default();
    format!(r##"<a class="ev" href="#ev-{n}" title="{}">E{n}</a>"##, esc(&title))
}

fn list(r: &Report, o: &mut String, items: &[Rich]) {
    if items.is_empty() {
        return;
    }
    o.push_str("<ul>");
    for it in items {
        let _ = write!(o, "<li>{}</li>", rich(r, it));
    }
    o.push_str("</ul>");
}

fn lines(r: &Report, o: &mut String, ns: &[usize]) {
    if ns.is_empty() {
        return;
    }
    let _ = write!(o, r#"<details><summary>{} ({})</summary><ul class="lines">"#, esc(r.cat.rc_proof), ns.len());
    for n in ns {
        if let Some(e) = r.evidence.get(n.wrapping_sub(1)) {
            let _ = write!(
                o,
                r#"<li>{}<span class="where mono">{}:{}</span><code>{}</code></li>"#,
                ev_link(r, *n),
                esc(&short_path(&e.path)),
                e.line,
                esc(&clip(&e.text, 300))
            );
        }
    }
    o.push_str("</ul></details>");
}

/// Renders the report as a self-contained HTML page.
pub fn render(r: &Report) -> String {
    let c = r.cat;
    let secs = sections(r);
    let mut o = String::with_capacity(256 * 1024);
    let _ = write!(
        o,
        r#"<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="generator" content="rootline"><title>{}</title><style>{CSS}</style></head><body>"#,
        c.code,
        esc(&r.title)
    );
    // Header.
    let _ = write!(
        o,
        r#"<header class="top"><p class="eyebrow">rootline · postmortem</p><h1>{}</h1><p class="byline">{}</p><div class="badges">"#,
        esc(&r.title),
        esc(&r.byline)
    );
    let _ = write!(
        o,
        r#"<span class="badge v-{}">{}: {}</span>"#,
        esc(&r.verdict),
        esc(c.verdict_label),
        esc(c.verdict(&r.verdict))
    );
    if let Some(conf) = r.confidence {
        let _ = write!(
            o,
            r#"<span class="conf">{} {conf:.2}<span class="bar"><i style="width:{:.0}%"></i></span></span>"#,
            esc(c.confidence),
            conf * 100.0
        );
    }
    o.push_str("</div></header><div class=\"layout\">");
    // Contents.
    let _ = write!(o, r#"<nav class="toc" aria-label="{0}"><h2>{0}</h2><ol>"#, esc(c.toc));
    for (a, t) in &secs {
        let _ = write!(o, r##"<li><a href="#{a}">{}</a></li>"##, esc(t));
    }
    o.push_str("</ol></nav><main>");
    let open = |o: &mut String, anchor: &str| {
        let i = secs.iter().position(|(a, _)| *a == anchor).expect("a known section");
        let _ = write!(o, r#"<section id="{anchor}"><h2><span class="num">{}.</span>{}</h2>"#, i + 1, esc(secs[i].1));
    };

    // 1. Summary.
    open(&mut o, "summary");
    o.push_str(r#"<div class="summary">"#);
    for p in &r.summary {
        let _ = write!(o, "<p>{}</p>", rich(r, p));
    }
    o.push_str("</div></section>");

    // Seen before (with a case database only).
    if let Some(seen) = &r.seen {
        open(&mut o, "seen");
        let _ = write!(o, r#"<p class="note">{}</p>"#, esc(c.seen_intro));
        if seen.is_empty() {
            let _ = write!(o, "<p>{}</p>", esc(c.seen_none));
        } else {
            o.push_str("<ul>");
            for m in seen {
                let head = crate::catalog::fill(c.seen_case, &[&m.case.to_string(), &m.score]);
                let _ = write!(o, "<li><strong>{}</strong>: {}<ul>", esc(&m.title), esc(&head));
                for why in &m.reasons {
                    let _ = write!(o, "<li>{}</li>", esc(&why.replace(" -> ", " → ")));
                }
                let res = m.resolution.as_deref().map_or_else(
                    || c.seen_no_resolution.to_string(),
                    |r| r.split_whitespace().collect::<Vec<_>>().join(" "),
                );
                let _ = write!(o, "<li><strong>{}</strong>: {}</li></ul></li>", esc(c.seen_resolution), esc(&res));
            }
            o.push_str("</ul>");
        }
        o.push_str("</section>");
    }

    // 2. Phases.
    open(&mut o, "phases");
    let mut pi = 0;
    for (i, p) in r.phases.iter().enumerate() {
        // Phase classes follow the phase's role, from its title position in the catalogue.
        let role = [c.p_before, c.p_direct, c.p_spread, c.p_after]
            .iter()
            .position(|t| *t == p.title)
            .map(|k| [0, 2, 3, 4][k])
            .unwrap_or(1);
        pi += 1;
        let _ = write!(
            o,
            r#"<div class="phase p{role}"><h3><span class="step">{pi}</span>{}<span class="range">{}</span></h3>"#,
            esc(&p.title),
            esc(&p.range)
        );
        let _ = write!(o, "<h4>{}</h4>", esc(c.p_what));
        list(r, &mut o, &p.what);
        if !p.why.is_empty() {
            let _ = write!(o, "<h4>{}</h4>", esc(c.p_why));
            list(r, &mut o, &p.why);
        }
        if !p.next.is_empty() {
            let _ = write!(o, "<h4>{}</h4>", esc(c.p_next));
            list(r, &mut o, &p.next);
        }
        lines(r, &mut o, &p.excerpts);
        o.push_str("</div>");
        let _ = i;
    }
    o.push_str("</section>");

    // 3. Overview.
    open(&mut o, "overview");
    o.push_str(r#"<dl class="overview">"#);
    for (label, v) in &r.overview {
        let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", esc(label), rich(r, v));
    }
    o.push_str("</dl></section>");

    // 4. Symptoms.
    open(&mut o, "symptoms");
    let _ = write!(o, r#"<p class="note">{}</p>"#, esc(c.sym_intro));
    for s in &r.symptoms {
        let _ = write!(
            o,
            r#"<div class="symptom"><strong>{}</strong> <code class="sig">{}</code> · <span class="note">{}</span><p>{}</p>"#,
            esc(&s.title),
            esc(&s.signature),
            esc(&s.when),
            rich(r, &Rich::parse(&s.summary))
        );
        lines(r, &mut o, &s.refs);
        o.push_str("</div>");
    }
    o.push_str("</section>");

    // 5. Timeline: chart, then table.
    open(&mut o, "timeline");
    let _ = write!(
        o,
        r#"<figure>{}<figcaption>{}</figcaption></figure>"#,
        svg::timeline(&r.chart, c, &r.clock),
        esc(c.chart_caption)
    );
    let _ = write!(o, r#"<p class="note">{}</p>"#, esc(c.t_intro));
    let _ = write!(
        o,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(c.t_time),
        esc(c.t_kind),
        esc(c.t_event),
        esc(c.t_source),
        esc(c.t_evidence)
    );
    for row in &r.timeline {
        let refs: String = row.refs.iter().map(|n| ev_link(r, *n)).collect();
        let _ = write!(
            o,
            r#"<tr class="k-{k}"><td class="time">{}</td><td><span class="kind {k}">{}</span></td><td>{}</td><td class="mono">{}</td><td>{refs}</td></tr>"#,
            esc(&row.time),
            esc(c.kind(&row.kind)),
            rich(r, &row.event),
            esc(&row.source),
            k = esc(&row.kind)
        );
    }
    o.push_str("</tbody></table></section>");

    // 6. Cause analysis.
    open(&mut o, "cause");
    let _ = write!(o, "<h3>{}</h3>", esc(c.h_root));
    for p in &r.root {
        let _ = write!(o, "<p>{}</p>", rich(r, p));
    }
    if !r.graph.nodes.is_empty() {
        let _ = write!(o, "<h3>{}</h3>", esc(c.h_graph));
        let _ = write!(
            o,
            r#"<figure>{}<figcaption>{}</figcaption></figure>"#,
            svg::graph(&r.graph, c),
            esc(c.graph_caption)
        );
    }
    let _ = write!(o, "<h3>{}</h3>", esc(c.h_contributing));
    list(r, &mut o, &r.contributing);
    let _ = write!(o, "<h3>{}</h3>", esc(c.h_alternatives));
    list(r, &mut o, &r.alternatives);
    let _ = write!(o, "<h3>{}</h3>", esc(c.h_open));
    list(r, &mut o, &r.open);
    o.push_str("</section>");

    // Why only this node (with a fleet comparison only).
    if let Some(p) = &r.peers {
        open(&mut o, "peers");
        o.push_str(r#"<div class="summary">"#);
        for x in &p.intro {
            let _ = write!(o, "<p>{}</p>", rich(r, x));
        }
        o.push_str("</div>");
        for (title, intro, items) in [
            (c.h_peers_only, c.peers_only_intro, &p.only_here),
            (c.h_peers_shared, c.peers_shared_intro, &p.shared),
            (c.h_peers_diff, c.peers_diff_intro, &p.differences),
            (c.h_peers_lowered, c.peers_lowered_intro, &p.lowered),
        ] {
            let _ = write!(o, r#"<h3>{}</h3><p class="note">{}</p>"#, esc(title), esc(intro));
            list(r, &mut o, items);
        }
        o.push_str("</section>");
    }

    // 7. Classification.
    open(&mut o, "classification");
    if !r.classes.is_empty() {
        let _ = write!(
            o,
            r#"<table><thead><tr><th>{}</th><th>{}</th><th class="num">{}</th><th class="num">{}</th><th>{}</th></tr></thead><tbody>"#,
            esc(c.c_family),
            esc(c.c_layer),
            esc(c.c_findings),
            esc(c.c_hits),
            esc(c.c_share)
        );
        for row in &r.classes {
            let _ = write!(
                o,
                r#"<tr><td><code>{}</code></td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td><span class="sharebar" style="width:{:.0}px"></span>{:.0}%</td></tr>"#,
                esc(&row.family),
                esc(&row.layer),
                row.findings,
                row.hits,
                (row.share * 160.0).max(2.0),
                row.share * 100.0
            );
        }
        o.push_str("</tbody></table>");
    }
    for (i, n) in r.class_notes.iter().enumerate() {
        let class = if i == 0 { "note" } else { "" };
        let _ = write!(o, r#"<p class="{class}">{}</p>"#, rich(r, &Rich::parse(n)));
    }
    o.push_str("</section>");

    // 8. Recovery.
    open(&mut o, "recovery");
    if !r.recovery.is_empty() {
        let _ = write!(o, "<p>{}</p>", esc(c.r_intro));
    }
    list(r, &mut o, &r.recovery);
    o.push_str("</section>");

    // 9. Prevention.
    open(&mut o, "prevention");
    if !r.prevention.is_empty() {
        let _ = write!(o, "<p>{}</p>", esc(c.pv_intro));
        list(r, &mut o, &r.prevention);
    }
    if !r.practice.is_empty() {
        let _ = write!(o, r#"<p class="note">{}</p>"#, esc(c.pv_upgrade));
        list(r, &mut o, &r.practice);
    }
    o.push_str("</section>");

    // 10. Appendix.
    open(&mut o, "evidence");
    let _ = write!(o, r#"<p class="note">{}</p>"#, esc(c.a_intro));
    let mut i = 0;
    while i < r.evidence.len() {
        let path = &r.evidence[i].path;
        let j = r.evidence[i..].iter().position(|e| &e.path != path).map(|k| i + k).unwrap_or(r.evidence.len());
        let _ = write!(
            o,
            r#"<details class="evidence-file" open><summary>{} ({})</summary><table class="ev"><thead><tr><th>{}</th><th class="num">{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
            esc(path),
            fill("{0}", &[&(j - i).to_string()]),
            esc(c.a_id),
            esc(c.a_line),
            esc(c.t_time),
            esc(c.a_text),
            esc(c.a_supports)
        );
        for e in &r.evidence[i..j] {
            let sup: String = e.supports.iter().map(|s| format!("<code>{}</code>", esc(s))).collect();
            let time = e.time.as_deref().map(|t| r.clock.show(t)).unwrap_or_default();
            let _ = write!(
                o,
                r##"<tr id="ev-{n}"><td class="id"><a href="#ev-{n}">E{n}</a></td><td class="num">{}</td><td class="time">{}</td><td class="text"><code>{}</code></td><td class="supports">{sup}</td></tr>"##,
                e.line,
                esc(&time),
                esc(&e.text),
                n = e.n
            );
        }
        o.push_str("</tbody></table></details>");
        i = j;
    }
    o.push_str("</section>");
    let _ = write!(o, r#"<footer>{}</footer>"#, esc(&r.byline));
    let _ = writeln!(o, "</main></div><script>{SCRIPT}</script></body></html>");
    o
}
