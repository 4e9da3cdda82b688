//! Matching events against a whole pack in about one scan.
//!
//! Every pattern's *necessary literals* (strings any match must contain, taken from the regex's syntax
//! tree) go into one [`crate::prefilter::Literals`]. An event's message is scanned once by it; only
//! the patterns whose literal occurred (the candidates) run their full regex with captures. Patterns
//! without a usable literal (`rules lint` warns about them unless their rule only looks at events that
//! state an error level) run on every event their filter admits. With the built-in pack most events
//! hit no literal at all and cost one prefilter pass and one comparison of their severity.
//!
//! Fallback rules (`fallback: true`) explain what nothing else explains: once every candidate has
//! run on an event, the hits of fallback rules are dropped when any other rule hit the same event.
//! Nor do they run on an event a specific rule matched and then ruled out by its `unless` (a lock
//! held by a migration is waiting by design, not an unexplained libvirt error).

use regex::bytes::{Captures, Regex};
use regex_syntax::hir::{Class, Hir, HirKind};
use rootline_event::{Entity, Event, EventRef, Severity};

use crate::compile::{Pack, Signature};
use crate::prefilter::Literals;

/// Shortest literal worth prefiltering on; shorter ones would make nearly every line a candidate.
const MIN_LITERAL: usize = crate::prefilter::SHORT;
/// Most alternatives a literal set may expand to (`(?i)` classes, small alternations).
const MAX_VARIANTS: usize = 64;

/// One firing of one signature on one event, before aggregation into findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the signature in [`Pack::signatures`].
    pub sig: usize,
    /// Captured entities in pattern order: (kind, value).
    pub entities: Vec<(String, String)>,
    /// 0-based index of the message line the match starts on (0 = the headline).
    pub line_index: u32,
    /// How long before this line the condition began, in nanoseconds (the rule's `onset`).
    pub before: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Pattern(usize, usize),
    State(usize),
}

/// A compiled pack ready to match events. Cheap to share between threads (`&Engine` is `Sync`).
#[derive(Debug)]
pub struct Engine {
    pack: Pack,
    targets: Vec<Target>,
    /// Index of the first target of a fallback rule (they are last).
    first_fallback: u32,
    /// The literals that admit targets, found in each message.
    prefilter: Literals,
    /// For each literal of the prefilter, the targets it admits.
    lit_targets: Vec<Vec<u32>>,
    /// Targets with no usable literal: candidates on every event.
    always: Vec<u32>,
    /// When every target of `always` belongs to a rule that needs an event to state a severity at
    /// least this severe: events less severe (or with none) skip them with one comparison.
    always_gate: Option<Severity>,
    /// Per signature: a fallback rule.
    fallback: Vec<bool>,
    /// Per signature: the signatures whose hit on the same event drops its hit.
    yields_to: Vec<Vec<usize>>,
    /// True when some rule yields to another (the per-event check is skipped otherwise).
    any_yield: bool,
}

/// The engine's literals and a caller's, looked for in one pass over each message by
/// [`Engine::scan_watching`]: a caller that must look for literals in every message (the alias
/// learner's gate) pays no second pass.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The engine's literals (as many as its `lit_targets`), then the caller's.
    prefilter: Literals,
}

/// Reusable per-thread buffers for [`Engine::scan`].
#[derive(Debug, Default)]
pub struct Scratch {
    seen: Vec<u32>,
    stamp: u32,
    cands: Vec<u32>,
    /// Signatures that hit the current event (for `yields_to`).
    fired: Vec<usize>,
}

impl Engine {
    /// Builds the prefilter over every pattern of `pack`.
    pub fn new(pack: Pack) -> Engine {
        // Fallback rules' targets come last: candidates run in target order, so once a rule that is
        // not a fallback hit an event, the fallbacks (whose hits would be dropped) need not run.
        let mut targets = Vec::new();
        let mut first_fallback = None;
        for fallbacks in [false, true] {
            if fallbacks {
                first_fallback = Some(targets.len() as u32);
            }
            for (si, s) in pack.signatures.iter().enumerate().filter(|(_, s)| s.fallback == fallbacks) {
                for pi in 0..s.patterns.len() {
                    targets.push(Target::Pattern(si, pi));
                }
                if s.state.is_some() {
                    targets.push(Target::State(si));
                }
            }
        }
        let first_fallback = first_fallback.unwrap_or(targets.len() as u32);
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut lit_targets: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        for (ti, t) in targets.iter().enumerate() {
            // Found when the pack was compiled: the pattern's, or the state's section regex's after them.
            let found = match *t {
                Target::Pattern(si, pi) => pack.signatures[si].literals.get(pi),
                Target::State(si) => pack.signatures[si].literals.get(pack.signatures[si].patterns.len()),
            };
            match found.cloned().flatten() {
                Some(lits) => {
                    for l in lits {
                        match literals.iter().position(|x| *x == l) {
                            Some(i) => lit_targets[i].push(ti as u32),
                            None => {
                                literals.push(l);
                                lit_targets.push(vec![ti as u32]);
                            }
                        }
                    }
                }
                None => always.push(ti as u32),
            }
        }
        let prefilter = Literals::new(literals);
        let always_gate = always
            .iter()
            .map(|&t| {
                let si = match targets[t as usize] {
                    Target::Pattern(si, _) | Target::State(si) => si,
                };
                let f = &pack.signatures[si].filter;
                if f.needs_severity {
                    f.severity
                } else {
                    None
                }
            })
            .try_fold(Severity::Emerg, |gate, s| s.map(|s| gate.max(s)));
        let fallback = pack.signatures.iter().map(|s| s.fallback).collect();
        let yields_to: Vec<Vec<usize>> = pack
            .signatures
            .iter()
            .map(|s| s.yields_to.iter().filter_map(|id| pack.signatures.iter().position(|x| &x.id == id)).collect())
            .collect();
        let any_yield = yields_to.iter().any(|y| !y.is_empty());
        Engine {
            pack,
            targets,
            first_fallback,
            prefilter,
            lit_targets,
            always,
            always_gate,
            fallback,
            yields_to,
            any_yield,
        }
    }

    /// True when the targets without a literal may fire on an event of severity `sev`.
    fn always_admits(&self, sev: Option<Severity>) -> bool {
        match self.always_gate {
            None => true,
            Some(gate) => sev.is_some_and(|s| s <= gate),
        }
    }

    /// The compiled pack.
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// The prefilter literals.
    pub fn literals(&self) -> &[Vec<u8>] {
        self.prefilter.literals()
    }

    /// Pattern sources (`rule id`, regex) that have no prefilter literal and run on every event (those
    /// of rules that need a stated severity of `err` or worse run only on such events and are not listed).
    pub fn unfiltered(&self) -> Vec<(String, String)> {
        self.always
            .iter()
            .filter(|&&t| {
                let si = match self.targets[t as usize] {
                    Target::Pattern(si, _) | Target::State(si) => si,
                };
                let f = &self.pack.signatures[si].filter;
                !(f.needs_severity && f.severity.is_some_and(|s| s <= Severity::Err))
            })
            .map(|&t| match self.targets[t as usize] {
                Target::Pattern(si, pi) => {
                    let s = &self.pack.signatures[si];
                    (s.id.clone(), s.patterns[pi].as_str().to_string())
                }
                Target::State(si) => (self.pack.signatures[si].id.clone(), "state.section".into()),
            })
            .collect()
    }

    /// Appends to `out` every signature hit on `ev`.
    pub fn scan(&self, ev: &Event, scratch: &mut Scratch, out: &mut Vec<Hit>) {
        self.scan_view(&EventRef::from(ev), &ev.entities, scratch, out, &self.prefilter, &mut Vec::new());
    }

    /// [`Engine::scan`] for a borrowed event (the merge's [`EventRef`], which carries no entities):
    /// the same hits as scanning `ev.to_event()`, without making it.
    pub fn scan_ref(&self, ev: &EventRef<'_>, scratch: &mut Scratch, out: &mut Vec<Hit>) {
        self.scan_view(ev, &[], scratch, out, &self.prefilter, &mut Vec::new());
    }

    /// The engine's literals and `literals` as one set, for [`Engine::scan_watching`].
    pub fn watch(&self, literals: &[Vec<u8>]) -> Watch {
        let mut all = self.prefilter.literals().to_vec();
        all.extend_from_slice(literals);
        Watch { prefilter: Literals::new(all) }
    }

    /// [`Engine::scan_ref`], and in the same pass over the message, which of the literals `watch`
    /// was made with it holds: `watched` gets the index of each (once per place it occurs).
    pub fn scan_watching(
        &self,
        ev: &EventRef<'_>,
        watch: &Watch,
        scratch: &mut Scratch,
        out: &mut Vec<Hit>,
        watched: &mut Vec<u32>,
    ) {
        watched.clear();
        self.scan_view(ev, &[], scratch, out, &watch.prefilter, watched);
    }

    /// The scan, with `prefilter` holding the engine's literals first and then those whose
    /// indices (minus the engine's count) go to `watched`.
    fn scan_view(
        &self,
        ev: &EventRef<'_>,
        entities: &[Entity],
        scratch: &mut Scratch,
        out: &mut Vec<Hit>,
        prefilter: &Literals,
        watched: &mut Vec<u32>,
    ) {
        if scratch.seen.len() != self.targets.len() {
            scratch.seen = vec![0; self.targets.len()];
            scratch.stamp = 0;
        }
        scratch.stamp = scratch.stamp.wrapping_add(1);
        if scratch.stamp == 0 {
            scratch.seen.iter_mut().for_each(|s| *s = 0);
            scratch.stamp = 1;
        }
        let stamp = scratch.stamp;
        scratch.cands.clear();
        let (seen, cands) = (&mut scratch.seen, &mut scratch.cands);
        let own = self.lit_targets.len();
        prefilter.find(ev.message, |lit| {
            if lit >= own {
                watched.push((lit - own) as u32);
                return;
            }
            for &t in &self.lit_targets[lit] {
                if seen[t as usize] != stamp {
                    seen[t as usize] = stamp;
                    cands.push(t);
                }
            }
        });
        let always = !self.always.is_empty() && self.always_admits(ev.severity);
        if scratch.cands.is_empty() && !always {
            return;
        }
        if always {
            scratch.cands.extend_from_slice(&self.always);
        }
        scratch.cands.sort_unstable();
        let start = out.len();
        let mut last_sig = usize::MAX;
        let mut sig_admitted = false;
        let mut sig_fired = false;
        // A specific rule matched the line and its `unless` ruled it out: the rule knows these words
        // and says they are no fault, so no fallback may call the line an unexplained error.
        let mut ruled_out = false;
        for &t in &scratch.cands {
            // Every hit so far is of a specific rule: a fallback's would be dropped, so none runs.
            if t >= self.first_fallback && (ruled_out || out.len() > start && !self.fallback[out[out.len() - 1].sig]) {
                break;
            }
            let (si, target) = match self.targets[t as usize] {
                Target::Pattern(si, _) => (si, self.targets[t as usize]),
                Target::State(si) => (si, self.targets[t as usize]),
            };
            let sig = &self.pack.signatures[si];
            if si != last_sig {
                last_sig = si;
                sig_admitted = admits(sig, ev, entities);
                sig_fired = false;
            }
            if !sig_admitted || sig_fired {
                continue;
            }
            let text: &[u8] = if sig.filter.headline_only { ev.headline() } else { ev.message };
            let before = out.len();
            match target {
                Target::Pattern(_, pi) => pattern_hits(si, sig, &sig.patterns[pi], text, out),
                Target::State(_) => state_hits(si, sig, text, out),
            }
            if out.len() > before {
                if sig.unless.iter().any(|u| u.is_match(text)) || vetoed_by_fields(sig, ev) {
                    out.truncate(before);
                    ruled_out |= !sig.fallback;
                } else {
                    if !sig.fields.is_empty() {
                        for h in &mut out[before..] {
                            add_field_entities(sig, ev, h);
                        }
                    }
                    // The first pattern that matches wins; later patterns of the same rule are
                    // alternatives for other wordings.
                    sig_fired = true;
                }
            }
        }
        // A fallback explains only what no other rule explains; a rule stands back for the rules it
        // yields to.
        let hits = &out[start..];
        if hits.len() < 2 {
            return;
        }
        let drop_fallbacks = hits.iter().any(|h| self.fallback[h.sig]) && hits.iter().any(|h| !self.fallback[h.sig]);
        if !drop_fallbacks && !self.any_yield {
            return;
        }
        scratch.fired.clear();
        scratch.fired.extend(hits.iter().map(|h| h.sig));
        let mut w = start;
        for r in start..out.len() {
            let s = out[r].sig;
            let drop =
                (drop_fallbacks && self.fallback[s]) || self.yields_to[s].iter().any(|y| scratch.fired.contains(y));
            if !drop {
                out.swap(w, r);
                w += 1;
            }
        }
        out.truncate(w);
    }
}

fn admits(sig: &Signature, ev: &EventRef<'_>, entities: &[Entity]) -> bool {
    let f = &sig.filter;
    if !f.formats.is_empty() && !f.formats.contains(&ev.format) {
        return false;
    }
    if let Some(p) = &f.program {
        match ev.program {
            Some(prog) if p.is_match(prog.as_bytes()) => {}
            _ => return false,
        }
    }
    if let Some(c) = &f.container {
        let name = ev.fields.get("container").or_else(|| {
            entities.iter().find(|e| &*e.kind == "container").map(|e| std::borrow::Cow::Borrowed(&*e.value))
        });
        match name {
            Some(n) if c.is_match(n.as_bytes()) => {}
            _ => return false,
        }
    }
    if let Some(min) = f.severity {
        match ev.severity {
            Some(s) if s > min => return false,
            None if f.needs_severity => return false,
            _ => {}
        }
    }
    f.where_fields.iter().all(|(field, re)| field_matches(ev, field, re))
}

/// True when the event has the field `field` and `re` matches its value (`match.where`,
/// `match.unless_where`).
fn field_matches(ev: &EventRef<'_>, field: &str, re: &Regex) -> bool {
    ev.fields.get(field).is_some_and(|v| re.is_match(v.as_bytes()))
}

/// True when one of the rule's `unless_where` fields is there and matches.
fn vetoed_by_fields(sig: &Signature, ev: &EventRef<'_>) -> bool {
    sig.unless_where.iter().any(|(field, re)| field_matches(ev, field, re))
}

/// Copies the event fields named in the rule's `match.fields` into the hit's entities, unless a
/// capture already gave that kind. The name `program` stands for the event's program (a logger, a
/// container, a daemon), which is not one of its fields.
fn add_field_entities(sig: &Signature, ev: &EventRef<'_>, hit: &mut Hit) {
    for (kind, field) in &sig.fields {
        if hit.entities.iter().any(|(k, _)| k == kind) {
            continue;
        }
        let value = if field == "program" { ev.program.map(std::borrow::Cow::Borrowed) } else { ev.fields.get(field) };
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            hit.entities.push((kind.clone(), v.to_string()));
        }
    }
}

fn line_of(text: &[u8], at: usize) -> u32 {
    memchr_count(&text[..at.min(text.len())])
}

fn memchr_count(b: &[u8]) -> u32 {
    b.iter().filter(|&&c| c == b'\n').count() as u32
}

fn entities_of(sig: &Signature, re: &Regex, caps: &Captures<'_>) -> Vec<(String, String)> {
    let mut ents = Vec::new();
    for name in re.capture_names().flatten() {
        if name.starts_with('_') {
            continue;
        }
        if let Some(m) = caps.name(name) {
            let v = String::from_utf8_lossy(m.as_bytes()).trim().to_string();
            if !v.is_empty() {
                ents.push((name.to_string(), v));
            }
        }
    }
    for (k, tmpl) in &sig.set {
        let mut dst = Vec::new();
        caps.expand(tmpl.as_bytes(), &mut dst);
        let v = String::from_utf8_lossy(&dst).trim().to_string();
        // A template whose groups did not participate expands to its constant part only; keep the
        // value only when every referenced group matched.
        if !v.is_empty() && template_complete(re, caps, tmpl) {
            ents.push((k.clone(), v));
        }
    }
    ents
}

/// How long before its line the condition of a hit began: the rule's `onset.before`, expanded
/// with the captures (`${_secs}s`) and read as a duration.
fn onset_of(sig: &Signature, re: &Regex, caps: &Captures<'_>) -> Option<i64> {
    let tmpl = sig.onset_before.as_deref()?;
    if !template_complete(re, caps, tmpl) {
        return None;
    }
    let mut dst = Vec::new();
    caps.expand(tmpl.as_bytes(), &mut dst);
    crate::spec::parse_duration(std::str::from_utf8(&dst).ok()?)
}

/// True when every group the template names (`${name}` or `$name`) took part in the match; a group
/// the pattern does not define counts as missing.
fn template_complete(_re: &Regex, caps: &Captures<'_>, tmpl: &str) -> bool {
    let mut rest = tmpl;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let name: &str = if let Some(r) = rest.strip_prefix('{') {
            r.split('}').next().unwrap_or("")
        } else {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            &rest[..end]
        };
        if !name.is_empty()
            && caps.name(name).is_none()
            && name.parse::<usize>().map_or(true, |n| caps.get(n).is_none())
        {
            return false;
        }
    }
    true
}

fn pattern_hits(si: usize, sig: &Signature, re: &Regex, text: &[u8], out: &mut Vec<Hit>) {
    // A pattern that captures nothing, in a rule that computes no names and reads no onset from its
    // captures, gives one hit with no entities: its first match is enough, found without the
    // capturing engines (every later match would be the same hit).
    if re.captures_len() == 1 && sig.set.is_empty() && sig.onset_before.is_none() {
        if let Some(m) = re.find(text) {
            out.push(Hit { sig: si, entities: Vec::new(), line_index: line_of(text, m.start()), before: None });
        }
        return;
    }
    let start = out.len();
    for caps in re.captures_iter(text) {
        let at = caps.get(0).map(|m| m.start()).unwrap_or(0);
        let hit = Hit {
            sig: si,
            entities: entities_of(sig, re, &caps),
            line_index: line_of(text, at),
            before: onset_of(sig, re, &caps),
        };
        if !out[start..].iter().any(|h| h.entities == hit.entities) {
            out.push(hit);
        }
    }
}

/// A state predicate: sections opened by `section`, their `item` lines; with `all`, one hit per
/// section whose items all match it; without, one hit per item line.
fn state_hits(si: usize, sig: &Signature, text: &[u8], out: &mut Vec<Hit>) {
    let Some(st) = &sig.state else { return };
    // (section entities, line, items, all items matched `all`)
    type Open = (Vec<(String, String)>, u32, u32, bool);
    let mut cur: Option<Open> = None;
    let flush = |cur: &mut Option<Open>, out: &mut Vec<Hit>| {
        if let Some((ents, line, items, ok)) = cur.take() {
            if st.all.is_some() && ok && items >= st.min_items {
                out.push(Hit { sig: si, entities: ents, line_index: line, before: None });
            }
        }
    };
    for (ln, line) in text.split(|&c| c == b'\n').enumerate() {
        if let Some(caps) = st.section.captures(line) {
            flush(&mut cur, out);
            cur = Some((entities_of(sig, &st.section, &caps), ln as u32, 0, true));
        } else if let Some(c) = cur.as_mut() {
            if let Some(caps) = st.item.captures(line) {
                c.2 += 1;
                let item_ents = entities_of(sig, &st.item, &caps);
                match &st.all {
                    Some(all) if all.is_match(line) => {
                        for (k, v) in item_ents {
                            if !c.0.iter().any(|(k2, v2)| *k2 == k && *v2 == v) {
                                c.0.push((k, v));
                            }
                        }
                    }
                    Some(_) => c.3 = false,
                    None => {
                        let mut ents = c.0.clone();
                        ents.extend(item_ents);
                        out.push(Hit { sig: si, entities: ents, line_index: ln as u32, before: None });
                    }
                }
            }
        }
    }
    flush(&mut cur, out);
}

// ---- literal extraction ------------------------------------------------------------------------

/// Strings of which any match of `pattern` must contain at least one, or `None` when no such set
/// of useful length exists. The pattern is read as the pack compiles it (`build_regex`: bytes, ASCII
/// classes), so a case-insensitive literal expands to its ASCII cases only.
pub fn necessary_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir =
        regex_syntax::ParserBuilder::new().multi_line(true).utf8(false).unicode(false).build().parse(pattern).ok()?;
    literals_of(&hir)
}

/// [`necessary_literals`] of a pattern's syntax tree.
pub(crate) fn literals_of(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let r = analyse(hir);
    let best = r.best()?;
    if best.iter().any(|l| l.len() < MIN_LITERAL) {
        return None;
    }
    Some(best)
}

#[derive(Debug, Default, Clone)]
struct Req {
    /// Every string the node can match, when that set is finite and small.
    exact: Option<Vec<Vec<u8>>>,
    /// A set of strings one of which every match contains.
    need: Option<Vec<Vec<u8>>>,
    /// A set of non-empty strings one of which every match begins with (`None`: none known).
    prefix: Option<Vec<Vec<u8>>>,
    /// A set of non-empty strings one of which every match ends with.
    suffix: Option<Vec<Vec<u8>>>,
}

fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    (set.iter().map(Vec::len).min().unwrap_or(0), std::cmp::Reverse(set.len()))
}

fn better(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// `set` as a node's first or last strings: `None` when it says nothing (empty, or holding the
/// empty string, which every match begins and ends with).
fn edge(set: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    set.filter(|s| !s.is_empty() && s.iter().all(|l| !l.is_empty()))
}

impl Req {
    fn best(&self) -> Option<Vec<Vec<u8>>> {
        let exact = self.exact.clone().filter(|s| !s.is_empty() && s.iter().all(|l| !l.is_empty()));
        better(exact, self.need.clone())
    }

    /// Strings one of which every match begins with.
    fn starts(&self) -> Option<&Vec<Vec<u8>>> {
        self.exact.as_ref().or(self.prefix.as_ref())
    }

    /// Strings one of which every match ends with.
    fn ends(&self) -> Option<&Vec<Vec<u8>>> {
        self.exact.as_ref().or(self.suffix.as_ref())
    }
}

fn cross(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_VARIANTS {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut v = x.clone();
            v.extend_from_slice(y);
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    Some(out)
}

/// The strings a class matches, when there are at most `max`.
fn class_strings(c: &Class, max: usize) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    match c {
        Class::Unicode(u) => {
            for r in u.ranges() {
                for ch in r.start()..=r.end() {
                    if out.len() >= max {
                        return None;
                    }
                    let mut buf = [0u8; 4];
                    out.push(ch.encode_utf8(&mut buf).as_bytes().to_vec());
                }
            }
        }
        Class::Bytes(b) => {
            for r in b.ranges() {
                for byte in r.start()..=r.end() {
                    if out.len() >= max {
                        return None;
                    }
                    out.push(vec![byte]);
                }
            }
        }
    }
    Some(out)
}

/// Most strings a class may stand for as an exact part of a literal.
const CLASS_EXACT: usize = 4;
/// Most strings a class may stand for at the edge of a repetition (`\s+` has six in ASCII).
const CLASS_EDGE: usize = 8;

/// The strings every match of `subs` (a concatenation) begins with: the exact parts from the left,
/// crossed, then the first strings of the first part that is not exact.
fn concat_edge(rs: &[Req], from_end: bool) -> Option<Vec<Vec<u8>>> {
    let mut acc: Vec<Vec<u8>> = vec![Vec::new()];
    let mut order: Box<dyn Iterator<Item = &Req>> =
        if from_end { Box::new(rs.iter().rev()) } else { Box::new(rs.iter()) };
    for r in &mut order {
        let (part, last) = match (&r.exact, if from_end { r.ends() } else { r.starts() }) {
            (Some(ex), _) => (ex, false),
            (None, Some(edge)) => (edge, true),
            (None, None) => break,
        };
        let joined = if from_end { cross(part, &acc) } else { cross(&acc, part) };
        match joined {
            Some(j) => acc = j,
            None => break,
        }
        if last {
            break;
        }
    }
    edge(Some(acc))
}

fn analyse(h: &Hir) -> Req {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Req { exact: Some(vec![Vec::new()]), ..Req::default() },
        HirKind::Literal(l) => Req {
            exact: Some(vec![l.0.to_vec()]),
            prefix: edge(Some(vec![l.0.to_vec()])),
            suffix: edge(Some(vec![l.0.to_vec()])),
            need: None,
        },
        HirKind::Class(c) => {
            let edges = edge(class_strings(c, CLASS_EDGE));
            Req { exact: class_strings(c, CLASS_EXACT), need: None, prefix: edges.clone(), suffix: edges }
        }
        HirKind::Capture(c) => analyse(&c.sub),
        HirKind::Repetition(r) => {
            let inner = analyse(&r.sub);
            if r.min == 0 {
                Req::default()
            } else if r.min == 1 && r.max == Some(1) {
                inner
            } else {
                Req {
                    exact: None,
                    need: inner.best(),
                    prefix: edge(inner.starts().cloned()),
                    suffix: edge(inner.ends().cloned()),
                }
            }
        }
        HirKind::Concat(subs) => {
            let rs: Vec<Req> = subs.iter().map(analyse).collect();
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut run: Option<Vec<Vec<u8>>> = Some(vec![Vec::new()]);
            let mut all_exact = true;
            for r in &rs {
                match (&run, &r.exact) {
                    (Some(cur), Some(ex)) => match cross(cur, ex) {
                        Some(n) => run = Some(n),
                        None => {
                            best = better(best, run.take().filter(|v| v.iter().all(|l| !l.is_empty())));
                            all_exact = false;
                            run = Some(ex.clone());
                        }
                    },
                    (None, Some(ex)) => run = Some(ex.clone()),
                    (_, None) => {
                        all_exact = false;
                        // What ends before this part, joined to what it begins with (`\s+sd[a-z]`
                        // needs one of six whitespace bytes then `sd`).
                        if let (Some(cur), Some(start)) = (&run, &r.prefix) {
                            best = better(best, edge(cross(cur, start)));
                        }
                        best = better(best, run.take().filter(|v| v.iter().all(|l| !l.is_empty())));
                        best = better(best, r.need.clone());
                        run = r.suffix.clone();
                    }
                }
            }
            let tail = run.filter(|v| v.iter().all(|l| !l.is_empty()));
            let (prefix, suffix) = (concat_edge(&rs, false), concat_edge(&rs, true));
            if all_exact {
                Req { exact: tail.clone().or(Some(vec![Vec::new()])), need: better(best, tail), prefix, suffix }
            } else {
                Req { exact: None, need: better(best, tail), prefix, suffix }
            }
        }
        HirKind::Alternation(subs) => {
            let rs: Vec<Req> = subs.iter().map(analyse).collect();
            let exact = if rs.iter().all(|r| r.exact.is_some()) {
                let mut all: Vec<Vec<u8>> = Vec::new();
                for r in &rs {
                    for l in r.exact.as_ref().expect("checked") {
                        if !all.contains(l) {
                            all.push(l.clone());
                        }
                    }
                }
                (all.len() <= MAX_VARIANTS).then_some(all)
            } else {
                None
            };
            let mut need: Option<Vec<Vec<u8>>> = Some(Vec::new());
            for r in &rs {
                match (need.as_mut(), r.best()) {
                    (Some(n), Some(b)) if b.iter().all(|l| l.len() >= MIN_LITERAL) => {
                        for l in b {
                            if !n.contains(&l) {
                                n.push(l);
                            }
                        }
                    }
                    _ => need = None,
                }
            }
            let union = |edges: &dyn Fn(&Req) -> Option<&Vec<Vec<u8>>>| {
                let mut all: Vec<Vec<u8>> = Vec::new();
                for r in &rs {
                    for l in edge(edges(r).cloned())? {
                        if !all.contains(&l) {
                            all.push(l);
                        }
                    }
                }
                (all.len() <= MAX_VARIANTS).then_some(all)
            };
            Req {
                exact,
                need: need.filter(|n| !n.is_empty() && n.len() <= MAX_VARIANTS * 2),
                prefix: union(&Req::starts),
                suffix: union(&Req::ends),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(p: &str) -> Option<Vec<String>> {
        necessary_literals(p).map(|v| v.into_iter().map(|l| String::from_utf8(l).unwrap()).collect())
    }

    #[test]
    fn extracts_the_longest_required_literal() {
        assert_eq!(
            lits(r"(?P<map>\S+): remaining active paths: 0\b"),
            Some(vec![": remaining active paths: 0".into()])
        );
        assert_eq!(lits(r"Failing path (?P<path>\d+:\d+)"), Some(vec!["Failing path ".into()]));
    }

    #[test]
    fn alternations_union_their_literals() {
        let l = lits(r"(?:INFO: )?task (?P<comm>.+?):\d+ blocked for more than|hung_task: blocked tasks").unwrap();
        assert!(l.contains(&" blocked for more than".to_string()), "{l:?}");
        assert!(l.contains(&"hung_task: blocked tasks".to_string()), "{l:?}");
    }

    #[test]
    fn case_insensitive_expands_small_classes() {
        let l = lits(r"(?i)liveness").unwrap();
        assert!(l.len() <= MAX_VARIANTS && l.iter().all(|x| x.len() >= MIN_LITERAL), "{l:?}");
        assert!(l.contains(&"livene".to_string()) && l.contains(&"LIVENE".to_string()), "{l:?}");
    }

    #[test]
    fn fields_fill_entities_a_capture_did_not_give() {
        use rootline_event::{Format, Provenance};
        let engine = Engine::new(Pack::builtin().expect("the built-in pack compiles"));
        let event = |msg: &str, fields: &[(&str, &str)]| {
            let mut ev = Event::new(Format::K8sEvents, Provenance::new("events.txt", 1, 0));
            ev.set_message(msg.as_bytes());
            for (k, v) in fields {
                ev.fields.push(((*k).into(), (*v).into()));
            }
            ev
        };
        let crash_loop = |ev: &Event| {
            let mut out = Vec::new();
            engine.scan(ev, &mut Scratch::default(), &mut out);
            let si = engine.pack().signatures.iter().position(|s| s.id == "k8s.crash-loop").unwrap();
            out.into_iter().find(|h| h.sig == si).map(|h| h.entities)
        };
        let pod = [("pod", "libvirt-x7k2p"), ("namespace", "openstack"), ("reason", "BackOff")];
        // The message names no pod: the event's fields give it.
        let ents = crash_loop(&event("Back-off restarting failed container", &pod)).unwrap();
        assert!(ents.contains(&("pod".into(), "libvirt-x7k2p".into())), "{ents:?}");
        assert!(ents.contains(&("namespace".into(), "openstack".into())), "{ents:?}");
        assert!(!ents.iter().any(|(k, _)| k == "reason"), "only the named fields: {ents:?}");
        // A capture of the same kind wins over the field.
        let msg = "Back-off restarting failed container libvirt in pod other-pod_ns(5d1c)";
        let ents = crash_loop(&event(msg, &pod)).unwrap();
        assert!(ents.contains(&("pod".into(), "other-pod".into())), "{ents:?}");
        assert!(!ents.contains(&("pod".into(), "libvirt-x7k2p".into())), "{ents:?}");
        // No fields, no entities from them.
        let ents = crash_loop(&event("Back-off restarting failed container", &[])).unwrap();
        assert!(ents.is_empty(), "{ents:?}");
    }

    fn rule(id: &str, extra: &str, matcher: &str) -> crate::compile::Source {
        let text = format!(
            "id: {id}\ntitle: {{en: t, ko: 티}}\nsummary: {{en: s, ko: 에스}}\nseverity: warning\nkind: symptom\n{extra}\
             match:\n{matcher}\ndoc:\n  detects: {{en: x}}\n  matters: {{en: x}}\n  example: x\n  \
             next_steps: {{en: x}}\n  references: [x]\n"
        );
        crate::compile::Source { path: format!("{id}.yaml"), text, builtin: false }
    }

    fn fired(engine: &Engine, ev: &Event) -> Vec<String> {
        let mut out = Vec::new();
        engine.scan(ev, &mut Scratch::default(), &mut out);
        out.iter().map(|h| engine.pack().signatures[h.sig].id.clone()).collect()
    }

    fn event(program: &str, sev: Option<Severity>, msg: &str, fields: &[(&str, &str)]) -> Event {
        use rootline_event::{Format, Provenance};
        let mut ev = Event::new(Format::Plain, Provenance::new("t", 1, 0));
        ev.program = Some(program.into());
        ev.severity = sev;
        ev.set_message(msg.as_bytes());
        for (k, v) in fields {
            ev.fields.push(((*k).into(), (*v).into()));
        }
        ev
    }

    #[test]
    fn a_fallback_stands_back_for_any_other_rule_on_the_same_event() {
        let pack = Pack::compile(vec![
            rule("nova.attach", "", "  patterns: ['Failed to attach volume']"),
            rule(
                "nova.error",
                "fallback: true\n",
                "  program: '^nova'\n  severity: err\n  needs_severity: true\n  patterns: ['^(?:.*?(?P<exception>\\w+Error))?']",
            ),
        ])
        .unwrap();
        let engine = Engine::new(pack);
        // No literal, but only error lines are looked at: not an unfiltered pattern.
        assert!(engine.unfiltered().is_empty());
        let err = Some(Severity::Err);
        assert_eq!(
            fired(&engine, &event("nova.compute.manager", err, "Failed to attach volume", &[])),
            ["nova.attach"]
        );
        assert_eq!(fired(&engine, &event("nova.compute.manager", err, "boom: KeyError", &[])), ["nova.error"]);
        // Never on a line whose level is lower or unknown, nor from another program.
        let warn = Some(Severity::Warning);
        assert!(fired(&engine, &event("nova.compute.manager", warn, "boom: KeyError", &[])).is_empty());
        assert!(fired(&engine, &event("nova.compute.manager", None, "boom: KeyError", &[])).is_empty());
        assert!(fired(&engine, &event("cinder.volume.manager", err, "boom: KeyError", &[])).is_empty());
        // Findings of a fallback say so.
        let ev = event("nova.compute.manager", err, "boom: KeyError", &[]);
        let a = crate::window::run(&engine, [&ev]);
        assert!(a.findings[0].fallback && a.findings[0].has("exception", "KeyError"), "{:?}", a.findings);
    }

    #[test]
    fn a_pattern_without_captures_gives_one_hit_at_its_first_match() {
        let pack =
            Pack::compile(vec![rule("libvirt.eof", "", "  patterns: ['End of file while reading data']")]).unwrap();
        let engine = Engine::new(pack);
        let ev =
            event("libvirtd", None, "start\nEnd of file while reading data: x\nEnd of file while reading data: y", &[]);
        let mut out = Vec::new();
        engine.scan(&ev, &mut Scratch::default(), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].entities.is_empty() && out[0].line_index == 1 && out[0].before.is_none(), "{out:?}");
    }

    #[test]
    fn a_line_a_specific_rule_ruled_out_is_no_fallback_error() {
        let pack = Pack::compile(vec![
            rule(
                "libvirt.lock",
                "",
                "  patterns: ['cannot acquire state change lock']
  unless: ['held by monitor=remoteDispatchDomainMigrate']",
            ),
            rule(
                "libvirt.error",
                "fallback: true
",
                "  severity: err
  patterns: ['virError|libvirtError']",
            ),
        ])
        .unwrap();
        let engine = Engine::new(pack);
        let err = Some(Severity::Err);
        let lock = |holder: &str| {
            event(
                "exporter",
                err,
                &format!("virError(Code=68): cannot acquire state change lock (held by monitor={holder})"),
                &[],
            )
        };
        assert_eq!(fired(&engine, &lock("remoteDispatchDomainBlockStats")), ["libvirt.lock"]);
        assert!(fired(&engine, &lock("remoteDispatchDomainMigratePrepare3Params")).is_empty());
        // A line no specific rule matched still falls back.
        assert_eq!(fired(&engine, &event("exporter", err, "virError(Code=1): internal error", &[])), ["libvirt.error"]);
    }

    #[test]
    fn a_rule_stands_back_for_the_rules_it_yields_to() {
        let fb = "fallback: true\n";
        let pack = Pack::compile(vec![
            rule("libvirt.error", fb, "  severity: err\n  patterns: ['libvirtError: ']"),
            rule(
                "nova.error",
                &format!("{fb}yields_to: [libvirt.error]\n"),
                "  program: '^nova'\n  severity: err\n  needs_severity: true\n  patterns: ['^']",
            ),
        ])
        .unwrap();
        let engine = Engine::new(pack);
        let err = Some(Severity::Err);
        let ev = event("nova.virt.libvirt.driver", err, "libvirtError: internal error", &[]);
        assert_eq!(fired(&engine, &ev), ["libvirt.error"]);
        assert_eq!(fired(&engine, &event("nova.compute.manager", err, "KeyError: 'x'", &[])), ["nova.error"]);
        // A dangling id is a problem of the pack.
        let err =
            Pack::compile(vec![rule("nova.error", "yields_to: [libvirt.nope]\n", "  patterns: ['x+y']")]).unwrap_err();
        assert!(err.to_string().contains("yields_to[0]: no rule has id `libvirt.nope`"), "{err}");
    }

    #[test]
    fn where_filters_on_event_fields() {
        let pack = Pack::compile(vec![rule(
            "k8s.kubelet-error",
            "",
            "  where: {caller: '^(?:prober|remote_runtime)\\.go:'}\n  patterns: ['failed']",
        )])
        .unwrap();
        let engine = Engine::new(pack);
        let caller = |c: &str| event("kubelet", None, "it failed", &[("caller", c)]);
        assert_eq!(fired(&engine, &caller("prober.go:107")), ["k8s.kubelet-error"]);
        assert!(fired(&engine, &caller("kubelet_node_status.go:70")).is_empty());
        assert!(fired(&engine, &event("kubelet", None, "it failed", &[])).is_empty());
    }

    #[test]
    fn no_literal_for_pure_classes() {
        assert_eq!(lits(r"\d+:\d+"), None);
        assert_eq!(lits(r"a|b"), None);
    }

    /// A part that is not exact still tells what it ends and begins with: whitespace then `sd` or
    /// `nvme` is needed where neither alone is long enough.
    #[test]
    fn what_ends_a_part_joins_what_begins_the_next() {
        let l = lits(r"(?m)^[\s|`+-]*(\d+:\d+:\d+:\d+)\s+(sd[a-z]+|nvme\d+(?:c\d+)?n\d+)\s+(\d+:\d+)\s").unwrap();
        assert_eq!(l.len(), 12, "{l:?}");
        assert!(l.contains(&" sd".to_string()) && l.contains(&"\tnvme".to_string()), "{l:?}");
        assert_eq!(lits(r"\) [DRSZTI] \d").map(|l| l.len()), Some(6));
        assert_eq!(lits(r"x+yz"), Some(vec!["xyz".into()]));
        assert_eq!(lits(r"(?:ab|cd)+ef"), Some(vec!["abef".into(), "cdef".into()]));
    }

    /// Every match holds one of the literals: random text over a small alphabet, on patterns that
    /// join parts' edges, repeat, alternate and nest.
    #[test]
    fn every_match_holds_a_literal() {
        // (pattern, the pieces random text is made of)
        let patterns: [(&str, &[&str]); 10] = [
            (r"(?:ax+bb)+cc", &["a", "x", "bb", "cc", "b"]),
            (r"\s+(sd[a-z]+|nvme\d+)\s", &["sd", "nvme", "a", "1", " ", "\t", "\n"]),
            (r"(?:ab|cd)+ef", &["ab", "cd", "e", "f", "c"]),
            (r"a[bc]+dd\s*e", &["a", "b", "c", "dd", "d", " ", "e"]),
            (r"(?:x|yz)(?:qq+|rr)s", &["x", "yz", "q", "r", "s"]),
            (r"\d+:\d+ (sd|dm)-?\d", &["1", "2", ":", " sd", " dm", "-", "s"]),
            (r"(?:a|b)?c{2,3}dd", &["a", "b", "c", "d"]),
            (r"(a|bc)(dd|ef)+g", &["a", "bc", "dd", "ef", "g", "e"]),
            (r"\) [DRS] \d", &[") ", "D", "R", "S", " 1", "x"]),
            (r"^abc|cde$", &["ab", "c", "de", "\n"]),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut with_literals = 0;
        for (p, pieces) in patterns {
            let Some(lits) = necessary_literals(p) else { continue };
            with_literals += 1;
            let re = crate::compile::build_regex(p).expect("compiles");
            let mut matched = 0;
            for _ in 0..30_000 {
                let len = 1 + (next() % 10) as usize;
                let text: Vec<u8> =
                    (0..len).flat_map(|_| pieces[(next() % pieces.len() as u64) as usize].bytes()).collect();
                if re.is_match(&text) {
                    matched += 1;
                    assert!(
                        lits.iter().any(|l| text.windows(l.len()).any(|w| w == l.as_slice())),
                        "{p}: {:?} matches and holds none of {lits:?}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
            assert!(matched > 20, "{p}: {matched} random texts matched");
        }
        assert_eq!(with_literals, patterns.len(), "every pattern here has literals");
    }
}
