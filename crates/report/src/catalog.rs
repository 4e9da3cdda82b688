//! Every fixed string of the report, one catalogue per language.
//!
//! Rule titles, summaries and next steps are not here: they come from the rules (`rootline-rules`),
//! in the same language. Korean follows Korean operators' habit: sentences in Korean, technical
//! terms (fault, map, path, probe, pod, link) in English as operators write them. Templates take
//! positional arguments `{0}`, `{1}`, ... filled by [`fill`], so each language orders them freely.

use rootline_rules::Lang;

/// The fixed strings of one language.
#[derive(Debug)]
pub struct Catalog {
    /// `en` or `ko` (the HTML `lang` attribute).
    pub code: &'static str,
    /// Document title: `{0}` host, `{1}` root-cause title.
    pub title: &'static str,
    /// Title when there is no incident: `{0}` hosts.
    pub title_none: &'static str,
    /// Line under the title: `{0}` files, `{1}` zone.
    pub byline: &'static str,
    /// Table of contents.
    pub toc: &'static str,
    /// `{0}` number, `{1}` phase title.
    pub phase_n: &'static str,
    /// The verdict label.
    pub verdict_label: &'static str,
    /// Section headings.
    pub h_summary: &'static str,
    pub h_phases: &'static str,
    pub h_overview: &'static str,
    pub h_symptoms: &'static str,
    pub h_timeline: &'static str,
    pub h_chart: &'static str,
    pub h_cause: &'static str,
    pub h_root: &'static str,
    pub h_graph: &'static str,
    pub h_contributing: &'static str,
    pub h_alternatives: &'static str,
    pub h_open: &'static str,
    pub h_classification: &'static str,
    pub h_recovery: &'static str,
    pub h_prevention: &'static str,
    pub h_appendix: &'static str,
    /// Summary sentences.
    pub sum_root: &'static str,
    pub sum_chain: &'static str,
    pub sum_context: &'static str,
    pub sum_uncertain: &'static str,
    pub sum_none: &'static str,
    /// What was not read in full: {0} the inputs note.
    pub sum_inputs: &'static str,
    /// Verdicts.
    pub v_found: &'static str,
    pub v_uncertain: &'static str,
    pub v_none: &'static str,
    /// Labels.
    pub hypothesis: &'static str,
    pub context_not_proof: &'static str,
    pub evidence: &'static str,
    pub confidence: &'static str,
    /// Phase titles.
    pub p_before: &'static str,
    pub p_fault: &'static str,
    pub p_direct: &'static str,
    pub p_spread: &'static str,
    pub p_after: &'static str,
    pub p_what: &'static str,
    pub p_why: &'static str,
    pub p_next: &'static str,
    pub p_why_before: &'static str,
    pub p_why_after: &'static str,
    pub p_next_none: &'static str,
    /// A link sentence: `{0}` effect, `{1}` cause, `{2}` delay, `{3}` link id, `{4}` prior, `{5}` ties.
    pub link_sentence: &'static str,
    /// `{0}` duration.
    pub later: &'static str,
    pub earlier: &'static str,
    pub same_moment: &'static str,
    /// Ties: shared entities.
    pub tie_shared: &'static str,
    /// Ties: alias path.
    pub tie_via: &'static str,
    pub derived: &'static str,
    /// `{0}` count, `{1}` duration.
    pub repeats: &'static str,
    /// Overview labels.
    pub o_window: &'static str,
    pub o_type: &'static str,
    pub o_scope: &'static str,
    pub o_severity: &'static str,
    pub o_first: &'static str,
    pub o_impact: &'static str,
    pub o_read: &'static str,
    pub o_zone: &'static str,
    /// `{0}` incident start, `{1}` end, `{2}` evidence start, `{3}` evidence end.
    pub o_window_v: &'static str,
    /// `{0}` host.
    pub o_scope_one: &'static str,
    /// `{0}` hosts with findings, `{1}` hosts, `{2}` names.
    pub o_scope_many: &'static str,
    /// `{0}` severity, `{1}` verdict, `{2}` confidence.
    pub o_severity_v: &'static str,
    /// `{0}` files, `{1}` lines, `{2}` events, `{3}` findings.
    pub o_read_v: &'static str,
    pub o_impact_none: &'static str,
    pub o_zone_v: &'static str,
    /// Entity kinds in the impact line.
    pub e_volume: &'static str,
    pub e_vm: &'static str,
    pub e_pod: &'static str,
    pub e_map: &'static str,
    pub e_container: &'static str,
    /// Symptoms.
    pub sym_intro: &'static str,
    /// Timeline table.
    pub t_time: &'static str,
    pub t_event: &'static str,
    pub t_kind: &'static str,
    pub t_source: &'static str,
    pub t_evidence: &'static str,
    pub t_intro: &'static str,
    pub chart_caption: &'static str,
    pub graph_caption: &'static str,
    pub legend_dashed: &'static str,
    pub gap: &'static str,
    /// Root cause.
    pub rc_matters: &'static str,
    pub rc_proof: &'static str,
    /// Said of a root cause found by a family's general error rule (a fallback).
    pub rc_fallback: &'static str,
    /// `{0}` summary, `{1}` duration.
    pub change_before: &'static str,
    pub change_after: &'static str,
    pub contributing_none: &'static str,
    /// `{0}` signature, `{1}` confidence, `{2}` why not.
    pub alt_item: &'static str,
    pub alt_none: &'static str,
    /// `{0}` cause, `{1}` effect, `{2}` link, `{3}` reason.
    pub open_rejected: &'static str,
    pub open_only_host: &'static str,
    /// `{0}` finding.
    pub open_unexplained: &'static str,
    /// `{0}` title, `{1}` time, `{2}` confidence.
    pub open_other_incident: &'static str,
    /// Seen before (the case database).
    pub h_seen: &'static str,
    pub seen_intro: &'static str,
    pub seen_none: &'static str,
    /// `{0}` case id, `{1}` score.
    pub seen_case: &'static str,
    pub seen_resolution: &'static str,
    pub seen_no_resolution: &'static str,
    pub open_more_incidents: &'static str,
    /// Why only this node (a fleet comparison, `rootline fleet`).
    pub h_peers: &'static str,
    pub h_peers_only: &'static str,
    pub h_peers_shared: &'static str,
    pub h_peers_diff: &'static str,
    pub h_peers_lowered: &'static str,
    /// `{0}` host, `{1}` peers, `{2}` nodes in all.
    pub peers_intro: &'static str,
    /// `{0}` start, `{1}` end, `{2}` how it was chosen.
    pub peers_window: &'static str,
    /// `{0}` nodes that showed it, `{1}` nodes compared.
    pub peers_seen: &'static str,
    pub peers_only_intro: &'static str,
    pub peers_only_none: &'static str,
    pub peers_shared_intro: &'static str,
    pub peers_shared_none: &'static str,
    pub peers_diff_intro: &'static str,
    pub peers_diff_none: &'static str,
    pub peers_lowered_intro: &'static str,
    pub peers_lowered_none: &'static str,
    /// Kinds of comparison facts.
    pub pk_template: &'static str,
    pub pk_version: &'static str,
    pub pk_timing: &'static str,
    /// `{0}` host, `{1}` nodes that showed the root cause, `{2}` nodes compared, `{3}` root-cause rule.
    pub o_scope_peers: &'static str,
    /// `{0}` host, `{1}` nodes compared.
    pub o_scope_peers_plain: &'static str,
    pub open_only_host_peers: &'static str,
    /// Classification.
    pub c_method: &'static str,
    pub c_family: &'static str,
    pub c_layer: &'static str,
    pub c_findings: &'static str,
    pub c_hits: &'static str,
    pub c_share: &'static str,
    /// `{0}` list.
    pub c_by_layer: &'static str,
    pub c_none: &'static str,
    pub l_storage: &'static str,
    pub l_process: &'static str,
    pub l_k8s: &'static str,
    pub l_virt: &'static str,
    pub l_network: &'static str,
    pub l_change: &'static str,
    pub l_other: &'static str,
    /// Recovery.
    pub r_intro: &'static str,
    /// `{0}` object, `{1}` time.
    pub r_not_cleared: &'static str,
    pub r_none: &'static str,
    pub r_note: &'static str,
    /// Prevention.
    pub pv_intro: &'static str,
    pub pv_from: &'static str,
    pub pv_upgrade: &'static str,
    pub pv_check: &'static str,
    pub pv_canary: &'static str,
    /// `{0}` signals.
    pub pv_monitor: &'static str,
    /// Appendix.
    pub a_intro: &'static str,
    pub a_id: &'static str,
    pub a_line: &'static str,
    pub a_text: &'static str,
    pub a_supports: &'static str,
    /// Kinds of findings (legend).
    pub k_fault: &'static str,
    pub k_symptom: &'static str,
    pub k_context: &'static str,
    pub k_recovery: &'static str,
    pub root_label: &'static str,
}

/// English.
pub const EN: Catalog = Catalog {
    code: "en",
    title: "Postmortem: {1} on {0}",
    title_none: "Analysis of {0}: no incident",
    byline: "Written by rootline from {0} evidence files. Every claim links to the lines that prove it; \
             hypotheses are labelled. Times in {1}.",
    toc: "Contents",
    phase_n: "Phase {0}: {1}",
    verdict_label: "Verdict",
    h_summary: "Summary",
    h_phases: "Analysis by phase",
    h_overview: "Overview",
    h_symptoms: "Symptoms",
    h_timeline: "Timeline",
    h_chart: "Timeline chart",
    h_cause: "Cause analysis",
    h_root: "Root cause",
    h_graph: "Causal chain",
    h_contributing: "Contributing factors",
    h_alternatives: "Alternatives ruled out",
    h_open: "Open questions",
    h_classification: "Classification",
    h_recovery: "Recovery observed",
    h_prevention: "Prevention",
    h_appendix: "Appendix: evidence index",
    sum_root: "On {0} the root cause is {1} ({2}), from {3}. Confidence {4}; verdict: {5}.",
    sum_chain: "It explains {0} of the incident's {1:finding} through {2:evidence-linked link}: {3}.",
    sum_context: "Before the first fault: {0}. These are context, not proof.",
    sum_uncertain: "On {0} rootline found faults or symptoms but no chain strong enough to name a root cause. \
                    The strongest candidate is {1} (confidence {2}).",
    sum_none: "{0}: the evidence holds only context and benign lines.",
    sum_inputs: "Not all the evidence given was read: {0}. The analysis JSON lists each input with its reason.",
    v_found: "root cause found",
    v_uncertain: "uncertain",
    v_none: "no incident",
    hypothesis: "hypothesis",
    context_not_proof: "context, not proof",
    evidence: "evidence",
    confidence: "confidence",
    p_before: "What changed before the first fault",
    p_fault: "The fault: {0}",
    p_direct: "What the fault blocked directly",
    p_spread: "How it spread to the services",
    p_after: "Recovery and the end of the evidence",
    p_what: "What happened",
    p_why: "Why",
    p_next: "How it led to the next phase",
    p_why_before: "Changes on the host shortly before the first fault. rootline never counts a change as a cause \
                   unless a line ties it to the fault; nothing here does.",
    p_why_after: "These lines come after the fault; they show what was done and what cleared.",
    p_next_none: "Nothing in this phase causes a later finding.",
    link_sentence: "{0} follows {1} {2} (link `{3}`, prior {4}); {5}.",
    later: "{0} later",
    earlier: "logged {0} earlier, within the link's tolerance",
    same_moment: "at the same moment",
    tie_shared: "both name {0}",
    tie_via: "tied by {0}",
    derived: "derived",
    repeats: "×{0} over {1}",
    o_window: "Time window",
    o_type: "Type of failure",
    o_scope: "Scope",
    o_severity: "Severity",
    o_first: "How it showed itself",
    o_impact: "Impact",
    o_read: "Evidence read",
    o_zone: "Times shown in",
    o_window_v: "incident {0} to {1}; evidence from {2} to {3}",
    o_scope_one: "host {0}, the only host in the evidence; no peer nodes were given, so \"1 of N nodes\" cannot be stated",
    o_scope_many: "{0} of {1} hosts in the evidence ({2})",
    o_severity_v: "{0} (highest rule severity in the incident); verdict {1}, confidence {2}",
    o_read_v: "{0:file}, {1:line}, {2:event}, {3:finding}",
    o_impact_none: "the evidence names no VM, volume or pod",
    o_zone_v: "{0} (the offset most evidence was logged in)",
    e_volume: "volumes",
    e_vm: "VMs",
    e_pod: "pods",
    e_map: "multipath maps",
    e_container: "containers",
    sym_intro: "What the host showed, one entry per rule, with the lines that show it.",
    t_time: "Time",
    t_event: "Event",
    t_kind: "Kind",
    t_source: "Source",
    t_evidence: "Evidence",
    t_intro: "Every finding of the host in time order; repeats of one rule in a row are collapsed into one row.",
    chart_caption: "Each mark is a finding on the lane of the file that logged it. Long quiet gaps are shortened (≈).",
    graph_caption: "Cause above effect. Dark arrows: the decisive link of each effect; light arrows: other links the evidence allows; dashed: hypotheses. Each box links to its first evidence line.",
    legend_dashed: "hypothesis (no evidence ties the two)",
    gap: "gap",
    rc_matters: "Why it matters",
    rc_proof: "Proof",
    rc_fallback: "No rule knows this failure by its words: this is the general error rule of its layer, so the \
                  layer is likely right but the cause itself is not named. Read the quoted line.",
    change_before: "{0} ({1} before the first fault)",
    change_after: "{0} ({1} after the first fault)",
    contributing_none: "No change on the host was seen shortly before the first fault.",
    alt_item: "{0} (confidence {1}): {2}",
    alt_none: "No other candidate: the incident has a single fault.",
    open_rejected: "{0} → {1} (`{2}`): allowed by time and kind, but not linked: {3}.",
    open_only_host: "Why only this host? No peer nodes were given: a fleet comparison (what this node logged \
                     that its healthy peers did not) is the missing evidence.",
    open_unexplained: "{0} is in this incident but the root cause does not explain it.",
    open_other_incident: "{0} at {1} is not tied to this incident (confidence {2}).",
    h_seen: "Seen before",
    seen_intro: "Past cases in the case database like this incident, best first: a score from 0 to 1, what the two \
                 share (each with its share of the score), and what resolved the past case. Alike is not the same: \
                 this incident's own evidence decides. Details: rootline cases show ID.",
    seen_none: "No stored case scores 0.3 or more against this incident.",
    seen_case: "case #{0}, score {1}",
    seen_resolution: "Resolution",
    seen_no_resolution: "none recorded",
    open_more_incidents: "{0:more incident} not listed here (the analysis was run with --max-incidents; 0 lists every one).",
    h_peers: "Why only this node",
    h_peers_only: "What only this node showed",
    h_peers_shared: "What every node shared (not the cause)",
    h_peers_diff: "Other differences (hypotheses at most)",
    h_peers_lowered: "Candidates lowered by the peers",
    peers_intro: "{0} was compared with its {1:peer} ({2} nodes in all) over the same window. What it logged and \
                  they did not, going through the same hours, is the evidence for why only this node broke.",
    peers_window: "Window: {0} to {1}. How it was chosen: {2}.",
    peers_seen: "seen on {0} of {1} nodes",
    peers_only_intro: "Present on this node and absent or rare on its peers: faults and symptoms first, then log \
                       templates no peer logged in the window.",
    peers_only_none: "Nothing: in this window the node showed nothing its peers did not.",
    peers_shared_intro: "Every node showed these in the window, the healthy ones too, so they are not what broke \
                         this node.",
    peers_shared_none: "No signature was common to every node.",
    peers_diff_intro: "Versions and upgrade timing as the evidence shows them. No line ties any of them to the \
                       fault: each is a hypothesis at most.",
    peers_diff_none: "No other difference between the nodes was found.",
    peers_lowered_intro: "Root-cause candidates ranked lower because healthy peers showed them too:",
    peers_lowered_none: "No candidate was lowered: the peers showed none of this node's root-cause candidates.",
    pk_template: "log template",
    pk_version: "version",
    pk_timing: "upgrade timing",
    o_scope_peers: "host {0}: {1} of {2} nodes compared showed the root cause {3}",
    o_scope_peers_plain: "host {0}, one of {1} nodes compared",
    open_only_host_peers: "Why only this host? See \"Why only this node\": this node compared with its peers.",
    c_method: "Method: each fault and symptom finding of the incident counts once (repeated lines inside a \
               finding add no weight), grouped by the family of its rule (the rule id before the dot). A \
               family's share is its findings over all {0} counted findings. Context and recovery findings \
               are not counted. Hits (log lines) are shown beside it.",
    c_family: "Family",
    c_layer: "Layer",
    c_findings: "Findings",
    c_hits: "Hits",
    c_share: "Share",
    c_by_layer: "By layer: {0}.",
    c_none: "No fault or symptom to classify.",
    l_storage: "storage",
    l_process: "process and kernel",
    l_k8s: "Kubernetes",
    l_virt: "virtualization",
    l_network: "network",
    l_change: "change",
    l_other: "other",
    r_intro: "What the evidence shows after the fault:",
    r_not_cleared: "No line shows {0} being removed or a path coming back; it was still there at {1}.",
    r_none: "The evidence shows no recovery.",
    r_note: "Rules know multipathd restarts, reboots and reinstated paths; other actions (a pod deleted, a volume \
             detached by hand) are not findings: read the log around these times.",
    pv_intro: "From the next steps of the rules that matched, each rule once, identical advice merged:",
    pv_from: "from",
    pv_upgrade: "Upgrade practice (the fault followed upgrade steps; general advice, not derived from the evidence):",
    pv_check: "Before each upgrade wave, check every node: `multipath -ll` with no failed paths and no stale maps, \
               `dmsetup ls` with no map left over from a detached volume.",
    pv_canary: "Upgrade one or two canary nodes first, then the rest in batches; stop the rollout when a signal of \
                this report appears.",
    pv_monitor: "Monitor and alert on the signals of this incident: {0}.",
    a_intro: "Every evidence link in this report points here: file, line, text.",
    a_id: "ID",
    a_line: "Line",
    a_text: "Text",
    a_supports: "Supports",
    k_fault: "fault",
    k_symptom: "symptom",
    k_context: "context",
    k_recovery: "recovery",
    root_label: "root cause",
};

/// Korean (technical terms in English).
pub const KO: Catalog = Catalog {
    code: "ko",
    title: "장애 보고서: {0}의 {1}",
    title_none: "{0} 분석: incident 없음",
    byline: "rootline이 증거 파일 {0}개로 작성했습니다. 모든 주장은 이를 증명하는 로그 줄로 연결되며, 가설은 가설로 \
             표시합니다. 시간대는 {1}입니다.",
    toc: "목차",
    phase_n: "단계 {0}: {1}",
    verdict_label: "판정",
    h_summary: "요약",
    h_phases: "단계별 분석",
    h_overview: "장애 발생 개요",
    h_symptoms: "장애 현상 및 증상",
    h_timeline: "타임라인",
    h_chart: "타임라인 차트",
    h_cause: "장애 원인 분석",
    h_root: "근본 원인 (Root Cause)",
    h_graph: "인과 사슬",
    h_contributing: "기여 요인",
    h_alternatives: "배제된 다른 가설",
    h_open: "미해결 질문",
    h_classification: "원인 분류 및 통계",
    h_recovery: "관찰된 복구",
    h_prevention: "재발 방지 대책",
    h_appendix: "부록: 증거 목록",
    sum_root: "{0}의 근본 원인은 {1} ({2})이며, {3}부터 시작되었습니다. 신뢰도 {4}, 판정: {5}.",
    sum_chain: "이 원인은 증거로 연결된 link {2}개를 통해 incident의 finding {1}개 중 {0}개를 설명합니다: {3}.",
    sum_context: "첫 fault 전 변경 사항: {0}. 이는 context이며 증거가 아닙니다.",
    sum_uncertain: "{0}에서 fault 또는 증상은 발견되었지만, 근본 원인을 지목할 만큼 강한 인과 사슬은 없습니다. 가장 유력한 \
                    후보는 {1} (신뢰도 {2})입니다.",
    sum_none: "{0}: 증거에는 context와 정상 로그만 있습니다.",
    sum_inputs: "주어진 증거를 모두 읽지는 못했습니다: {0}. 입력별 이유는 분석 JSON에 있습니다.",
    v_found: "근본 원인 확인",
    v_uncertain: "불확실",
    v_none: "incident 없음",
    hypothesis: "가설",
    context_not_proof: "context, 증거 아님",
    evidence: "증거",
    confidence: "신뢰도",
    p_before: "첫 fault 전의 변경 사항",
    p_fault: "fault 발생: {0}",
    p_direct: "fault가 직접 막은 것",
    p_spread: "서비스로의 확산",
    p_after: "복구와 증거의 끝",
    p_what: "이벤트 요약",
    p_why: "원인 분석",
    p_next: "연결성",
    p_why_before: "첫 fault 직전 host의 변경 사항입니다. rootline은 변경 사항을 fault와 잇는 로그 줄이 없으면 원인으로 \
                   보지 않으며, 여기에는 그런 줄이 없습니다.",
    p_why_after: "fault 이후의 로그입니다. 어떤 조치가 있었고 무엇이 정리되었는지 보여 줍니다.",
    p_next_none: "이 단계에서 이후 finding으로 이어지는 원인은 없습니다.",
    link_sentence: "{1} 이후 {2} {0} 발생 (link `{3}`, prior {4}). {5}.",
    later: "{0} 뒤",
    earlier: "{0} 먼저 기록되었지만 link의 허용 오차 안",
    same_moment: "같은 시각",
    tie_shared: "둘 다 {0}을(를) 가리킴",
    tie_via: "연결 근거: {0}",
    derived: "추론",
    repeats: "{1} 동안 ×{0}",
    o_window: "발생 일시",
    o_type: "장애 유형",
    o_scope: "영향 범위",
    o_severity: "영향 정도",
    o_first: "발견 경로 (첫 증상)",
    o_impact: "영향 분석",
    o_read: "분석한 증거",
    o_zone: "표시 시간대",
    o_window_v: "incident {0} ~ {1}, 증거 {2} ~ {3}",
    o_scope_one: "host {0} (증거에 있는 유일한 host). peer node가 주어지지 않아 \"N대 중 1대\"는 말할 수 없습니다",
    o_scope_many: "증거의 host {1}대 중 {0}대 ({2})",
    o_severity_v: "{0} (incident 안 rule severity 최고값), 판정 {1}, 신뢰도 {2}",
    o_read_v: "파일 {0}개, {1}줄, event {2}개, finding {3}개",
    o_impact_none: "증거에 VM, volume, pod 이름이 나오지 않습니다",
    o_zone_v: "{0} (가장 많은 증거가 기록된 시간대)",
    e_volume: "volume",
    e_vm: "VM",
    e_pod: "pod",
    e_map: "multipath map",
    e_container: "container",
    sym_intro: "host에 나타난 증상입니다. rule마다 한 항목씩, 이를 보여 주는 로그와 함께 정리했습니다.",
    t_time: "시간",
    t_event: "이벤트",
    t_kind: "구분",
    t_source: "출처",
    t_evidence: "증거",
    t_intro: "host의 모든 finding을 시간 순으로 정리했습니다. 같은 rule이 연달아 반복되면 한 줄로 묶었습니다.",
    chart_caption: "각 표시는 finding이며, 이를 기록한 파일의 lane에 놓입니다. 긴 공백 구간은 줄여서 표시합니다 (≈).",
    graph_caption: "원인이 위, 결과가 아래입니다. 진한 화살표는 각 결과의 결정적 link, 옅은 화살표는 증거가 허용하는 다른 link, 점선은 가설입니다. 각 상자는 첫 증거 줄로 연결됩니다.",
    legend_dashed: "가설 (둘을 잇는 증거 없음)",
    gap: "공백",
    rc_matters: "중요한 이유",
    rc_proof: "증거",
    rc_fallback: "이 장애를 문구로 아는 rule이 없습니다. 해당 계층의 일반 error rule이 잡은 것이므로 계층은 맞을 가능성이 높지만 원인 \
                  자체는 지목되지 않았습니다. 인용된 로그 줄을 읽으십시오.",
    change_before: "{0} (첫 fault {1} 전)",
    change_after: "{0} (첫 fault {1} 후)",
    contributing_none: "첫 fault 직전에 host의 변경 사항은 보이지 않습니다.",
    alt_item: "{0} (신뢰도 {1}): {2}",
    alt_none: "다른 후보 없음: incident에 fault가 하나뿐입니다.",
    open_rejected: "{0} → {1} (`{2}`): 시간과 종류로는 가능하지만 연결되지 않음: {3}.",
    open_only_host: "왜 이 host에서만 발생했는가? peer node가 주어지지 않았습니다. fleet 비교(이 node에는 있고 정상 \
                     peer에는 없는 로그)가 빠진 증거입니다.",
    open_unexplained: "{0}은(는) 이 incident에 속하지만 근본 원인으로 설명되지 않습니다.",
    open_other_incident: "{1}의 {0}은(는) 이 incident와 연결되지 않았습니다 (신뢰도 {2}).",
    h_seen: "이전에 본 적 있는 장애",
    seen_intro: "case DB에서 이 incident와 비슷한 과거 case입니다 (비슷한 순). 0~1 점수, 둘이 공유하는 것(각각의 점수 \
                 기여분), 과거 case를 해결한 방법을 적었습니다. 비슷하다고 같은 장애는 아닙니다: 판단은 이 incident의 \
                 증거로 합니다. 자세히: rootline cases show ID.",
    seen_none: "이 incident와 0.3점 이상으로 비슷한 저장된 case가 없습니다.",
    seen_case: "case #{0}, 점수 {1}",
    seen_resolution: "해결",
    seen_no_resolution: "기록 없음",
    open_more_incidents: "여기 나열되지 않은 incident가 {0}개 더 있습니다 (--max-incidents로 분석됨; 0이면 모두 나열).",
    h_peers: "왜 이 node에서만 발생했는가",
    h_peers_only: "이 node에서만 나타난 것",
    h_peers_shared: "모든 node에 공통 (원인 아님)",
    h_peers_diff: "그 밖의 차이 (가설)",
    h_peers_lowered: "peer 때문에 순위가 낮아진 후보",
    peers_intro: "{0}을(를) 같은 구간의 peer {1}대(전체 {2}대)와 비교했습니다. 같은 시간을 겪은 peer에는 없고 이 node에만 \
                  있는 로그가, 왜 이 node만 장애가 났는지에 대한 증거입니다.",
    peers_window: "비교 구간: {0} ~ {1}. 선정 방식: {2}.",
    peers_seen: "{1}대 중 {0}대에서 관찰",
    peers_only_intro: "이 node에는 있고 peer에는 없거나 드문 것입니다. fault와 symptom을 먼저, 이어서 이 구간에 어떤 peer도 \
                       남기지 않은 log template을 정리했습니다.",
    peers_only_none: "없음: 이 구간에서 peer에 없는 것이 이 node에 보이지 않습니다.",
    peers_shared_intro: "이 구간에 정상 node를 포함한 모든 node에 나타났으므로, 이 node를 망가뜨린 원인이 아닙니다.",
    peers_shared_none: "모든 node에 공통인 signature는 없습니다.",
    peers_diff_intro: "증거에 나타난 버전과 업그레이드 시점입니다. 어느 것도 fault와 잇는 로그 줄이 없으므로 모두 가설에 \
                       그칩니다.",
    peers_diff_none: "node 사이의 다른 차이는 발견되지 않았습니다.",
    peers_lowered_intro: "정상 peer에서도 나타나 근본 원인 순위가 낮아진 후보:",
    peers_lowered_none: "순위가 낮아진 후보 없음: 이 node의 근본 원인 후보 중 peer에 나타난 것이 없습니다.",
    pk_template: "log template",
    pk_version: "버전",
    pk_timing: "업그레이드 시점",
    o_scope_peers: "host {0}: 비교한 node {2}대 중 {1}대에서 근본 원인 {3} 발생",
    o_scope_peers_plain: "host {0} (비교한 node {1}대 중 하나)",
    open_only_host_peers: "왜 이 host에서만 발생했는가? \"왜 이 node에서만 발생했는가\" 절의 peer 비교를 보십시오.",
    c_method: "계산 방법: incident의 fault와 symptom finding을 각각 한 번씩 세고(finding 안의 반복 로그는 가중치를 \
               더하지 않음), rule의 family(rule id의 점 앞부분)별로 묶었습니다. 비율은 family의 finding 수를 전체 \
               {0}개로 나눈 값입니다. context와 recovery finding은 세지 않습니다. 옆에 hit(로그 줄) 수를 함께 표시합니다.",
    c_family: "Family",
    c_layer: "계층",
    c_findings: "finding 수",
    c_hits: "hit 수",
    c_share: "비율",
    c_by_layer: "계층별: {0}.",
    c_none: "분류할 fault나 symptom이 없습니다.",
    l_storage: "storage",
    l_process: "process/kernel",
    l_k8s: "Kubernetes",
    l_virt: "가상화",
    l_network: "network",
    l_change: "변경",
    l_other: "기타",
    r_intro: "fault 이후 증거에 나타난 것:",
    r_not_cleared: "{0}이(가) 제거되거나 path가 복구되었다는 로그는 없습니다. {1}에도 남아 있었습니다.",
    r_none: "증거에 복구가 보이지 않습니다.",
    r_note: "rule은 multipathd 재시작, reboot, path reinstate를 압니다. 그 밖의 조치(pod 삭제, 수동 volume detach)는 finding이 \
             아닙니다. 이 시각 전후의 로그를 확인하십시오.",
    pv_intro: "탐지된 rule의 조치(next steps)에서 가져왔습니다. rule마다 한 번, 같은 내용은 합쳤습니다:",
    pv_from: "출처",
    pv_upgrade: "업그레이드 절차 (fault가 업그레이드 단계 뒤에 발생했기 때문에 덧붙이는 일반 권고이며, 증거에서 도출한 것은 아님):",
    pv_check: "업그레이드 wave마다 모든 node를 사전 점검: `multipath -ll` 에 failed path와 stale map이 없고, `dmsetup ls` \
               에 detach 된 volume의 map이 남아 있지 않을 것.",
    pv_canary: "canary node 1-2대를 먼저 업그레이드하고 나머지는 배치로 순차 진행. 이 보고서의 신호가 나타나면 rollout 중단.",
    pv_monitor: "이 incident의 신호를 모니터링하고 alert 설정: {0}.",
    a_intro: "이 보고서의 모든 증거 링크는 여기를 가리킵니다: 파일, 줄 번호, 내용.",
    a_id: "ID",
    a_line: "줄",
    a_text: "내용",
    a_supports: "근거 대상",
    k_fault: "fault",
    k_symptom: "symptom",
    k_context: "context",
    k_recovery: "recovery",
    root_label: "근본 원인",
};

/// The catalogue of `lang`.
pub fn get(lang: Lang) -> &'static Catalog {
    match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    }
}

/// Fills `{0}`, `{1}`, ... in `template`.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let slot = after.find('}').and_then(|j| {
            let (n, noun) = after[..j].split_once(':').unwrap_or((&after[..j], ""));
            n.parse::<usize>().ok().map(|n| (n, noun, j))
        });
        match slot {
            Some((n, noun, j)) if n < args.len() => {
                out.push_str(args[n]);
                if !noun.is_empty() {
                    // `{1:finding}`: the count and its noun, plural unless the count is 1.
                    let k = if args[n] == "1" { 1 } else { 2 };
                    out.push(' ');
                    out.push_str(&rootline_event::plural(k, noun));
                }
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Catalog {
    /// The localized verdict.
    pub fn verdict(&self, v: &str) -> &'static str {
        match v {
            "root_cause_found" => self.v_found,
            "uncertain" => self.v_uncertain,
            _ => self.v_none,
        }
    }

    /// The localized kind.
    pub fn kind(&self, k: &str) -> &'static str {
        match k {
            "fault" => self.k_fault,
            "symptom" => self.k_symptom,
            "recovery" => self.k_recovery,
            _ => self.k_context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_orders_freely() {
        assert_eq!(fill("{1} 이후 {0}", &["b", "a"]), "a 이후 b");
        assert_eq!(fill("{x} {0} {9}", &["a"]), "{x} a {9}");
        assert_eq!(fill("{0:finding}, {1:link}", &["1", "2"]), "1 finding, 2 links");
        assert_eq!(fill("{0:evidence-linked link}", &["0"]), "0 evidence-linked links");
    }

    #[test]
    fn templates_use_the_same_arguments_in_both_languages() {
        let args = |s: &str| {
            let mut v: Vec<usize> = regex::Regex::new(r"\{(\d)(?::[a-z -]+)?\}")
                .unwrap()
                .captures_iter(s)
                .map(|c| c[1].parse().unwrap())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        for (e, k) in [
            (EN.title, KO.title),
            (EN.sum_root, KO.sum_root),
            (EN.sum_chain, KO.sum_chain),
            (EN.link_sentence, KO.link_sentence),
            (EN.o_window_v, KO.o_window_v),
            (EN.open_rejected, KO.open_rejected),
            (EN.open_other_incident, KO.open_other_incident),
            (EN.open_more_incidents, KO.open_more_incidents),
            (EN.r_not_cleared, KO.r_not_cleared),
            (EN.peers_intro, KO.peers_intro),
            (EN.peers_window, KO.peers_window),
            (EN.peers_seen, KO.peers_seen),
            (EN.o_scope_peers, KO.o_scope_peers),
            (EN.o_scope_peers_plain, KO.o_scope_peers_plain),
        ] {
            assert_eq!(args(e), args(k), "{e} / {k}");
        }
    }
}
