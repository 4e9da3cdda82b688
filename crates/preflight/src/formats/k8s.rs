//! Kubernetes manifests: one `probe` item per liveness, readiness or startup probe of every
//! container, in any object that holds a pod spec (Pod, DaemonSet, Deployment, StatefulSet, a
//! List, `kubectl get pod -o yaml|json` output, static pods in /etc/kubernetes/manifests).
//!
//! Defaults when a field is not written are the API's: timeoutSeconds 1, periodSeconds 10,
//! failureThreshold 3 (See: https://github.com/kubernetes/api core/v1/types.go, `Probe`).
//! `window` is about how long a probe that keeps failing takes to make the kubelet act (restart
//! the container for liveness): `timeout + (failure_threshold - 1) * max(period, timeout)` seconds,
//! as the prober starts a probe every period and a probe that hangs lasts its timeout.

use regex::Regex;
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use crate::item::{num_text, Item};

pub const FIELDS: &[&str] =
    &["object", "container", "image", "probe", "type", "command", "timeout", "period", "failure_threshold", "window"];

const PROBES: &[(&str, &str)] =
    &[("livenessProbe", "liveness"), ("readinessProbe", "readiness"), ("startupProbe", "startup")];

fn get<'a>(m: &'a Mapping, k: &str) -> Option<&'a Value> {
    m.get(Value::String(k.to_string()))
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Pod specs' containers with the object they belong to (`DaemonSet/libvirt`).
fn walk<'a>(v: &'a Value, owner: &str, found: &mut Vec<(String, &'a Mapping)>) {
    match v {
        Value::Mapping(m) => {
            let kind = get(m, "kind").and_then(text_of);
            let name =
                get(m, "metadata").and_then(|md| md.as_mapping()).and_then(|md| get(md, "name")).and_then(text_of);
            let owner = match (kind, name) {
                (Some(k), Some(n)) => format!("{k}/{n}"),
                _ => owner.to_string(),
            };
            for key in ["initContainers", "containers"] {
                if let Some(Value::Sequence(cs)) = get(m, key) {
                    for c in cs {
                        if let Some(cm) = c.as_mapping().filter(|cm| get(cm, "name").is_some()) {
                            found.push((owner.clone(), cm));
                        }
                    }
                }
            }
            for (k, val) in m {
                if !matches!(k.as_str(), Some("containers" | "initContainers")) {
                    walk(val, &owner, found);
                }
            }
        }
        Value::Sequence(s) => {
            for x in s {
                walk(x, owner, found);
            }
        }
        Value::Tagged(t) => walk(&t.value, owner, found),
        _ => {}
    }
}

fn key_line(key: &str) -> Regex {
    Regex::new(&format!(r#"^\s*(-\s*)?"?{}"?\s*:"#, regex::escape(key))).expect("a valid pattern")
}

/// The first line at or after `from` (and before `to`) matching `re`.
fn find(lines: &[&str], re: &Regex, from: usize, to: usize) -> Option<usize> {
    (from..to.min(lines.len())).find(|&i| re.is_match(lines[i]))
}

/// Reads the probes of every container in the manifest. Errors (a file that is not YAML or JSON)
/// come back as problems; what could be read before them is kept.
pub fn parse(text: &str, origin: &str) -> (Vec<Item>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut cursor = 0;
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = match Value::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{origin}: not a Kubernetes manifest (YAML or JSON): {e}"));
                break;
            }
        };
        let mut containers = Vec::new();
        walk(&v, "", &mut containers);
        for (owner, c) in containers {
            let name = get(c, "name").and_then(text_of).unwrap_or_default();
            let name_re =
                Regex::new(&format!(r#"^\s*(-\s*)?"?name"?\s*:\s*["']?{}["']?\s*,?\s*$"#, regex::escape(&name)))
                    .expect("a valid pattern");
            let at = find(&lines, &name_re, cursor, lines.len()).unwrap_or(cursor);
            cursor = at;
            for (key, kind) in PROBES {
                let Some(p) = get(c, key).and_then(Value::as_mapping) else { continue };
                let mut it = Item::new("probe");
                it.set("object", owner.as_str()).set("container", name.as_str()).set("probe", *kind);
                it.set("image", get(c, "image").and_then(text_of).unwrap_or_default());
                let exec = get(p, "exec").and_then(Value::as_mapping).and_then(|e| get(e, "command"));
                let ty = if exec.is_some() {
                    "exec"
                } else if get(p, "httpGet").is_some() {
                    "http"
                } else if get(p, "tcpSocket").is_some() {
                    "tcp"
                } else if get(p, "grpc").is_some() {
                    "grpc"
                } else {
                    "unknown"
                };
                it.set("type", ty);
                if let Some(cmd) = exec {
                    let words: Vec<String> = match cmd {
                        Value::Sequence(s) => s.iter().filter_map(text_of).collect(),
                        other => text_of(other).into_iter().collect(),
                    };
                    it.set("command", words.join(" "));
                }
                let num = |k: &str, default: f64| get(p, k).and_then(Value::as_f64).unwrap_or(default);
                let (timeout, period, failures) =
                    (num("timeoutSeconds", 1.0), num("periodSeconds", 10.0), num("failureThreshold", 3.0));
                it.set("timeout", num_text(timeout)).set("period", num_text(period));
                it.set("failure_threshold", num_text(failures));
                it.set("window", num_text(timeout + (failures - 1.0).max(0.0) * period.max(timeout)));
                // The lines: the probe's key, then its command and timeout inside it.
                let pl = find(&lines, &key_line(key), at, lines.len()).unwrap_or(at);
                let next = PROBES
                    .iter()
                    .filter_map(|(k, _)| find(&lines, &key_line(k), pl + 1, pl + 60))
                    .min()
                    .unwrap_or((pl + 60).min(lines.len()));
                it.cite(origin, Some(pl + 1), lines.get(pl).copied().unwrap_or(""));
                for k in ["command", "timeoutSeconds"] {
                    if let Some(l) = find(&lines, &key_line(k), pl + 1, next) {
                        it.cite(origin, Some(l + 1), lines[l]);
                    }
                }
                out.push(it);
            }
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DS: &str = r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: libvirt
  namespace: openstack
spec:
  template:
    spec:
      containers:
        - name: libvirt
          image: registry/libvirt:2025.1
          env:
            - name: LIBVIRT_LOG
              value: "3"
          livenessProbe:
            exec:
              command: ["virsh", "list"]
            timeoutSeconds: 5
            periodSeconds: 10
          readinessProbe:
            exec:
              command:
                - virsh
                - list
        - name: exporter
          image: registry/exporter
          livenessProbe:
            httpGet: {path: /, port: 9000}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
    - name: c
      image: x
"#;

    #[test]
    fn probes_with_defaults_windows_and_lines() {
        let (items, problems) = parse(DS, "/etc/kubernetes/manifests/libvirt.yaml");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(items.len(), 3);
        let l = &items[0];
        assert_eq!(
            (l.get("object"), l.get("container"), l.get("probe")),
            (Some("DaemonSet/libvirt"), Some("libvirt"), Some("liveness"))
        );
        assert_eq!((l.get("type"), l.get("command")), (Some("exec"), Some("virsh list")));
        // 5 s timeout, every 10 s, 3 failures: about 25 s before the restart.
        assert_eq!(
            (l.get("timeout"), l.get("period"), l.get("failure_threshold"), l.get("window")),
            (Some("5"), Some("10"), Some("3"), Some("25"))
        );
        assert_eq!(l.get("line"), Some("15"));
        let cited: Vec<Option<usize>> = l.evidence.iter().map(|e| e.line).collect();
        assert_eq!(cited, [Some(15), Some(17), Some(18)]);
        let r = &items[1];
        // Defaults: 1 s timeout, 10 s period, 3 failures.
        assert_eq!(
            (r.get("probe"), r.get("timeout"), r.get("window"), r.get("line")),
            (Some("readiness"), Some("1"), Some("21"), Some("20"))
        );
        assert_eq!(items[2].get("type"), Some("http"));
        assert_eq!(items[2].get("container"), Some("exporter"));
    }

    #[test]
    fn json_from_kubectl_and_a_broken_file() {
        let j = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"libvirt-abc"},
 "spec":{"containers":[{"name":"libvirt","image":"l",
  "livenessProbe":{"exec":{"command":["/tmp/health-probe.sh","libvirt","liveness"]},"timeoutSeconds":30,"failureThreshold":5}}]}}"#;
        let (items, problems) = parse(j, "pod.json");
        assert!(problems.is_empty());
        assert_eq!(items[0].get("command"), Some("/tmp/health-probe.sh libvirt liveness"));
        assert_eq!(items[0].get("window"), Some("150"));
        let (items, problems) = parse("a: [unclosed", "bad.yaml");
        assert!(items.is_empty());
        assert!(problems[0].starts_with("bad.yaml: not a Kubernetes manifest"), "{problems:?}");
    }
}
