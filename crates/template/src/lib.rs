//! Streaming log template mining: which lines are the same event with different values.
//!
//! This crate owns the template miner: masking variables in a message ([`mask`]), splitting it into
//! words ([`token`]), clustering messages into templates in one pass with bounded memory ([`miner`]),
//! the template type and its rendering ([`template`]), and the accuracy measures used to check it
//! against the labelled Loghub datasets ([`eval`], [`loghub`]). It works on message bytes (`&[u8]`,
//! the part after the header): it does not read files, parse log formats or know about events; the
//! ingest crate and the command line do that.
//!
//! ```
//! use rootline_template::Miner;
//!
//! let mut miner = Miner::default();
//! let a = miner.observe(b"sd 2:0:0:1: [sdv] rejecting I/O to offline device");
//! let b = miner.observe(b"sd 3:0:0:7: [sdt] rejecting I/O to offline device");
//! assert_eq!(miner.resolve(a), miner.resolve(b));
//! assert_eq!(miner.template(a).unwrap().render(), "sd <*>: [<*>] rejecting I/O to offline device");
//! ```

pub mod collapse;
pub mod eval;
pub mod loghub;
pub mod mask;
pub mod miner;
pub mod template;
pub mod token;

pub use miner::{Config, Miner};
pub use template::{Slot, Template, TemplateId};

/// Text of possibly non-UTF-8 bytes, invalid sequences written as `\xNN` (lossless and visible).
pub fn lossless(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let mut s = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                s.push_str(chunk.valid());
                for b in chunk.invalid() {
                    s.push_str(&format!("\\x{b:02X}"));
                }
            }
            std::borrow::Cow::Owned(s)
        }
    }
}
