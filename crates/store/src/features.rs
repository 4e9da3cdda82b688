//! What similarity compares: a case's features, in groups, as stable 64-bit hashes.
//!
//! Each group is a set: the root cause's signature, its family, the chain's (cause, effect) signature
//! pairs, the incident's signatures, the entity kinds its findings named, its log templates, and the
//! changes before its first fault. A feature is the FNV-1a hash of its group's name and its value, so
//! the same value in two groups never collides and the hashes are the same on every machine and in
//! both databases (where they are stored as signed 64-bit integers). The index (`features` table)
//! maps each hash to the cases that have it; a case's own sets travel as one small blob ([`to_blob`])
//! that the scorer reads back without parsing the case's JSON.

use crate::case::Case;

/// A group of features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// The root cause's signature.
    Root,
    /// The root cause's family.
    Family,
    /// The chain's (cause, effect) signature pairs.
    Pairs,
    /// The incident's signatures.
    Signatures,
    /// The entity kinds of its findings.
    Kinds,
    /// Its log templates (the analysis's fingerprint hashes).
    Templates,
    /// Changes on the host before its first fault (their signatures).
    Changes,
}

impl Group {
    /// Every group, in blob order.
    pub const ALL: [Group; 7] =
        [Group::Root, Group::Family, Group::Pairs, Group::Signatures, Group::Kinds, Group::Templates, Group::Changes];

    /// The name hashed with each value.
    pub fn name(self) -> &'static str {
        match self {
            Group::Root => "root",
            Group::Family => "family",
            Group::Pairs => "pair",
            Group::Signatures => "signature",
            Group::Kinds => "kind",
            Group::Templates => "template",
            Group::Changes => "change",
        }
    }

    fn index(self) -> usize {
        Group::ALL.iter().position(|g| *g == self).expect("every group is in ALL")
    }
}

/// FNV-1a (64 bits) of `group`, a separator and `value`.
pub fn hash(group: Group, value: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in group.name().as_bytes().iter().chain([0x1f_u8].iter()).chain(value.as_bytes()) {
        h ^= c as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The value of a chain pair as hashed: `cause>effect`.
pub fn pair_value(cause: &str, effect: &str) -> String {
    format!("{cause}>{effect}")
}

/// A case's features: one sorted, deduplicated set of hashes per group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    sets: [Vec<u64>; 7],
}

impl Features {
    /// The features of `case`.
    pub fn of(case: &Case) -> Features {
        let mut f = Features::default();
        let rc = &case.root_cause;
        f.push(Group::Root, &rc.signature);
        f.push(Group::Family, &rc.family);
        for p in &case.chain {
            f.push(Group::Pairs, &pair_value(&p.cause, &p.effect));
        }
        for s in &case.signatures {
            f.push(Group::Signatures, s);
        }
        for k in &case.entity_kinds {
            f.push(Group::Kinds, k);
        }
        for t in &case.templates {
            f.push(Group::Templates, t);
        }
        for c in &case.changes {
            f.push(Group::Changes, &c.signature);
        }
        for s in &mut f.sets {
            s.sort_unstable();
            s.dedup();
        }
        f
    }

    fn push(&mut self, g: Group, value: &str) {
        self.sets[g.index()].push(hash(g, value));
    }

    /// The set of one group.
    pub fn set(&self, g: Group) -> &[u64] {
        &self.sets[g.index()]
    }

    /// Every feature with its group.
    pub fn all(&self) -> impl Iterator<Item = (Group, u64)> + '_ {
        Group::ALL.iter().flat_map(move |&g| self.set(g).iter().map(move |&h| (g, h)))
    }

    /// Every distinct hash, as the databases store them (signed).
    pub fn keys(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.all().map(|(_, h)| h as i64).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The blob stored beside each case: a version byte, then per group a count (u16, little
    /// endian) and that many hashes (u64, little endian).
    pub fn to_blob(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(1 + 14 + 8 * self.sets.iter().map(Vec::len).sum::<usize>());
        b.push(1);
        for s in &self.sets {
            let n = s.len().min(u16::MAX as usize);
            b.extend_from_slice(&(n as u16).to_le_bytes());
            for h in &s[..n] {
                b.extend_from_slice(&h.to_le_bytes());
            }
        }
        b
    }

    /// Reads a blob written by [`Features::to_blob`]; `None` when it is not one.
    pub fn from_blob(b: &[u8]) -> Option<Features> {
        let (&version, mut rest) = b.split_first()?;
        if version != 1 {
            return None;
        }
        let mut f = Features::default();
        for s in &mut f.sets {
            let (n, r) = rest.split_first_chunk::<2>()?;
            rest = r;
            let n = u16::from_le_bytes(*n) as usize;
            let (body, r) = rest.split_at_checked(n * 8)?;
            rest = r;
            s.extend(body.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))));
        }
        rest.is_empty().then_some(f)
    }
}

/// How many elements two sorted sets share.
pub fn shared(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_never_collide_and_blobs_round_trip() {
        assert_ne!(hash(Group::Signatures, "kernel.hung-task"), hash(Group::Root, "kernel.hung-task"));
        let mut f = Features::default();
        f.push(Group::Root, "multipath.stale-map");
        f.push(Group::Templates, "00ff");
        f.push(Group::Templates, "00fe");
        for s in &mut f.sets {
            s.sort_unstable();
        }
        let b = f.to_blob();
        assert_eq!(Features::from_blob(&b), Some(f));
        assert_eq!(Features::from_blob(&b[..b.len() - 1]), None, "a cut blob is not read");
        assert_eq!(Features::from_blob(&[2]), None, "an unknown version is not read");
    }

    #[test]
    fn shared_counts_the_intersection() {
        assert_eq!(shared(&[1, 3, 5, 7], &[2, 3, 7, 9]), 2);
        assert_eq!(shared(&[], &[1]), 0);
    }
}
