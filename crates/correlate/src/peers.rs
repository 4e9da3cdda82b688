//! Peer context from a fleet comparison (`rootline fleet`): how many peer nodes showed each signature
//! in the same window, and the "why only this node" facts the fleet crate found.
//!
//! Ranking uses the prevalence: a fault also seen on peers that did not break is a weaker root cause,
//! so a candidate's score is multiplied by `1 - PEER_WEIGHT x share`, where `share` is the fraction of
//! peers that showed the same signature. The facts themselves are carried into the analysis
//! (`why_only_this_node`) for the text and the report; this crate does not compute them.

use std::collections::BTreeMap;

use rootline_rules::Evidence;
use serde::Serialize;

/// How much a signature seen on every peer lowers a candidate's score (0.5: halved).
pub const PEER_WEIGHT: f64 = 0.5;

/// What a fleet comparison knows about the peers of the analysed node.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    /// Number of peer nodes compared (the analysed node excluded).
    pub peers: usize,
    /// For each signature: on how many peers it was seen in the window.
    pub with_signature: BTreeMap<String, usize>,
    /// The comparison's findings, carried into the analysis as `why_only_this_node`.
    pub why: Option<WhyOnlyThisNode>,
}

impl Peers {
    /// The share of peers (0..1) that showed `signature`.
    pub fn share(&self, signature: &str) -> f64 {
        if self.peers == 0 {
            return 0.0;
        }
        self.with_signature.get(signature).copied().unwrap_or(0) as f64 / self.peers as f64
    }

    /// The factor a candidate of `signature` is scored with.
    pub fn factor(&self, signature: &str) -> f64 {
        1.0 - PEER_WEIGHT * self.share(signature)
    }
}

/// The "why only this node" section of the analysis: what the node showed that its peers did not,
/// and what they all shared (so it is not the cause).
#[derive(Debug, Clone, Default, Serialize)]
pub struct WhyOnlyThisNode {
    /// The analysed node.
    pub host: Option<String>,
    /// Nodes compared, the analysed node included.
    pub nodes: usize,
    /// The window every node was compared in (RFC 3339), and how it was chosen.
    pub window: Option<WindowNote>,
    /// Signatures and templates present on this node and absent or rare on the peers.
    pub only_here: Vec<PeerFact>,
    /// What every node showed (not the cause).
    pub shared: Vec<PeerFact>,
    /// Other differences worth a look (versions, upgrade timing); each is a fact with evidence, and a
    /// hypothesis at most as a cause.
    pub differences: Vec<PeerFact>,
    /// Root-cause candidates lowered because peers showed them too.
    pub lowered: Vec<String>,
}

/// The comparison window.
#[derive(Debug, Clone, Serialize)]
pub struct WindowNote {
    /// Start, RFC 3339.
    pub since: Option<String>,
    /// End, RFC 3339.
    pub until: Option<String>,
    /// How it was chosen.
    pub how: String,
}

/// One comparison fact.
#[derive(Debug, Clone, Serialize)]
pub struct PeerFact {
    /// `signature`, `template`, `version` or `timing`.
    pub kind: String,
    /// The rule id, the template text, or a short description.
    pub what: String,
    /// Nodes that showed it (this one included when it did).
    pub seen_on: usize,
    /// Nodes compared.
    pub of: usize,
    /// Lines on this node (or on a peer, for what this node lacks) that prove it.
    pub evidence: Vec<Evidence>,
    /// A sentence for the reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
