//! Shared helpers for the end-to-end tests: the real `oresund` binary, the shared cohorts and
//! the reference tools (bcftools, Python oracles) the tests compare against.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `../shared` of the repository (or `$ORESUND_SHARED`).
pub fn shared() -> PathBuf {
    if let Ok(dir) = std::env::var("ORESUND_SHARED") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub fn cohort(file: &str) -> PathBuf {
    let path = shared().join("data/cohort").join(file);
    assert!(path.exists(), "{} is missing: the tests need the shared cohort (set ORESUND_SHARED)", path.display());
    path
}

pub fn hpo() -> PathBuf {
    shared().join("ontologies/hp.obo.gz")
}

/// Panics with an install hint when a reference tool is missing: these tests must not pass silently.
pub fn require(tool: &str, hint: &str) {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is required by this test; install it with: {hint} (.ci/run does)");
}

pub fn oresund() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oresund"))
}

/// Runs `oresund` with `args`, returning its output (any exit status).
pub fn run(args: &[&str]) -> Output {
    oresund().args(args).stdin(Stdio::null()).output().expect("the oresund binary runs")
}

/// Runs `oresund` and asserts success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "oresund {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a shell pipeline and returns stdout, asserting success.
pub fn sh(script: &str) -> String {
    let out = Command::new("bash").arg("-o").arg("pipefail").arg("-c").arg(script).output().expect("bash runs");
    assert!(out.status.success(), "`{script}` failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A node in a temporary directory, initialised on the shared reference and HPO.
pub struct TestNode {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl TestNode {
    pub fn new(node_id: &str, country: &str) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("node");
        ok(&[
            "init",
            dir.to_str().unwrap(),
            "--node-id",
            node_id,
            "--country",
            country,
            "--reference",
            cohort("reference.fa.gz").to_str().unwrap(),
            "--hpo",
            hpo().to_str().unwrap(),
        ]);
        TestNode { tmp, dir }
    }

    pub fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    pub fn ingest(&self, dataset: &str, population: &str) -> String {
        let vcf = cohort(&format!("{population}.vcf.gz"));
        let individuals = cohort(&format!("{population}.individuals.tsv"));
        let out = run(&[
            "ingest",
            self.path(),
            "--dataset",
            dataset,
            "--individuals",
            individuals.to_str().unwrap(),
            vcf.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "ingest failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Every variant of the node as `query --format tsv` rows (no header), both contigs.
    pub fn dump(&self, extra: &[&str]) -> Vec<String> {
        let mut rows = Vec::new();
        for region in ["22:1-17999999", "X:1-3200000"] {
            let mut args = vec!["query", self.path(), "--region", region, "--format", "tsv"];
            args.extend_from_slice(extra);
            rows.extend(ok(&args).lines().skip(1).map(str::to_string));
        }
        rows
    }
}
