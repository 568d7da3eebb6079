//! The fuzz corpora replayed in the normal suite (issue #17): every input under `fuzz/corpus/` and
//! `fuzz/regressions/` (crashes once found, kept after their fix) goes through the same harness
//! the fuzz targets run (`fuzz/harness.rs`, `bench/fuzz.sh`), and must come back without a panic.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use std::path::Path;

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("a corpus file")))
        .collect();
    out.sort();
    out
}

#[test]
fn every_corpus_input_is_handled_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    for (target, run) in harness::TARGETS {
        let corpus = inputs(&root.join("corpus").join(target));
        assert!(corpus.len() >= 2, "{target}: the corpus has {} inputs; bench/fuzz.sh grows it", corpus.len());
        for (name, bytes) in corpus.iter().chain(&inputs(&root.join("regressions").join(target))) {
            let outcome = std::panic::catch_unwind(|| run(bytes));
            assert!(outcome.is_ok(), "{target} panicked on {name}");
            // Every prefix too: truncation is the commonest damage.
            for cut in (0..bytes.len()).step_by((bytes.len() / 64).max(1)) {
                let outcome = std::panic::catch_unwind(|| run(&bytes[..cut]));
                assert!(outcome.is_ok(), "{target} panicked on the first {cut} bytes of {name}");
            }
        }
    }
}
