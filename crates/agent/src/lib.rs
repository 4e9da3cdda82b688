//! `rootline agent`: doctor's checks on every node, every interval, for the monitoring operators
//! already run (Prometheus) and for the fleet comparison (`rootline fleet --agents`).
//!
//! Why a crate of its own, after `node` and `fleet`: the agent owns the policy of running checks
//! continuously (cycles that never overlap, a watchdog on each, counters that live for days,
//! bundles on new failures, a bounded exposition, a server), and it combines both sides: `node`'s
//! hang-safe checks for the metrics and `fleet`'s per-node summary for `/summary`. Neither of them
//! should know about the other or about HTTP; the binary only parses arguments and wires this crate.
//!
//! One concept per file: [`agent`] (the loop, the watchdog, the state the endpoints read) ->
//! [`metrics`] (the Prometheus text exposition) -> [`textfile`] (the same for node_exporter's
//! textfile collector, written atomically) -> [`bundles`] (a bundle on a new failure, rotated) -> [`conditions`] (node conditions and Events
//! for Kubernetes, optional) ->
//! [`summary`] (the node's summary from its own logs, any window) -> [`http`] (a minimal HTTP/1.1
//! server on std's `TcpListener`: why not a crate is said there) -> [`pull`] (the fleet's side:
//! `/summary` from many agents, in parallel, with timeouts).
//!
//! Safety: the agent changes nothing on the node. It reads /proc and /sys and runs doctor's fixed
//! commands under their timeouts; it writes only its textfile and its bundle directory. It listens
//! on loopback unless told otherwise, and elsewhere only with a bearer token (or `--insecure`).

pub mod agent;
pub mod bundles;
pub mod conditions;
pub mod http;
pub mod metrics;
pub mod pull;
pub mod summary;
pub mod textfile;

pub use agent::{Agent, Config, Source};
