//! deploy/kubernetes: every manifest validated offline against the Kubernetes schemas of 1.29 to
//! 1.33 by kubernetes-validate (PyPI; scripts/setup installs it), the node-conditions overlay's
//! DaemonSet as its patches make it, the kustomizations' references, and the DaemonSet's promises
//! (read-only host mounts, not privileged, every node tolerated, requests and limits).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

use super::support::root;

const VERSIONS: &[&str] = &["1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0"];

fn dir() -> PathBuf {
    root().join("deploy/kubernetes")
}

fn kubernetes_validate() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("kubernetes-validate"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "kubernetes-validate is missing: the manifest test needs it from PyPI; install it with \
                 scripts/setup (or python3 -m pip install kubernetes-validate==1.37.0)"
            )
        })
}

fn load(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .filter(|v| !v.is_null())
        .collect()
}

use serde::Deserialize;

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence().map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Validates `docs` (written to a temporary file) against every version, strictly (unknown fields
/// are errors).
fn validate(name: &str, docs: &[Value]) {
    let tool = kubernetes_validate();
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join(name);
    let text: Vec<String> = docs.iter().map(|d| serde_yaml::to_string(d).unwrap()).collect();
    std::fs::write(&f, text.join("---\n")).unwrap();
    for v in VERSIONS {
        let o = Command::new(&tool).args(["--strict", "--kubernetes-version", v]).arg(&f).output().unwrap();
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{name} against Kubernetes {v}:\n{out}");
        assert_eq!(out.matches(" passed ").count(), docs.len(), "{name} against {v}: every resource checked\n{out}");
    }
}

fn base_resources() -> Vec<(String, Vec<Value>)> {
    let k = &load(&dir().join("kustomization.yaml"))[0];
    strings(&k["resources"]).into_iter().map(|r| (r.clone(), load(&dir().join(&r)))).collect()
}

#[test]
fn every_manifest_is_valid_for_kubernetes_1_29_to_1_33() {
    let mut all = Vec::new();
    for (name, docs) in base_resources() {
        for d in &docs {
            // The namespace is set in one place: the kustomization.
            assert!(d["metadata"]["namespace"].is_null(), "{name} sets its own namespace");
        }
        all.extend(docs);
    }
    let overlay = &load(&dir().join("node-conditions/kustomization.yaml"))[0];
    for r in strings(&overlay["resources"]).iter().filter(|r| *r != "../") {
        all.extend(load(&dir().join("node-conditions").join(r)));
    }
    assert!(all.len() >= 7, "{all:?}");
    validate("manifests.yaml", &all);
}

fn daemonset() -> Value {
    base_resources()
        .into_iter()
        .flat_map(|(_, d)| d)
        .find(|d| d["kind"] == "DaemonSet")
        .expect("a DaemonSet in the kustomization's resources")
}

/// The overlay's DaemonSet: the base one with its strategic-merge patch (containers merged by
/// name) and its JSON patch (an argument appended) applied.
fn overlay_daemonset() -> Value {
    let mut ds = daemonset();
    let patch = &load(&dir().join("node-conditions/daemonset-patch.yaml"))[0];
    let spec = &patch["spec"]["template"]["spec"];
    let pod = ds["spec"]["template"]["spec"].as_mapping_mut().unwrap();
    pod.insert("automountServiceAccountToken".into(), spec["automountServiceAccountToken"].clone());
    let containers = pod.get_mut("containers").unwrap().as_sequence_mut().unwrap();
    for c in spec["containers"].as_sequence().unwrap() {
        assert!(!containers.iter().any(|x| x["name"] == c["name"]), "the patch adds a container, it replaces none");
        containers.push(c.clone());
    }
    let overlay = &load(&dir().join("node-conditions/kustomization.yaml"))[0];
    let json_patch = overlay["patches"].as_sequence().unwrap().iter().find_map(|p| p["patch"].as_str()).unwrap();
    let ops: Value = serde_yaml::from_str(json_patch).unwrap();
    for op in ops.as_sequence().unwrap() {
        assert_eq!(
            (op["op"].as_str(), op["path"].as_str()),
            (Some("add"), Some("/spec/template/spec/containers/0/args/-"))
        );
        containers[0]["args"].as_sequence_mut().unwrap().push(op["value"].clone());
    }
    ds
}

#[test]
fn the_node_conditions_daemonset_is_valid_and_binds_what_it_uses() {
    let ds = overlay_daemonset();
    validate("daemonset-node-conditions.yaml", std::slice::from_ref(&ds));
    let c = &ds["spec"]["template"]["spec"]["containers"];
    assert!(strings(&c[0]["args"]).contains(&"--node-conditions".to_string()));
    let proxy = strings(&c[1]["args"]);
    assert!(proxy.contains(&"proxy".to_string()) && proxy.contains(&"--address=127.0.0.1".to_string()), "{proxy:?}");
    assert!(proxy.contains(&"--port=8001".to_string()), "the agent's --kube-api default is 127.0.0.1:8001: {proxy:?}");
    // The replacements point at bindings that exist, naming the agent's account.
    let rbac = load(&dir().join("node-conditions/rbac.yaml"));
    let overlay = &load(&dir().join("node-conditions/kustomization.yaml"))[0];
    for t in overlay["replacements"][0]["targets"].as_sequence().unwrap() {
        let (kind, name) = (&t["select"]["kind"], &t["select"]["name"]);
        let b = rbac.iter().find(|d| &d["kind"] == kind && &d["metadata"]["name"] == name).expect("target exists");
        assert_eq!(b["subjects"][0]["name"], ds["spec"]["template"]["spec"]["serviceAccountName"]);
    }
    // Least privilege: one verb on one resource each.
    let rules: Vec<(String, String)> = rbac
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
        .flat_map(|d| d["rules"].as_sequence().unwrap().clone())
        .map(|r| (strings(&r["resources"]).join(","), strings(&r["verbs"]).join(",")))
        .collect();
    assert_eq!(
        rules,
        [("nodes/status".to_string(), "patch".to_string()), ("events".to_string(), "create".to_string())]
    );
}

#[test]
fn the_daemonset_keeps_its_promises() {
    let ds = daemonset();
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"], Value::Bool(true));
    assert_eq!(pod["automountServiceAccountToken"], Value::Bool(false));
    assert!(pod["hostNetwork"].is_null(), "no host network");
    assert_eq!(pod["tolerations"][0]["operator"], "Exists", "every node, whatever its taints");
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "rootline", "the image is set in the kustomization");
    let k = &load(&dir().join("kustomization.yaml"))[0];
    assert_eq!(k["images"][0]["name"], "rootline");
    assert!(k["namespace"].as_str().is_some_and(|n| !n.is_empty()));
    let sc = &c["securityContext"];
    assert_eq!(sc["privileged"], Value::Bool(false));
    assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false));
    assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true));
    assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"]);
    assert_eq!(strings(&sc["capabilities"]["add"]), ["SYS_PTRACE", "DAC_READ_SEARCH"]);
    for r in ["requests", "limits"] {
        assert!(c["resources"][r]["cpu"].is_string() && c["resources"][r]["memory"].is_string(), "{r}");
    }
    // Every host path is mounted read-only, but the agent's own bundle directory.
    let volumes = pod["volumes"].as_sequence().unwrap();
    let host: Vec<(&str, &str)> =
        volumes.iter().filter_map(|v| Some((v["name"].as_str()?, v["hostPath"]["path"].as_str()?))).collect();
    for want in ["/proc", "/sys", "/var/log", "/etc/multipath", "/etc/multipath.conf"] {
        assert!(host.iter().any(|(_, p)| *p == want), "{want} not mounted: {host:?}");
    }
    for m in c["volumeMounts"].as_sequence().unwrap() {
        let name = m["name"].as_str().unwrap();
        let path = host.iter().find(|(n, _)| *n == name).map(|(_, p)| *p);
        match path {
            Some("/var/lib/rootline/bundles") => assert!(m["readOnly"].is_null()),
            Some(p) => assert_eq!(m["readOnly"], Value::Bool(true), "{p} must be read-only"),
            None => {}
        }
    }
    // The agent's arguments are ones it takes.
    let args = strings(&c["args"]);
    assert_eq!(args[0], "agent");
    let help = Command::new(env!("CARGO_BIN_EXE_rootline")).args(["agent", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for a in &args[1..] {
        let flag = a.split('=').next().unwrap();
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
            "{flag} is not an agent option"
        );
    }
    assert!(args.iter().any(|a| a.starts_with("--token-file=")), "listening beyond loopback needs a token");
}
