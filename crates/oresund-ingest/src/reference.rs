//! The node's copy of its reference genome.
//!
//! `oresund init` imports a FASTA (plain, gzip or bgzip) once into a directory of raw upper-case
//! sequence files, one per contig, plus `contigs.tsv` (name, length, refget id). Any base can then
//! be read with one positioned read: no FASTA line arithmetic, no `.fai`/`.gzi` on the query path.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use oresund_core::digest::RefgetDigest;
use oresund_core::sequence::Sequence;

/// One reference sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contig {
    pub name: String,
    pub length: u64,
    /// refget sequence identifier (`SQ.…`), used in VRS ids and Beacon `/info`.
    pub refget: String,
}

/// Why a reference could not be imported or read.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{}:{line}: {message}", path.display())]
    Fasta { path: PathBuf, line: usize, message: String },
    #[error("{}: the reference directory is damaged: {message}", path.display())]
    Damaged { path: PathBuf, message: String },
}

/// A reference imported into a node directory.
#[derive(Debug)]
pub struct ReferenceDir {
    contigs: Vec<Contig>,
    files: Vec<File>,
    by_name: HashMap<String, usize>,
}

/// One contig of a [`ReferenceDir`], as a [`Sequence`].
pub struct ContigSequence<'a> {
    file: &'a File,
    length: u64,
}

impl Sequence for ContigSequence<'_> {
    fn len(&self) -> u64 {
        self.length
    }

    fn fetch(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let start = start.min(self.length);
        let end = end.clamp(start, self.length);
        let mut buf = vec![0; (end - start) as usize];
        self.file.read_exact_at(&mut buf, start)?;
        Ok(buf)
    }
}

const CONTIGS_FILE: &str = "contigs.tsv";

fn seq_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("{index:05}.seq"))
}

impl ReferenceDir {
    /// Imports `fasta` into `dir` (created), reporting compressed bytes read to `progress`.
    pub fn import(fasta: &Path, dir: &Path, mut progress: impl FnMut(u64)) -> Result<Self, ReferenceError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReferenceError::Io { path: path.clone(), error: source }
        };
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let input = crate::input::open_maybe_gzipped(fasta).map_err(io_err(fasta))?;
        let mut reader = BufReader::with_capacity(1 << 20, crate::input::ProgressRead::new(input, &mut progress));
        let mut contigs: Vec<Contig> = Vec::new();
        let mut current: Option<(String, BufWriter<File>, RefgetDigest, u64)> = None;
        let mut line = Vec::new();
        let mut number = 0;
        let fasta_error =
            |line: usize, message: String| ReferenceError::Fasta { path: fasta.to_path_buf(), line, message };
        let finish = |current: Option<(String, BufWriter<File>, RefgetDigest, u64)>,
                      contigs: &mut Vec<Contig>,
                      line: usize|
         -> Result<(), ReferenceError> {
            if let Some((name, mut out, digest, length)) = current {
                if length == 0 {
                    return Err(fasta_error(line, format!("sequence {name:?} is empty")));
                }
                out.flush().map_err(io_err(dir))?;
                contigs.push(Contig { name, length, refget: digest.finish() });
            }
            Ok(())
        };
        loop {
            line.clear();
            let read = reader.read_until(b'\n', &mut line).map_err(io_err(fasta))?;
            if read == 0 {
                break;
            }
            number += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if let Some(header) = text.strip_prefix(b">") {
                finish(current.take(), &mut contigs, number)?;
                let name = String::from_utf8_lossy(header).split_whitespace().next().unwrap_or("").to_string();
                if name.is_empty() {
                    return Err(fasta_error(number, "a '>' header line without a sequence name".into()));
                }
                if contigs.iter().any(|c| c.name == name) {
                    return Err(fasta_error(number, format!("sequence {name:?} appears twice")));
                }
                let path = seq_file(dir, contigs.len());
                let file = File::create(&path).map_err(io_err(&path))?;
                current = Some((name, BufWriter::with_capacity(1 << 20, file), RefgetDigest::default(), 0));
                continue;
            }
            if text.is_empty() {
                continue;
            }
            let Some((_, out, digest, length)) = current.as_mut() else {
                return Err(fasta_error(number, "sequence data before the first '>' header".into()));
            };
            if let Some(bad) = text.iter().find(|b| !b.is_ascii_alphabetic()) {
                return Err(fasta_error(number, format!("{:?} is not a base (expected IUPAC letters)", *bad as char)));
            }
            let upper = text.to_ascii_uppercase();
            digest.update(&upper);
            out.write_all(&upper).map_err(io_err(dir))?;
            *length += upper.len() as u64;
        }
        finish(current.take(), &mut contigs, number)?;
        if contigs.is_empty() {
            return Err(fasta_error(number, "no sequences found; is this a FASTA file?".into()));
        }
        let listing: String = contigs.iter().map(|c| format!("{}\t{}\t{}\n", c.name, c.length, c.refget)).collect();
        std::fs::write(dir.join(CONTIGS_FILE), listing).map_err(io_err(dir))?;
        Self::open(dir)
    }

    /// Opens a directory written by [`ReferenceDir::import`].
    pub fn open(dir: &Path) -> Result<Self, ReferenceError> {
        let listing_path = dir.join(CONTIGS_FILE);
        let listing = std::fs::read_to_string(&listing_path)
            .map_err(|source| ReferenceError::Io { path: listing_path.clone(), error: source })?;
        let damaged = |message: String| ReferenceError::Damaged { path: dir.to_path_buf(), message };
        let mut reference = ReferenceDir { contigs: Vec::new(), files: Vec::new(), by_name: HashMap::new() };
        for (index, row) in listing.lines().enumerate() {
            let fields: Vec<&str> = row.split('\t').collect();
            let [name, length, refget] = fields[..] else {
                return Err(damaged(format!("{CONTIGS_FILE} line {} has {} fields", index + 1, fields.len())));
            };
            let length = length.parse().map_err(|_| damaged(format!("bad length {length:?}")))?;
            let path = seq_file(dir, index);
            let file = File::open(&path).map_err(|source| ReferenceError::Io { path: path.clone(), error: source })?;
            let on_disk =
                file.metadata().map_err(|source| ReferenceError::Io { path: path.clone(), error: source })?.len();
            if on_disk != length {
                return Err(damaged(format!("{} holds {on_disk} bases, expected {length}", path.display())));
            }
            reference.by_name.insert(name.to_string(), index);
            reference.contigs.push(Contig { name: name.to_string(), length, refget: refget.to_string() });
            reference.files.push(file);
        }
        Ok(reference)
    }

    pub fn contigs(&self) -> &[Contig] {
        &self.contigs
    }

    /// Index and description of a contig by name.
    pub fn contig(&self, name: &str) -> Option<(usize, &Contig)> {
        self.by_name.get(name).map(|&i| (i, &self.contigs[i]))
    }

    /// The sequence of contig `index`.
    pub fn sequence(&self, index: usize) -> Option<ContigSequence<'_>> {
        Some(ContigSequence { file: self.files.get(index)?, length: self.contigs[index].length })
    }
}

/// Reads a whole FASTA into memory (tests and small tools): name → upper-case sequence.
pub fn read_fasta_to_memory(fasta: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut text = Vec::new();
    crate::input::open_maybe_gzipped(fasta)?.read_to_end(&mut text)?;
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(header) = line.strip_prefix(b">") {
            let name = String::from_utf8_lossy(header).split_whitespace().next().unwrap_or("").to_string();
            out.push((name, Vec::new()));
        } else if let Some((_, seq)) = out.last_mut() {
            seq.extend(line.iter().map(u8::to_ascii_uppercase));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_and_reads_back_with_refget_ids() {
        let dir = tempfile::tempdir().unwrap();
        let fasta = dir.path().join("ref.fa");
        std::fs::write(&fasta, ">chrA description\nac\nGT\n>chrB\nNNNNACGTAC\n").unwrap();
        let reference = ReferenceDir::import(&fasta, &dir.path().join("ref"), |_| {}).unwrap();
        let (index, a) = reference.contig("chrA").unwrap();
        assert_eq!((index, a.length, a.refget.as_str()), (0, 4, "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2"));
        let b = reference.sequence(1).unwrap();
        assert_eq!(b.fetch(4, 8).unwrap(), b"ACGT");
        assert_eq!(b.fetch(8, 100).unwrap(), b"AC", "fetches past the end are clamped");
        assert_eq!(b.fetch(50, 100).unwrap(), b"");
        let reopened = ReferenceDir::open(&dir.path().join("ref")).unwrap();
        assert_eq!(reopened.contigs(), reference.contigs());
    }

    #[test]
    fn rejects_broken_fasta_with_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        for (text, line) in [("ACGT\n", 1), (">a\nAC GT\n", 2), (">a\nAC\n>a\nGT\n", 3), (">a\n>b\nAC\n", 2)] {
            let fasta = dir.path().join("bad.fa");
            std::fs::write(&fasta, text).unwrap();
            let err = ReferenceDir::import(&fasta, &dir.path().join("out"), |_| {}).unwrap_err();
            assert!(matches!(err, ReferenceError::Fasta { line: l, .. } if l == line), "{text:?}: {err}");
        }
    }
}
