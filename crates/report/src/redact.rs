//! `--redact`: host names, IP addresses, volume and instance ids, storage identifiers (LUN WWIDs,
//! iSCSI and NVMe qualified names, Fibre Channel port names, device serial numbers) become stable
//! pseudonyms, and secrets and tokens are removed, in every string of the analysis (summaries,
//! entities, alias edges, evidence lines and paths alike) before anything is rendered.
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
    /// Storage identifiers, in the order they are replaced (see [`storage_patterns`]).
    storage: Vec<(Regex, StorageKind)>,
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
        storage: storage_patterns(),
    })
}

/// The storage identifier forms [`storage_patterns`] recognises; each says how to name what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StorageKind {
    /// iSCSI qualified name (`iqn.2010-10.org.openstack:volume-…`, `8iqn.…` as a multipath WWID).
    Iqn,
    /// NVMe qualified name (`nqn.2014-08.org.nvmexpress:uuid:…`).
    Nqn,
    /// A LUN's id as the kernel writes it in sysfs `wwid` / `device/wwid` (`naa.`, `eui.`, `t10.`,
    /// `nvme.`, `uuid.`).
    Sysfs,
    /// `0x` and 16 or 32 hex digits: a WWN (`lsblk -o WWN`, FC `port_name`, `node_name`).
    Hex0x,
    /// Eight colon-separated bytes: a FC WWPN/WWNN as HBA drivers, switches and lsscsi print them.
    Colon,
    /// A WWID as multipath-tools and udev's scsi_id write it: the designator type digit, then hex
    /// (`3` NAA, `2` EUI-64).
    TypedHex,
    /// A T10 vendor id WWID (`1` + vendor, product and serial joined by `_`).
    T10Wwid,
    /// A device serial number after its key (`ID_SERIAL=`, `SERIAL="…"`, `Serial Number:`,
    /// `serial=`): the capture group `v`.
    Serial,
}

/// Storage identifiers, by the formats their writers use:
///
/// - Linux SCSI, `drivers/scsi/scsi_lib.c` `scsi_vpd_lun_id()` (sysfs `device/wwid`, VPD page 0x83):
///   `naa.%8phN` / `naa.%16phN` (16 or 32 hex digits), `eui.%8phN` / `%12phN` / `%16phN` (16, 24 or
///   32), `t10.%*pE` (vendor, product and serial as printable text, spaces kept), and a SCSI name
///   string copied as it is (`iqn.…`, `naa.…`, `eui.…`).
/// - Linux NVMe, `drivers/nvme/host/sysfs.c` `wwid_show()`: `uuid.%pU`, `eui.%16phN`, `eui.%8phN`,
///   `nvme.%04x-%*phN-%*phN-%08x` (vendor id, hex serial, hex model, namespace id).
/// - multipath-tools, `libmultipath/discovery.c` `parse_vpd_pg83()` (and udev's `scsi_id`, whose
///   `ID_SERIAL` multipathd takes by default): the designator type as one digit then the id in
///   lowercase hex (`3` NAA: `3600a0980…` 33 characters, `35000c500…` or `333333330000007d0` 17;
///   `2` EUI-64), `8` + a SCSI name string, `1` + a T10 vendor id with its spaces made `_`.
///   `/dev/disk/by-id/dm-uuid-mpath-<wwid>`, `scsi-<wwid>`, `wwn-0x<naa>` carry the same ids.
/// - iSCSI names, RFC 3720 section 3.2.6.3 (open-iscsi's `iscsiadm -m session`, `InitiatorName=` in
///   /etc/iscsi/initiatorname.iscsi, os-brick's `target_iqn`): `iqn.<yyyy-mm>.<reversed domain>[:<name>]`;
///   a by-path name appends `-lun-<n>`, which is not part of the name.
/// - NVMe qualified names, NVM Express Base Specification section 4.5 (nvme-cli's `hostnqn`,
///   `subsysnqn`): `nqn.<yyyy-mm>.<reversed domain>:<name>`, `nqn.2014-08.org.nvmexpress:uuid:<uuid>`;
///   the well-known discovery NQN `nqn.2014-08.org.nvmexpress.discovery` names no one and stays.
/// - Fibre Channel, `drivers/scsi/scsi_transport_fc.c` (`port_name`, `node_name` as `0x%llx`) and
///   HBA drivers, switches and `lsscsi -t` (`50:0a:09:80:8d:4c:6e:5f`): 64-bit names whose first
///   digit is their NAA type (1, 2, 5, 6 or C); `lsblk -o WWN` prints a LUN's NAA as `0x` + hex.
/// - Serial numbers, printed after their key: udev's `ID_SERIAL`, `ID_SERIAL_SHORT`,
///   `ID_SCSI_SERIAL`, lsblk `-P` `SERIAL="…"` and `-J` `"serial": "…"`, smartctl's `Serial Number:`,
///   sg_inq's `Unit serial number:`, multipathd's `serial = …`, qemu's `-device …,serial=…`.
fn storage_patterns() -> Vec<(Regex, StorageKind)> {
    use StorageKind::*;
    let re = |s: &str| Regex::new(s).expect("valid storage pattern");
    // What ends a qualified name: white space, quotes, brackets, separators.
    let name_tail = r#"(?::[^\s,;"'<>()\[\]{}|]+)?"#;
    vec![
        (re(&format!(r"(?i)\b8?iqn\.\d{{4}}-\d{{2}}\.[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?{name_tail}")), Iqn),
        (re(&format!(r"(?i)\bnqn\.\d{{4}}-\d{{2}}\.[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?{name_tail}")), Nqn),
        (
            re(
                r"(?i)\b(?:naa\.(?:[0-9a-f]{32}|[0-9a-f]{16})|eui\.(?:[0-9a-f]{32}|[0-9a-f]{24}|[0-9a-f]{16})|nvme\.[0-9a-f]{4}-[0-9a-f]+-[0-9a-f]+-[0-9a-f]{8}|uuid\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b|\bt10\.[!-~](?:[ -~]*[!-~])?",
            ),
            Sysfs,
        ),
        (re(r"(?i)\b0x(?:6[0-9a-f]{31}|[1256c][0-9a-f]{15})\b"), Hex0x),
        (re(r"(?i)\b[1256c][0-9a-f](?::[0-9a-f]{2}){7}\b"), Colon),
        (re(r"(?i)\b(?:3[0-9a-f]{32}|3[0-9a-f]{16}|2[0-9a-f]{32}|2[0-9a-f]{24}|2[0-9a-f]{16})\b"), TypedHex),
        (re(r"\b1[A-Za-z][A-Za-z0-9-]*_[A-Za-z0-9_.-]*[A-Za-z0-9]\b"), T10Wwid),
        (
            re(
                r#"(?:\b(?:ID_SERIAL(?:_SHORT)?|ID_SCSI_SERIAL|SERIAL)=|(?i:\bserial(?:[ _-]?(?:number|no\.?))\s*[:=]|\bserial\s*=|"serial"\s*:))\s*["']?(?P<v>[A-Za-z0-9][A-Za-z0-9_.:?/+-]*)"#,
            ),
            Serial,
        ),
    ]
}

/// The class and the identity of a storage identifier as found: the same device written in two forms
/// (`36001405f3…` by multipath, `naa.6001405f3…` in sysfs, `0x6001405f3…` by lsblk) has one identity.
fn storage_identity(kind: StorageKind, found: &str) -> Option<(&'static str, String)> {
    let lower = found.to_ascii_lowercase();
    let hex_only = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    Some(match kind {
        StorageKind::Iqn => ("iqn", lower.trim_start_matches('8').to_string()),
        StorageKind::Nqn if lower == "nqn.2014-08.org.nvmexpress.discovery" => return None,
        StorageKind::Nqn => ("nqn", lower),
        StorageKind::Sysfs => match lower.split_once('.') {
            Some(("naa", hex)) => ("wwid", format!("naa:{hex}")),
            Some(("eui", hex)) => ("wwid", format!("eui:{hex}")),
            // T10 ids keep their case; runs of spaces (sysfs) and `_` (multipath) are one separator.
            Some(("t10", _)) => ("wwid", t10_identity(&found[4..])),
            _ => ("wwid", lower),
        },
        StorageKind::Hex0x if lower.len() == 34 => ("wwid", format!("naa:{}", &lower[2..])),
        StorageKind::Hex0x => ("wwn", format!("naa:{}", &lower[2..])),
        StorageKind::Colon => ("wwn", format!("naa:{}", lower.replace(':', ""))),
        // A 17- or 33-digit run of decimal digits is a number, not an id.
        StorageKind::TypedHex if lower.bytes().all(|b| b.is_ascii_digit()) => return None,
        StorageKind::TypedHex if lower.starts_with('3') => ("wwid", format!("naa:{}", &lower[1..])),
        StorageKind::TypedHex => ("wwid", format!("eui:{}", &lower[1..])),
        StorageKind::T10Wwid if found.len() < 12 || hex_only(&found[1..]) => return None,
        StorageKind::T10Wwid => ("wwid", t10_identity(&found[1..])),
        StorageKind::Serial => ("serial", found.to_string()),
    })
}

/// True for what redaction writes (`wwid-3`, `host-1`), which is never redacted again.
fn is_pseudonym(s: &str) -> bool {
    s.split_once('-').is_some_and(|(class, n)| {
        matches!(class, "wwid" | "wwn" | "iqn" | "nqn" | "serial" | "host" | "ip" | "volume" | "instance")
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

fn t10_identity(s: &str) -> String {
    let words: Vec<&str> = s.split([' ', '_']).filter(|w| !w.is_empty()).collect();
    format!("t10:{}", words.join("_"))
}

/// Pseudonyms for one document.
#[derive(Debug, Default)]
pub struct Redactor {
    names: BTreeMap<String, String>,
    counters: BTreeMap<&'static str, usize>,
    matcher: Option<Regex>,
    /// Host names as mined message templates write them (`s-dcn37-<*>-<*>`), with their pseudonym.
    templated: Vec<(Regex, String)>,
    /// Storage identifiers by identity ([`storage_identity`]), with their pseudonym.
    storage: BTreeMap<(&'static str, String), String>,
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
        let mut wwids = Vec::new();
        let mut strings = Vec::new();
        walk(doc, &mut |key, v| {
            match key {
                Some("host") => hosts.push(v.to_string()),
                Some("volume") => volumes.push(v.to_string()),
                Some("wwid") => wwids.push(v.to_string()),
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
        // A WWID captured by a rule or the alias graph in a form no pattern knows (a vendor's own) is
        // hidden as itself wherever it appears.
        let p = patterns();
        for w in &wwids {
            let known = p.storage.iter().any(|(re, _)| re.find(w).is_some_and(|m| m.len() == w.len()));
            if !known && w.len() >= 8 {
                r.name(w, "wwid");
            }
        }
        if !r.names.is_empty() {
            let mut keys: Vec<&String> = r.names.keys().collect();
            keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
            let alts: Vec<String> = keys.iter().map(|k| regex::escape(k)).collect();
            r.matcher = Regex::new(&format!(r"(?:^|\b)(?:{})(?:\b|$)", alts.join("|"))).ok();
        }
        r
    }

    /// The pseudonym of a storage identifier (`wwid-1`), named on first sight; `None` when what was
    /// found is no identifier after all.
    fn storage_name(&mut self, kind: StorageKind, found: &str) -> Option<String> {
        let (class, identity) = storage_identity(kind, found)?;
        // A serial that is also a known name (cinder gives a volume's id as its disk serial) keeps
        // that name: one original, one pseudonym.
        if class == "serial" {
            if let Some(n) = self.names.get(found) {
                return Some(n.clone());
            }
            // A serial that is a WWID (`ID_SERIAL=3600a0980…`) was named a moment ago as such.
            if is_pseudonym(found) {
                return None;
            }
        }
        // A 64-bit name seen first as a FC port keeps `wwn-N` when a LUN id of the same NAA shows up.
        let key = (class, identity.clone());
        let alias = if class == "wwn" { ("wwid", identity.clone()) } else { ("wwn", identity) };
        if let Some(n) = self.storage.get(&key).or_else(|| self.storage.get(&alias)) {
            return Some(n.clone());
        }
        let n = self.counters.entry(class).or_default();
        *n += 1;
        let name = format!("{class}-{n}");
        self.storage.insert(key, name.clone());
        Some(name)
    }

    /// Replaces every storage identifier in `s` by its pseudonym.
    fn storage_ids(&mut self, s: String) -> String {
        let mut out = s;
        for (re, kind) in &patterns().storage {
            if !re.is_match(&out) {
                continue;
            }
            let mut next = String::with_capacity(out.len());
            let mut last = 0;
            for c in re.captures_iter(&out) {
                let whole = c.get(0).expect("match");
                let m = c.name("v").unwrap_or(whole);
                let mut found = m.as_str();
                let mut end = m.end();
                match kind {
                    // A by-path name (`...-iscsi-<iqn>-lun-1`) appends the LUN; a sentence may end on a dot.
                    StorageKind::Iqn | StorageKind::Nqn => {
                        if let Some(i) =
                            found.rfind("-lun-").filter(|i| found[i + 5..].bytes().all(|b| b.is_ascii_digit()))
                        {
                            found = &found[..i];
                        }
                        found = found.trim_end_matches('.');
                        end = m.start() + found.len();
                    }
                    // Eight bytes only: a longer colon-separated run is something else.
                    StorageKind::Colon => {
                        let after = &out[m.end()..];
                        let before = &out[..m.start()];
                        if after.starts_with(':') || before.ends_with(':') {
                            continue;
                        }
                    }
                    _ => {}
                }
                let Some(name) = self.storage_name(*kind, found) else { continue };
                next.push_str(&out[last..m.start()]);
                next.push_str(&name);
                last = end;
            }
            next.push_str(&out[last..]);
            out = next;
        }
        out
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
        // Storage ids first: an IQN or a serial may hold a volume id or a host name, and is replaced
        // whole.
        out = self.storage_ids(out);
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
                // A WWID is alphanumeric too, so every key goes through the same replacement (schema
                // names are left as they are by it).
                let keys: Vec<String> = o.keys().cloned().collect();
                for k in keys {
                    let nk = self.text(&k);
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

/// Redacts a whole analysis document and a text rendered from it (the terminal output), with the
/// same pseudonyms: what the document calls `wwid-1` the text calls `wwid-1` too.
pub fn redact_with_text(doc: &mut Value, text: &str) -> String {
    let mut r = Redactor::learn(doc);
    r.apply(doc);
    r.text(text)
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

    /// Every form a LUN, a port or a disk is named in, each one identity one pseudonym, whatever the
    /// form it is written in.
    #[test]
    fn storage_ids_in_every_form_are_replaced_consistently() {
        let mut r = Redactor::default();
        let lines = [
            // multipath -ll and multipathd, by-id links, sysfs, lsblk (one NAA-6 LUN in five forms).
            "mpathb (36001405f3a8e0b1c2d3e4f5a6b7c8d9e) dm-21 LIO-ORG,TCMU device",
            "/dev/disk/by-id/dm-uuid-mpath-36001405f3a8e0b1c2d3e4f5a6b7c8d9e -> ../../dm-21",
            "/sys/block/sds/device/wwid: naa.6001405f3a8e0b1c2d3e4f5a6b7c8d9e",
            "sds  1G  0x6001405f3a8e0b1c2d3e4f5a6b7c8d9e",
            "NAME=\"sdt\" WWN=\"0x6001405F3A8E0B1C2D3E4F5A6B7C8D9E\"",
            // NetApp: the WWID carries the array's serial number.
            "3600a098038303053453f463045535a74: remaining active paths: 0",
            // NAA-3 (lab) in the multipath and the sysfs form.
            "mpatha (333333330000007d0) dm-0 LABSAN,VDISK-MP / sda: wwid=naa.33333330000007d0",
            // EUI-64 and T10 vendor ids, multipath and sysfs forms.
            "mpathc (2002538b471b2e5a1) dm-3",
            "eui.002538b471b2e5a1",
            "mpathd (1ATA_QEMU_HARDDISK_QM00005) dm-4",
            "wwid: t10.ATA     QEMU HARDDISK                           QM00005",
            // NVMe namespace ids.
            "nvme0n1 wwid eui.00000000000000008ce38ee2052d1001 and nvme.1b36-6465616462656566-51454d55204e564d65204374726c-00000001",
            "uuid.6bd5b4b5-9c2d-4f6e-8a1b-2c3d4e5f6a7b",
            // iSCSI: target and initiator names; a by-path link with its LUN.
            "Target: iqn.2010-10.org.openstack:volume-4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32 (non-flash)",
            "InitiatorName=iqn.1994-05.com.redhat:a1b2c3d4e5f6",
            "/dev/disk/by-path/ip-10.0.0.5:3260-iscsi-iqn.2010-10.org.openstack:volume-4f2f8a10-6c3e-4b7d-9e21-0a5b7c9d1e32-lun-1",
            // NVMe qualified names; the discovery NQN names no one.
            "hostnqn nqn.2014-08.org.nvmexpress:uuid:4c4c4544-0035-4b10-8038-b4c04f4b4e32 subsysnqn nqn.1992-08.com.netapp:sn.0123456789abcdef:subsystem.nvme1",
            "connecting to nqn.2014-08.org.nvmexpress.discovery",
            // Fibre Channel port names.
            "port_name 0x500a09808d4c6e5f node_name 0x500a09800d4c6e5f",
            "qla2xxx [0000:41:00.0]-500a:7: LOOP UP detected. rport 50:0a:09:80:8d:4c:6e:5f",
            // Serial numbers as udev, lsblk, smartctl, sg_inq, multipathd and qemu print them.
            "E: ID_SERIAL_SHORT=PHYF81234567 ID_SCSI_SERIAL=800SE?F0ESZt",
            "NAME=\"sda\" SERIAL=\"S4EVNF0M123456\"",
            "{\"name\": \"sdb\", \"serial\": \"WD-WX12A3456789\"}",
            "Serial Number:    S4EVNF0M123456",
            "Unit serial number: 800SE?F0ESZt",
            "sda: serial = 800SE?F0ESZt",
            "E: ID_SERIAL=3600a098038303053453f463045535a74",
        ];
        let out: Vec<String> = lines.iter().map(|l| r.text(l)).collect();
        let all = out.join("\n");
        for gone in [
            "6001405f3a8e0b1c2d3e4f5a6b7c8d9e",
            "6001405F3A8E0B1C2D3E4F5A6B7C8D9E",
            "600a098038303053453f463045535a74",
            "33333330000007d0",
            "002538b471b2e5a1",
            "QM00005",
            "8ce38ee2052d1001",
            "6465616462656566",
            "6bd5b4b5",
            "iqn.",
            "4f2f8a10",
            "a1b2c3d4e5f6",
            "4c4c4544",
            "0123456789abcdef",
            "500a0980",
            "50:0a:09",
            "PHYF81234567",
            "800SE?F0ESZt",
            "S4EVNF0M123456",
            "WD-WX12A3456789",
        ] {
            assert!(!all.contains(gone), "{gone} survived:\n{all}");
        }
        // One LUN, one name, in all five forms.
        for l in &out[..5] {
            assert!(l.contains("wwid-1"), "{l}");
        }
        assert!(out[6].contains("(wwid-3)") && out[6].contains("wwid=wwid-3"), "{}", out[6]);
        assert_eq!(out[7], "mpathc (wwid-4) dm-3");
        assert_eq!(out[8], "wwid-4", "EUI-64 in both forms");
        assert_eq!(out[9], "mpathd (wwid-5) dm-4");
        assert_eq!(out[10], "wwid: wwid-5", "T10 id in both forms");
        assert!(out[13].starts_with("Target: iqn-1 (non-flash)"), "{}", out[13]);
        assert!(out[15].ends_with("-iscsi-iqn-1-lun-1"), "the same target through its by-path name: {}", out[15]);
        assert!(out[14].contains("InitiatorName=iqn-2"), "{}", out[14]);
        assert!(out[16].contains("nqn-1") && out[16].contains("nqn-2"), "{}", out[16]);
        assert!(out[17].contains("nqn.2014-08.org.nvmexpress.discovery"), "{}", out[17]);
        assert_eq!(out[18], "port_name wwn-1 node_name wwn-2");
        assert!(out[19].ends_with("rport wwn-1"), "one port in both forms: {}", out[19]);
        assert!(out[20].contains("ID_SERIAL_SHORT=serial-1") && out[20].contains("ID_SCSI_SERIAL=serial-2"));
        assert!(out[23].contains("serial-3") && out[21].contains("serial-3"), "{}\n{}", out[21], out[23]);
        assert!(out[24].ends_with("serial-2") && out[25].ends_with("serial-2"));
        assert_eq!(out[26], "E: ID_SERIAL=wwid-2", "a WWID as the serial keeps its WWID name");
    }

    #[test]
    fn storage_patterns_leave_numbers_addresses_and_prose_alone() {
        let mut r = Redactor::default();
        for keep in [
            "BIOS-e820: [mem 0x000000003ffe0000-0x000000003fffffff] reserved",
            "Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled",
            "serial8250: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A",
            "sd 7:0:0:1: [sdk] 2097152 512-byte logical blocks: (1.07 GB/1.00 GiB)",
            "took 30000000000000000 ns",
            "ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff",
            "container 753ac7cfab3c9d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90 exited",
            "1st_run done",
        ] {
            assert_eq!(r.text(keep), keep);
        }
    }

    /// The analysis's own names (entities, alias nodes, object keys) and its evidence lines agree.
    #[test]
    fn a_wwid_is_one_pseudonym_across_the_document() {
        let mut doc = serde_json::json!({
            "findings": [{"entities": {"map": ["3600a098038303053453f463045535a74"], "wwid": ["VENDOR-LUN-0042-XYZ"]},
              "evidence": [{"path": "var/log/messages", "line": 9, "text": "3600a098038303053453f463045535a74: remaining active paths: 0 (VENDOR-LUN-0042-XYZ)"}]}],
            "aliases": [{"edges": [{"a": {"kind": "wwid", "value": "3600a098038303053453f463045535a74"}, "b": {"kind": "map", "value": "mpathb"}}]}],
            "by_wwid": {"3600a098038303053453f463045535a74": 1}
        });
        let text = redact_with_text(&mut doc, "map 3600a098038303053453f463045535a74 and VENDOR-LUN-0042-XYZ");
        let s = doc.to_string();
        assert!(!s.contains("3600a0980") && !s.contains("VENDOR-LUN"), "{s}");
        assert_eq!(doc["findings"][0]["entities"]["map"][0], doc["aliases"][0]["edges"][0]["a"]["value"]);
        let name = doc["aliases"][0]["edges"][0]["a"]["value"].as_str().unwrap().to_string();
        assert!(doc["findings"][0]["evidence"][0]["text"].as_str().unwrap().starts_with(&format!("{name}: ")));
        assert!(doc["by_wwid"].get(&name).is_some(), "{s}");
        assert!(text.starts_with(&format!("map {name} and ")) && !text.contains("VENDOR"), "{text}");
    }

    #[test]
    fn times_and_device_numbers_are_not_addresses() {
        let mut r = Redactor::default();
        assert_eq!(r.text("19:51:40 Failing path 65:48 on 253:21"), "19:51:40 Failing path 65:48 on 253:21");
        assert_eq!(r.text("fe80::1 and 10.0.0.1 and 10.0.0.1"), "ip-2 and ip-1 and ip-1");
    }
}
