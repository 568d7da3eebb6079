//! The individuals file: one row per person, tab-separated, with a header naming the columns
//! `local_id, sex, birth_year, hpo_terms, icd10_codes, consent` (lists comma-separated).
//!
//! The local id (a CPR number, a personnummer) is replaced by its keyed pseudonym as soon as the
//! row is read; no message ever quotes it, only the line number.

use std::collections::HashMap;
use std::io::BufRead;

use oresund_core::duo;
use oresund_core::individual::{Individual, Sex};
use oresund_core::ontology::Ontology;
use oresund_core::pseudonym::{Pseudonym, PseudonymBits, Pseudonymiser};

use crate::line::{CappedLines, LineError};
use crate::warning::Warning;

/// A problem with the file as a whole or with one line (1-based).
#[derive(Debug, thiserror::Error)]
pub enum IndividualsError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("reading the individuals file: {0}")]
    Io(#[from] std::io::Error),
}

/// The individuals file without the rows of the person with pseudonym `person` (a withdrawal),
/// every other byte as it was; returns it and how many rows were left out. The file was read
/// once at ingest, so only its header needs to be found again.
pub fn without_person(
    file: &[u8],
    pseudonymiser: &Pseudonymiser,
    person: &Pseudonym,
) -> Result<(Vec<u8>, usize), IndividualsError> {
    let mut out = Vec::with_capacity(file.len());
    let mut removed = 0;
    let mut local_id = None;
    for (n, line) in file.split_inclusive(|&b| b == b'\n').enumerate() {
        let text = std::str::from_utf8(line)
            .map_err(|_| IndividualsError::Line { line: n + 1, message: "not UTF-8 text".into() })?;
        let fields = || text.trim_end_matches(['\n', '\r']).split('\t');
        match local_id {
            None => {
                local_id = Some(fields().position(|name| name.trim() == COLUMNS[0]).ok_or_else(|| {
                    IndividualsError::Line { line: 1, message: "the header has no \"local_id\" column".into() }
                })?);
            }
            Some(column) => {
                let id = fields().nth(column).map(str::trim).unwrap_or_default();
                if !id.is_empty() && pseudonymiser.pseudonym(id) == *person {
                    removed += 1;
                    continue;
                }
            }
        }
        out.extend_from_slice(line);
    }
    Ok((out, removed))
}

/// The longest line read: one person's record is a few hundred bytes.
const MAX_LINE: usize = 1 << 20;

const COLUMNS: [&str; 6] = ["local_id", "sex", "birth_year", "hpo_terms", "icd10_codes", "consent"];

/// The rows of an individuals file, one [`Person`] at a time, as [`read_individuals`] reads
/// them. Only the pseudonyms seen are kept (to refuse a person listed twice): a national cohort's
/// file is not held as one list (at 60,000 people the list took 39 MB, of the 64 MB a whole
/// ingest may take: issue #19).
pub struct IndividualsReader<'a, R> {
    lines: CappedLines<R>,
    /// Columns in the header.
    width: usize,
    /// Where each of [`COLUMNS`] is in a row.
    index: [Option<usize>; COLUMNS.len()],
    /// Line of each person read so far.
    first_line: HashMap<PseudonymBits, usize>,
    warnings: Vec<Warning>,
    /// Line of the last row read.
    line: usize,
    pseudonymiser: &'a Pseudonymiser,
    hpo: Option<&'a Ontology>,
}

/// One row: the person, and the line (1-based) that describes them.
#[derive(Debug)]
pub struct Person {
    pub line: usize,
    pub individual: Individual,
}

/// Opens an individuals file: reads and checks its header (an error here is the header's).
/// `hpo`, when the node has one, is used to report unknown terms.
pub fn read_individuals<'a, R: BufRead>(
    mut input: R,
    pseudonymiser: &'a Pseudonymiser,
    hpo: Option<&'a Ontology>,
) -> Result<IndividualsReader<'a, R>, IndividualsError> {
    let swapped = || IndividualsError::Line {
        line: 1,
        message: "this is a VCF, not an individuals file (a TSV whose header names local_id, sex, ...): were the VCF \
                  and --individuals swapped?"
            .into(),
    };
    if input.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        return Err(swapped());
    }
    let mut lines = CappedLines::new(input, MAX_LINE);
    let header = lines.next().transpose().map_err(|e| line_error(1, e))?.ok_or(IndividualsError::Line {
        line: 1,
        message: "the file is empty; expected a header line naming the columns".into(),
    })?;
    // A spreadsheet's UTF-8 export may begin with a byte-order mark.
    let header = header.strip_prefix('\u{feff}').unwrap_or(&header);
    if header.starts_with("##fileformat=") {
        return Err(swapped());
    }
    let names: Vec<&str> = header.trim_end_matches('\r').split('\t').map(str::trim).collect();
    let mut warnings = Vec::new();
    let mut index = [None; COLUMNS.len()];
    for (i, name) in names.iter().enumerate() {
        match COLUMNS.iter().position(|c| c == name) {
            Some(c) if index[c].is_some() => {
                return Err(IndividualsError::Line { line: 1, message: format!("column {name:?} appears twice") });
            }
            Some(c) => index[c] = Some(i),
            None => warnings.push(Warning {
                line: 1,
                message: format!("column {name:?} is not one Øresund knows; it is ignored and not stored"),
            }),
        }
    }
    for (c, required) in [(0, "local_id"), (1, "sex")] {
        if index[c].is_none() {
            return Err(IndividualsError::Line {
                line: 1,
                message: format!("the header has no {required:?} column (expected: {})", COLUMNS.join(", ")),
            });
        }
    }
    let width = names.len();
    Ok(IndividualsReader { lines, width, index, first_line: HashMap::new(), warnings, line: 1, pseudonymiser, hpo })
}

fn line_error(line: usize, error: LineError) -> IndividualsError {
    match error {
        LineError::Io(error) => IndividualsError::Io(error),
        error => IndividualsError::Line { line, message: error.to_string() },
    }
}

impl<R: BufRead> Iterator for IndividualsReader<'_, R> {
    type Item = Result<Person, IndividualsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let row = self.lines.next()?;
            self.line += 1;
            let row = match row {
                Ok(row) => row,
                Err(e) => return Some(Err(line_error(self.line, e))),
            };
            let row = row.trim_end_matches('\r');
            if !row.trim().is_empty() {
                return Some(self.person(row).map(|individual| Person { line: self.line, individual }));
            }
        }
    }
}

impl<R> IndividualsReader<'_, R> {
    /// What was noticed so far (unknown columns, terms and codes), each with its line.
    pub fn into_warnings(self) -> Vec<Warning> {
        self.warnings
    }

    fn person(&mut self, row: &str) -> Result<Individual, IndividualsError> {
        let line = self.line;
        let fields: Vec<&str> = row.split('\t').collect();
        if fields.len() != self.width {
            return Err(IndividualsError::Line {
                line,
                message: format!("{} fields, but the header has {} columns", fields.len(), self.width),
            });
        }
        let field = |c: usize| self.index[c].map_or("", |i| fields[i].trim());
        let fail = |message: String| IndividualsError::Line { line, message };
        if field(0).is_empty() {
            return Err(fail("local_id is empty".into()));
        }
        let bits = self.pseudonymiser.bits(field(0));
        if let Some(first) = self.first_line.insert(bits, line) {
            return Err(fail(format!("the same local_id as line {first}; each person must appear once")));
        }
        let pseudonym = Pseudonym::from_bits(&bits);
        let sex: Sex = field(1).parse().map_err(|e| fail(format!("{e}")))?;
        let birth_year = match field(2) {
            "" => None,
            year => Some(
                year.parse::<u16>()
                    .ok()
                    .filter(|y| (1850..=2200).contains(y))
                    .ok_or_else(|| fail(format!("birth_year {year:?} is not a year")))?,
            ),
        };
        let mut warn = |message: String| self.warnings.push(Warning { line, message });
        let hpo_terms = list(field(3));
        for term in &hpo_terms {
            if !is_hpo_id(term) {
                return Err(fail(format!("{term:?} is not an HPO term id (HP: and seven digits)")));
            }
            match self.hpo.map(|o| (o, o.resolve(term))) {
                Some((_, None)) => warn(format!(
                    "HPO term {term} is not in the node's HPO release; kept, but no ontology filter will find it"
                )),
                Some((o, Some(t))) if o.id(t) != term => {
                    warn(format!("HPO term {term} is obsolete or an alternative id; filters treat it as {}", o.id(t)))
                }
                _ => {}
            }
        }
        let icd10_codes = list(field(4));
        for code in &icd10_codes {
            if !is_icd10(code) {
                warn(format!("{code:?} does not look like an ICD-10 code (for example G40.9); kept as given"));
            }
        }
        let consent = list(field(5));
        for code in &consent {
            if !duo::is_consent_code(code) {
                warn(format!(
                    "consent code {code:?} is not a DUO term (or a disease term restricting DS); kept, but no access rule will match it"
                ));
            }
        }
        Ok(Individual { pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent })
    }
}

fn list(field: &str) -> Vec<String> {
    field.split([',', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn is_hpo_id(term: &str) -> bool {
    term.strip_prefix("HP:").is_some_and(|d| d.len() == 7 && d.bytes().all(|b| b.is_ascii_digit()))
}

fn is_icd10(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_alphanumeric()
        && (b.len() == 3 || (b[3] == b'.' && b.len() > 4 && b[4..].iter().all(u8::is_ascii_alphanumeric)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Pseudonymiser {
        Pseudonymiser::new(&[3; 32]).unwrap()
    }

    /// Every row, and the warnings.
    fn read_all(text: &[u8], hpo: Option<&Ontology>) -> Result<(Vec<Person>, Vec<Warning>), IndividualsError> {
        let key = key();
        let mut reader = read_individuals(text, &key, hpo)?;
        let people = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
        Ok((people, reader.into_warnings()))
    }

    #[test]
    fn reads_every_column_and_pseudonymises() {
        let text = "local_id\tsex\tbirth_year\thpo_terms\ticd10_codes\tconsent\n\
                    070248-4770\tfemale\t1948\t\t\tDUO:0000006\n\
                    \n\
                    231259-3086\tmale\t1959\tHP:0000118,HP:0000822\tG40.9\tDUO:0000042,DUO:0000019\n";
        let (people, warnings) = read_all(text.as_bytes(), None).unwrap();
        assert_eq!(people.iter().map(|p| p.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(people[0].individual.pseudonym, key().pseudonym("070248-4770"));
        let p = &people[1].individual;
        assert_eq!(p.pseudonym, key().pseudonym("231259-3086"));
        assert_eq!((p.sex, p.birth_year), (Sex::Male, Some(1959)));
        assert_eq!(p.hpo_terms, ["HP:0000118", "HP:0000822"]);
        assert_eq!(p.icd10_codes, ["G40.9"]);
        assert_eq!(p.consent, ["DUO:0000042", "DUO:0000019"]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn unknown_terms_are_reported_with_their_line_and_kept() {
        let hpo = Ontology::from_obo(oresund_core_test_hpo().as_bytes()).unwrap();
        let text =
            "local_id\tsex\thpo_terms\tconsent\tnickname\nA1\tF\tHP:0000001,HP:7654321\tDUO:0000042,DUO:7777777\tx\n";
        let (people, warnings) = read_all(text.as_bytes(), Some(&hpo)).unwrap();
        let messages: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert!(messages[0].starts_with("1: column \"nickname\""), "{messages:?}");
        assert!(messages[1].starts_with("2: HPO term HP:7654321 is not in"), "{messages:?}");
        assert!(messages[2].starts_with("2: consent code \"DUO:7777777\""), "{messages:?}");
        assert_eq!(people[0].individual.hpo_terms, ["HP:0000001", "HP:7654321"]);
    }

    fn oresund_core_test_hpo() -> &'static str {
        "[Term]\nid: HP:0000001\nname: All\n"
    }

    #[test]
    fn errors_name_the_line_and_never_the_local_id() {
        let cases = [
            ("local_id\tsex\nX-1\tfemale\nX-1\tmale\n", "line 3: the same local_id as line 2"),
            ("local_id\tsex\nX-1\twoman\n", "line 2: sex must be"),
            ("local_id\tsex\tbirth_year\nX-1\tf\t19x8\n", "line 2: birth_year"),
            ("local_id\tsex\tbirth_year\nX-1\tf\n", "line 2: 2 fields"),
            ("local_id\tsex\thpo_terms\nX-1\tf\tHP:12\n", "line 2: \"HP:12\" is not an HPO term id"),
            ("sex\nf\n", "line 1: the header has no \"local_id\" column"),
            ("", "line 1: the file is empty"),
        ];
        let overlong = format!("local_id\tsex\thpo_terms\nX-1\tf\t{}\nX-2\tm\t\n", "HP:0000001,".repeat(100_000));
        let overlong = (overlong.as_str(), "line 2: the line is longer than 1 MiB");
        for (text, expected) in cases.into_iter().chain([overlong]) {
            let err = read_all(text.as_bytes(), None).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
            assert!(!err.contains("X-1"), "{err}");
        }
        let err = read_all(&b"local_id\tsex\nX-1\t\xff\n"[..], None).unwrap_err().to_string();
        assert_eq!(err, "line 2: the line is not UTF-8 text");
    }
}
