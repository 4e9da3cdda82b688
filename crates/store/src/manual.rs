//! The analysis manual: one page per failure family, in English and Korean, made from the rule pack
//! and the stored cases, so it grows as cases are added.
//!
//! Each family's page says what the family's signatures detect (from the rules), how its incidents
//! unfolded in the stored cases (the chain pairs and the changes before them, counted), what to check
//! and do (each rule's "likely causes and next steps"), what fixed it before (the recorded
//! resolutions, the same text counted once), and the cases themselves. An index page lists the
//! families. Families of the pack with only context or recovery rules get a page only when a case
//! has them as its root cause.

use std::collections::BTreeMap;
use std::fmt::Write;

use rootline_rules::{Kind, Lang, Pack};

use crate::case::Case;

/// Cases listed per family page (the latest; the rest are counted).
pub const MAX_LISTED: usize = 100;
/// Resolutions listed per family page.
pub const MAX_RESOLUTIONS: usize = 30;

#[derive(Default)]
struct Fam {
    cases: u64,
    resolved: u64,
    first: Option<(jiff::Timestamp, String)>,
    last: Option<(jiff::Timestamp, String)>,
    roots: BTreeMap<String, Vec<i64>>,
    pairs: BTreeMap<(String, String), u64>,
    changes: BTreeMap<String, u64>,
    /// Resolution text -> how often, and its latest case.
    resolutions: BTreeMap<String, Resolution>,
    /// The latest cases.
    listed: Vec<Listed>,
}

/// One resolution text: how many cases, the latest one's id, who fixed it, its host and date.
#[derive(Clone, Default)]
struct Resolution {
    cases: u64,
    id: i64,
    fixed_by: Option<String>,
    at: String,
}

/// One row of a family's case table.
#[derive(Clone)]
struct Listed {
    id: i64,
    date: String,
    host: String,
    root: String,
    title: String,
    resolution: String,
}

/// Gathers cases, then writes the pages.
#[derive(Default)]
pub struct Manual {
    families: BTreeMap<String, Fam>,
    total: u64,
}

/// Text for one Markdown table cell or one line: no newlines, no bare `|`.
fn cell(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn date(t: Option<&str>) -> String {
    t.map_or("-".to_string(), |s| s.get(..10).unwrap_or(s).to_string())
}

impl Manual {
    /// Counts one case in.
    pub fn add(&mut self, c: &Case) {
        self.total += 1;
        let f = self.families.entry(c.root_cause.family.clone()).or_default();
        f.cases += 1;
        let id = c.id.unwrap_or(0);
        if let Some(t) = c.start.as_deref().and_then(|s| s.parse::<jiff::Timestamp>().ok()) {
            let s = c.start.clone().unwrap_or_default();
            if f.first.as_ref().is_none_or(|x| t < x.0) {
                f.first = Some((t, s.clone()));
            }
            if f.last.as_ref().is_none_or(|x| t > x.0) {
                f.last = Some((t, s));
            }
        }
        f.roots.entry(c.root_cause.signature.clone()).or_default().push(id);
        for p in &c.chain {
            *f.pairs.entry((p.cause.clone(), p.effect.clone())).or_default() += 1;
        }
        let mut seen = std::collections::BTreeSet::new();
        for ch in &c.changes {
            if seen.insert(&ch.signature) {
                *f.changes.entry(ch.signature.clone()).or_default() += 1;
            }
        }
        let host = c.host.clone().unwrap_or_else(|| "-".into());
        let resolution = c.resolution.as_deref().map(cell).filter(|r| !r.is_empty());
        if let Some(r) = &resolution {
            f.resolved += 1;
            let e = f.resolutions.entry(r.clone()).or_default();
            e.cases += 1;
            if e.cases == 1 || id >= e.id {
                e.id = id;
                e.fixed_by = c.fixed_by.clone();
                e.at = format!("{host}, {}", date(c.start.as_deref()));
            }
        }
        f.listed.push(Listed {
            id,
            date: date(c.start.as_deref()),
            host,
            root: c.root_cause.signature.clone(),
            title: cell(&c.title),
            resolution: resolution.unwrap_or_default(),
        });
        if f.listed.len() > 2 * MAX_LISTED {
            f.listed.sort_by_key(|l| std::cmp::Reverse(l.id));
            f.listed.truncate(MAX_LISTED);
        }
    }

    /// The pages: `(path under the output directory, Markdown)`, for both languages.
    pub fn pages(&self, pack: &Pack) -> Vec<(String, String)> {
        let mut names: Vec<String> = pack
            .signatures
            .iter()
            .filter(|s| matches!(s.kind, Kind::Fault | Kind::Symptom))
            .map(|s| s.family.clone())
            .collect();
        names.extend(self.families.keys().cloned());
        names.sort();
        names.dedup();
        let mut out = Vec::new();
        for lang in [Lang::En, Lang::Ko] {
            let dir = if lang == Lang::Ko { "ko" } else { "en" };
            out.push((format!("{dir}/README.md"), self.index(pack, &names, lang)));
            for n in &names {
                out.push((format!("{dir}/{n}.md"), self.page(pack, n, lang)));
            }
        }
        out
    }

    fn index(&self, pack: &Pack, names: &[String], lang: Lang) -> String {
        let ko = lang == Lang::Ko;
        let mut s = header(self.total);
        if ko {
            let _ = writeln!(s, "# 장애 유형별 분석 매뉴얼\n");
            let _ = writeln!(
                s,
                "rule pack과 저장된 case {}개에서 만든 매뉴얼입니다. case가 추가될 때마다 `rootline cases manual -o DIR`로 다시 만드십시오.\n",
                self.total
            );
            let _ = writeln!(s, "| family | signature | case | 마지막 case |\n|---|---|---|---|");
        } else {
            let _ = writeln!(s, "# Analysis manual by failure family\n");
            let _ = writeln!(
                s,
                "Made from the rule pack and {} stored cases. Run `rootline cases manual -o DIR` again as cases are added.\n",
                self.total
            );
            let _ = writeln!(s, "| family | signatures | cases | latest case |\n|---|---|---|---|");
        }
        for n in names {
            let rules = pack.signatures.iter().filter(|x| &x.family == n).count();
            let (cases, last) = match self.families.get(n) {
                Some(f) => (f.cases, f.last.as_ref().map(|x| date(Some(&x.1))).unwrap_or_else(|| "-".into())),
                None => (0, "-".into()),
            };
            let _ = writeln!(s, "| [{n}]({n}.md) | {rules} | {cases} | {last} |");
        }
        s
    }

    fn page(&self, pack: &Pack, name: &str, lang: Lang) -> String {
        let ko = lang == Lang::Ko;
        let empty = Fam::default();
        let f = self.families.get(name).unwrap_or(&empty);
        let rules: Vec<&rootline_rules::Signature> = pack.signatures.iter().filter(|x| x.family == name).collect();
        let title = |id: &str| pack.get(id).map_or(id.to_string(), |s| s.title.get(lang).trim().to_string());
        let mut s = header(self.total);
        let _ = writeln!(s, "# {name}: {}\n", if ko { "분석 매뉴얼" } else { "analysis manual" });

        // 1. What the family covers.
        let _ = writeln!(s, "## {}\n", if ko { "이 family가 다루는 signature" } else { "Signatures of this family" });
        if rules.is_empty() {
            let _ = writeln!(
                s,
                "{}\n",
                if ko {
                    "rule pack에 이 family의 rule이 없습니다 (다른 pack으로 분석한 case입니다)."
                } else {
                    "The rule pack has no rule of this family (its cases were analysed with another pack)."
                }
            );
        }
        for r in &rules {
            let _ =
                writeln!(s, "- `{}` ({}, {}): {}", r.id, r.kind.as_str(), r.severity.as_str(), cell(r.title.get(lang)));
        }
        s.push('\n');

        // 2. How it unfolded in the cases.
        let _ = writeln!(s, "## {}\n", if ko { "지금까지의 case" } else { "Seen so far" });
        if f.cases == 0 {
            let _ = writeln!(
                s,
                "{}\n",
                if ko {
                    "이 family가 근본 원인인 case는 아직 없습니다. `rootline cases add ANALYSIS.json`으로 추가하십시오."
                } else {
                    "No stored case has its root cause in this family yet. Add them with `rootline cases add ANALYSIS.json`."
                }
            );
        } else {
            let span = format!(
                "{} .. {}",
                f.first.as_ref().map_or("-".into(), |x| date(Some(&x.1))),
                f.last.as_ref().map_or("-".into(), |x| date(Some(&x.1)))
            );
            let roots: Vec<String> = f.roots.iter().map(|(r, ids)| format!("`{r}` {}", ids.len())).collect();
            if ko {
                let _ = writeln!(
                    s,
                    "case {}개 ({span}), 해결 기록 {}개. 근본 원인: {}.\n",
                    f.cases,
                    f.resolved,
                    roots.join(", ")
                );
            } else {
                let _ = writeln!(
                    s,
                    "{} cases ({span}), {} with a resolution. Root causes: {}.\n",
                    f.cases,
                    f.resolved,
                    roots.join(", ")
                );
            }
            let _ = writeln!(
                s,
                "### {}\n",
                if ko {
                    "전개 양상 (인과 사슬의 연결, 많은 순)"
                } else {
                    "How it unfolded (chain links, most frequent first)"
                }
            );
            let mut pairs: Vec<(&(String, String), &u64)> = f.pairs.iter().collect();
            pairs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            if pairs.is_empty() {
                let _ = writeln!(
                    s,
                    "{}\n",
                    if ko {
                        "연결된 인과 사슬이 없습니다 (단일 fault)."
                    } else {
                        "No chain: single faults."
                    }
                );
            } else {
                let _ = writeln!(
                    s,
                    "| {} | {} | case |\n|---|---|---|",
                    if ko { "원인" } else { "cause" },
                    if ko { "결과" } else { "effect" }
                );
                for ((c, e), n) in pairs.iter().take(15) {
                    let _ = writeln!(s, "| `{c}` | `{e}` | {n} / {} |", f.cases);
                }
                s.push('\n');
            }
            if !f.changes.is_empty() {
                let ch: Vec<String> = f.changes.iter().map(|(c, n)| format!("`{c}` ({n} / {})", f.cases)).collect();
                if ko {
                    let _ = writeln!(s, "첫 fault 전의 변경 (context, 증거 아님): {}.\n", ch.join(", "));
                } else {
                    let _ = writeln!(s, "Changes before the first fault (context, not proof): {}.\n", ch.join(", "));
                }
            }
        }

        // 3. What to check and do, from the rules (faults and symptoms first).
        let _ = writeln!(s, "## {}\n", if ko { "확인하고 조치할 것" } else { "What to check and do" });
        let mut ordered: Vec<&&rootline_rules::Signature> = rules.iter().collect();
        ordered.sort_by_key(|r| (!matches!(r.kind, Kind::Fault), !matches!(r.kind, Kind::Symptom), r.id.clone()));
        for r in ordered {
            let _ = writeln!(s, "### `{}`: {}\n", r.id, r.title.get(lang).trim());
            let (d, m, n) = if ko {
                ("탐지 대상", "중요한 이유", "추정 원인과 조치")
            } else {
                ("What it detects", "Why it matters", "Likely causes and next steps")
            };
            let _ = writeln!(s, "**{d}.** {}\n", r.doc.detects.get(lang).trim());
            let _ = writeln!(s, "**{m}.** {}\n", r.doc.matters.get(lang).trim());
            let _ = writeln!(s, "**{n}.** {}\n", r.doc.next_steps.get(lang).trim());
            if let Some(ids) = f.roots.get(&r.id) {
                let shown: Vec<String> = ids.iter().rev().take(10).map(|i| format!("#{i}")).collect();
                let more = if ids.len() > 10 { format!(" (+{})", ids.len() - 10) } else { String::new() };
                if ko {
                    let _ = writeln!(s, "이 signature가 근본 원인인 case: {}{more}\n", shown.join(", "));
                } else {
                    let _ = writeln!(s, "Cases with this root cause: {}{more}\n", shown.join(", "));
                }
            }
        }

        // 4. What fixed it before.
        let _ = writeln!(s, "## {}\n", if ko { "이전에 해결한 방법" } else { "What fixed it before" });
        if f.resolutions.is_empty() {
            let _ = writeln!(
                s,
                "{}\n",
                if ko {
                    "기록된 해결 방법이 없습니다: `rootline cases add ANALYSIS.json --resolution TEXT --fixed-by WHO`."
                } else {
                    "No resolution recorded yet: `rootline cases add ANALYSIS.json --resolution TEXT --fixed-by WHO`."
                }
            );
        } else {
            let mut res: Vec<(&String, &Resolution)> = f.resolutions.iter().collect();
            res.sort_by(|a, b| b.1.cases.cmp(&a.1.cases).then(b.1.id.cmp(&a.1.id)));
            for (text, r) in res.iter().take(MAX_RESOLUTIONS) {
                let by = r
                    .fixed_by
                    .as_deref()
                    .map(|b| format!(", {} {}", if ko { "조치:" } else { "fixed by" }, cell(b)))
                    .unwrap_or_default();
                let times = if r.cases > 1 { format!(" ×{}", r.cases) } else { String::new() };
                let latest = if ko { "최근 case" } else { "latest case" };
                let _ = writeln!(s, "- {text}{times} ({latest} #{}: {}{by})", r.id, r.at);
            }
            if res.len() > MAX_RESOLUTIONS {
                let _ = writeln!(s, "- … {} more", res.len() - MAX_RESOLUTIONS);
            }
            s.push('\n');
        }

        // 5. The cases.
        if f.cases > 0 {
            let _ = writeln!(s, "## {}\n", if ko { "case 목록 (최근 순)" } else { "Cases (latest first)" });
            let _ = writeln!(
                s,
                "| case | {} | host | {} | {} | {} |\n|---|---|---|---|---|---|",
                if ko { "날짜" } else { "date" },
                if ko { "근본 원인" } else { "root cause" },
                if ko { "제목" } else { "title" },
                if ko { "해결" } else { "resolution" }
            );
            let mut listed = f.listed.clone();
            listed.sort_by_key(|l| std::cmp::Reverse(l.id));
            for l in listed.iter().take(MAX_LISTED) {
                let _ = writeln!(
                    s,
                    "| #{} | {} | {} | `{}` {} | {} | {} |",
                    l.id,
                    l.date,
                    cell(&l.host),
                    l.root,
                    title(&l.root),
                    l.title,
                    l.resolution
                );
            }
            if f.cases as usize > MAX_LISTED {
                let _ = writeln!(s, "\n… {} more: `rootline cases list`", f.cases as usize - MAX_LISTED);
            }
        }
        s
    }
}

fn header(total: u64) -> String {
    format!("<!-- Generated by `rootline cases manual` from the rule pack and {total} stored cases; edit the rules or the cases instead. -->\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Pair, Root};

    #[test]
    fn a_family_page_grows_with_its_cases() {
        let pack = Pack::builtin().unwrap();
        let mut m = Manual::default();
        let before = m.pages(&pack);
        let page = |pages: &[(String, String)], p: &str| pages.iter().find(|x| x.0 == p).unwrap().1.clone();
        assert!(page(&before, "en/multipath.md").contains("No stored case has its root cause in this family yet"));
        let mut c = Case {
            schema: crate::case::SCHEMA.into(),
            id: Some(7),
            key: "k".into(),
            title: "Stale map | after upgrade".into(),
            resolution: Some("multipathd restart flushed the map;\nreboot for the one held open".into()),
            fixed_by: Some("storage team".into()),
            added: None,
            source: None,
            host: Some("node37".into()),
            start: Some("2025-10-13T19:51:40+09:00".into()),
            end: None,
            verdict: "root_cause_found".into(),
            root_cause: Root {
                signature: "multipath.stale-map".into(),
                family: "multipath".into(),
                confidence: 0.8,
                summary: String::new(),
                entities: Default::default(),
                evidence: vec![],
            },
            signatures: vec![],
            chain: vec![Pair {
                cause: "multipath.all-paths-down".into(),
                effect: "multipath.stale-map".into(),
                links: 2,
            }],
            entity_kinds: vec![],
            templates: vec![],
            changes: vec![],
            fleet: None,
        };
        m.add(&c);
        c.id = Some(9);
        m.add(&c);
        let pages = m.pages(&pack);
        let en = page(&pages, "en/multipath.md");
        assert!(en.contains("2 cases (2025-10-13 .. 2025-10-13), 2 with a resolution"), "{en}");
        assert!(en.contains("| `multipath.all-paths-down` | `multipath.stale-map` | 2 / 2 |"), "{en}");
        assert!(en.contains("- multipathd restart flushed the map; reboot for the one held open ×2 (latest case #9: node37, 2025-10-13, fixed by storage team)"), "{en}");
        assert!(en.contains("Stale map \\| after upgrade"), "a title's | does not break the table: {en}");
        assert!(en.contains("Cases with this root cause: #9, #7"), "{en}");
        let ko = page(&pages, "ko/multipath.md");
        assert!(ko.contains("case 2개") && ko.contains("이전에 해결한 방법"), "{ko}");
        assert!(page(&pages, "en/README.md").contains("| [multipath](multipath.md) |"));
    }
}
