//! What the stored cases say in numbers: by family, by root cause, by month, and what recurred.
//!
//! Months are those of the incidents (their first finding's time, in the offset the analysis showed),
//! not of when they were stored, so an import of last year's cases counts last year. A root cause
//! *recurs* when two or more cases have it; a host recurs when two or more cases happened on it. The
//! gap between recurrences is the median time between one case's start and the next one's.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use rootline_rules::Lang;
use serde::Serialize;

use crate::backend::Summary;
use crate::case::month_of;

/// The schema name of the statistics document.
pub const SCHEMA: &str = "rootline.case-stats/v1";

/// Cases of one family.
#[derive(Debug, Clone, Serialize)]
pub struct Family {
    /// The family (`multipath`).
    pub family: String,
    /// Cases.
    pub cases: u64,
    /// Of them, with a resolution recorded.
    pub resolved: u64,
    /// The earliest incident's start.
    pub first: Option<String>,
    /// The latest incident's start.
    pub last: Option<String>,
}

/// Cases of one month.
#[derive(Debug, Clone, Serialize)]
pub struct Month {
    /// `2025-10`, or `unknown` for incidents without a time.
    pub month: String,
    /// Cases.
    pub cases: u64,
    /// Cases per family.
    pub families: BTreeMap<String, u64>,
}

/// A root cause seen in two or more cases.
#[derive(Debug, Clone, Serialize)]
pub struct Recurring {
    /// Rule id.
    pub signature: String,
    /// Cases.
    pub cases: u64,
    /// On how many hosts.
    pub hosts: u64,
    /// The first incident's start.
    pub first: Option<String>,
    /// The last incident's start.
    pub last: Option<String>,
    /// Median days from one incident to the next.
    pub median_days_between: Option<f64>,
    /// Of them, with a resolution recorded.
    pub resolved: u64,
    /// The case ids.
    pub ids: Vec<i64>,
}

/// A host with two or more cases.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    /// Host.
    pub host: String,
    /// Cases.
    pub cases: u64,
    /// Their root causes.
    pub signatures: Vec<String>,
    /// The first incident's start.
    pub first: Option<String>,
    /// The last incident's start.
    pub last: Option<String>,
}

/// The statistics document (`rootline.case-stats/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Cases stored.
    pub cases: u64,
    /// Of them, with a resolution recorded.
    pub resolved: u64,
    /// By family, most cases first.
    pub families: Vec<Family>,
    /// By month, in order.
    pub months: Vec<Month>,
    /// Root causes seen more than once, most cases first.
    pub recurring: Vec<Recurring>,
    /// Hosts with more than one case, most cases first.
    pub hosts: Vec<Host>,
}

fn instant(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

/// The earliest and latest of these times (compared as instants; shown as written).
fn span<'a>(times: impl Iterator<Item = &'a str>) -> (Option<String>, Option<String>) {
    let mut v: Vec<(jiff::Timestamp, &str)> = times.filter_map(|t| instant(t).map(|i| (i, t))).collect();
    v.sort();
    (v.first().map(|x| x.1.to_string()), v.last().map(|x| x.1.to_string()))
}

fn median_gap_days<'a>(times: impl Iterator<Item = &'a str>) -> Option<f64> {
    let mut t: Vec<jiff::Timestamp> = times.filter_map(instant).collect();
    t.sort();
    let mut gaps: Vec<f64> = t.windows(2).map(|w| (w[1].as_second() - w[0].as_second()) as f64 / 86_400.0).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_by(f64::total_cmp);
    let m = if gaps.len() % 2 == 1 {
        gaps[gaps.len() / 2]
    } else {
        (gaps[gaps.len() / 2 - 1] + gaps[gaps.len() / 2]) / 2.0
    };
    Some((m * 10.0).round() / 10.0)
}

/// The statistics of these cases.
pub fn compute(cases: &[Summary]) -> Stats {
    fn is_resolved(c: &Summary) -> bool {
        c.resolution.as_deref().is_some_and(|r| !r.trim().is_empty())
    }
    let mut by_family: BTreeMap<&str, Vec<&Summary>> = BTreeMap::new();
    let mut by_sig: BTreeMap<&str, Vec<&Summary>> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Vec<&Summary>> = BTreeMap::new();
    let mut by_host: BTreeMap<&str, Vec<&Summary>> = BTreeMap::new();
    for c in cases {
        by_family.entry(&c.family).or_default().push(c);
        by_sig.entry(&c.signature).or_default().push(c);
        by_month.entry(month_of(c.start.as_deref())).or_default().push(c);
        if let Some(h) = &c.host {
            by_host.entry(h).or_default().push(c);
        }
    }
    let starts = |v: &[&Summary]| v.iter().filter_map(|c| c.start.clone()).collect::<Vec<String>>();
    let mut families: Vec<Family> = by_family
        .iter()
        .map(|(f, v)| {
            let s = starts(v);
            let (first, last) = span(s.iter().map(String::as_str));
            Family {
                family: f.to_string(),
                cases: v.len() as u64,
                resolved: v.iter().filter(|c| is_resolved(c)).count() as u64,
                first,
                last,
            }
        })
        .collect();
    families.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.family.cmp(&b.family)));
    // `unknown` after the dated months.
    let mut months: Vec<Month> = by_month
        .into_iter()
        .map(|(m, v)| {
            let mut fams = BTreeMap::new();
            for c in &v {
                *fams.entry(c.family.clone()).or_default() += 1;
            }
            Month { month: m, cases: v.len() as u64, families: fams }
        })
        .collect();
    months.sort_by_key(|m| (m.month == "unknown", m.month.clone()));
    let mut recurring: Vec<Recurring> = by_sig
        .iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(s, v)| {
            let st = starts(v);
            let (first, last) = span(st.iter().map(String::as_str));
            let hosts: BTreeSet<&str> = v.iter().filter_map(|c| c.host.as_deref()).collect();
            Recurring {
                signature: s.to_string(),
                cases: v.len() as u64,
                hosts: hosts.len() as u64,
                first,
                last,
                median_days_between: median_gap_days(st.iter().map(String::as_str)),
                resolved: v.iter().filter(|c| is_resolved(c)).count() as u64,
                ids: v.iter().map(|c| c.id).collect(),
            }
        })
        .collect();
    recurring.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.signature.cmp(&b.signature)));
    let mut hosts: Vec<Host> = by_host
        .iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(h, v)| {
            let st = starts(v);
            let (first, last) = span(st.iter().map(String::as_str));
            let sigs: BTreeSet<String> = v.iter().map(|c| c.signature.clone()).collect();
            Host { host: h.to_string(), cases: v.len() as u64, signatures: sigs.into_iter().collect(), first, last }
        })
        .collect();
    hosts.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.host.cmp(&b.host)));
    Stats {
        schema: SCHEMA,
        cases: cases.len() as u64,
        resolved: cases.iter().filter(|c| is_resolved(c)).count() as u64,
        families,
        months,
        recurring,
        hosts,
    }
}

fn date(t: &Option<String>) -> &str {
    t.as_deref().map_or("-", |s| s.get(..10).unwrap_or(s))
}

/// `1 case`, `2 cases`.
fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The statistics as text.
pub fn render(s: &Stats, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    let mut o = String::new();
    if ko {
        let _ = writeln!(o, "case {}개, 해결 기록이 있는 case {}개", s.cases, s.resolved);
    } else {
        let _ = writeln!(o, "{}, {} with a resolution", plural(s.cases, "case"), s.resolved);
    }
    if s.cases == 0 {
        return o;
    }
    let _ = writeln!(o, "\n{}", if ko { "Family별:" } else { "By family:" });
    for f in &s.families {
        let pct = 100.0 * f.cases as f64 / s.cases as f64;
        let _ = writeln!(
            o,
            "  {:<12} {:>6} {:>5.1}%  {} .. {}  ({} {})",
            f.family,
            f.cases,
            pct,
            date(&f.first),
            date(&f.last),
            f.resolved,
            if ko { "해결" } else { "resolved" }
        );
    }
    let _ = writeln!(o, "\n{}", if ko { "월별 (incident 시작 기준):" } else { "By month (of the incidents):" });
    for m in &s.months {
        let fams: Vec<String> = m.families.iter().map(|(f, n)| format!("{f} {n}")).collect();
        let _ = writeln!(o, "  {:<8} {:>6}  {}", m.month, m.cases, fams.join(", "));
    }
    let _ = writeln!(
        o,
        "\n{}",
        if ko { "재발한 근본 원인 (case 2개 이상):" } else { "Recurring root causes (2 cases or more):" }
    );
    if s.recurring.is_empty() {
        let _ = writeln!(o, "  {}", if ko { "없음" } else { "none" });
    }
    for r in &s.recurring {
        let gap = match (r.median_days_between, ko) {
            (Some(d), false) => format!(", median {d} day{} apart", if d == 1.0 { "" } else { "s" }),
            (Some(d), true) => format!(", 간격 중앙값 {d}일"),
            (None, _) => String::new(),
        };
        let ids: Vec<String> = r.ids.iter().take(8).map(|i| format!("#{i}")).collect();
        let more = if r.ids.len() > 8 { format!(" +{}", r.ids.len() - 8) } else { String::new() };
        if ko {
            let _ = writeln!(
                o,
                "  {}: case {}개, host {}개, {} .. {}{gap}; 해결 {}개 ({}{more})",
                r.signature,
                r.cases,
                r.hosts,
                date(&r.first),
                date(&r.last),
                r.resolved,
                ids.join(" ")
            );
        } else {
            let _ = writeln!(
                o,
                "  {}: {} on {}, {} .. {}{gap}; {} resolved ({}{more})",
                r.signature,
                plural(r.cases, "case"),
                plural(r.hosts, "host"),
                date(&r.first),
                date(&r.last),
                r.resolved,
                ids.join(" ")
            );
        }
    }
    if !s.hosts.is_empty() {
        let _ = writeln!(o, "\n{}", if ko { "두 번 이상 장애가 난 host:" } else { "Hosts with more than one case:" });
        for h in s.hosts.iter().take(20) {
            let _ = writeln!(o, "  {}: {} ({})", h.host, h.cases, h.signatures.join(", "));
        }
        if s.hosts.len() > 20 {
            let _ = writeln!(o, "  ... {} more (--format json)", s.hosts.len() - 20);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, sig: &str, host: &str, start: Option<&str>, res: Option<&str>) -> Summary {
        Summary {
            id,
            key: id.to_string(),
            title: "t".into(),
            host: Some(host.into()),
            start: start.map(str::to_string),
            family: crate::case::family(sig).into(),
            signature: sig.into(),
            verdict: "root_cause_found".into(),
            confidence: 0.8,
            resolution: res.map(str::to_string),
            fixed_by: None,
            added: None,
        }
    }

    #[test]
    fn families_months_and_what_recurred() {
        let cases = vec![
            s(1, "multipath.stale-map", "n1", Some("2025-10-13T19:51:40+09:00"), Some("reboot")),
            s(2, "multipath.stale-map", "n2", Some("2025-10-23T19:51:40+09:00"), None),
            s(3, "multipath.stale-map", "n1", Some("2025-11-12T19:51:40+09:00"), Some(" ")),
            s(4, "k8s.probe-failed", "n3", None, None),
        ];
        let st = compute(&cases);
        assert_eq!((st.cases, st.resolved), (4, 1));
        assert_eq!(st.families[0].family, "multipath");
        assert_eq!(st.families[0].cases, 3);
        assert_eq!(st.families[0].first.as_deref(), Some("2025-10-13T19:51:40+09:00"));
        let months: Vec<(&str, u64)> = st.months.iter().map(|m| (m.month.as_str(), m.cases)).collect();
        assert_eq!(months, [("2025-10", 2), ("2025-11", 1), ("unknown", 1)]);
        assert_eq!(st.recurring.len(), 1);
        let r = &st.recurring[0];
        assert_eq!((r.cases, r.hosts, r.resolved), (3, 2, 1));
        // Gaps of 10 and 20 days: the median is 15.
        assert_eq!(r.median_days_between, Some(15.0));
        assert_eq!(st.hosts.len(), 1);
        assert_eq!(st.hosts[0].host, "n1");
        let text = render(&st, Lang::En);
        assert!(
            text.contains("multipath.stale-map: 3 cases on 2 hosts, 2025-10-13 .. 2025-11-12, median 15 days apart"),
            "{text}"
        );
    }
}
