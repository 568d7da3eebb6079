//! What the fuzz targets run, shared with the normal suite's replay of their corpora
//! (`crates/oresund/tests/fuzz_corpora.rs`): each function takes arbitrary bytes and must return —
//! an error is the expected outcome — never panic, hang or allocate without bound.

use std::io::{BufRead, Cursor};
use std::path::Path;
use std::sync::OnceLock;

use oresund_ingest::reference::ReferenceDir;

/// The secret key the Crypt4GH target decrypts with (its seed corpus is encrypted to `keys/fuzz.pub`).
const C4GH_SECRET: &str = include_str!("keys/fuzz.sec");

/// A small reference (contigs 22 and X) the VCF target normalises against, imported once.
fn reference() -> &'static ReferenceDir {
    static REFERENCE: OnceLock<(tempfile::TempDir, ReferenceDir)> = OnceLock::new();
    &REFERENCE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let fasta = dir.path().join("reference.fa");
            let bases: String = "ACGTTGCAAGCTTCGA".repeat(64);
            std::fs::write(&fasta, format!(">22\n{bases}\n>X\n{bases}\n")).expect("write the reference");
            let imported = ReferenceDir::import(&fasta, &dir.path().join("ref"), |_| {}).expect("import it");
            (dir, imported)
        })
        .1
}

/// A VCF, header and records, through the whole ingest parse: genotypes, normalisation, carriers.
pub fn vcf(data: &[u8]) {
    let input: Box<dyn BufRead + Send> = Box::new(Cursor::new(data.to_vec()));
    let Ok(mut reader) = oresund_ingest::vcf::reader::VcfReader::from_reader(Path::new("fuzz.vcf"), input) else {
        return;
    };
    let _ = oresund_ingest::pipeline::normalise_vcf(&mut reader, reference(), |_| Ok::<(), ()>(()));
}

/// An individuals file (TSV of local ids, sex, phenotypes, consent).
pub fn individuals(data: &[u8]) {
    static PSEUDONYMISER: OnceLock<oresund_core::pseudonym::Pseudonymiser> = OnceLock::new();
    let pseudonymiser =
        PSEUDONYMISER.get_or_init(|| oresund_core::pseudonym::Pseudonymiser::new(&[1; 32]).expect("a key"));
    let _ = oresund_ingest::individuals::read_individuals(Cursor::new(data), pseudonymiser, None);
}

/// A Crypt4GH file: header packets, edit lists and body segments, decrypted with `keys/fuzz.sec`.
pub fn c4gh(data: &[u8]) {
    static KEY: OnceLock<oresund_c4gh::SecretKey> = OnceLock::new();
    let key = KEY.get_or_init(|| oresund_c4gh::keys::read_secret_key_pem(C4GH_SECRET, None).expect("the fuzz key"));
    let _ = oresund_c4gh::decrypt(Cursor::new(data), std::io::sink(), key, 1);
}

/// Key files: Crypt4GH public and secret keys (PEM), and JWK sets.
pub fn keys(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = oresund_c4gh::keys::read_public_key_pem(&text);
    let _ = oresund_c4gh::keys::read_secret_key_pem(&text, Some(b"passphrase"));
    let _ = oresund_access::jwk::Jwks::parse(data);
}

/// A JWS compact token (passports and visas), parsed as the verifier parses it before any key.
pub fn jws(data: &[u8]) {
    let _ = oresund_access::jwt::UnverifiedJwt::parse(&String::from_utf8_lossy(data));
}

/// A Beacon `/g_variants` request (GET query string and POST body).
pub fn beacon(data: &[u8]) {
    oresund_server::fuzzing::beacon_request(data);
}

/// An htsget ticket request, a DRS POST body, a Matchmaker Exchange match request: one target,
/// the first byte choosing the parser.
pub fn delivery(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 3 {
        0 => oresund_server::fuzzing::htsget_request(rest),
        1 => oresund_server::fuzzing::drs_request(rest),
        _ => oresund_server::fuzzing::mme_request(rest),
    }
}

/// A target: arbitrary bytes in, nothing out.
pub type Target = fn(&[u8]);

/// Every target by name, for the replay test and `bench/fuzz.sh`.
pub const TARGETS: [(&str, Target); 7] = [
    ("vcf", vcf),
    ("individuals", individuals),
    ("c4gh", c4gh),
    ("keys", keys),
    ("jws", jws),
    ("beacon", beacon),
    ("delivery", delivery),
];
