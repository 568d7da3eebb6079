//! Upgrades lose nothing (issue #11): a node directory written by Øresund 0.1.0 opens with this
//! build, answers exactly as 0.1.0 did, and keeps its audit chain growing.

use crate::common::release_fixture::{check_upgraded, copy_node, every_variant_is_found_by_its_vrs_id, expected};
use crate::common::{ok, oresund};

#[test]
fn a_node_made_by_release_0_1_0_opens_with_everything_intact() {
    let node = copy_node("embedded");
    check_upgraded(&node.dir, &expected("embedded"), oresund);
    every_variant_is_found_by_its_vrs_id(&node.dir);
    // It still takes new data: a second cohort ingests next to the old one, which is unchanged.
    node.ingest("SE-1", "SE");
    let truth = ok(&["query", node.path(), "--variant", "22-17000017-C-A", "--dataset", "DK-1", "-q"]);
    let truth: serde_json::Value = serde_json::from_str(&truth).unwrap();
    assert_eq!(truth, expected("embedded")["query"]["22-17000017-C-A"]);
}
