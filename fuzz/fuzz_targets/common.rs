//! Shared driver: feed arbitrary bytes, split into lines, to one format's parser; nothing may panic,
//! and every line must be reported to the sink exactly once or attached (never silently dropped).

use rootline_ingest::formats::{spec, LinePos, Parser, Record, Sink, SourceCtx};
use rootline_ingest::Format;

#[derive(Default)]
struct Count {
    calls: u64,
}

impl Sink for Count {
    fn record(&mut self, _at: LinePos, rec: Record<'_>) {
        self.calls += 1;
        std::hint::black_box(&rec);
    }
    fn attach(&mut self, _at: LinePos, _line: &[u8]) {
        self.calls += 1;
    }
    fn skip(&mut self, _at: LinePos) {
        self.calls += 1;
    }
    fn unparsed(&mut self, _at: LinePos, _line: &[u8]) {
        self.calls += 1;
    }
}

/// Runs `format`'s parser over `data`.
pub fn drive(format: Format, data: &[u8]) {
    let ctx = SourceCtx { path: "fuzz/input.log".into(), mtime: Some(1_760_000_000), ..SourceCtx::default() };
    let mut p: Box<dyn Parser> = (spec(format).parser)(&ctx);
    let mut sink = Count::default();
    let mut off = 0u64;
    for (i, line) in data.split(|&c| c == b'\n').enumerate() {
        p.feed(LinePos { line: i as u64 + 1, offset: off }, line, &mut sink);
        off += line.len() as u64 + 1;
    }
    p.finish(&mut sink);
}
