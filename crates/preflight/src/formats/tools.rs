//! Outputs of the tools a node runs: libvirt secrets, `crictl`, `*-status upgrade check`,
//! `ceph health detail`.

use std::collections::BTreeMap;

use regex::Regex;

use crate::formats::conf::{cell, columns};
use crate::item::Item;

/// A libvirt secret definition (`/etc/libvirt/secrets/<uuid>.xml`, the file `virsh secret-define`
/// keeps): `<uuid>`, `<usage type='ceph'>`, `<name>`. Only the definition is read; the value is in
/// another file (`<uuid>.base64`) that rootline never opens.
pub fn libvirt_secret(text: &str, origin: &str) -> Vec<Item> {
    let uuid = Regex::new(r"<uuid>\s*([^<\s]+)\s*</uuid>").expect("pattern");
    let usage = Regex::new(r#"<usage\s+type=['"]([^'"]+)['"]"#).expect("pattern");
    let name = Regex::new(r"<name>\s*([^<]*?)\s*</name>").expect("pattern");
    let mut it = Item::new("secret");
    for (i, l) in text.lines().enumerate() {
        if let Some(c) = uuid.captures(l) {
            it.set("uuid", c[1].to_ascii_lowercase());
            it.cite(origin, Some(i + 1), l);
        }
        if let Some(c) = usage.captures(l) {
            it.set("usage", &c[1]);
        }
        if let Some(c) = name.captures(l) {
            it.set("usage_name", &c[1]);
        }
    }
    if it.get("uuid").is_none() {
        return Vec::new();
    }
    vec![it]
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

/// `virsh secret-list`: ` UUID   Usage` then a rule, then `<uuid>   ceph client.nova secret`.
pub fn virsh_secrets(text: &str, origin: &str) -> Vec<Item> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        let (first, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        if is_uuid(first) {
            let mut it = Item::new("secret");
            it.set("uuid", first.to_ascii_lowercase()).set("usage", rest.trim());
            it.cite(origin, Some(i + 1), l);
            out.push(it);
        }
    }
    out
}

pub const CRICTL_FIELDS: &[&str] =
    &["id", "name", "pod", "namespace", "state", "attempt", "created", "age", "restarted_recently", "crashloop"];

/// How long ago a container restarted still counts as recent (the issue of the upgrade: no
/// container restarted in the last hour).
const RECENT: i64 = 3600;

/// `crictl ps -a -o json` (the CRI `ListContainersResponse` as protojson: `metadata.name`,
/// `metadata.attempt`, `state`, `createdAt` in nanoseconds, the pod in `labels`), or the `crictl ps`
/// table (`CONTAINER IMAGE CREATED STATE NAME ATTEMPT POD ID POD`, CREATED as `2 hours ago`).
/// `now` is when the output was taken. A container whose newest attempt has exited after earlier
/// attempts, with no attempt of it running, is in a crash loop (the kubelet's CrashLoopBackOff).
///
/// See: https://github.com/kubernetes-sigs/cri-tools cmd/crictl/util.go (protojson with default
/// values) and container.go (the table's columns); k8s.io/cri-api runtime/v1 api.proto.
pub fn crictl(text: &str, origin: &str, now: i64) -> (Vec<Item>, Vec<String>) {
    let t = text.trim_start();
    let mut items = if t.starts_with('{') {
        match serde_json::from_str::<serde_json::Value>(t) {
            Ok(v) => crictl_json(&v, text, origin, now),
            Err(e) => return (Vec::new(), vec![format!("{origin}: not the JSON of `crictl ps -o json`: {e}")]),
        }
    } else {
        crictl_table(text, origin, now)
    };
    // The newest attempt of each container of each pod.
    let mut newest: BTreeMap<(String, String), (i64, usize)> = BTreeMap::new();
    for (n, it) in items.iter().enumerate() {
        let key = (it.get("pod").unwrap_or("").to_string(), it.get("name").unwrap_or("").to_string());
        let attempt = it.num("attempt").unwrap_or(0.0) as i64;
        let e = newest.entry(key).or_insert((attempt, n));
        if attempt > e.0 {
            *e = (attempt, n);
        }
    }
    let running: Vec<(String, String)> = items
        .iter()
        .filter(|i| i.get("state") == Some("running"))
        .map(|i| (i.get("pod").unwrap_or("").to_string(), i.get("name").unwrap_or("").to_string()))
        .collect();
    for (key, (attempt, n)) in newest {
        let it = &mut items[n];
        let exited = it.get("state") == Some("exited");
        it.flag("crashloop", exited && attempt > 0 && !running.contains(&key));
    }
    for it in &mut items {
        if it.get("crashloop").is_none() {
            it.flag("crashloop", false);
        }
        let recent = it.num("attempt").unwrap_or(0.0) > 0.0 && it.num("age").is_some_and(|a| (a as i64) < RECENT);
        it.flag("restarted_recently", recent);
    }
    (items, Vec::new())
}

fn state_name(s: &str) -> String {
    s.trim_start_matches("CONTAINER_").to_ascii_lowercase()
}

fn crictl_json(v: &serde_json::Value, text: &str, origin: &str, now: i64) -> Vec<Item> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut cursor = 0;
    for c in v["containers"].as_array().into_iter().flatten() {
        let mut it = Item::new("container");
        let id = c["id"].as_str().unwrap_or("");
        it.set("id", id.get(..13).unwrap_or(id));
        it.set("name", c["metadata"]["name"].as_str().unwrap_or(""));
        it.set("attempt", c["metadata"]["attempt"].as_u64().unwrap_or(0).to_string());
        it.set("state", state_name(c["state"].as_str().unwrap_or("unknown")));
        it.set("pod", c["labels"]["io.kubernetes.pod.name"].as_str().unwrap_or(""));
        it.set("namespace", c["labels"]["io.kubernetes.pod.namespace"].as_str().unwrap_or(""));
        // int64 is a string in protojson; accept a number too.
        let created = match &c["createdAt"] {
            serde_json::Value::String(s) => s.parse::<i64>().ok(),
            serde_json::Value::Number(n) => n.as_i64(),
            _ => None,
        };
        if let Some(ns) = created.filter(|ns| *ns > 0) {
            let secs = ns / 1_000_000_000;
            if let Ok(t) = jiff::Timestamp::from_second(secs) {
                it.set("created", t.to_string());
            }
            it.set("age", (now - secs).max(0).to_string());
        }
        // Cite the line of its id in the output.
        let at = (cursor..lines.len()).find(|&i| !id.is_empty() && lines[i].contains(id));
        match at {
            Some(i) => {
                cursor = i;
                it.cite(origin, Some(i + 1), lines[i]);
            }
            None => {
                let summary = format!(
                    "{} {} attempt {}",
                    it.get("name").unwrap_or(""),
                    c["state"].as_str().unwrap_or(""),
                    it.get("attempt").unwrap_or("0")
                );
                it.cite(origin, None, &summary);
            }
        }
        out.push(it);
    }
    out
}

/// `2 hours ago` (go-units HumanDuration) as seconds, the low end of what it may mean.
fn human_age(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches(" ago").to_ascii_lowercase();
    if s.starts_with("less than a second") {
        return Some(0);
    }
    let (n, unit) = s.split_once(' ')?;
    let n: i64 = match n {
        "about" | "a" | "an" => 1,
        _ => n.parse().ok()?,
    };
    let unit = unit.trim_start_matches("a ").trim_start_matches("an ");
    let secs = match unit.trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 7 * 86_400,
        "month" => 30 * 86_400,
        "year" => 365 * 86_400,
        _ => return None,
    };
    Some(n.saturating_mul(secs))
}

fn crictl_table(text: &str, origin: &str, now: i64) -> Vec<Item> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return Vec::new() };
    // `POD ID` is one column: join it before cutting.
    let cols: Vec<(String, usize)> = {
        let raw = columns(header);
        let mut v: Vec<(String, usize)> = Vec::new();
        for (name, start) in raw {
            if name == "id" && v.last().is_some_and(|(n, _)| n == "pod") {
                v.last_mut().expect("just checked").0 = "pod_id".into();
                continue;
            }
            v.push((name, start));
        }
        v
    };
    let col = |l: &str, name: &str| -> String {
        let Some(n) = cols.iter().position(|(c, _)| c == name) else { return String::new() };
        let end = cols.get(n + 1).map(|c| c.1).unwrap_or(usize::MAX);
        cell(l, cols[n].1, end)
    };
    let mut out = Vec::new();
    for (i, l) in lines {
        let mut it = Item::new("container");
        it.set("id", col(l, "container")).set("name", col(l, "name")).set("pod", col(l, "pod"));
        it.set("namespace", col(l, "namespace"));
        it.set("state", state_name(&col(l, "state").to_ascii_uppercase()));
        let attempt = col(l, "attempt");
        it.set("attempt", if attempt.is_empty() { "0".into() } else { attempt });
        if let Some(age) = human_age(&col(l, "created")) {
            it.set("age", age.to_string());
            if let Ok(t) = jiff::Timestamp::from_second(now - age) {
                it.set("created", t.to_string());
            }
        }
        it.cite(origin, Some(i + 1), l);
        out.push(it);
    }
    out
}

/// `nova-status upgrade check` as oslo.upgradecheck prints it: a one-column table whose rows hold
/// `Check: NAME`, `Result: Success|Warning|Failure` and `Details: TEXT` (wrapped, continued on
/// indented lines; `None` when there are none). One `check` item per row.
///
/// See: https://github.com/openstack/oslo.upgradecheck oslo_upgradecheck/upgradecheck.py
/// (`UpgradeCommands.check`: prettytable with hrules=ALL, details wrapped at 60 characters).
pub fn upgrade_check(text: &str, origin: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut cur: Option<Item> = None;
    let mut in_details = false;
    let flush = |cur: &mut Option<Item>, out: &mut Vec<Item>| {
        if let Some(it) = cur.take() {
            out.push(it);
        }
    };
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('+') {
            flush(&mut cur, &mut out);
            in_details = false;
            continue;
        }
        let inner = t.trim_start_matches('|').trim_end_matches('|').trim();
        if let Some(name) = inner.strip_prefix("Check:") {
            flush(&mut cur, &mut out);
            let mut it = Item::new("check");
            it.set("check", name.trim());
            it.cite(origin, Some(i + 1), l);
            cur = Some(it);
            in_details = false;
        } else if let (Some(r), Some(it)) = (inner.strip_prefix("Result:"), cur.as_mut()) {
            it.set("result", r.trim());
            it.cite(origin, Some(i + 1), l);
        } else if let (Some(d), Some(it)) = (inner.strip_prefix("Details:"), cur.as_mut()) {
            let d = d.trim();
            it.set("details", if d == "None" { "" } else { d });
            in_details = true;
        } else if let (true, Some(it)) = (in_details && !inner.is_empty(), cur.as_mut()) {
            let d = format!("{} {inner}", it.get("details").unwrap_or(""));
            it.set("details", d.trim());
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// `ceph health detail`: the `HEALTH_OK|WARN|ERR summary` line (a `status` item), and each check
/// (`[WRN] OSD_DOWN: 1 osds down`, or `OSD_DOWN 1 osds down` before Nautilus) as a `check` item
/// with its indented detail lines as evidence.
///
/// See: https://github.com/ceph/ceph src/mon/health_check.h (`health_check_map_t::dump_summary`,
/// the `[WRN]`/`[ERR]` prefix).
pub fn ceph_health(text: &str, origin: &str) -> Vec<Item> {
    let modern = Regex::new(r"^\[(WRN|ERR|INF)\]\s+([A-Z][A-Z0-9_]+):\s*(.*)$").expect("pattern");
    let legacy = Regex::new(r"^([A-Z][A-Z0-9_]{2,})\s+(.*)$").expect("pattern");
    let mut out: Vec<Item> = Vec::new();
    let mut health = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(rest) = t.strip_prefix("HEALTH_") {
            let (h, summary) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            health = format!("HEALTH_{h}");
            let mut it = Item::new("status");
            it.set("health", health.as_str()).set("summary", summary.trim());
            it.set(
                "severity",
                match h {
                    "ERR" => "ERR",
                    "WARN" => "WRN",
                    _ => "OK",
                },
            );
            it.cite(origin, Some(i + 1), l);
            out.push(it);
            continue;
        }
        let indented = l.starts_with([' ', '\t']);
        if !indented {
            let caps =
                modern.captures(t).map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string())).or_else(|| {
                    legacy.captures(t).map(|c| {
                        let sev = if health == "HEALTH_ERR" { "ERR" } else { "WRN" };
                        (sev.to_string(), c[1].to_string(), c[2].to_string())
                    })
                });
            if let Some((sev, code, summary)) = caps {
                let mut it = Item::new("check");
                it.set("health", health.as_str()).set("severity", sev).set("code", code).set("summary", summary);
                it.cite(origin, Some(i + 1), l);
                out.push(it);
                continue;
            }
        }
        // A detail line belongs to the check above it.
        if let Some(last) = out.last_mut().filter(|it| it.get("kind") == Some("check")) {
            if last.evidence.len() < 6 {
                last.cite(origin, Some(i + 1), l);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirt_secrets_from_xml_and_virsh() {
        let xml = "<secret ephemeral='no' private='no'>\n  <uuid>457EB676-33da-42ec-9a8c-9293d545c337</uuid>\n  <usage type='ceph'>\n    <name>client.nova secret</name>\n  </usage>\n</secret>\n";
        let s = libvirt_secret(xml, "/etc/libvirt/secrets/457eb676.xml");
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].get("uuid"), s[0].get("usage"), s[0].get("usage_name")),
            (Some("457eb676-33da-42ec-9a8c-9293d545c337"), Some("ceph"), Some("client.nova secret"))
        );
        assert_eq!(s[0].get("line"), Some("2"));
        assert!(libvirt_secret("<secret/>", "x").is_empty());
        let list = " UUID                                   Usage\n--------------------------------------------------\n 457eb676-33da-42ec-9a8c-9293d545c337   ceph client.cinder secret\n\n";
        let v = virsh_secrets(list, "command: virsh secret-list");
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].get("uuid"), v[0].get("usage"), v[0].get("line")),
            (Some("457eb676-33da-42ec-9a8c-9293d545c337"), Some("ceph client.cinder secret"), Some("3"))
        );
    }

    #[test]
    fn crictl_json_finds_crash_loops_and_recent_restarts() {
        let now = 1_760_356_800; // 2025-10-13T12:00:00Z
        let ns = |ago: i64| format!("{}", (now - ago) * 1_000_000_000);
        let j = format!(
            r#"{{"containers": [
  {{"id": "753ac7cfab3c11112222", "metadata": {{"name": "libvirt", "attempt": 4}}, "state": "CONTAINER_EXITED", "createdAt": "{}", "labels": {{"io.kubernetes.pod.name": "libvirt-abc", "io.kubernetes.pod.namespace": "openstack"}}}},
  {{"id": "aaaaaaaaaaaa0000", "metadata": {{"name": "libvirt", "attempt": 3}}, "state": "CONTAINER_EXITED", "createdAt": "{}", "labels": {{"io.kubernetes.pod.name": "libvirt-abc"}}}},
  {{"id": "bbbbbbbbbbbb0000", "metadata": {{"name": "nova-compute", "attempt": 1}}, "state": "CONTAINER_RUNNING", "createdAt": "{}", "labels": {{"io.kubernetes.pod.name": "nova-compute-xyz"}}}},
  {{"id": "cccccccccccc0000", "metadata": {{"name": "ovs", "attempt": 2}}, "state": "CONTAINER_RUNNING", "createdAt": {}, "labels": {{"io.kubernetes.pod.name": "ovs-1"}}}}
]}}"#,
            ns(60),
            ns(400),
            ns(1200),
            (now - 86_400) * 1_000_000_000
        );
        let (items, problems) = crictl(&j, "command: crictl ps -a -o json", now);
        assert!(problems.is_empty());
        let by = |id: &str| items.iter().find(|i| i.get("id") == Some(id)).unwrap();
        let lv = by("753ac7cfab3c1");
        assert_eq!(
            (lv.get("state"), lv.get("attempt"), lv.get("age"), lv.get("crashloop")),
            (Some("exited"), Some("4"), Some("60"), Some("yes"))
        );
        assert_eq!(lv.get("namespace"), Some("openstack"));
        assert_eq!(lv.get("line"), Some("2"));
        assert_eq!(by("aaaaaaaaaaaa0").get("crashloop"), Some("no"), "an older attempt is not the loop");
        let nc = by("bbbbbbbbbbbb0");
        assert_eq!((nc.get("restarted_recently"), nc.get("crashloop")), (Some("yes"), Some("no")));
        assert_eq!(by("cccccccccccc0").get("restarted_recently"), Some("no"), "restarted a day ago");
        assert_eq!(by("cccccccccccc0").get("created"), Some("2025-10-12T12:00:00Z"));
        let (_, problems) = crictl("{not json", "x", now);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn crictl_table_with_human_ages() {
        let t = "CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD\n\
                 753ac7cfab3c1       6b2e0b3c6f1a2       About an hour ago   Running             libvirt             5                   0c1d2e3f4a5b6       libvirt-abc\n\
                 1111aaaa2222b       6b2e0b3c6f1a2       20 minutes ago      Running             nova-compute        1                   9a8b7c6d5e4f3       nova-compute-xyz\n";
        let (items, _) = crictl(t, "command: crictl ps", 1_760_356_800);
        assert_eq!(items.len(), 2);
        assert_eq!(
            (items[0].get("name"), items[0].get("pod"), items[0].get("age"), items[0].get("attempt")),
            (Some("libvirt"), Some("libvirt-abc"), Some("3600"), Some("5"))
        );
        assert_eq!(items[0].get("restarted_recently"), Some("no"), "about an hour is not within the hour");
        assert_eq!(
            (items[1].get("age"), items[1].get("restarted_recently"), items[1].get("state")),
            (Some("1200"), Some("yes"), Some("running"))
        );
        assert_eq!(human_age("Less than a second ago"), Some(0));
        assert_eq!(human_age("About a minute ago"), Some(60));
        assert_eq!(human_age("3 days ago"), Some(259_200));
        assert_eq!(human_age("soon"), None);
        assert_eq!(human_age("9999999999999999 years ago"), Some(i64::MAX));
    }

    #[test]
    fn upgrade_check_tables() {
        let t = "+------------------------------------------------------------------+\n\
                 | Upgrade Check Results                                            |\n\
                 +------------------------------------------------------------------+\n\
                 | Check: Cells v2                                                  |\n\
                 | Result: Success                                                  |\n\
                 | Details: None                                                    |\n\
                 +------------------------------------------------------------------+\n\
                 | Check: Older than N-1 computes                                   |\n\
                 | Result: Warning                                                  |\n\
                 | Details: Current Nova version does not support computes older    |\n\
                 |   than Caracal but the minimum compute service level in your     |\n\
                 |   cell is 66.                                                    |\n\
                 +------------------------------------------------------------------+\n";
        let items = upgrade_check(t, "command: nova-status upgrade check");
        assert_eq!(items.len(), 2);
        assert_eq!(
            (items[0].get("check"), items[0].get("result"), items[0].get("details")),
            (Some("Cells v2"), Some("Success"), None)
        );
        assert_eq!(items[1].get("result"), Some("Warning"));
        assert_eq!(
            items[1].get("details"),
            Some("Current Nova version does not support computes older than Caracal but the minimum compute service level in your cell is 66.")
        );
        assert_eq!(items[1].get("line"), Some("8"));
    }

    #[test]
    fn ceph_health_modern_and_legacy() {
        let t = "HEALTH_WARN 1 osds down; Degraded data redundancy\n[WRN] OSD_DOWN: 1 osds down\n    osd.2 (root=default,host=node3) is down\n[WRN] PG_DEGRADED: Degraded data redundancy: 12 pgs degraded\n";
        let items = ceph_health(t, "command: ceph health detail");
        assert_eq!(items.len(), 3);
        assert_eq!(
            (items[0].get("kind"), items[0].get("health"), items[0].get("severity")),
            (Some("status"), Some("HEALTH_WARN"), Some("WRN"))
        );
        assert_eq!((items[1].get("code"), items[1].get("summary")), (Some("OSD_DOWN"), Some("1 osds down")));
        assert_eq!(items[1].evidence.len(), 2, "the detail line is cited");
        let old = ceph_health("HEALTH_ERR 1 full osd(s)\nOSD_FULL 1 full osd(s)\n    osd.3 is full\n", "x");
        assert_eq!((old[1].get("severity"), old[1].get("code")), (Some("ERR"), Some("OSD_FULL")));
        assert_eq!(ceph_health("HEALTH_OK\n", "x")[0].get("severity"), Some("OK"));
    }
}
