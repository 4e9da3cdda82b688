//! `--redact`: host names, IP addresses, volume and instance ids become stable pseudonyms, and secrets
//! and tokens are removed, in every string of the analysis (summaries, entities, evidence lines and
//! paths alike) before anything is rendered.
//!
//! Working on the whole document rather than on the rendered output is what keeps the links valid:
//! evidence is numbered after redaction, so an anchor and its references always agree, and one
//! original always maps to one pseudonym (`host-1`, `ip-2`, `volume-1`, `instance-1`), numbered in
//! order of first appearance in the document so that the same analysis always gives the same names.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::{Captures, Regex};
use serde_json::Value;

struct Patterns {
    secrets: Vec<(Regex, &'static str)>,
    ipv4: Regex,
    ipv6: Regex,
    fqdn: Regex,
    instance_uuid: Regex,
    domain: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        secrets: vec![
            // key=value and key: value forms (`password=x`, `X-Auth-Token: x`, `"token": "x"`).
            (
                Regex::new(
                    r#"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|private[_-]?key|credentials?|auth)(?:["']?\s*[:=]\s*["']?))([^\s"',;&}]+)"#,
                )
                .expect("valid"),
                "${1}[redacted]",
            ),
            (Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}").expect("valid"), "${1} [redacted]"),
            // Credentials in URLs.
            (Regex::new(r"://[^/\s:@]+:[^/\s@]+@").expect("valid"), "://[redacted]@"),
            // JSON web tokens, Keystone Fernet tokens, Ceph keys.
            (Regex::new(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}").expect("valid"), "[redacted]"),
            (Regex::new(r"\bgAAAAA[A-Za-z0-9_-]{40,}=*").expect("valid"), "[redacted]"),
            (Regex::new(r"\bAQ[A-Za-z0-9+/]{36,}={0,2}").expect("valid"), "[redacted]"),
        ],
        ipv4: Regex::new(r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b").expect("valid"),
        // Full or `::`-compressed IPv6 (plain `a:b:c` is a time or a device number, not an address).
        ipv6: Regex::new(r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?\b")
            .expect("valid"),
        fqdn: Regex::new(r"(?i)\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:local|localdomain|lan|internal|corp|intra|home\.arpa)\b")
            .expect("valid"),
        instance_uuid: Regex::new(
            r"(?i)(?:\[instance: |-uuid |instance_uuid[=:] ?)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
        )
        .expect("valid"),
        domain: Regex::new(r"\binstance-[0-9a-f]{8}\b").expect("valid"),
    })
}

/// Pseudonyms for one document.
#[derive(Debug, Default)]
pub struct Redactor {
    names: BTreeMap<String, String>,
    counters: BTreeMap<&'static str, usize>,
    matcher: Option<Regex>,
    /// Host names as mined message templates write them (`s-dcn37-<*>-<*>`), with their pseudonym.
    templated: Vec<(Regex, String)>,
}

impl Redactor {
    fn name(&mut self, original: &str, class: &'static str) {
        if original.is_empty() || self.names.contains_key(original) {
            return;
        }
        let n = self.counters.entry(class).or_default();
        *n += 1;
        self.names.insert(original.to_string(), format!("{class}-{n}"));
    }

    /// Learns what to hide from the analysis: its hosts, volume and instance entities, instance UUIDs
    /// and host names written in its lines.
    pub fn learn(doc: &Value) -> Redactor {
        let p = patterns();
        let mut r = Redactor::default();
        let mut hosts: Vec<String> = Vec::new();
        if let Some(hs) = doc.get("hosts").and_then(Value::as_array) {
            hosts.extend(hs.iter().filter_map(Value::as_str).map(String::from));
        }
        let mut volumes = Vec::new();
        let mut instances = Vec::new();
        let mut strings = Vec::new();
        walk(doc, &mut |key, v| {
            match key {
                Some("host") => hosts.push(v.to_string()),
                Some("volume") => volumes.push(v.to_string()),
                Some("instance" | "domain" | "instance_uuid") => instances.push(v.to_string()),
                _ => {}
            }
            strings.push(v.to_string());
        });
        for s in &strings {
            for m in p.fqdn.find_iter(s) {
                hosts.push(m.as_str().to_string());
            }
            for c in p.instance_uuid.captures_iter(s) {
                instances.push(c[1].to_string());
            }
            for m in p.domain.find_iter(s) {
                instances.push(m.as_str().to_string());
            }
        }
        for h in &hosts {
            // A fully qualified name and its first label are the same host.
            let short = h.split('.').next().unwrap_or(h).to_string();
            r.name(&short, "host");
            let pseudo = r.names[&short].clone();
            if h != &short && !r.names.contains_key(h.as_str()) {
                r.names.insert(h.clone(), pseudo);
            }
        }
        // Template mining (`leads`) replaces varying parts of a name with `<*>`: match each part of a
        // host name as itself or `<*>`, the first part always itself.
        for h in &hosts {
            let short = h.split('.').next().unwrap_or(h);
            let parts: Vec<&str> = short.split('-').collect();
            if parts.len() < 2 {
                continue;
            }
            let mut re = regex::escape(parts[0]);
            for p in &parts[1..] {
                re.push_str(&format!(r"-(?:{}|<\*>)", regex::escape(p)));
            }
            if let Ok(re) = Regex::new(&format!(r"\b{re}")) {
                let pseudo = r.names[short].clone();
                if !r.templated.iter().any(|(x, _)| x.as_str() == re.as_str()) {
                    r.templated.push((re, pseudo));
                }
            }
        }
        for v in &volumes {
            r.name(v, "volume");
        }
        for i in &instances {
            r.name(i, "instance");
        }
        if !r.names.is_empty() {
            let mut keys: Vec<&String> = r.names.keys().collect();
            keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
            let alts: Vec<String> = keys.iter().map(|k| regex::escape(k)).collect();
            r.matcher = Regex::new(&format!(r"(?:^|\b)(?:{})(?:\b|$)", alts.join("|"))).ok();
        }
        r
    }

    /// One string, redacted.
    pub fn text(&mut self, s: &str) -> String {
        let p = patterns();
        let mut out = s.to_string();
        for (re, with) in &p.secrets {
            if re.is_match(&out) {
                out = re.replace_all(&out, *with).into_owned();
            }
        }
        if let Some(m) = &self.matcher {
            let names = &self.names;
            out = m
                .replace_all(&out, |c: &Captures| names.get(&c[0]).cloned().unwrap_or_else(|| c[0].to_string()))
                .into_owned();
        }
        for (re, pseudo) in &self.templated {
            if re.is_match(&out) {
                out = re.replace_all(&out, pseudo.as_str()).into_owned();
            }
        }
        for re in [&p.ipv4, &p.ipv6] {
            if !re.is_match(&out) {
                continue;
            }
            let found: Vec<String> = re.find_iter(&out).map(|m| m.as_str().to_string()).collect();
            for f in found {
                self.name(&f, "ip");
            }
            let names = &self.names;
            out = re
                .replace_all(&out, |c: &Captures| names.get(&c[0]).cloned().unwrap_or_else(|| "ip-?".into()))
                .into_owned();
        }
        out
    }

    /// Every string of the document, redacted in place (object keys are schema names and stay).
    pub fn apply(&mut self, doc: &mut Value) {
        match doc {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|v| self.apply(v)),
            Value::Object(o) => {
                // Entity maps are keyed by kind, but a map keyed by a value would leak it: rename keys
                // that are not plain identifiers.
                let keys: Vec<String> = o.keys().cloned().collect();
                for k in keys {
                    let nk = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        k.clone()
                    } else {
                        self.text(&k)
                    };
                    let mut v = o.remove(&k).unwrap_or(Value::Null);
                    self.apply(&mut v);
                    o.insert(nk, v);
                }
            }
            _ => {}
        }
    }
}

/// Calls `f(key, value)` for every string in the document (`key` is the object key or, for entity
/// arrays, the entity kind).
fn walk(v: &Value, f: &mut dyn FnMut(Option<&str>, &str)) {
    fn go(v: &Value, key: Option<&str>, f: &mut dyn FnMut(Option<&str>, &str)) {
        match v {
            Value::String(s) => f(key, s),
            Value::Array(a) => a.iter().for_each(|x| go(x, key, f)),
            Value::Object(o) => {
                // Alias nodes are `{kind, value}` pairs.
                if let (Some(Value::String(k)), Some(Value::String(val))) = (o.get("kind"), o.get("value")) {
                    f(Some(k), val);
                }
                for (k, x) in o {
                    go(x, Some(k), f);
                }
            }
            _ => {}
        }
    }
    go(v, None, f)
}

/// Redacts a whole analysis document.
pub fn redact(doc: &mut Value) {
    let mut r = Redactor::learn(doc);
    r.apply(doc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ips_and_secrets() {
        let mut doc = serde_json::json!({
            "hosts": ["node7.dc1.local", "s-dc1-com9"],
            "findings": [{"host": "node7", "entities": {"volume": ["4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32"]},
              "evidence": [{"path": "sosreport-node7/var/log/messages", "line": 3,
                "template": "collection on s-dc1-<*> done", "text": "node7 nova: [instance: 9b1c6f3e-2d4a-4e8b-a0c1-7d2e5f6a8b90] volume 4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32 from 10.20.0.15 password=hunter2 X-Auth-Token: gAAAAABxyz node70"}]}]
        });
        redact(&mut doc);
        let s = doc.to_string();
        for gone in
            ["s-dc1", "node7.", "node7 ", "node7/", "10.20.0.15", "hunter2", "gAAAAABxyz", "4f2f8a10", "9b1c6f3e"]
        {
            assert!(!s.contains(gone), "{gone} survived: {s}");
        }
        assert!(s.contains("host-1"), "{s}");
        assert!(s.contains("ip-1"), "{s}");
        assert!(s.contains("volume-1"), "{s}");
        assert!(s.contains("instance-1"), "{s}");
        assert!(s.contains("node70"), "a longer name is another host: {s}");
        assert!(!s.contains("ip-?"));
    }

    #[test]
    fn times_and_device_numbers_are_not_addresses() {
        let mut r = Redactor::default();
        assert_eq!(r.text("19:51:40 Failing path 65:48 on 253:21"), "19:51:40 Failing path 65:48 on 253:21");
        assert_eq!(r.text("fe80::1 and 10.0.0.1 and 10.0.0.1"), "ip-2 and ip-1 and ip-1");
    }
}
