//! The streaming miner: assigns each message to a template in one pass, with bounded memory.
//!
//! A message is tokenised and masked ([`crate::token`]). An exact-sequence cache answers the common
//! case (a line whose masked words were seen before) with one hash lookup. Otherwise the candidates are
//! the templates with the same word count and the same first word when that word is a plain word (any
//! other first word, such as a host or a masked variable, shares one bucket). A keyword (any word left
//! whole by masking, except `key=value` and units) of a template meeting a different keyword means a
//! different event (`VM Paused` vs `VM Resumed`); otherwise the
//! most similar template above [`Config::similarity`] takes the message and turns the positions that
//! differ into wildcards, else the message starts a new template. When [`Config::keyword_variants`]
//! templates differ only by the keyword at one position (user names), that position is a variable
//! and they merge. A template that has
//! just gained a wildcard absorbs the templates of its bucket it now covers (they differed only in
//! variable positions); absorbed ids keep resolving to the survivor through [`Miner::resolve`].
//! A new template whose constant words (in order) equal those of a live template of another word
//! count joins that template's group ([`Config::family_keywords`]): one wildcard spans several words.
//! When more than [`Config::max_templates`] templates are alive, the least recently used are evicted.

use std::collections::HashMap;

use crate::mask::WILDCARD;
use crate::template::{generalise, Slot, Template, TemplateId};
use crate::token::{FxBuild, Token, Tokens};

/// Mining parameters. The defaults are used for every dataset of the benchmark.
#[derive(Clone, Debug)]
pub struct Config {
    /// Share of a template's constant positions a message must match to join it (0..=1).
    pub similarity: f64,
    /// Templates kept alive at most; beyond this the least recently used are evicted.
    pub max_templates: usize,
    /// Words per message considered at most; the rest is one final word.
    pub max_tokens: usize,
    /// Entries of the exact-sequence cache at most (it is emptied when full).
    pub cache_size: usize,
    /// Keep evicted templates for [`Miner::take_evicted`] (for callers that print every template).
    pub keep_evicted: bool,
    /// Distinct keywords seen at one position of otherwise equal templates before that position is
    /// taken as a variable (user names, states) and the templates are merged.
    pub keyword_variants: usize,
    /// Keywords a message needs at least for its template to join a template of another word count
    /// with the same keywords in the same order (a wildcard spanning several words); 0 disables it.
    pub family_keywords: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            similarity: 0.5,
            max_templates: 50_000,
            max_tokens: 128,
            cache_size: 1 << 16,
            keep_evicted: false,
            keyword_variants: 4,
            family_keywords: 2,
        }
    }
}

/// Hash standing for "the first word is a masked variable" in bucket keys.
const VAR_KEY: u64 = 0x9e37_79b9_7f4a_7c15;

struct Cluster {
    t: Template,
    last_used: u64,
    key: (u32, u64),
}

/// A streaming template miner.
///
/// ```
/// use rootline_template::Miner;
/// let mut m = Miner::default();
/// let a = m.observe(b"connect to www.example.com:443 (uid=0)");
/// let b = m.observe(b"connect to mail.example.org:80 (uid=1000)");
/// assert_eq!(m.resolve(a), m.resolve(b));
/// assert_eq!(m.template(b).unwrap().render(), "connect to <*>:<*> (uid=<*>)");
/// ```
pub struct Miner {
    cfg: Config,
    tokens: Tokens,
    slab: Vec<Option<Cluster>>,
    free: Vec<u32>,
    by_id: HashMap<u32, u32, FxBuild>,
    buckets: HashMap<(u32, u64), Vec<u32>, FxBuild>,
    cache: HashMap<u64, (u32, TemplateId), FxBuild>,
    alias: HashMap<u32, u32, FxBuild>,
    /// Templates that differ only by the keyword at one position, keyed by (everything else, position).
    siblings: HashMap<u64, Vec<(u32, TemplateId)>, FxBuild>,
    /// First template seen with a given keyword sequence (see [`Config::family_keywords`]).
    families: HashMap<u64, (u32, TemplateId), FxBuild>,
    live: usize,
    clock: u64,
    next_id: u32,
    evicted: Vec<Template>,
}

impl Default for Miner {
    fn default() -> Self {
        Miner::new(Config::default())
    }
}

impl Miner {
    /// A miner with these parameters.
    pub fn new(cfg: Config) -> Self {
        Miner {
            cfg,
            tokens: Tokens::default(),
            slab: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::default(),
            buckets: HashMap::default(),
            cache: HashMap::default(),
            alias: HashMap::default(),
            siblings: HashMap::default(),
            families: HashMap::default(),
            live: 0,
            clock: 0,
            next_id: 0,
            evicted: Vec::new(),
        }
    }

    /// The parameters in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Number of live templates.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no template was mined yet (or all were evicted).
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The live templates, in no particular order.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.slab.iter().flatten().map(|c| &c.t)
    }

    /// The id `id` now stands for: itself, or the template it was merged into.
    pub fn resolve(&self, mut id: TemplateId) -> TemplateId {
        while let Some(&to) = self.alias.get(&id.0) {
            id = TemplateId(to);
        }
        id
    }

    /// The template `id` (or the one it was merged into); `None` once evicted.
    pub fn template(&self, id: TemplateId) -> Option<&Template> {
        let root = self.resolve(id);
        // A family member whose root was evicted still has its own text.
        let &idx = self.by_id.get(&root.0).or_else(|| self.by_id.get(&id.0))?;
        self.slab[idx as usize].as_ref().map(|c| &c.t)
    }

    /// Templates evicted since the last call (only kept with [`Config::keep_evicted`]).
    pub fn take_evicted(&mut self) -> Vec<Template> {
        std::mem::take(&mut self.evicted)
    }

    /// Assigns `msg` (one line, the message part without its header) to a template and returns its id.
    pub fn observe(&mut self, msg: &[u8]) -> TemplateId {
        self.clock += 1;
        self.tokens.fill(msg, self.cfg.max_tokens);
        let seq = self.tokens.sequence_hash();
        if let Some(&(idx, id)) = self.cache.get(&seq) {
            if let Some(c) = self.slab[idx as usize].as_mut().filter(|c| c.t.id == id) {
                c.t.count += 1;
                c.last_used = self.clock;
                return id;
            }
        }
        let key = bucket_key(&self.tokens.tokens);
        let (idx, changed) = match self.best_match(key) {
            Some(idx) => (idx, self.absorb_message(idx)),
            None => {
                let idx = self.create(key);
                self.join_family(idx);
                match self.merge_siblings(idx, key) {
                    Some(into) => (into, true),
                    None => (idx, false),
                }
            }
        };
        if changed {
            self.absorb_covered(idx, key);
        }
        let c = self.slab[idx as usize].as_mut().expect("live cluster");
        c.t.count += 1;
        c.last_used = self.clock;
        let id = c.t.id;
        if self.cache.len() >= self.cfg.cache_size {
            self.cache.clear();
        }
        self.cache.insert(seq, (idx, id));
        if self.live > self.cfg.max_templates {
            self.evict();
        }
        id
    }

    fn best_match(&self, key: (u32, u64)) -> Option<u32> {
        let cands = self.buckets.get(&key)?;
        let toks = &self.tokens;
        let mut best: Option<(f64, usize, u32)> = None;
        for &idx in cands {
            let c = self.slab[idx as usize].as_ref().expect("bucketed cluster is live");
            let Some(sim) = similarity(&c.t.slots, toks) else { continue };
            if sim < self.cfg.similarity {
                continue;
            }
            let wild = c.t.wildcards();
            let better = match best {
                None => true,
                Some((s, w, _)) => sim > s || (sim == s && wild > w),
            };
            if better {
                best = Some((sim, wild, idx));
            }
        }
        best.map(|(_, _, idx)| idx)
    }

    /// Generalises cluster `idx` to cover the current message; true when a new wildcard appeared.
    fn absorb_message(&mut self, idx: u32) -> bool {
        let toks = &self.tokens;
        let c = self.slab[idx as usize].as_mut().expect("live cluster");
        let mut changed = false;
        for (slot, tok) in c.t.slots.iter_mut().zip(&toks.tokens) {
            let bytes = toks.bytes(tok);
            if slot.wild {
                if !fits(&slot.text, bytes) {
                    slot.text = generalise(&slot.text, bytes);
                }
            } else if slot.hash != tok.hash {
                slot.wild = true;
                slot.text = generalise(&slot.text, bytes);
                changed = true;
            }
        }
        changed
    }

    /// Merges into `idx` every other template of its bucket that it now covers.
    fn absorb_covered(&mut self, idx: u32, key: (u32, u64)) {
        let Some(cands) = self.buckets.get(&key) else { return };
        let into = self.slab[idx as usize].as_ref().expect("live cluster");
        let covered: Vec<u32> = cands
            .iter()
            .copied()
            .filter(|&o| o != idx)
            .filter(|&o| {
                let other = self.slab[o as usize].as_ref().expect("live cluster");
                into.t.slots.iter().zip(&other.t.slots).all(|(a, b)| a.wild || (!b.wild && a.hash == b.hash))
            })
            .collect();
        for o in covered {
            let other = self.remove(o);
            let into = self.slab[idx as usize].as_mut().expect("live cluster");
            into.t.count += other.t.count;
            into.last_used = into.last_used.max(other.last_used);
            let into_id = into.t.id;
            self.union(other.t.id, into_id);
        }
    }

    /// Records template `idx` (just created) among the templates of its bucket that differ from it
    /// only by the keyword at one position. When [`Config::keyword_variants`] such keywords are seen
    /// at one position, it is a variable: they all merge into the oldest, which is returned.
    fn merge_siblings(&mut self, idx: u32, key: (u32, u64)) -> Option<u32> {
        if self.cfg.keyword_variants < 2 {
            return None;
        }
        if self.siblings.len() >= self.cfg.cache_size * 4 {
            self.siblings.clear();
        }
        let c = self.slab[idx as usize].as_ref().expect("live cluster");
        let id = c.t.id;
        let slots = &c.t.slots;
        // A position is only learnt to be a variable beside another keyword (a lone word is not).
        if slots.iter().filter(|s| s.keyword && !s.wild).count() < 2 {
            return None;
        }
        let mut ready: Option<(usize, u64)> = None;
        for p in 0..slots.len() {
            if !slots[p].keyword {
                continue;
            }
            let sig = sibling_signature(key, slots, p);
            let list = self.siblings.entry(sig).or_default();
            list.retain(|&(i, tid)| self.slab[i as usize].as_ref().is_some_and(|c| c.t.id == tid));
            list.push((idx, id));
            if ready.is_none() && list.len() >= self.cfg.keyword_variants {
                ready = Some((p, sig));
            }
        }
        let (p, sig) = ready?;
        let members = self.siblings.remove(&sig).unwrap_or_default();
        let (into, _) = members[0];
        for &(o, _) in &members[1..] {
            let other = self.remove(o);
            let c = self.slab[into as usize].as_mut().expect("live cluster");
            let slot = &mut c.t.slots[p];
            if !slot.wild {
                slot.wild = true;
                slot.text = generalise(&slot.text, &other.t.slots[p].text);
            } else if !fits(&slot.text, &other.t.slots[p].text) {
                slot.text = generalise(&slot.text, &other.t.slots[p].text);
            }
            c.t.count += other.t.count;
            c.last_used = c.last_used.max(other.last_used);
            let into_id = c.t.id;
            self.union(other.t.id, into_id);
        }
        self.absorb_covered(into, key);
        Some(into)
    }

    /// Joins the groups of ids `a` and `b`: `a`'s root now resolves to `b`'s root.
    fn union(&mut self, a: TemplateId, b: TemplateId) {
        let (ra, rb) = (self.resolve(a), self.resolve(b));
        if ra != rb {
            self.alias.insert(ra.0, rb.0);
        }
    }

    /// Links template `idx` (just created from the current message) to a live template of another
    /// word count with the same keywords in the same order: the words between the keywords differ
    /// in number but none is a keyword (`<*> bytes sent` vs `<*> bytes (<*> KB) sent`), so one
    /// wildcard spans several words. Both stay alive (each matches messages of its own word count);
    /// the new one's id resolves to the other's group.
    fn join_family(&mut self, idx: u32) {
        if self.cfg.family_keywords == 0 {
            return;
        }
        let Some(sig) = self.tokens.constant_signature(self.cfg.family_keywords) else { return };
        if self.families.len() >= self.cfg.cache_size * 4 {
            self.families.clear();
        }
        let c = self.slab[idx as usize].as_ref().expect("live cluster");
        let (id, len) = (c.t.id, c.t.slots.len());
        match self.families.get(&sig) {
            Some(&(o, oid)) => {
                let other = self.slab[o as usize].as_ref().filter(|c| c.t.id == oid);
                match other {
                    Some(other) if other.t.slots.len() != len => self.union(id, oid),
                    Some(_) => {}
                    None => {
                        self.families.insert(sig, (idx, id));
                    }
                }
            }
            None => {
                self.families.insert(sig, (idx, id));
            }
        }
    }

    fn create(&mut self, key: (u32, u64)) -> u32 {
        let toks = &self.tokens;
        let slots = toks
            .tokens
            .iter()
            .map(|t| Slot { hash: t.hash, wild: false, keyword: t.keyword, text: toks.bytes(t).into() })
            .collect();
        let id = TemplateId(self.next_id);
        self.next_id += 1;
        let cluster = Cluster { t: Template { id, slots, count: 0 }, last_used: self.clock, key };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(cluster);
                i
            }
            None => {
                self.slab.push(Some(cluster));
                (self.slab.len() - 1) as u32
            }
        };
        self.by_id.insert(id.0, idx);
        self.buckets.entry(key).or_default().push(idx);
        self.live += 1;
        idx
    }

    fn remove(&mut self, idx: u32) -> Cluster {
        let c = self.slab[idx as usize].take().expect("live cluster");
        if let Some(b) = self.buckets.get_mut(&c.key) {
            b.retain(|&i| i != idx);
            if b.is_empty() {
                self.buckets.remove(&c.key);
            }
        }
        self.by_id.remove(&c.t.id.0);
        self.free.push(idx);
        self.live -= 1;
        c
    }

    /// Evicts the least recently used eighth of the templates (amortising the scan).
    fn evict(&mut self) {
        let mut ages: Vec<(u64, u32)> =
            self.slab.iter().enumerate().filter_map(|(i, c)| c.as_ref().map(|c| (c.last_used, i as u32))).collect();
        let n = (ages.len() / 8).max(1);
        ages.select_nth_unstable(n - 1);
        for &(_, idx) in &ages[..n] {
            let c = self.remove(idx);
            if self.cfg.keep_evicted {
                self.evicted.push(c.t);
            }
        }
    }
}

/// The bucket of a message: its word count and its first word (masked variables share one key).
fn bucket_key(tokens: &[Token]) -> (u32, u64) {
    let first = match tokens.first() {
        Some(t) if t.word => t.hash,
        _ => VAR_KEY,
    };
    (tokens.len() as u32, first)
}

/// Hash of a template's bucket and slots with position `p` left out.
fn sibling_signature(key: (u32, u64), slots: &[Slot], p: usize) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::token::FxHasher::default();
    h.write_u32(key.0);
    h.write_u64(key.1);
    h.write_usize(p);
    for (i, s) in slots.iter().enumerate() {
        if i != p {
            h.write_u64(if s.wild { VAR_KEY } else { s.hash });
        }
    }
    h.finish()
}

/// Share of the template's constant positions the message matches (1.0 when it has none), or `None`
/// when a keyword of the template meets a different keyword (a different event).
fn similarity(slots: &[Slot], toks: &Tokens) -> Option<f64> {
    let mut eq = 0u32;
    let mut total = 0u32;
    for (s, t) in slots.iter().zip(&toks.tokens) {
        if s.wild {
            continue;
        }
        total += 1;
        if s.hash == t.hash {
            eq += 1;
        } else if s.keyword && t.keyword {
            return None;
        }
    }
    Some(if total == 0 { 1.0 } else { eq as f64 / total as f64 })
}

/// Whether `word` fits the wildcard pattern `pat` (`user=<*>` fits `user=bob`), so it needs no update.
fn fits(pat: &[u8], word: &[u8]) -> bool {
    match memchr::memmem::find(pat, WILDCARD) {
        Some(i) => {
            let (pre, suf) = (&pat[..i], &pat[i + WILDCARD.len()..]);
            word.len() >= pre.len() + suf.len() && word.starts_with(pre) && word.ends_with(suf)
        }
        None => pat == word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mine(lines: &[&str]) -> (Miner, Vec<TemplateId>) {
        let mut m = Miner::default();
        let ids = lines.iter().map(|l| m.observe(l.as_bytes())).collect();
        (m, ids)
    }

    #[test]
    fn same_event_different_values_share_a_template() {
        let (m, ids) = mine(&[
            "Accepted password for root from 10.0.0.1 port 22 ssh2",
            "Accepted password for root from 10.0.0.2 port 4022 ssh2",
            "Failed password for root from 10.0.0.1 port 22 ssh2",
            "connect to www.example.com:443 via proxy.example.net:8080",
            "connect to mail.example.org:80 via proxy.example.net:8080",
        ]);
        assert_eq!(m.resolve(ids[0]), m.resolve(ids[1]));
        assert_eq!(m.template(ids[0]).unwrap().render(), "Accepted password for root from <*> port <*> ssh2");
        assert_ne!(m.resolve(ids[0]), m.resolve(ids[2]));
        assert_eq!(m.resolve(ids[3]), m.resolve(ids[4]));
        assert_eq!(m.template(ids[3]).unwrap().render(), "connect to <*>:<*> via proxy.example.net:<*>");
    }

    #[test]
    fn different_keywords_are_different_events() {
        let (m, ids) = mine(&[
            "[instance: 42] VM Paused (Lifecycle Event)",
            "[instance: 43] VM Resumed (Lifecycle Event)",
            "[instance: 44] VM Paused (Lifecycle Event)",
        ]);
        assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
        assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
    }

    #[test]
    fn enough_keyword_variants_make_a_variable() {
        let users = ["cyrus", "news", "test", "root", "admin"];
        let lines: Vec<String> = users.iter().map(|u| format!("session opened for user {u} by (uid=0)")).collect();
        let mut m = Miner::default();
        let ids: Vec<_> = lines.iter().map(|l| m.observe(l.as_bytes())).collect();
        // Three variants are still three events; the fourth shows the position is a variable.
        assert!(ids.iter().all(|&id| m.resolve(id) == m.resolve(ids[0])));
        let t = m.template(ids[0]).unwrap();
        assert_eq!(t.render(), "session opened for user <*> by (uid=<*>)");
        assert_eq!(t.count, 5);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn different_events_stay_apart() {
        let (m, ids) =
            mine(&["session opened for user root", "check pass; user unknown", "connection closed by peer root"]);
        assert_eq!(m.len(), 3);
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
    }

    #[test]
    fn a_wildcard_may_span_several_words() {
        let (m, ids) = mine(&[
            "proxy.example.org:5070 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
            "proxy.example.org:5070 close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime 00:02",
            "proxy.example.org:5070 close, 403 bytes sent, 426 bytes received, lifetime <1 sec",
            "www.example.com:80 close, 2933 bytes (2.86 KB) sent, 11721005 bytes (11.1 MB) received, lifetime 02:48",
            "proxy.example.org:5070 open through proxy proxy.example.org:5070 HTTPS",
        ]);
        let root = m.resolve(ids[0]);
        assert!(ids[..4].iter().all(|&id| m.resolve(id) == root));
        assert_ne!(m.resolve(ids[4]), root);
        // Each word count keeps its own template; the group is shown by its first one.
        assert_eq!(m.len(), 4);
        assert_eq!(m.template(ids[1]).unwrap().render(), m.template(ids[0]).unwrap().render());
    }

    #[test]
    fn an_extra_key_value_is_another_event() {
        let (m, ids) = mine(&[
            "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.1",
            "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.1 user=root",
            "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.2 user=admin",
        ]);
        assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
        assert_eq!(m.resolve(ids[1]), m.resolve(ids[2]));
    }

    #[test]
    fn names_without_digits_are_keywords() {
        let (m, ids) = mine(&[
            "processHandleBroadcastAction action:android.intent.action.TIME_TICK",
            "processHandleBroadcastAction action:android.intent.action.SCREEN_ON",
            "processHandleBroadcastAction action:android.intent.action.TIME_TICK",
        ]);
        assert_ne!(m.resolve(ids[0]), m.resolve(ids[1]));
        assert_eq!(m.resolve(ids[0]), m.resolve(ids[2]));
        // A lone word is not learnt to be a variable, however many there are.
        let (m, _) = mine(&["isMusicActive...", "querySoundEffectsEnabled...", "onResume", "onPause", "onStop"]);
        assert_eq!(m.len(), 5);
    }

    #[test]
    fn memory_is_bounded_by_eviction() {
        let mut m = Miner::new(Config { max_templates: 16, keep_evicted: true, ..Config::default() });
        let mut evicted = 0;
        for i in 0..200 {
            let line = format!("event{} kind{} happened", char::from(b'a' + (i % 26) as u8), i / 26);
            m.observe(line.as_bytes());
            evicted += m.take_evicted().len();
        }
        assert!(m.len() <= 16);
        assert!(evicted > 0);
    }
}
