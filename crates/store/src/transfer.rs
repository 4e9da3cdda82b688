//! Export and import: one `rootline.case/v1` document per line (JSON lines).
//!
//! An export carries each case's id, but an import gives new ids (the receiving database has its
//! own) and recomputes each key from the document, so a case already there is recognised and not
//! stored twice. Every line is read and checked before anything is written, and everything is
//! written in one transaction: an import with one bad line adds nothing and names the line.

use std::io::BufRead;

use crate::case::Case;

/// A line that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

/// One case as an export line (without the newline).
pub fn line(c: &Case) -> String {
    serde_json::to_string(c).expect("a case always serialises")
}

/// Reads every case of an export; blank lines are skipped. The first bad line stops the reading.
pub fn read(r: impl BufRead) -> Result<Vec<Case>, BadLine> {
    let mut out = Vec::new();
    for (i, l) in r.lines().enumerate() {
        let line = i + 1;
        let l = l.map_err(|e| BadLine { line, why: e.to_string() })?;
        if l.trim().is_empty() {
            continue;
        }
        let c: Case = serde_json::from_str(&l).map_err(|e| {
            // serde_json counts lines inside the text it reads: here that is always line 1.
            let why = match e.line() {
                1 => format!("not a case document: {} (column {})", strip_position(&e.to_string()), e.column()),
                _ => format!("not a case document: {e}"),
            };
            BadLine { line, why }
        })?;
        out.push(c.validate().map_err(|why| BadLine { line, why })?);
    }
    Ok(out)
}

/// A serde_json message without its ` at line L column C` tail.
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bad_line_is_named() {
        let good = r#"{"schema":"rootline.case/v1","title":"t","host":"n","start":null,"end":null,"verdict":"uncertain","root_cause":{"signature":"kernel.hung-task","family":"kernel","confidence":0.3,"summary":"s"}}"#;
        let text = format!("{good}\n\n{good}\n{{\"schema\":\"rootline.case/v1\"}}\n");
        let e = read(text.as_bytes()).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.why.contains("missing field"), "{e}");
        assert!(!e.why.contains("line 1"), "only the file's line is named: {e}");
        let e = read(format!("{good}\nnot json\n").as_bytes()).unwrap_err();
        assert_eq!(e.line, 2);
        let other = good.replace("rootline.case/v1", "rootline.case/v9");
        assert_eq!(read(other.as_bytes()).unwrap_err().why, "schema \"rootline.case/v9\" is not rootline.case/v1");
        let cases = read(format!("{good}\n{good}\n").as_bytes()).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].key, cases[1].key);
        assert_eq!(cases[0].key.len(), 64, "the key is recomputed");
    }
}
