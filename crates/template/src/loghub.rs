//! Reading the Loghub benchmark files: the `Content` and `EventTemplate` columns of a structured CSV.
//!
//! See: <https://github.com/logpai/loghub> (the 2k samples) and Khan et al., ICSE 2022 (the corrected
//! templates in `*_structured_corrected.csv`).

use std::path::{Path, PathBuf};

/// The 16 Loghub-2k datasets, in the order of the Loghub paper's tables.
pub const DATASETS: [&str; 16] = [
    "HDFS",
    "Hadoop",
    "Spark",
    "Zookeeper",
    "BGL",
    "HPC",
    "Thunderbird",
    "Windows",
    "Linux",
    "Android",
    "HealthApp",
    "Apache",
    "OpenSSH",
    "OpenStack",
    "Mac",
    "Proxifier",
];

/// One labelled dataset: every line's message and its true template.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// The `Content` column (the message without the header).
    pub contents: Vec<String>,
    /// The `EventTemplate` column.
    pub templates: Vec<String>,
}

/// A problem reading a dataset.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The header lacks a needed column.
    #[error("{path}: the header has no `{column}` column")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// A row is shorter than the header.
    #[error("{path}: record {record} has too few fields")]
    ShortRecord {
        /// The file.
        path: PathBuf,
        /// The 1-based record number (after the header).
        record: usize,
    },
}

/// The corrected structured CSV of `dataset` under `dir` (`<dir>/<D>/<D>_2k.log_structured_corrected.csv`).
pub fn structured_path(dir: &Path, dataset: &str) -> PathBuf {
    dir.join(dataset).join(format!("{dataset}_2k.log_structured_corrected.csv"))
}

/// Reads the `Content` and `EventTemplate` columns of a Loghub structured CSV.
pub fn load(path: &Path) -> Result<Labelled, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.into(), source })?;
    let mut records = parse_csv(&text).into_iter();
    let header = records.next().unwrap_or_default();
    let col = |column: &'static str| {
        header.iter().position(|h| h == column).ok_or(LoadError::MissingColumn { path: path.into(), column })
    };
    let (c, t) = (col("Content")?, col("EventTemplate")?);
    let mut out = Labelled { contents: Vec::new(), templates: Vec::new() };
    for (i, r) in records.enumerate() {
        if r.len() == 1 && r[0].is_empty() {
            continue;
        }
        if r.len() <= c.max(t) {
            return Err(LoadError::ShortRecord { path: path.into(), record: i + 1 });
        }
        out.contents.push(r[c].clone());
        out.templates.push(r[t].clone());
    }
    Ok(out)
}

/// RFC 4180 CSV: fields separated by commas, optionally quoted with `"` (`""` inside is a quote);
/// quoted fields may hold commas and newlines. Records end at LF or CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        if quoted {
            match ch {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(ch),
            }
            continue;
        }
        match ch {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(ch),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_and_newlines() {
        let r = parse_csv("a,b,c\r\n1,\"x, \"\"y\"\"\",3\n4,\"multi\nline\",6");
        assert_eq!(r[1], vec!["1", "x, \"y\"", "3"]);
        assert_eq!(r[2], vec!["4", "multi\nline", "6"]);
    }
}
