//! The fleet's side: `/summary` pulled from many agents in parallel, each under a timeout, and read
//! back into the summaries `rootline_fleet::contrast` ranks. An agent that does not answer, answers
//! an error or something that is not a summary is reported with why, never dropped.
//!
//! Plain `http://` only (the agents serve no TLS): across networks put the agents behind a proxy
//! that terminates TLS, or reach them inside the cluster network.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rootline_event::Severity;
use rootline_fleet::node::{FirstFault, Inputs, NodeSummary, Phase, SigCount, TplInfo, Version};
use rootline_rules::{Evidence, Kind};
use serde_json::Value;

/// Most bytes read of one answer.
pub const MAX_BODY: usize = 64 << 20;

/// An agent's address, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// With the query, as sent.
    pub path: String,
}

/// Parses `http://HOST[:PORT][/PATH]` (PATH defaults to `/summary`; port to 9469).
pub fn parse_url(s: &str) -> Result<Url, String> {
    let rest = match s.split_once("://") {
        Some(("http", r)) => r,
        Some((scheme, _)) => {
            return Err(format!(
            "{s}: only http:// is spoken (not {scheme}://); reach agents inside the cluster network or through a proxy"
        ))
        }
        None => s,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err(format!("{s}: no host"));
    }
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        let (h, after) = h.split_once(']').ok_or_else(|| format!("{s}: unclosed [ in the address"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => p.parse().map_err(|_| format!("{s}: `{p}` is not a port"))?,
        None => 9469,
    };
    let path = if path.is_empty() || path == "/" { "/summary".to_string() } else { path.to_string() };
    Ok(Url { host, port, path })
}

/// `GET url` with a bearer token, under `timeout` for connecting, sending and reading each.
pub fn get(url: &Url, token: Option<&str>, timeout: Duration) -> Result<Vec<u8>, String> {
    let (status, b) = request("GET", url, token, None, timeout)?;
    if status != 200 {
        let msg = String::from_utf8_lossy(&b[..b.len().min(300)]).trim().to_string();
        return Err(format!("HTTP {status}: {msg}"));
    }
    Ok(b)
}

/// One HTTP/1.1 exchange (`Connection: close`): the status and the body. `body` is
/// (content type, bytes).
pub fn request(
    method: &str,
    url: &Url,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", url.host))?
        .collect();
    let mut last = format!("{} has no address", url.host);
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    let mut s = stream.ok_or(last)?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let host = if url.host.contains(':') { format!("[{}]", url.host) } else { url.host.clone() };
    let mut req = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}:{}\r\nAccept: application/json\r\nConnection: close\r\nUser-Agent: rootline/{}\r\n",
        url.path,
        url.port,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some((ct, b)) = body {
        req.push_str(&format!("Content-Type: {ct}\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    if let Some((_, b)) = body {
        bytes.extend_from_slice(b);
    }
    s.write_all(&bytes).map_err(|e| format!("sending the request: {e}"))?;
    let mut answer = Vec::new();
    s.take(MAX_BODY as u64 + 64 * 1024).read_to_end(&mut answer).map_err(|e| format!("reading the answer: {e}"))?;
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or("the answer is not HTTP")?;
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut b = answer.split_off(end + 4);
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("the answer is not HTTP: {}", head.lines().next().unwrap_or("")))?;
    let field = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    if field("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        b = dechunk(&b)?;
    } else if let Some(n) = field("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if b.len() < n {
            return Err(format!("the answer was cut: {} of {n} bytes", b.len()));
        }
        b.truncate(n);
    }
    if b.len() > MAX_BODY {
        return Err(format!("the answer is larger than {} MiB", MAX_BODY >> 20));
    }
    Ok((status, b))
}

/// The body of a `Transfer-Encoding: chunked` answer (RFC 9112, section 7.1): hex sizes, each
/// chunk, a zero-size chunk at the end (trailers ignored).
pub fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").ok_or("a chunked answer was cut")?;
        let line = std::str::from_utf8(&b[..eol]).map_err(|_| "a bad chunk size")?;
        let hex = line.split(';').next().unwrap_or("").trim();
        let n = usize::from_str_radix(hex, 16).map_err(|_| format!("a bad chunk size `{hex}`"))?;
        b = &b[eol + 2..];
        if n == 0 {
            return Ok(out);
        }
        if b.len() < n + 2 || out.len() + n > MAX_BODY {
            return Err("a chunked answer was cut or is too large".into());
        }
        out.extend_from_slice(&b[..n]);
        b = &b[n + 2..];
    }
}

/// One agent's answer.
#[derive(Debug)]
pub struct Pulled {
    /// As given.
    pub agent: String,
    pub result: Result<NodeSummary, String>,
    pub elapsed_ms: u64,
}

/// Pulls `/summary` (with `query`, e.g. `since=...&until=...`) from every agent, `parallel` at a
/// time, each under `timeout` (name resolution included). Results in the order given.
pub fn pull_all(
    agents: &[String],
    query: &str,
    token: Option<&str>,
    timeout: Duration,
    parallel: usize,
) -> Vec<Pulled> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..parallel.clamp(1, 256).min(agents.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(agent) = agents.get(i) else { break };
                let _ = tx.send((i, pull_one(agent, query, token, timeout)));
            });
        }
    });
    drop(tx);
    let mut out: Vec<(usize, Pulled)> = rx.into_iter().collect();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, p)| p).collect()
}

fn pull_one(agent: &str, query: &str, token: Option<&str>, timeout: Duration) -> Pulled {
    let started = Instant::now();
    let result = (|| {
        let mut url = parse_url(agent)?;
        if !query.is_empty() {
            url.path.push(if url.path.contains('?') { '&' } else { '?' });
            url.path.push_str(query);
        }
        // Resolution and the exchange run on a thread of their own: std cannot time out a name
        // lookup, so a lookup that hangs is abandoned at the deadline, not waited on.
        let (tx, rx) = mpsc::channel();
        let token = token.map(str::to_string);
        std::thread::Builder::new()
            .name("pull".into())
            .spawn(move || {
                let _ = tx.send(get(&url, token.as_deref(), timeout));
            })
            .map_err(|e| e.to_string())?;
        let body = match rx.recv_timeout(timeout * 3 + Duration::from_secs(1)) {
            Ok(r) => r?,
            Err(_) => return Err(format!("no answer within {:.0} s", (timeout * 3).as_secs_f64())),
        };
        let v: Value = serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
        summary_from_json(&v)
    })();
    Pulled { agent: agent.to_string(), result, elapsed_ms: started.elapsed().as_millis() as u64 }
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn evidence(v: &Value) -> Option<Evidence> {
    Some(Evidence {
        path: s(&v["path"])?,
        line: v["line"].as_u64().unwrap_or(0),
        time: v["time"].as_str().and_then(rootline_fleet::window::parse),
        text: s(&v["text"]).unwrap_or_default(),
    })
}

fn kind(v: &Value) -> Option<Kind> {
    Some(match v.as_str()? {
        "fault" => Kind::Fault,
        "symptom" => Kind::Symptom,
        "context" => Kind::Context,
        "recovery" => Kind::Recovery,
        _ => return None,
    })
}

/// Reads a `/summary` document (`rootline.node-summary/v1`) back into a summary.
pub fn summary_from_json(v: &Value) -> Result<NodeSummary, String> {
    match v["schema"].as_str() {
        Some(crate::summary::SCHEMA) => {}
        Some(other) => return Err(format!("not a node summary: schema {other}, expected {}", crate::summary::SCHEMA)),
        None => return Err("not a node summary: no schema".into()),
    }
    let n = &v["summary"];
    let name = s(&n["name"]).ok_or("the summary has no name")?;
    let time = |x: &Value| x.as_str().and_then(rootline_fleet::window::parse);
    let mut signatures = BTreeMap::new();
    if let Some(m) = n["signatures"].as_object() {
        for (k, c) in m {
            let Some(kind) = kind(&c["kind"]) else { continue };
            signatures.insert(
                k.clone(),
                SigCount {
                    kind,
                    count: c["count"].as_u64().unwrap_or(0),
                    findings: c["findings"].as_u64().unwrap_or(0),
                    first: s(&c["first"]),
                    last: s(&c["last"]),
                    evidence: evidence(&c["evidence"]),
                    first_at: time(&c["first"]),
                    last_at: time(&c["last"]),
                },
            );
        }
    }
    let templates: BTreeMap<String, u64> = n["templates"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, c)| Some((k.clone(), c.as_u64()?))).collect())
        .unwrap_or_default();
    let mut detail = HashMap::new();
    if let Some(m) = v["template_details"].as_object() {
        for (h, d) in m {
            let (Some(text), Some(example)) = (s(&d["text"]), evidence(&d["example"])) else { continue };
            let severity = d["severity"].as_str().and_then(Severity::from_word);
            detail.insert(h.clone(), TplInfo { text, example, severity });
        }
    }
    let phases = n["phases"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some(Phase {
                        signature: s(&p["signature"])?,
                        summary: s(&p["summary"]).unwrap_or_default(),
                        time: s(&p["time"]),
                        evidence: evidence(&p["evidence"]),
                        at: time(&p["time"]),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let versions = n["versions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    Some(Version { what: s(&x["what"])?, value: s(&x["value"])?, evidence: evidence(&x["evidence"])? })
                })
                .collect()
        })
        .unwrap_or_default();
    let i = &n["inputs"];
    Ok(NodeSummary {
        name,
        host: s(&n["host"]),
        inputs: Inputs {
            files: i["files"].as_u64().unwrap_or(0),
            lines: i["lines"].as_u64().unwrap_or(0),
            events: i["events"].as_u64().unwrap_or(0),
            unparsed_lines: i["unparsed_lines"].as_u64().unwrap_or(0),
            bytes: i["bytes"].as_u64().unwrap_or(0),
        },
        span: [s(&n["span"][0]), s(&n["span"][1])],
        signatures,
        templates,
        first_fault: n["first_fault"].as_object().and_then(|_| {
            Some(FirstFault {
                signature: s(&n["first_fault"]["signature"])?,
                time: s(&n["first_fault"]["time"]),
                evidence: evidence(&n["first_fault"]["evidence"]),
            })
        }),
        phases,
        versions,
        detail,
    })
}

/// The agents named by the arguments: each is a URL (`http://...`, or `HOST:PORT`) or a file
/// listing them, one a line (`#` starts a comment).
pub fn expand(args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for a in args {
        let p = std::path::Path::new(a);
        if !a.contains("://") && p.is_file() {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{a}: {e}"))?;
            for (i, l) in text.lines().enumerate() {
                let l = l.split('#').next().unwrap_or("").trim();
                if l.is_empty() {
                    continue;
                }
                parse_url(l).map_err(|e| format!("{a}:{}: {e}", i + 1))?;
                out.push(l.to_string());
            }
        } else {
            parse_url(a).map_err(|e| format!("{e} (and it is not a file)"))?;
            out.push(a.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://10.0.0.7:9469").unwrap(),
            Url { host: "10.0.0.7".into(), port: 9469, path: "/summary".into() }
        );
        assert_eq!(parse_url("node-3").unwrap().port, 9469);
        assert_eq!(
            parse_url("http://[::1]:9000/x/summary").unwrap(),
            Url { host: "::1".into(), port: 9000, path: "/x/summary".into() }
        );
        assert!(parse_url("https://n:1").unwrap_err().contains("only http://"));
        assert!(parse_url("http://n:port").is_err());
        assert!(parse_url("http://").is_err());
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(dechunk(b"4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\n\r\n").unwrap(), b"Wikipedia ");
        assert!(dechunk(b"4\r\nWi").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn agents_from_files_and_arguments() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("agents.txt");
        std::fs::write(&f, "# rack 7\nhttp://10.0.0.1:9469\n\n10.0.0.2:9469  # spare\n").unwrap();
        let got = expand(&[f.display().to_string(), "http://10.0.0.3:9469".into()]).unwrap();
        assert_eq!(got, ["http://10.0.0.1:9469", "10.0.0.2:9469", "http://10.0.0.3:9469"]);
        std::fs::write(&f, "https://x\n").unwrap();
        assert!(expand(&[f.display().to_string()]).unwrap_err().contains("agents.txt:1"));
    }

    #[test]
    fn unreachable_agents_are_reported_not_dropped() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let agents = vec![format!("http://127.0.0.1:{port}"), "https://nope".to_string()];
        let got = pull_all(&agents, "", None, Duration::from_secs(5), 4);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].agent, agents[0]);
        assert!(got[0].result.as_ref().unwrap_err().contains("cannot connect"), "{:?}", got[0].result);
        assert!(got[1].result.as_ref().unwrap_err().contains("only http://"));
        assert!(summary_from_json(&serde_json::json!({"schema": "rootline.fleet/v1"})).is_err());
    }
}
