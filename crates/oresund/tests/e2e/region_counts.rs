//! Region counts over a node of several files: each variant once, summed over the files holding it.

use std::collections::BTreeMap;

use crate::common::{TestNode, dk_se_template, ok};

/// `query --region` rows of `node` by variant: (VRS id, AC, AN, het, hom-ALT, hemizygous). Fails on
/// a variant listed twice.
fn rows(node: &TestNode, extra: &[&str]) -> BTreeMap<String, (String, [u64; 5])> {
    let mut out = BTreeMap::new();
    for row in node.dump(extra) {
        let f: Vec<&str> = row.split('\t').collect();
        let n = |i: usize| f[i].parse::<u64>().unwrap_or_else(|_| panic!("bad count in {row}"));
        let counts = [n(2), n(3), n(5), n(6), n(7)];
        let earlier = out.insert(f[0].to_string(), (f[1].to_string(), counts));
        assert!(earlier.is_none(), "{} listed twice (with {extra:?})", f[0]);
    }
    out
}

#[test]
fn a_variant_in_two_files_is_listed_once_with_both_files_counts() {
    let node = TestNode::copy_of(dk_se_template());
    let all = rows(&node, &[]);
    let dk = rows(&node, &["--dataset", "DK-1"]);
    let se = rows(&node, &["--dataset", "SE-1"]);
    let shared = dk.keys().filter(|v| se.contains_key(*v)).count();
    assert!(shared > 5_000, "DK and SE share {shared} variants; the cohorts hold the same sites");
    let listed: Vec<&String> = all.keys().collect();
    let either: Vec<&String> =
        dk.keys().chain(se.keys()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    assert_eq!(listed, either, "the node lists every variant of either file, once");
    for (variant, (id, counts)) in &all {
        let mut expected = [0u64; 5];
        for (dataset_id, dataset_counts) in [dk.get(variant), se.get(variant)].into_iter().flatten() {
            assert_eq!(dataset_id, id, "{variant}: one VRS id");
            expected.iter_mut().zip(dataset_counts).for_each(|(e, c)| *e += c);
        }
        assert_eq!(*counts, expected, "{variant}: the node's counts are DK-1's plus SE-1's");
    }
    // A region holding one shared variant only: each file's scan yields the same variant, in order.
    let mut asked = 0;
    for (variant, (_, counts)) in all.iter().filter(|(v, _)| dk.contains_key(*v) && se.contains_key(*v)).step_by(500) {
        let pos = variant.split('-').nth(1).unwrap();
        let region = format!("{}:{pos}-{pos}", variant.split('-').next().unwrap());
        let answer = ok(&["query", node.path(), "--region", &region, "--format", "tsv"]);
        let here: Vec<&str> = answer.lines().skip(1).filter(|r| r.starts_with(&format!("{variant}\t"))).collect();
        assert_eq!(here.len(), 1, "{region}: {variant} once, got {answer}");
        let f: Vec<u64> = here[0].split('\t').skip(2).map(|x| x.parse().unwrap_or(u64::MAX)).collect();
        assert_eq!([f[0], f[1], f[3], f[4], f[5]], *counts, "{region}: the same counts as in the whole scan");
        asked += 1;
    }
    assert!(asked >= 10, "{asked} one-variant regions asked");
}
