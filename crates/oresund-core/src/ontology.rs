//! An is-a ontology (HPO, or any OBO 1.4 file): term ids, names, parents, and the closures that
//! ontology filters need ("HP:0000707 covers HP:0001250", Beacon v2 `includeDescendantTerms`).

use std::collections::HashMap;
use std::io::BufRead;

/// Index of a term inside one [`Ontology`].
pub type TermIndex = u32;

/// A parsed ontology. Obsolete terms are kept so that old data can be resolved through `replaced_by`.
#[derive(Debug, Default, Clone)]
pub struct Ontology {
    version: Option<String>,
    ids: Vec<String>,
    names: Vec<String>,
    parents: Vec<Vec<TermIndex>>,
    children: Vec<Vec<TermIndex>>,
    obsolete: Vec<bool>,
    replaced_by: Vec<Option<TermIndex>>,
    /// Primary ids and `alt_id`s.
    by_id: HashMap<String, TermIndex>,
}

/// Why an OBO file could not be read (OBO 1.4 §"Stanzas": every `[Term]` needs an `id`).
#[derive(Debug, thiserror::Error)]
pub enum OboError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("reading the ontology: {0}")]
    Io(#[from] std::io::Error),
}

/// The `[Term]` stanza being read; its strings move into the ontology when it ends.
#[derive(Default)]
struct Stanza {
    line: usize,
    id: Option<String>,
    name: String,
    obsolete: bool,
}

/// Links named by id, resolved once every term is known (a stanza may name a later one).
#[derive(Default)]
struct Links {
    is_a: Vec<(TermIndex, String)>,
    alt_ids: Vec<(TermIndex, String)>,
    replaced_by: Vec<(TermIndex, String)>,
}

impl Ontology {
    /// Parses an OBO 1.4 document (for example `hp.obo`). Only `[Term]` stanzas are read; the
    /// tags used are `id`, `name`, `is_a`, `alt_id`, `is_obsolete` and `replaced_by`.
    ///
    /// One pass with one line buffer, strings moved rather than copied: a command that filters by
    /// phenotype parses HPO (about 19,000 terms) on every start (issue #19).
    pub fn from_obo(mut reader: impl BufRead) -> Result<Self, OboError> {
        let mut ontology = Ontology::default();
        let mut links = Links::default();
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
                    ontology.add(stanza)?;
                }
                if text == "[Term]" {
                    current = Some(Stanza { line: n, ..Stanza::default() });
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
                None if tag == "data-version" => ontology.version = Some(strip_comment(value).to_string()),
                None => {}
                Some(stanza) => {
                    // The term this stanza becomes: links are kept by its future index.
                    let index = ontology.ids.len() as TermIndex;
                    // Only the tags used are looked at: most lines (def, synonym, xref) are not.
                    match tag {
                        "id" => stanza.id = Some(strip_comment(value).to_string()),
                        "name" => stanza.name = strip_comment(value).to_string(),
                        "is_a" => links.is_a.push((index, strip_comment(value).to_string())),
                        "alt_id" => links.alt_ids.push((index, strip_comment(value).to_string())),
                        "is_obsolete" => stanza.obsolete = strip_comment(value) == "true",
                        "replaced_by" => links.replaced_by.push((index, strip_comment(value).to_string())),
                        _ => {}
                    }
                }
            }
        }
        if let Some(stanza) = current {
            ontology.add(stanza)?;
        }
        ontology.link(links);
        Ok(ontology)
    }

    fn add(&mut self, stanza: Stanza) -> Result<(), OboError> {
        let id = stanza
            .id
            .ok_or_else(|| OboError::Syntax { line: stanza.line, message: "[Term] stanza without an id".into() })?;
        let index = self.ids.len() as TermIndex;
        if self.by_id.insert(id.clone(), index).is_some() {
            return Err(OboError::Syntax { line: stanza.line, message: format!("term {id} is defined twice") });
        }
        self.ids.push(id);
        self.names.push(stanza.name);
        self.obsolete.push(stanza.obsolete);
        Ok(())
    }

    fn link(&mut self, links: Links) {
        // Primary ids first: an alt_id never hides another term's primary id.
        for (index, alt) in links.alt_ids {
            self.by_id.entry(alt).or_insert(index);
        }
        let n = self.ids.len();
        self.parents = vec![Vec::new(); n];
        self.children = vec![Vec::new(); n];
        self.replaced_by = vec![None; n];
        for (index, parent) in &links.is_a {
            // A parent outside this file (a cross-ontology link) is not an error; it has no closure here.
            if let Some(&p) = self.by_id.get(parent) {
                self.parents[*index as usize].push(p);
                self.children[p as usize].push(*index);
            }
        }
        for (index, target) in &links.replaced_by {
            self.replaced_by[*index as usize] = self.by_id.get(target).copied();
        }
    }

    /// The release, from the header's `data-version` (HPO: `hp/releases/2025-01-16`).
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Finds a term by primary or alternative id; obsolete terms resolve to their `replaced_by`.
    pub fn resolve(&self, id: &str) -> Option<TermIndex> {
        let mut index = *self.by_id.get(id.trim())?;
        // replaced_by chains are short; the bound guards against a cycle in a broken file.
        for _ in 0..8 {
            match (self.obsolete[index as usize], self.replaced_by[index as usize]) {
                (true, Some(next)) => index = next,
                _ => break,
            }
        }
        Some(index)
    }

    pub fn id(&self, term: TermIndex) -> &str {
        &self.ids[term as usize]
    }

    pub fn name(&self, term: TermIndex) -> &str {
        &self.names[term as usize]
    }

    pub fn is_obsolete(&self, term: TermIndex) -> bool {
        self.obsolete[term as usize]
    }

    /// The term's direct parents along `is_a`.
    pub fn parents(&self, term: TermIndex) -> &[TermIndex] {
        &self.parents[term as usize]
    }

    /// The term and all its ancestors along `is_a`.
    pub fn ancestors(&self, term: TermIndex) -> Vec<TermIndex> {
        self.closure(term, &self.parents)
    }

    /// The term and all its descendants along `is_a`.
    pub fn descendants(&self, term: TermIndex) -> Vec<TermIndex> {
        self.closure(term, &self.children)
    }

    fn closure(&self, start: TermIndex, edges: &[Vec<TermIndex>]) -> Vec<TermIndex> {
        let mut seen = vec![false; self.ids.len()];
        let mut stack = vec![start];
        let mut out = Vec::new();
        while let Some(t) = stack.pop() {
            if std::mem::replace(&mut seen[t as usize], true) {
                continue;
            }
            out.push(t);
            stack.extend(edges[t as usize].iter().copied());
        }
        out
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MINI_HPO: &str = "format-version: 1.2
data-version: hp/releases/test

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001 ! All

[Term]
id: HP:0000707
name: Abnormality of the nervous system
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0012638
name: Abnormal nervous system physiology
is_a: HP:0000707

[Term]
id: HP:0001250
name: Seizure
alt_id: HP:0002279
is_a: HP:0012638

[Term]
id: HP:0009999
name: Old seizure term
is_obsolete: true
replaced_by: HP:0001250

[Typedef]
id: part_of
";

    #[test]
    fn closures_follow_is_a() {
        let o = Ontology::from_obo(MINI_HPO.as_bytes()).unwrap();
        assert_eq!(o.version(), Some("hp/releases/test"));
        let seizure = o.resolve("HP:0001250").unwrap();
        let nervous = o.resolve("HP:0000707").unwrap();
        assert!(o.descendants(nervous).contains(&seizure));
        let mut ancestors: Vec<&str> = o.ancestors(seizure).into_iter().map(|t| o.id(t)).collect();
        ancestors.sort();
        assert_eq!(ancestors, ["HP:0000001", "HP:0000118", "HP:0000707", "HP:0001250", "HP:0012638"]);
    }

    #[test]
    fn alt_ids_and_obsolete_terms_resolve() {
        let o = Ontology::from_obo(MINI_HPO.as_bytes()).unwrap();
        assert_eq!(o.id(o.resolve("HP:0002279").unwrap()), "HP:0001250");
        assert_eq!(o.id(o.resolve("HP:0009999").unwrap()), "HP:0001250");
        assert_eq!(o.resolve("HP:1234567"), None);
        assert_eq!(o.name(o.resolve("HP:0000707").unwrap()), "Abnormality of the nervous system");
    }

    #[test]
    fn stanza_without_id_is_an_error_with_its_line() {
        let err = Ontology::from_obo("[Term]\nname: x\n".as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 1:"), "{err}");
    }
}
