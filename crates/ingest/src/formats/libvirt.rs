//! Not yet implemented: lines are read by the generic parser until this format lands.

use super::{Parser, SourceCtx};

/// Detection (not yet implemented).
pub fn detect(_line: &[u8]) -> bool {
    false
}

/// Falls back to the generic parser.
pub fn parser(ctx: &SourceCtx) -> Box<dyn Parser> {
    super::generic::parser(ctx)
}
