//! Not yet implemented beyond the helpers syslog needs.

use super::{Parser, SourceCtx};

/// Detection (not yet implemented).
pub fn detect(_line: &[u8]) -> bool {
    false
}

/// Path hint (not yet implemented).
pub fn path_hint(_path: &str) -> f32 {
    0.0
}

/// Falls back to the generic parser.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    super::generic::parser(ctx)
}

/// Strips a printk caller id (`[T1234]`, `[C3]`) at the start of a message.
// See: kernel/printk/printk.c, CONFIG_PRINTK_CALLER ("[T%u]" for tasks, "[C%u]" for CPUs).
pub(crate) fn strip_caller_id(b: &[u8]) -> &[u8] {
    if let [b'[', kind @ (b'T' | b'C'), rest @ ..] = b {
        let _ = kind;
        if let Some(end) = memchr::memchr(b']', rest) {
            if end > 0 && rest[..end].iter().all(u8::is_ascii_digit) {
                return &rest[end + 1..];
            }
        }
    }
    b
}
