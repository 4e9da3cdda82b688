//! How a file or a command's output becomes items: one parser per format, each naming the fields
//! its items carry (checked when a check file is loaded, so a misspelt field is an error, not a
//! condition that never holds).
//!
//! Every item of a file or an output has `kind`, and `file`, `line` and `text` (the line it was
//! read from); the fields below come on top.

pub mod conf;
mod k8s;
mod multipath;
mod tools;

use crate::item::Item;

/// A way to read text into items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One item per non-empty line.
    Lines,
    /// `key = value`, `key: value` or `key value` lines (iscsid.conf, sysctl.conf).
    Kv,
    /// `[section]` and `key = value` lines (nova.conf and other oslo.config files).
    Ini,
    /// Columns named by a header line (`multipathd show paths`).
    Table,
    /// multipath.conf(5): sections, device and multipath blocks, with derived fields.
    Multipath,
    /// Kubernetes manifests (Pod, DaemonSet, ..., `kubectl get -o yaml|json`): one item per probe.
    K8sProbes,
    /// A libvirt secret definition (`/etc/libvirt/secrets/<uuid>.xml`).
    LibvirtSecret,
    /// `virsh secret-list`.
    VirshSecrets,
    /// `crictl ps -a -o json`, or the `crictl ps` table.
    Crictl,
    /// `nova-status upgrade check` (any `*-status upgrade check` of oslo.upgradecheck).
    UpgradeCheck,
    /// `ceph health detail`.
    CephHealth,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Lines,
        Format::Kv,
        Format::Ini,
        Format::Table,
        Format::Multipath,
        Format::K8sProbes,
        Format::LibvirtSecret,
        Format::VirshSecrets,
        Format::Crictl,
        Format::UpgradeCheck,
        Format::CephHealth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Lines => "lines",
            Format::Kv => "kv",
            Format::Ini => "ini",
            Format::Table => "table",
            Format::Multipath => "multipath",
            Format::K8sProbes => "k8s-probes",
            Format::LibvirtSecret => "libvirt-secret",
            Format::VirshSecrets => "virsh-secrets",
            Format::Crictl => "crictl",
            Format::UpgradeCheck => "upgrade-check",
            Format::CephHealth => "ceph-health",
        }
    }

    pub fn from_name(s: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == s)
    }

    /// The fields its items may carry, beyond `kind`, `file`, `line` and `text`. `None`: any
    /// (a table's columns are named by its header).
    pub fn fields(self) -> Option<&'static [&'static str]> {
        Some(match self {
            Format::Lines => &[],
            Format::Kv => &["key", "value"],
            Format::Ini => &["section", "key", "value"],
            Format::Table => return None,
            Format::Multipath => multipath::FIELDS,
            Format::K8sProbes => k8s::FIELDS,
            Format::LibvirtSecret => &["uuid", "usage", "usage_name"],
            Format::VirshSecrets => &["uuid", "usage"],
            Format::Crictl => tools::CRICTL_FIELDS,
            Format::UpgradeCheck => &["check", "result", "details"],
            Format::CephHealth => &["health", "severity", "code", "summary"],
        })
    }

    /// Reads `text` that came from `origin` (a path, or `command: ARGV`). `now` (seconds since
    /// the epoch) is the moment the state was taken, for ages (`crictl`).
    pub fn parse(self, text: &str, origin: &str, now: i64) -> Parsed {
        self.parse_files(&[(origin.to_string(), text.to_string())], now)
    }

    /// Reads several files of one source (`/etc/multipath.conf` and its `conf.d` snippets) as the
    /// program reads them: multipath merges them into one configuration, other formats read each.
    pub fn parse_files(self, files: &[(String, String)], now: i64) -> Parsed {
        if self == Format::Multipath {
            return Parsed { items: multipath::parse_files(files), problems: Vec::new() };
        }
        let mut p = Parsed::default();
        for (origin, text) in files {
            let (items, problems) = self.parse_one(text, origin, now);
            p.items.extend(items);
            p.problems.extend(problems);
        }
        p
    }

    fn parse_one(self, text: &str, origin: &str, now: i64) -> (Vec<Item>, Vec<String>) {
        let items = match self {
            Format::Lines => conf::lines(text, origin),
            Format::Kv => conf::kv(text, origin),
            Format::Ini => conf::ini(text, origin),
            Format::Table => conf::table(text, origin),
            Format::Multipath => multipath::parse_files(&[(origin.to_string(), text.to_string())]),
            Format::K8sProbes => return k8s::parse(text, origin),
            Format::LibvirtSecret => tools::libvirt_secret(text, origin),
            Format::VirshSecrets => tools::virsh_secrets(text, origin),
            Format::Crictl => return tools::crictl(text, origin, now),
            Format::UpgradeCheck => tools::upgrade_check(text, origin),
            Format::CephHealth => tools::ceph_health(text, origin),
        };
        (items, Vec::new())
    }
}

/// What a source's text gave: its items, and what could not be read (a manifest that is not
/// YAML), said in the check's details rather than dropped.
#[derive(Debug, Default)]
pub struct Parsed {
    pub items: Vec<Item>,
    pub problems: Vec<String>,
}

/// The fields every item of a file or output has.
pub const COMMON_FIELDS: &[&str] = &["kind", "file", "line", "text"];

#[cfg(test)]
mod tests {
    use super::*;

    /// Arbitrary text, and text made of the formats' own pieces shuffled, never makes a parser
    /// panic (a deterministic stream: xorshift, so a failure reproduces).
    #[test]
    fn arbitrary_text_never_panics() {
        const PIECES: &[&str] = &[
            "defaults {",
            "}",
            "{",
            "device {",
            "no_path_retry",
            " queue",
            " 12",
            "\"",
            "#",
            "!",
            "\n",
            " ",
            "=",
            ":",
            "[libvirt]",
            "[",
            "]",
            "- name: x",
            "livenessProbe:",
            "  exec:",
            "    command: [virsh, list]",
            "timeoutSeconds: 99999999999999999999",
            "---",
            "{\"containers\": [",
            "{\"metadata\": {\"attempt\": -1}}",
            "\"createdAt\": \"99999999999999999999999\"",
            "]}",
            "| Check: x",
            "| Result: Warning",
            "| Details: None",
            "+----+",
            "HEALTH_ERR",
            "[ERR] X_Y: z",
            "    detail",
            "<uuid>",
            "</uuid>",
            "<usage type='ceph'>",
            "99999999999999999999 years ago",
            "9999999999999999 years ago",
            "About an hour ago",
            "CONTAINER IMAGE CREATED STATE NAME ATTEMPT POD ID POD",
            "\u{d55c}",
            "\u{1f600}",
            "\t",
            "\r",
            "\0",
        ];
        let mut r = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        for round in 0..1200 {
            let mut s = String::new();
            let n = (next() % 40) as usize;
            for _ in 0..n {
                if round % 3 == 0 {
                    s.push(char::from_u32((next() % 0x2ff) as u32).unwrap_or('x'));
                } else {
                    s.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
                }
            }
            for f in Format::ALL {
                let _ = f.parse(&s, "fuzz", 1_760_356_800);
                let _ = f.parse_files(&[("a".into(), s.clone()), ("b".into(), s.chars().rev().collect())], i64::MAX);
            }
            let _ =
                crate::load::compile(&[crate::load::CheckFile { path: "fuzz.yaml".into(), text: s, builtin: false }]);
        }
    }
}
