//! Time as written, and the parsing helpers every format shares.
//!
//! Parsers return a [`RawTime`]: exactly what the line stated, nothing guessed. Turning it into a wall
//! clock instant needs facts from outside the line (the year, the zone, when the host booted) and is
//! the job of [`resolve`], once every source has been read.

pub mod civil;
pub mod clock;
pub mod date_output;
pub mod resolve;

/// The time a line stated, before year, zone and boot anchors are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RawTime {
    /// The line carried no usable time.
    #[default]
    None,
    /// A full instant with an explicit offset (`2025-10-13T10:56:00.123Z`, `+0900`).
    Exact {
        /// Nanoseconds since the epoch (UTC).
        unix_nanos: i64,
        /// The offset the line was written in, seconds east of UTC.
        offset_secs: i32,
    },
    /// A full local date and time with no offset: to be read in the source's zone.
    Naive {
        /// Nanoseconds since the epoch as if the civil time were UTC.
        civil_nanos: i64,
    },
    /// A local date without a year (`Oct 13 19:51:02`, klog `I1013 19:56:01.123456`).
    YearLess {
        /// Month 1..=12.
        month: u8,
        /// Day 1..=31.
        day: u8,
        /// Nanoseconds since local midnight.
        nanos_of_day: i64,
    },
    /// Seconds since boot (kernel ring buffer), in nanoseconds.
    Boot {
        /// Nanoseconds since boot.
        nanos: i64,
    },
    /// The moment the state snapshot this line belongs to was taken (the source's file time).
    Snapshot,
    /// An instant measured back from a reference by a rounded age (`kubectl`'s `5m` before `--now`):
    /// ordered like an exact time, shown as approximate.
    Approx {
        /// Nanoseconds since the epoch (UTC).
        unix_nanos: i64,
    },
}

impl RawTime {
    /// True when the line stated any time at all.
    pub fn is_some(&self) -> bool {
        !matches!(self, RawTime::None)
    }
}
