//! Plain formats: lines, `key = value` files, INI files (oslo.config), header-named tables.

use crate::item::Item;

/// One `line` item per non-empty line.
pub fn lines(text: &str, origin: &str) -> Vec<Item> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let mut it = Item::new("line");
            it.cite(origin, Some(i + 1), l);
            it
        })
        .collect()
}

/// The line without a comment: `#` or `;` at its start (after blanks).
fn uncommented(l: &str) -> Option<&str> {
    let t = l.trim();
    (!t.is_empty() && !t.starts_with('#') && !t.starts_with(';')).then_some(t)
}

/// Strips one pair of matching quotes.
pub fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// `key = value` (iscsid.conf, sysctl.conf), `key: value`, or `key value`: one `setting` item each.
pub fn kv(text: &str, origin: &str) -> Vec<Item> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let Some(t) = uncommented(l) else { continue };
        // The first `=` or `:` separates (`key: a=b`, `key = a:b`).
        let (k, v) = match t.find(['=', ':']) {
            Some(e) => (&t[..e], &t[e + 1..]),
            None => match t.split_once(char::is_whitespace) {
                Some((k, v)) => (k, v),
                None => (t, ""),
            },
        };
        let mut it = Item::new("setting");
        it.set("key", k.trim()).set("value", unquote(v));
        it.cite(origin, Some(i + 1), l);
        out.push(it);
    }
    out
}

/// An INI file as oslo.config reads it: `[section]`, `key = value` (or `key: value`), indented
/// lines continuing the value above. One `setting` item per key, with its section as written.
pub fn ini(text: &str, origin: &str) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    let mut section = String::new();
    for (i, l) in text.lines().enumerate() {
        let Some(t) = uncommented(l) else { continue };
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].trim().to_string();
            continue;
        }
        // A continuation line: indented, below a setting of the same section.
        if l.starts_with([' ', '\t']) && !t.contains('=') {
            if let Some(prev) = out.last_mut() {
                let v = format!("{} {t}", prev.get("value").unwrap_or(""));
                prev.set("value", v.trim());
                continue;
            }
        }
        let cut = match (t.find('='), t.find(':')) {
            (Some(e), Some(c)) => e.min(c),
            (Some(e), None) => e,
            (None, Some(c)) => c,
            (None, None) => continue,
        };
        let mut it = Item::new("setting");
        it.set("section", section.as_str()).set("key", t[..cut].trim()).set("value", unquote(&t[cut + 1..]));
        it.cite(origin, Some(i + 1), l);
        out.push(it);
    }
    out
}

/// A table whose header line names its columns (`multipathd show paths`: `hcil dev dev_t pri
/// dm_st chk_st dev_st next_check`). Columns are cut where the header's words start, so a value
/// with a space (`i/o pending`) stays whole; names are lowercased, other characters than letters
/// and digits become `_`. One `row` item per line below the header.
pub fn table(text: &str, origin: &str) -> Vec<Item> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return Vec::new() };
    let cols = columns(header);
    let mut out = Vec::new();
    for (i, l) in lines {
        let mut it = Item::new("row");
        for (n, (name, start)) in cols.iter().enumerate() {
            let end = cols.get(n + 1).map(|c| c.1).unwrap_or(usize::MAX);
            it.set(name, cell(l, *start, end));
        }
        it.cite(origin, Some(i + 1), l);
        out.push(it);
    }
    out
}

/// Column names and where they start (byte offsets), from a header line.
pub fn columns(header: &str) -> Vec<(String, usize)> {
    let mut cols = Vec::new();
    let b = header.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let name: String = header[start..i]
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        cols.push((name, start));
    }
    cols
}

/// The text of a line between two byte offsets (clamped to character boundaries), trimmed.
pub fn cell(line: &str, start: usize, end: usize) -> String {
    let clamp = |mut i: usize| {
        i = i.min(line.len());
        while !line.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    line[clamp(start)..clamp(end)].trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_files() {
        let t = "# iscsid.conf\nnode.session.timeo.replacement_timeout = 120\n  ; comment\nkernel.hung_task_panic=1\nplain value here\n";
        let items = kv(t, "/etc/iscsi/iscsid.conf");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].get("key"), Some("node.session.timeo.replacement_timeout"));
        assert_eq!(items[0].get("value"), Some("120"));
        assert_eq!(items[0].get("line"), Some("2"));
        assert_eq!((items[1].get("key"), items[1].get("value")), (Some("kernel.hung_task_panic"), Some("1")));
        assert_eq!((items[2].get("key"), items[2].get("value")), (Some("plain"), Some("value here")));
    }

    #[test]
    fn ini_files_with_sections_and_continuations() {
        let t = "[DEFAULT]\ndebug = true\n[libvirt]\nimages_type = rbd\nrbd_secret_uuid = \"457eb676-33da-42ec-9a8c-9293d545c337\"\nlong = a\n  b\n";
        let items = ini(t, "/etc/nova/nova.conf");
        let find = |k: &str| items.iter().find(|i| i.get("key") == Some(k)).unwrap();
        assert_eq!(find("debug").get("section"), Some("DEFAULT"));
        let u = find("rbd_secret_uuid");
        assert_eq!(
            (u.get("section"), u.get("value"), u.get("line")),
            (Some("libvirt"), Some("457eb676-33da-42ec-9a8c-9293d545c337"), Some("5"))
        );
        assert_eq!(find("long").get("value"), Some("a b"));
    }

    #[test]
    fn tables_cut_at_the_header_words() {
        let t = "hcil    dev dev_t pri dm_st  chk_st      dev_st  next_check\n\
                 0:0:0:0 sda 8:0   50  active ready       running XX........ 1/4\n\
                 1:0:0:0 sdb 8:16  10  failed i/o pending offline X......... 1/4\n";
        let rows = table(t, "command: multipathd show paths");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].get("dev"), rows[0].get("dm_st"), rows[0].get("chk_st")),
            (Some("sda"), Some("active"), Some("ready"))
        );
        assert_eq!(rows[1].get("chk_st"), Some("i/o pending"));
        assert_eq!(rows[1].get("next_check"), Some("X......... 1/4"));
        assert_eq!(rows[1].get("line"), Some("3"));
        assert!(table("", "x").is_empty());
    }
}
