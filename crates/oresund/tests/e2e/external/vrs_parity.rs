//! Every variant's VRS 2.0 id equals vrs-python's (the GA4GH reference implementation), computed
//! by `oracles/vrs_oracle.py` with vrs-python's own translator, normaliser and digests.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

#[test]
fn vrs_ids_equal_vrs_python_on_both_cohorts() {
    let probe = Command::new("python3").args(["-c", "import ga4gh.vrs"]).output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "vrs-python is required: pip install 'ga4gh.vrs==2.3.3' (./test does)"
    );
    let node = TestNode::copy_of(dk_se_template());
    let ours: BTreeMap<String, String> = node
        .dump(&[])
        .iter()
        .map(|row| {
            let f: Vec<&str> = row.split('\t').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect();
    let input: String = ours.keys().map(|v| v.splitn(4, '-').collect::<Vec<_>>().join("\t") + "\n").collect();
    let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/vrs_oracle.py");
    let mut child = Command::new("python3")
        .arg(oracle)
        .arg(cohort("reference.fa.gz"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    let theirs: BTreeMap<String, String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f[..4].join("-"), f[4].to_string())
        })
        .collect();
    assert!(ours.len() > 10_300, "both cohorts together hold over 10,300 distinct variants");
    let differing: Vec<_> = ours.iter().filter(|(v, id)| theirs.get(*v) != Some(id)).take(5).collect();
    assert!(differing.is_empty(), "VRS ids differ from vrs-python for {differing:?}");
    assert_eq!(ours.len(), theirs.len());
}
