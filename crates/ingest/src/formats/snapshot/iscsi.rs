//! open-iscsi `iscsiadm` output.
//!
//! - `-m session`: `tcp: [3] 10.0.0.5:3260,1 iqn.2010-10.org.openstack:volume-4f2f (non-flash)`
//!   (IPv6 portals in brackets: `[fd00::5]:3260,1`);
//! - `-m node`: `10.0.0.5:3260,1 iqn.2010-10.org.openstack:volume-4f2f`;
//! - `-m session -P 1|2|3`: a `Target:` line, then per session `Current Portal:` / `Persistent
//!   Portal:` (a blank line instead when the session uses the portal of the one before), the
//!   `Interface:` block (`Iface Name:`, `Iface Transport:`, `Iface Initiatorname:`, `Iface IPaddress:`,
//!   ...), `SID:`, `iSCSI Connection State:` (iscsid's view: `LOGGED IN`, `TRANSPORT WAIT`, `IN LOGIN`,
//!   ...), `iSCSI Session State:` (the kernel's: `LOGGED_IN`, `FAILED`, `FREE`), `Internal iscsid
//!   Session State:` (`NO CHANGE`, `REOPEN`, ...), timeouts, CHAP, negotiated parameters, and at -P 3
//!   `Host Number: 3\tState: running` and per LUN `scsi3 Channel 00 Id 0 Lun: 1` followed by
//!   `\t\t\tAttached scsi disk sdc\t\tState: running`.
//!
//! See: open-iscsi `usr/session_info.c` (`session_info_print_flat`, `session_info_print_tree`,
//! `print_iscsi_state`, `print_scsi_device_info`, `print_scsi_state`), `usr/iface.c` (`iface_print`),
//! the kernel's `drivers/scsi/scsi_transport_iscsi.c` (session state names).

use super::{trim, words};
use super::{LinePos, PRec, Sink};
use crate::formats::util::parse_u64;
use crate::formats::util::text;

/// `10.0.0.5:3260,1` or `[fd00::5]:3260,1` -> (portal `ip:port`, tpgt).
pub(crate) fn portal(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let comma = memchr::memrchr(b',', b)?;
    let (p, tpgt) = (&b[..comma], &b[comma + 1..]);
    let colon = memchr::memrchr(b':', p)?;
    parse_u64(&p[colon + 1..])?;
    parse_u64(tpgt)?;
    Some((p, tpgt))
}

/// A `-m session` line: (transport, sid, portal, tpgt, target).
pub(crate) type SessionLine<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// Reads `tcp: [3] 10.0.0.5:3260,1 iqn... (non-flash)`.
pub(crate) fn session_line(line: &[u8]) -> Option<SessionLine<'_>> {
    let w = words(line);
    if w.len() < 4 {
        return None;
    }
    let transport = w[0].1.strip_suffix(b":")?;
    let sid = w[1].1.strip_prefix(b"[")?.strip_suffix(b"]")?;
    parse_u64(sid)?;
    let (p, tpgt) = portal(w[2].1)?;
    Some((transport, sid, p, tpgt, w[3].1))
}

/// Reads a `-m node` line: (portal, tpgt, target).
pub(crate) fn node_line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let w = words(line);
    if w.len() != 2 || !(w[1].1.starts_with(b"iqn.") || w[1].1.starts_with(b"eui.") || w[1].1.starts_with(b"naa.")) {
        return None;
    }
    let (p, tpgt) = portal(w[0].1)?;
    Some((p, tpgt, w[1].1))
}

/// One line of `-P` output.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Tree<'a> {
    Target(&'a [u8]),
    /// `Current Portal:` (or `Portal:` of `-m node -P 1`).
    Portal(&'a [u8]),
    /// A field of the session: (field, value).
    Field(&'static str, &'a [u8]),
    /// `Host Number: 3  State: running` -> (host, state).
    Host(&'a [u8], &'a [u8]),
    /// `scsi3 Channel 00 Id 0 Lun: 1` -> H:C:T:L.
    Lun(String),
    /// `Attached scsi disk sdc  State: running` -> (disk, state).
    Disk(&'a [u8], &'a [u8]),
    /// Any other line of the output (separators, parameters, CHAP).
    Other,
}

/// True for the lines only `-P` output has at the start of a line.
pub(crate) fn is_tree_start(line: &[u8]) -> bool {
    line.starts_with(b"Target: ") || line.starts_with(b"iSCSI Transport Class version ")
}

/// Reads a line of `-P` output.
pub(crate) fn tree(line: &[u8]) -> Tree<'_> {
    let t = trim(line);
    let value = |key: &[u8]| t.strip_prefix(key).map(trim);
    if let Some(v) = value(b"Target:") {
        // `iqn... (non-flash)`
        let end = memchr::memchr(b' ', v).unwrap_or(v.len());
        return Tree::Target(&v[..end]);
    }
    if let Some(v) = value(b"Current Portal:").or_else(|| value(b"Portal:")) {
        return Tree::Portal(v);
    }
    for (key, field) in [
        (&b"Iface Name:"[..], "iface"),
        (b"Iface Transport:", "transport"),
        (b"Iface Initiatorname:", "initiator"),
        (b"Iface IPaddress:", "iface_ip"),
        (b"Iface Netdev:", "netdev"),
        (b"SID:", "sid"),
        (b"iSCSI Connection State:", "conn_state"),
        (b"iSCSI Session State:", "state"),
        (b"Internal iscsid Session State:", "iscsid_state"),
        (b"Recovery Timeout:", "recovery_tmo"),
    ] {
        if let Some(v) = value(key) {
            return Tree::Field(field, v);
        }
    }
    if let Some(v) = value(b"Host Number:") {
        let w = words(v);
        let st = memchr::memmem::find(v, b"State:").map(|i| trim(&v[i + 6..])).unwrap_or(b"");
        if let Some(h) = w.first().filter(|h| parse_u64(h.1).is_some()) {
            return Tree::Host(h.1, st);
        }
    }
    if let Some(v) = value(b"Attached scsi disk") {
        let w = words(v);
        let st = memchr::memmem::find(v, b"State:").map(|i| trim(&v[i + 6..])).unwrap_or(b"");
        if let Some(d) = w.first() {
            return Tree::Disk(d.1, st);
        }
    }
    if let Some(rest) = t.strip_prefix(b"scsi") {
        // `scsi3 Channel 00 Id 0 Lun: 1`
        let w: Vec<&[u8]> = words(rest).into_iter().map(|x| x.1).collect();
        if let [h, b"Channel", c, b"Id", i, b"Lun:", l] = w.as_slice() {
            if let (Some(h), Some(c), Some(i), Some(l)) = (parse_u64(h), parse_u64(c), parse_u64(i), parse_u64(l)) {
                return Tree::Lun(format!("{h}:{c}:{i}:{l}"));
            }
        }
    }
    Tree::Other
}

impl super::SnapshotParser {
    pub(super) fn iscsi(&mut self, at: LinePos, line: &[u8], out: &mut dyn Sink) -> bool {
        let t = trim(line);
        if let Some((tr, sid, portal, tpgt, target)) = session_line(line) {
            self.flush(out);
            let f = vec![
                ("transport", text(tr)),
                ("sid", text(sid)),
                ("portal", text(portal)),
                ("tpgt", text(tpgt)),
                ("target", text(target)),
            ];
            self.emit(at, t, None, f, out);
            return true;
        }
        if let Some((portal, tpgt, target)) = node_line(line) {
            self.flush(out);
            self.emit(at, t, None, vec![("portal", text(portal)), ("tpgt", text(tpgt)), ("target", text(target))], out);
            return true;
        }
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let new_session = |me: &mut Self, at: LinePos, t: &[u8]| {
            let mut p = PRec::new(at, t);
            if let Some(tg) = &me.iscsi.target {
                p.set("target", tg.clone());
            }
            if let Some((po, tp)) = &me.iscsi.portal {
                p.set("portal", po.clone());
                p.set("tpgt", tp.clone());
            }
            me.pending.push(p);
            me.iscsi.session = Some(me.pending.len() - 1);
            me.iscsi.next_session = false;
        };
        match tree(line) {
            Tree::Target(tg) => {
                self.flush(out);
                self.iscsi.target = Some(s(tg));
                self.iscsi.portal = None;
                new_session(self, at, t);
            }
            Tree::Portal(p) => {
                let cur = self.iscsi.session.map(|i| &self.pending[i]);
                let fresh = cur.is_some_and(|c| !c.has("portal") && !c.has("sid"));
                self.iscsi.portal = portal(p).map(|(a, b)| (s(a), s(b)));
                if fresh {
                    let i = self.iscsi.session.expect("session");
                    if let Some((po, tp)) = self.iscsi.portal.clone() {
                        self.pending[i].set("portal", po);
                        self.pending[i].set("tpgt", tp);
                    }
                    self.pending[i].tail.push((at, line.to_vec()));
                } else {
                    self.flush(out);
                    new_session(self, at, t);
                }
            }
            Tree::Field(k, v) => {
                let i = match self.iscsi.session {
                    Some(i) if !self.iscsi.next_session && !self.pending[i].has(k) => {
                        self.pending[i].tail.push((at, line.to_vec()));
                        i
                    }
                    _ => {
                        self.flush(out);
                        new_session(self, at, t);
                        self.iscsi.session.expect("new session")
                    }
                };
                self.pending[i].set(k, s(v));
            }
            Tree::Host(h, st) => {
                if self.iscsi.session.is_none() {
                    new_session(self, at, t);
                } else {
                    self.pending.last_mut().expect("pending").tail.push((at, line.to_vec()));
                }
                let i = self.iscsi.session.expect("session");
                self.pending[i].set("scsi_host", s(h));
                self.pending[i].set("host_state", s(st));
            }
            Tree::Lun(hctl) => {
                let mut p = PRec::new(at, t);
                p.set("hctl", hctl.clone());
                p.set("scsi_host", hctl.split(':').next().unwrap_or("").to_string());
                if let Some(sess) = self.iscsi.session.map(|i| &self.pending[i]) {
                    for k in ["sid", "target", "portal", "iface"] {
                        if let Some(v) = sess.get(k) {
                            p.set(k, v.to_string());
                        }
                    }
                }
                self.pending.push(p);
            }
            Tree::Disk(d, st) => match self.pending.last_mut() {
                Some(p) if p.has("hctl") && !p.has("disk") => {
                    p.set("disk", s(d));
                    p.set("dev_state", s(st));
                    p.tail.push((at, line.to_vec()));
                }
                _ => {
                    let mut p = PRec::new(at, t);
                    p.set("disk", s(d));
                    p.set("dev_state", s(st));
                    self.pending.push(p);
                }
            },
            Tree::Other => {
                if t.starts_with(b"iSCSI Transport Class version") || t.starts_with(b"version ") {
                    self.flush(out);
                    out.skip(at);
                    return true;
                }
                let Some(p) = self.pending.last_mut() else { return false };
                p.tail.push((at, line.to_vec()));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_lines() {
        let (tr, sid, p, tpgt, target) =
            session_line(b"tcp: [3] 10.0.0.5:3260,1 iqn.2010-10.org.openstack:volume-4f2f (non-flash)").unwrap();
        assert_eq!((tr, sid, p, tpgt), (&b"tcp"[..], &b"3"[..], &b"10.0.0.5:3260"[..], &b"1"[..]));
        assert_eq!(target, b"iqn.2010-10.org.openstack:volume-4f2f");
        let (_, _, p, _, _) = session_line(b"iser: [12] [fd00::5]:3260,1 iqn.x (non-flash)").unwrap();
        assert_eq!(p, b"[fd00::5]:3260");
        assert!(session_line(b"iscsiadm: No active sessions.").is_none());
        assert_eq!(
            node_line(b"10.0.0.5:3260,1 iqn.2010-10.org.openstack:volume-4f2f").map(|n| n.0),
            Some(&b"10.0.0.5:3260"[..])
        );
    }

    #[test]
    fn tree_lines() {
        assert_eq!(
            tree(b"Target: iqn.2010-10.org.openstack:volume-4f2f (non-flash)"),
            Tree::Target(b"iqn.2010-10.org.openstack:volume-4f2f")
        );
        assert_eq!(tree(b"\tCurrent Portal: 10.0.0.5:3260,1"), Tree::Portal(b"10.0.0.5:3260,1"));
        assert_eq!(tree(b"\t\tiSCSI Session State: FAILED"), Tree::Field("state", b"FAILED"));
        assert_eq!(tree(b"\t\tiSCSI Connection State: TRANSPORT WAIT"), Tree::Field("conn_state", b"TRANSPORT WAIT"));
        assert_eq!(tree(b"\t\tHost Number: 3\tState: running"), Tree::Host(b"3", b"running"));
        assert_eq!(tree(b"\t\tscsi3 Channel 00 Id 0 Lun: 1"), Tree::Lun("3:0:0:1".into()));
        assert_eq!(tree(b"\t\t\tAttached scsi disk sdc\t\tState: running"), Tree::Disk(b"sdc", b"running"));
        assert_eq!(tree(b"\t\t************************"), Tree::Other);
    }
}
