//! Inline SVG: the timeline chart (one swimlane per source file, marks coloured by kind) and the
//! causal chain graph (layered top to bottom, cause above effect). No scripts, no external assets;
//! every mark links to its evidence line and carries a `<title>` tooltip.

use std::collections::HashMap;
use std::fmt::Write;

use crate::catalog::Catalog;
use crate::clock::{duration, Clock};
use crate::sections::{Chart, Graph};

/// Fill colour of a kind (shared with the CSS legend).
pub fn kind_color(kind: &str) -> &'static str {
    match kind {
        "fault" => "#c62828",
        "symptom" => "#e07b00",
        "recovery" => "#2e7d32",
        _ => "#5468b8",
    }
}

fn tint(kind: &str) -> &'static str {
    match kind {
        "fault" => "#fdecea",
        "symptom" => "#fff3e0",
        "recovery" => "#e8f5e9",
        _ => "#eef0fa",
    }
}

/// XML text escaping.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

/// A time axis that shortens long quiet gaps: active stretches are linear, each gap longer than
/// `max_gap` seconds takes a fixed width.
struct Axis {
    /// (cluster start, cluster end, x of start).
    clusters: Vec<(f64, f64, f64)>,
    scale: f64,
    breaks: Vec<(f64, f64, f64)>,
}

impl Axis {
    fn new(times: &[f64], x0: f64, x1: f64, break_w: f64) -> Axis {
        let mut ts: Vec<f64> = times.iter().copied().filter(|t| t.is_finite()).collect();
        ts.sort_by(f64::total_cmp);
        // Shorten a gap only when it dominates: the largest gaps first, each while it is at least
        // 40% of the span left and at least 10 minutes. A day of quiet between an incident and the
        // reboot is shortened; a half-hour pause inside the incident is not.
        let mut gaps: Vec<f64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(|a, b| b.total_cmp(a));
        let mut span = ts.last().zip(ts.first()).map(|(b, a)| b - a).unwrap_or(0.0);
        let mut max_gap = f64::INFINITY;
        for g in gaps {
            if g >= 600.0 && g >= 0.4 * span {
                max_gap = g - 1e-6;
                span -= g;
            } else {
                break;
            }
        }
        let mut clusters: Vec<(f64, f64)> = Vec::new();
        for t in ts {
            match clusters.last_mut() {
                Some(c) if t - c.1 < max_gap => c.1 = t,
                _ => clusters.push((t, t)),
            }
        }
        if clusters.is_empty() {
            clusters.push((0.0, 1.0));
        }
        let active: f64 = clusters.iter().map(|c| c.1 - c.0).sum();
        let gaps = clusters.len() - 1;
        // A cluster of one moment still needs room for its marks.
        let pad = (active * 0.02).max(30.0);
        let padded = active + pad * 2.0 * clusters.len() as f64;
        let usable = (x1 - x0 - break_w * gaps as f64).max(10.0);
        let scale = usable / padded;
        let mut out = Vec::new();
        let mut breaks = Vec::new();
        let mut x = x0;
        for (i, c) in clusters.iter().enumerate() {
            if i > 0 {
                let prev = clusters[i - 1];
                breaks.push((x, x + break_w, c.0 - prev.1));
                x += break_w;
            }
            out.push((c.0 - pad, c.1 + pad, x));
            x += (c.1 - c.0 + 2.0 * pad) * scale;
        }
        Axis { clusters: out, scale, breaks }
    }

    fn x(&self, t: f64) -> f64 {
        let mut best = self.clusters[0];
        for c in &self.clusters {
            if t >= c.0 {
                best = *c;
            }
        }
        best.2 + (t.clamp(best.0, best.1) - best.0) * self.scale
    }
}

fn nice_step(secs_per_px: f64) -> f64 {
    let want = secs_per_px * 90.0;
    for s in [60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0] {
        if s >= want {
            return s;
        }
    }
    86400.0
}

/// The timeline chart.
pub fn timeline(c: &Chart, cat: &Catalog, clock: &Clock) -> String {
    let w = 1000.0;
    let label_w = 190.0;
    let (x0, x1) = (label_w + 14.0, w - 16.0);
    let lane_h = 30.0;
    let top = 34.0;
    let h = top + lane_h * c.lanes.len() as f64 + 66.0;
    let times: Vec<f64> = c.marks.iter().flat_map(|m| [m.start, m.end]).collect();
    let axis = Axis::new(&times, x0, x1, 34.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="timeline-chart" class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg" font-family="inherit">"#,
        esc(cat.h_chart)
    );
    let _ = write!(s, "<title>{}</title>", esc(cat.h_chart));
    // Lanes.
    for (i, lane) in c.lanes.iter().enumerate() {
        let y = top + i as f64 * lane_h;
        let fill = if i % 2 == 0 { "#f6f7f9" } else { "#ffffff" };
        let _ = write!(s, r#"<rect x="0" y="{y}" width="{w}" height="{lane_h}" fill="{fill}"/>"#);
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="12" fill="#3b4252" text-anchor="end"><title>{}</title>{}</text>"##,
            label_w,
            y + lane_h / 2.0 + 4.0,
            esc(lane),
            esc(&crate::markdown::clip(lane, 26))
        );
    }
    let lanes_bottom = top + lane_h * c.lanes.len() as f64;
    // Ticks per cluster.
    let secs_per_px = 1.0 / axis.scale;
    let step = nice_step(secs_per_px);
    for cl in &axis.clusters {
        let first = ((cl.0 / step).ceil()) * step;
        let mut t = first;
        let mut n = 0;
        while t <= cl.1 && n < 40 {
            let x = axis.x(t);
            let label = if n == 0 { clock.day_hm(t) } else { clock.hm(t) };
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{lanes_bottom}" stroke="#d8dce3" stroke-width="1"/>"##,
                top - 4.0
            );
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{}" font-size="11" fill="#5b6473" text-anchor="middle">{}</text>"##,
                top - 10.0,
                esc(&label)
            );
            t += step;
            n += 1;
        }
        if n == 0 {
            // A short stretch after a shortened gap: label its middle.
            let mid = (cl.0 + cl.1) / 2.0;
            let x = axis.x(mid);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{lanes_bottom}" stroke="#d8dce3" stroke-width="1"/>"##,
                top - 4.0
            );
            // Under the lanes, beside the gap label, so it cannot collide with the ticks above.
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{}" font-size="11" fill="#5b6473" text-anchor="end">{}</text>"##,
                lanes_bottom + 28.0,
                esc(&clock.day_hm(mid))
            );
        }
    }
    // Breaks: shortened gaps.
    for (bx0, bx1, gap) in &axis.breaks {
        let mx = (bx0 + bx1) / 2.0;
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{}" width="{:.1}" height="{}" fill="url(#gap-hatch)"/>"##,
            bx0 + 4.0,
            top - 4.0,
            bx1 - bx0 - 8.0,
            lanes_bottom - top + 4.0
        );
        let _ = write!(
            s,
            r##"<text x="{mx:.1}" y="{}" font-size="11" fill="#5b6473" text-anchor="middle">≈ {}</text>"##,
            lanes_bottom + 15.0,
            esc(&duration(*gap, if cat.code == "ko" { rootline_rules::Lang::Ko } else { rootline_rules::Lang::En }))
        );
    }
    s.push_str(r##"<defs><pattern id="gap-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eceef2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c9ced8" stroke-width="2"/></pattern></defs>"##);
    // Marks: spans first, dots on top, the root cause last.
    let mut order: Vec<usize> = (0..c.marks.len()).collect();
    order.sort_by_key(|i| c.marks[*i].root);
    for i in order {
        let m = &c.marks[i];
        let y = top + m.lane as f64 * lane_h + lane_h / 2.0;
        let xa = axis.x(m.start);
        let xb = axis.x(m.end);
        let col = kind_color(&m.kind);
        let href = m.ev.map(|n| format!("#ev-{n}")).unwrap_or_default();
        let _ = write!(s, r#"<a href="{href}" class="mark"><title>{}</title>"#, esc(&m.label));
        if xb - xa >= 3.0 {
            let _ = write!(
                s,
                r#"<rect x="{xa:.1}" y="{:.1}" width="{:.1}" height="8" rx="4" fill="{col}" fill-opacity="0.35"/>"#,
                y - 4.0,
                xb - xa
            );
        }
        if m.root {
            let _ = write!(
                s,
                r##"<circle cx="{xa:.1}" cy="{y:.1}" r="8" fill="{col}" stroke="#1d2330" stroke-width="2.5"/>"##
            );
        } else {
            let _ = write!(
                s,
                r##"<circle cx="{xa:.1}" cy="{y:.1}" r="5" fill="{col}" stroke="#ffffff" stroke-width="1.2"/>"##
            );
        }
        s.push_str("</a>");
    }
    // Legend.
    let ly = lanes_bottom + 52.0;
    let mut lx = x0;
    for (kind, label) in
        [("fault", cat.k_fault), ("symptom", cat.k_symptom), ("context", cat.k_context), ("recovery", cat.k_recovery)]
    {
        let _ = write!(
            s,
            r##"<circle cx="{lx}" cy="{}" r="5" fill="{}"/><text x="{}" y="{}" font-size="12" fill="#3b4252">{}</text>"##,
            ly - 4.0,
            kind_color(kind),
            lx + 10.0,
            ly,
            esc(label)
        );
        lx += 24.0 + label.chars().count() as f64 * 7.5;
    }
    let _ = write!(
        s,
        r##"<circle cx="{lx}" cy="{}" r="6" fill="#c62828" stroke="#1d2330" stroke-width="2.5"/><text x="{}" y="{}" font-size="12" fill="#3b4252">{}</text>"##,
        ly - 4.0,
        lx + 12.0,
        ly,
        esc(cat.root_label)
    );
    s.push_str("</svg>");
    s
}

/// The causal chain graph.
pub fn graph(g: &Graph, cat: &Catalog) -> String {
    if g.nodes.is_empty() {
        return String::new();
    }
    let n = g.nodes.len();
    // Depth: one below the cause of the decisive link; hypothesis-only nodes one below their
    // would-be cause; otherwise the top row.
    let mut depth: Vec<Option<usize>> = vec![None; n];
    let parent: Vec<Option<usize>> = (0..n)
        .map(|i| {
            g.edges
                .iter()
                .find(|e| e.to == i && e.decisive)
                .or_else(|| g.edges.iter().find(|e| e.to == i && e.hypothesis))
                .map(|e| e.from)
        })
        .collect();
    fn depth_of(i: usize, parent: &[Option<usize>], depth: &mut Vec<Option<usize>>, guard: usize) -> usize {
        if let Some(d) = depth[i] {
            return d;
        }
        let d = match parent[i] {
            Some(p) if guard < 64 && p != i => depth_of(p, parent, depth, guard + 1) + 1,
            _ => 0,
        };
        depth[i] = Some(d);
        d
    }
    for i in 0..n {
        depth_of(i, &parent, &mut depth, 0);
    }
    let rows = depth.iter().map(|d| d.unwrap_or(0)).max().unwrap_or(0) + 1;
    let (node_w, node_h, gap_x, row_h) = (200.0, 46.0, 22.0, 86.0);
    let mut by_row: Vec<Vec<usize>> = vec![Vec::new(); rows];
    for i in 0..n {
        by_row[depth[i].unwrap_or(0)].push(i);
    }
    let widest = by_row.iter().map(|r| r.len()).max().unwrap_or(1) as f64;
    let w = (widest * (node_w + gap_x) + 40.0).max(760.0);
    let h = rows as f64 * row_h + 50.0;
    let mut pos: HashMap<usize, (f64, f64)> = HashMap::new();
    for (ri, row) in by_row.iter_mut().enumerate() {
        // Under the parent, then by time: fewer crossings.
        row.sort_by(|a, b| {
            let pa = parent[*a].and_then(|p| pos.get(&p)).map(|p| p.0).unwrap_or(0.0);
            let pb = parent[*b].and_then(|p| pos.get(&p)).map(|p| p.0).unwrap_or(0.0);
            pa.total_cmp(&pb).then(g.nodes[*a].at.total_cmp(&g.nodes[*b].at)).then(g.nodes[*a].id.cmp(&g.nodes[*b].id))
        });
        let row_w = row.len() as f64 * (node_w + gap_x) - gap_x;
        let start = (w - row_w) / 2.0;
        for (k, i) in row.iter().enumerate() {
            pos.insert(*i, (start + k as f64 * (node_w + gap_x), 24.0 + ri as f64 * row_h));
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="chain-graph" class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg" font-family="inherit">"#,
        esc(cat.h_graph)
    );
    let _ = write!(s, "<title>{}</title>", esc(cat.h_graph));
    s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3b4252"/></marker><marker id="arrow-light" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#b3bac6"/></marker></defs>"##);
    // Edges under nodes: light evidence links, hypotheses, then the decisive links.
    let mut edges: Vec<&crate::sections::GEdge> = g.edges.iter().collect();
    edges.sort_by_key(|e| (e.decisive, !e.hypothesis));
    for e in edges {
        let (Some(a), Some(b)) = (pos.get(&e.from), pos.get(&e.to)) else { continue };
        let (ax, ay) = (a.0 + node_w / 2.0, a.1 + node_h);
        let (bx, by) = (b.0 + node_w / 2.0, b.1);
        let (by, bend) = if by <= ay { (b.1 + node_h / 2.0, 60.0) } else { (by, (by - ay) / 2.0) };
        let d = format!("M{ax:.1},{ay:.1} C{ax:.1},{:.1} {bx:.1},{:.1} {bx:.1},{by:.1}", ay + bend, by - bend);
        let style = if e.hypothesis {
            r##"stroke="#8a93a3" stroke-width="1.4" stroke-dasharray="5 4" marker-end="url(#arrow-light)""##
        } else if e.decisive {
            r##"stroke="#3b4252" stroke-width="1.8" marker-end="url(#arrow)""##
        } else {
            r##"stroke="#c3c9d4" stroke-width="1" marker-end="url(#arrow-light)""##
        };
        let class = if e.hypothesis { "edge hypothesis" } else { "edge" };
        let _ =
            write!(s, r#"<path class="{class}" d="{d}" fill="none" {style}><title>{}</title></path>"#, esc(&e.link));
    }
    for (i, nd) in g.nodes.iter().enumerate() {
        let (x, y) = pos[&i];
        let col = kind_color(&nd.kind);
        let href = nd.ev.map(|n| format!("#ev-{n}")).unwrap_or_default();
        let (family, name) = nd.signature.split_once('.').unwrap_or(("", nd.signature.as_str()));
        let hyp_only = !g.edges.iter().any(|e| !e.hypothesis && (e.from == i || e.to == i)) && !nd.root;
        let stroke =
            if nd.root { r##"stroke="#1d2330" stroke-width="2.5""## } else { r##"stroke="#d3d8e0" stroke-width="1""## };
        let dash = if hyp_only { r#" stroke-dasharray="4 3""# } else { "" };
        let _ = write!(s, r#"<a href="{href}" class="node"><title>{} · {}</title>"#, esc(&nd.id), esc(&nd.title));
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{node_w}" height="{node_h}" rx="7" fill="{}" {stroke}{dash}/>"#,
            tint(&nd.kind)
        );
        let _ = write!(s, r#"<rect x="{x:.1}" y="{y:.1}" width="6" height="{node_h}" rx="3" fill="{col}"/>"#);
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="10.5" fill="#6b7383">{} · {}</text>"##,
            x + 14.0,
            y + 16.0,
            esc(family),
            esc(&nd.sub)
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="13" font-weight="600" fill="#1d2330">{}</text>"##,
            x + 14.0,
            y + 34.0,
            esc(&crate::markdown::clip(name, 24))
        );
        if nd.root {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="10.5" font-weight="700" fill="#c62828" text-anchor="end">{}</text>"##,
                x + node_w,
                y - 5.0,
                esc(cat.root_label)
            );
        }
        s.push_str("</a>");
    }
    // Legend.
    let ly = h - 14.0;
    let _ = write!(
        s,
        r##"<line x1="20" y1="{ly}" x2="54" y2="{ly}" stroke="#8a93a3" stroke-width="1.4" stroke-dasharray="5 4"/><text x="62" y="{}" font-size="12" fill="#3b4252">{}</text>"##,
        ly + 4.0,
        esc(cat.legend_dashed)
    );
    s.push_str("</svg>");
    s
}
