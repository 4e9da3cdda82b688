//! Inline text of the report: plain words, code, emphasis, labels and evidence references, so that
//! Markdown and HTML render the same content each in its own way.

/// A label set apart from the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// Not tied by evidence.
    Hypothesis,
    /// A change before the fault: context, not proof.
    Context,
    /// The root cause.
    Root,
}

/// One piece of inline text.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    /// Plain text.
    Text(String),
    /// Inline code (commands, entity values, rule ids).
    Code(String),
    /// Emphasis.
    Strong(String),
    /// A reference to evidence line `n` of the appendix (1-based).
    Ev(usize),
    /// A label.
    Tag(Tag),
}

/// A run of inline text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rich(pub Vec<Span>);

impl Rich {
    /// Text where `` `x` `` is code and `**x**` is emphasis (the light markup of the catalogue and of
    /// rule documentation).
    pub fn parse(s: &str) -> Rich {
        let mut r = Rich::default();
        let mut rest = s;
        loop {
            let tick = rest.find('`');
            let star = rest.find("**");
            match (tick, star) {
                (Some(t), s2) if !matches!(s2, Some(s2) if s2 < t) => {
                    let after = &rest[t + 1..];
                    match after.find('`') {
                        Some(e) => {
                            r.text(&rest[..t]);
                            r.0.push(Span::Code(after[..e].to_string()));
                            rest = &after[e + 1..];
                        }
                        None => {
                            r.text(rest);
                            break;
                        }
                    }
                }
                (_, Some(s2)) => {
                    let after = &rest[s2 + 2..];
                    match after.find("**") {
                        Some(e) => {
                            r.text(&rest[..s2]);
                            r.0.push(Span::Strong(after[..e].to_string()));
                            rest = &after[e + 2..];
                        }
                        None => {
                            r.text(rest);
                            break;
                        }
                    }
                }
                _ => {
                    r.text(rest);
                    break;
                }
            }
        }
        r
    }

    /// Appends plain text (merged with a preceding plain run).
    pub fn text(&mut self, s: &str) -> &mut Self {
        if s.is_empty() {
            return self;
        }
        if let Some(Span::Text(t)) = self.0.last_mut() {
            t.push_str(s);
        } else {
            self.0.push(Span::Text(s.to_string()));
        }
        self
    }

    /// Appends evidence references.
    pub fn refs(&mut self, ns: &[usize]) -> &mut Self {
        for &n in ns {
            self.0.push(Span::Ev(n));
        }
        self
    }

    /// Starts with a label.
    pub fn tagged(mut self, tag: Tag) -> Rich {
        self.0.insert(0, Span::Tag(tag));
        self
    }

    /// The evidence numbers referenced.
    pub fn evidence(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().filter_map(|s| if let Span::Ev(n) = s { Some(*n) } else { None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_code_and_emphasis() {
        let r = Rich::parse("run `multipath -ll` **now**, then `x");
        assert_eq!(
            r.0,
            vec![
                Span::Text("run ".into()),
                Span::Code("multipath -ll".into()),
                Span::Text(" ".into()),
                Span::Strong("now".into()),
                Span::Text(", then `x".into()),
            ]
        );
    }
}
