//! A finding of a fallback rule (an error line no specific rule explains) is the root cause only of an
//! incident with nothing specific, ranks after every specific incident, and the report says that the
//! rule that found it is the general one of its layer.

use rootline_correlate::Correlator;
use rootline_event::{Event, Format, Provenance, Severity, Timestamp};
use rootline_report::{render, Format as Out, Options};
use rootline_rules::{Engine, Lang, Pack};

fn event(line: u64, secs: i64, program: &str, sev: Severity, msg: &str) -> Event {
    let mut ev = Event::new(Format::Oslo, Provenance::new("nova-compute.log", line, 0));
    ev.time = Some(Timestamp::from_unix_nanos(1_760_385_000_000_000_000 + secs * 1_000_000_000, 0));
    ev.host = Some("compute-1".into());
    ev.program = Some(program.into());
    ev.severity = Some(sev);
    ev.set_message(msg.as_bytes());
    ev
}

fn analyse(events: &[Event]) -> rootline_correlate::Analysis {
    let engine = Engine::new(Pack::builtin().expect("the built-in pack compiles"));
    let mut c = Correlator::new(&engine);
    for ev in events {
        c.feed(ev);
    }
    c.finish(&Default::default(), Lang::En)
}

const NOVA_ERROR: &str = "Error updating resources for node compute-1.: nova.exception.ComputeHostNotFound: \
                          Compute host compute-1 could not be found.";

#[test]
fn a_fallback_never_outranks_a_specific_finding() {
    // The fallback's line comes first, a specific symptom later; neither is linked to the other.
    let a = analyse(&[
        event(1, 0, "nova.compute.manager", Severity::Err, NOVA_ERROR),
        event(2, 600, "nova.virt.libvirt.host", Severity::Warning, "Connection to libvirt lost: 1"),
    ]);
    let fb = a.findings.iter().find(|f| f.signature == "openstack.service-error").expect("the fallback fired");
    assert!(fb.fallback && fb.entities["exception"] == ["nova.exception.ComputeHostNotFound"], "{fb:?}");
    assert!(a.findings.iter().any(|f| f.signature == "libvirt.connection-lost" && !f.fallback));
    assert_eq!(a.incidents.len(), 2, "{:#?}", a.incidents);
    assert_eq!(a.incidents[0].root_cause.signature, "libvirt.connection-lost");
    assert_eq!(a.incidents[1].root_cause.signature, "openstack.service-error");
    assert!(a.incidents[1].root_cause.confidence < a.incidents[0].root_cause.confidence);
    // The report of the specific incident does not call its root a general rule's.
    let md = render(&a, &Pack::builtin().unwrap(), &Options { format: Out::Markdown, lang: Lang::En, redact: false })
        .unwrap();
    assert!(!md.contains("No rule knows this failure by its words"), "{md}");
}

#[test]
fn alone_a_fallback_names_the_layer_and_says_so() {
    let a = analyse(&[event(1, 0, "nova.compute.manager", Severity::Err, NOVA_ERROR)]);
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].root_cause.signature, "openstack.service-error");
    assert!(a.incidents[0].root_cause.confidence <= 0.15, "{}", a.incidents[0].root_cause.confidence);
    let pack = Pack::builtin().unwrap();
    let md = render(&a, &pack, &Options { format: Out::Markdown, lang: Lang::En, redact: false }).unwrap();
    assert!(md.contains("No rule knows this failure by its words"), "{md}");
    let ko = render(&a, &pack, &Options { format: Out::Markdown, lang: Lang::Ko, redact: false }).unwrap();
    assert!(ko.contains("이 장애를 문구로 아는 rule이 없습니다"), "{ko}");
}

#[test]
fn warnings_and_info_lines_are_not_errors() {
    let a = analyse(&[
        event(1, 0, "nova.compute.manager", Severity::Warning, "While synchronizing instance power states: KeyError"),
        event(2, 1, "nova.compute.manager", Severity::Info, "Took 18.21 seconds to build instance."),
    ]);
    assert!(a.findings.is_empty(), "{:?}", a.findings);
}
