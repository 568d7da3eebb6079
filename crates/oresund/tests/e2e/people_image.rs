//! The people image (`people.image`, issue #19): a sex or phenotype filter answered from it
//! equals the answer from the catalog and the ontology, for every kind of term; it is used
//! without reading the ontology, never when damaged or written for another catalog generation or
//! ontology, and a withdrawal deletes it.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::common::{TestNode, cohort, dk_template, ok, ontology_file, run};

/// Filters of every kind the image must answer as the catalog does.
const FILTERS: &[&[&str]] = &[
    &["--phenotype", "HP:0000707"],                              // a term and those below it
    &["--phenotype", "HP:0001250", "--sex", "female"],           // a term and a sex
    &["--phenotype", "HP:0000707", "--phenotype", "HP:0000118"], // two terms, both must hold
    &["--phenotype", "HP:0001333"],                              // an alternative id of HP:0000707
    &["--phenotype", "HP:0000003"],                              // a term nobody here has
    &["--phenotype", "G40.9"],                                   // an ICD-10 code
    &["--phenotype", "ICD10:G40"],                               // its category, prefixed
    &["--sex", "male"],
];

fn image(node: &TestNode) -> PathBuf {
    node.dir.join("people.image")
}

fn answers(node: &TestNode) -> Vec<Vec<String>> {
    FILTERS.iter().map(|filter| node.dump(filter)).collect()
}

#[test]
fn filters_answered_from_the_image_equal_the_catalogs_answers() {
    let node = TestNode::copy_of(dk_template());
    let _ = std::fs::remove_file(image(&node));
    let everyone = node.dump(&[]);
    let from_catalog = answers(&node);
    for (filter, rows) in FILTERS.iter().zip(&from_catalog) {
        assert_eq!(rows.len(), everyone.len(), "{filter:?}: every variant has a row");
        if filter[1] != "HP:0000003" {
            assert_ne!(rows, &everyone, "{filter:?} restricts the counts");
        }
    }
    let written = std::fs::read(image(&node)).expect("the first filtered question writes the image");
    let mode = std::fs::metadata(image(&node)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the image is readable by the node's user only");
    assert_eq!(answers(&node), from_catalog, "answers from the image");
    assert_eq!(std::fs::read(image(&node)).unwrap(), written, "a current image is kept");

    // A damaged image is not used: the same answers, and it is written again.
    let mut damaged = written.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    std::fs::write(image(&node), &damaged).unwrap();
    assert_eq!(answers(&node), from_catalog, "answers with a damaged image");
    assert_eq!(std::fs::read(image(&node)).unwrap(), written, "a damaged image is rewritten");
}

#[test]
fn a_term_the_image_holds_is_counted_without_reading_the_ontology() {
    let node = TestNode::copy_of(dk_template());
    let filtered = ["query", node.path(), "--region", "22:1-17999999", "--phenotype", "HP:0000707", "--format", "tsv"];
    let before = ok(&filtered);
    assert!(image(&node).exists());
    // Garbage of the same size and modification time: the people image's stamp still matches the
    // file. Without the ontology's own image, anything that reads the ontology now fails.
    let ontology = ontology_file(&node);
    std::fs::remove_file(oresund_node::ontology_file::image_path(&ontology)).unwrap();
    let meta = std::fs::metadata(&ontology).unwrap();
    let mut garbage = b"[Term]\nname: a stanza without an id\n".to_vec();
    garbage.resize(meta.len() as usize, b'\n');
    std::fs::write(&ontology, garbage).unwrap();
    std::fs::File::options().write(true).open(&ontology).unwrap().set_modified(meta.modified().unwrap()).unwrap();
    assert_eq!(ok(&filtered), before, "the image answered without the ontology");
    // An alternative id is not in the image: resolving it reads the (now damaged) ontology.
    let alternative = run(&["query", node.path(), "--variant", "22-17000017-C-A", "--phenotype", "HP:0001333"]);
    assert!(!alternative.status.success(), "an alternative id was resolved without the ontology");
    let message = String::from_utf8_lossy(&alternative.stderr);
    assert!(message.contains("without an id"), "the ontology's fault is named: {message}");
}

#[test]
fn an_image_of_another_generation_is_not_used_and_a_withdrawal_deletes_it() {
    let node = TestNode::copy_of(dk_template());
    let female = ["--sex", "female"];
    node.dump(&female);
    let old_image = std::fs::read(image(&node)).expect("image written");

    // A second dataset: the image of the first generation answers no more.
    node.ingest("SE-1", "SE");
    std::fs::write(image(&node), &old_image).unwrap();
    let after_ingest = node.dump(&female);
    assert_ne!(std::fs::read(image(&node)).unwrap(), old_image, "the stale image was replaced");
    std::fs::remove_file(image(&node)).unwrap();
    assert_eq!(node.dump(&female), after_ingest, "the catalog's answer");

    // A withdrawal (of a woman) deletes the image; the next filtered question writes one without her.
    let text = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let woman = text.lines().skip(1).map(|l| l.split('\t').collect::<Vec<_>>()).find(|f| f[1] == "female").unwrap()[0];
    assert!(image(&node).exists());
    ok(&["withdraw", node.path(), "--individual", woman, "--reason", "consent withdrawn"]);
    assert!(!image(&node).exists(), "the withdrawal left the people image behind");
    let after_withdrawal = node.dump(&female);
    assert_ne!(after_withdrawal, after_ingest, "her calls are no longer counted");
    assert!(image(&node).exists(), "written again");
    assert_eq!(node.dump(&female), after_withdrawal, "the new image answers as the catalog did");
}
