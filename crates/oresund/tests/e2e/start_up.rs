//! Start-up proportional to the question (issue #19): a command parses the node's ontology only
//! when its question needs it, and a server parses it before it listens.

use crate::common::{TestNode, dk_template, run};

/// The node's ontology file (`init` copies it under `ontology/`).
fn ontology_file(node: &TestNode) -> std::path::PathBuf {
    let dir = node.dir.join("ontology");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("the ontology folder").flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), 1, "one ontology file in {}", dir.display());
    files.remove(0)
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
