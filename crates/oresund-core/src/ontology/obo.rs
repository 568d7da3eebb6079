//! Reading an ontology from OBO 1.4 text.

use std::io::BufRead;

use super::{Edges, NONE, Ontology, Span, TermIndex};

/// Why an OBO file could not be read (OBO 1.4 §"Stanzas": every `[Term]` needs an `id`).
#[derive(Debug, thiserror::Error)]
pub enum OboError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("reading the ontology: {0}")]
    Io(#[from] std::io::Error),
}

/// The `[Term]` stanza being read.
struct Stanza {
    line: usize,
    id: Option<Span>,
    name: Span,
    obsolete: bool,
}

#[derive(Clone, Copy)]
enum Link {
    IsA,
    ReplacedBy,
}

/// What the parse has gathered: terms go straight into the ontology's text; links name their
/// target by id and are resolved once every term is known (a stanza may name a later one).
#[derive(Default)]
struct Parse {
    ontology: Ontology,
    /// Line of each term's stanza, for errors found after the parse.
    lines: Vec<usize>,
    alt_ids: Vec<(Span, TermIndex)>,
    /// Link targets, back to back.
    targets: String,
    links: Vec<(TermIndex, Link, Span)>,
}

impl Ontology {
    /// Parses an OBO 1.4 document (for example `hp.obo`). Only `[Term]` stanzas are read; the
    /// tags used are `id`, `name`, `is_a`, `alt_id`, `is_obsolete` and `replaced_by`.
    pub fn from_obo(mut reader: impl BufRead) -> Result<Self, OboError> {
        let mut parse = Parse::default();
        let mut current: Option<Stanza> = None;
        let mut line = String::new();
        let mut n = 0;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            n += 1;
            let text = line.trim_end();
            if text.starts_with('[') {
                if let Some(stanza) = current.take() {
                    parse.add(stanza)?;
                }
                if text == "[Term]" {
                    current = Some(Stanza { line: n, id: None, name: Span::default(), obsolete: false });
                }
                continue;
            }
            // `tag: value`; a tag holds no colon (a character search: this runs on every line).
            let Some((tag, value)) = text.split_once(':') else {
                continue;
            };
            let Some(value) = value.strip_prefix(' ') else {
                continue;
            };
            match current.as_mut() {
                None if tag == "data-version" => parse.ontology.version = Some(strip_comment(value).to_string()),
                None => {}
                Some(stanza) => {
                    // The term this stanza becomes.
                    let index = parse.ontology.ids.len() as TermIndex;
                    // Only the tags used are looked at: most lines (def, synonym, xref) are not.
                    match tag {
                        "id" => stanza.id = Some(push(&mut parse.ontology.text, strip_comment(value))?),
                        "name" => stanza.name = push(&mut parse.ontology.text, strip_comment(value))?,
                        "alt_id" => {
                            let span = push(&mut parse.ontology.text, strip_comment(value))?;
                            parse.alt_ids.push((span, index));
                        }
                        "is_obsolete" => stanza.obsolete = strip_comment(value) == "true",
                        "is_a" => parse.link(index, Link::IsA, strip_comment(value))?,
                        "replaced_by" => parse.link(index, Link::ReplacedBy, strip_comment(value))?,
                        _ => {}
                    }
                }
            }
        }
        if let Some(stanza) = current {
            parse.add(stanza)?;
        }
        parse.finish()
    }
}

/// Appends `value` to `text`, returning where it is.
fn push(text: &mut String, value: &str) -> Result<Span, OboError> {
    let too_long = || OboError::Io(std::io::Error::other("the ontology's ids and names exceed 4 GiB"));
    let start = u32::try_from(text.len()).map_err(|_| too_long())?;
    text.push_str(value);
    let end = u32::try_from(text.len()).map_err(|_| too_long())?;
    Ok(Span { start, end })
}

impl Parse {
    fn add(&mut self, stanza: Stanza) -> Result<(), OboError> {
        let id = stanza
            .id
            .ok_or_else(|| OboError::Syntax { line: stanza.line, message: "[Term] stanza without an id".into() })?;
        self.ontology.ids.push(id);
        self.ontology.names.push(stanza.name);
        self.ontology.obsolete.push(stanza.obsolete);
        self.lines.push(stanza.line);
        Ok(())
    }

    fn link(&mut self, from: TermIndex, link: Link, target: &str) -> Result<(), OboError> {
        let span = push(&mut self.targets, target)?;
        self.links.push((from, link, span));
        Ok(())
    }

    fn finish(self) -> Result<Ontology, OboError> {
        let Parse { mut ontology, lines, alt_ids, targets, links } = self;
        let o = &mut ontology;
        // Sorted by id; among equal ids a primary id comes first, then alternatives in file order,
        // so an alt_id never hides another term's primary id.
        let mut by_id: Vec<(Span, TermIndex, bool)> =
            o.ids.iter().enumerate().map(|(t, &span)| (span, t as TermIndex, false)).collect();
        by_id.extend(alt_ids.iter().map(|&(span, t)| (span, t, true)));
        let text = &o.text;
        let str = |span: Span| &text[span.start as usize..span.end as usize];
        by_id.sort_by(|a, b| str(a.0).cmp(str(b.0)).then(a.2.cmp(&b.2)));
        for pair in by_id.windows(2) {
            if let [(a, _, false), (b, later, false)] = pair
                && str(*a) == str(*b)
            {
                let (line, id) = (lines[*later as usize], str(*b));
                return Err(OboError::Syntax { line, message: format!("term {id} is defined twice") });
            }
        }
        by_id.dedup_by(|b, a| str(a.0) == str(b.0));
        o.by_id = by_id.into_iter().map(|(span, t, _)| (span, t)).collect();

        let n = o.ids.len();
        let target = |span: Span| o.lookup(&targets[span.start as usize..span.end as usize]);
        // A parent outside this file (a cross-ontology link) is not an error; it has no closure here.
        let is_a: Vec<(TermIndex, TermIndex)> = links
            .iter()
            .filter(|(_, link, _)| matches!(link, Link::IsA))
            .filter_map(|&(from, _, span)| Some((from, target(span)?)))
            .collect();
        let mut replaced_by = vec![NONE; n];
        for &(from, link, span) in &links {
            if let (Link::ReplacedBy, Some(to)) = (link, target(span)) {
                replaced_by[from as usize] = to;
            }
        }
        o.replaced_by = replaced_by;
        o.parents = Edges::from_pairs(n, &is_a);
        Ok(ontology)
    }
}

fn strip_comment(value: &str) -> &str {
    // `is_a: HP:0000118 ! Phenotypic abnormality`; quoted values (def, synonym) are not used here.
    let bytes = value.as_bytes();
    let comment = (1..bytes.len().saturating_sub(1)).find(|&i| &bytes[i - 1..=i + 1] == b" ! ");
    match comment {
        Some(i) => value[..i - 1].trim(),
        None => value.trim(),
    }
}
