//! Start-up proportional to the question (issue #19): a command parses the node's ontology only
//! when its question needs it, and a server parses it before it listens; a command that does need
//! it loads the binary image `init` wrote beside it instead of parsing the OBO text.

use crate::common::{TestNode, dk_template, ontology_file, run};

#[test]
fn the_ontology_image_answers_as_the_obo_does_and_is_never_used_stale() {
    let node = TestNode::copy_of(dk_template());
    let ontology = ontology_file(&node);
    let image = oresund_node::ontology_file::image_path(&ontology);
    let written = std::fs::read(&image).expect("init writes the ontology's image");
    let filtered =
        ["query", node.path(), "--region", "22:17000000-17100000", "--phenotype", "HP:0000707", "--format", "tsv"];
    // The people image answers a term it holds without the ontology: removed before each question
    // here, so that every one reads the ontology (the last run below finds one, made stale).
    let people_image = node.dir.join("people.image");
    let answer = |why: &str| {
        let _ = std::fs::remove_file(&people_image);
        let out = run(&filtered);
        assert!(out.status.success(), "{why}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let from_image = answer("with the image");
    assert!(from_image.iter().filter(|&&b| b == b'\n').count() > 2, "the region has filtered counts");

    // Without it, or with it damaged, the OBO is parsed: the same answer, and the image is back.
    std::fs::remove_file(&image).unwrap();
    assert_eq!(answer("without the image"), from_image);
    assert_eq!(std::fs::read(&image).expect("the image is rewritten"), written);
    let mut damaged = written.clone();
    let middle = damaged.len() / 2;
    damaged.truncate(middle);
    std::fs::write(&image, &damaged).unwrap();
    assert_eq!(answer("with a truncated image"), from_image);
    assert_eq!(std::fs::read(&image).unwrap(), written, "a damaged image is rewritten");

    // A new OBO release (here one without the nervous-system branch) makes the image stale: the
    // answer follows the OBO, not the image of the old one.
    let text = std::fs::read_to_string(&ontology).unwrap();
    let without = text.replace("id: HP:0000707\n", "id: HP:9999707\n");
    assert_ne!(without, text, "the ontology has the term");
    std::fs::write(&ontology, without).unwrap();
    assert!(people_image.exists());
    let refused = run(&filtered);
    assert!(!refused.status.success(), "a stale image answered for a term the OBO no longer has");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("HP:0000707"));
}

#[test]
fn a_count_without_a_phenotype_never_reads_the_ontology() {
    let node = TestNode::copy_of(dk_template());
    let variant = ["query", node.path(), "--variant", "22-17000017-C-A", "--format", "tsv"];
    let before = run(&variant);
    assert!(before.status.success(), "{}", String::from_utf8_lossy(&before.stderr));
    let filtered = ["query", node.path(), "--variant", "22-17000017-C-A", "--phenotype", "HP:0000707"];
    assert!(run(&filtered).status.success());

    // A damaged ontology: only what needs it fails, naming the file.
    let ontology = ontology_file(&node);
    std::fs::write(&ontology, "[Term]\nname: a stanza without an id\n").expect("damage the ontology");
    let after = run(&variant);
    assert!(
        after.status.success(),
        "a count without a phenotype read the ontology: {}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert_eq!(after.stdout, before.stdout, "the same answer");
    let refused = run(&filtered);
    assert!(!refused.status.success(), "a phenotype filter was answered without the ontology");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains(ontology.file_name().unwrap().to_str().unwrap()) && message.contains("without an id"),
        "the error names the file and the fault: {message}"
    );
    // With stdin closed, a server that did start stops at once instead of hanging the test.
    let serve = run(&["serve", node.path(), "--listen", "127.0.0.1:0", "--until-stdin-closes"]);
    assert!(!serve.status.success(), "a server started on a damaged ontology");
    assert!(String::from_utf8_lossy(&serve.stderr).contains("without an id"));
}
