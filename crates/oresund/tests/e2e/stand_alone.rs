//! The repository stands alone: no test, benchmark, script or document points at a folder outside
//! it (the project's old shared workspace above the clone), so a fresh clone tests itself.

use std::path::{Path, PathBuf};

/// Every file under `dir` worth reading, skipping build output, dependencies and generated data.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a repository folder").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if ![".git", "target", "node_modules", "bench-data", "demo", "ci-artifacts"].contains(&name.as_str()) {
                files(&path, out);
            }
        } else if name == "run"
            || name == "test"
            || [".rs", ".sh", ".py", ".mjs", ".toml", ".md", ".json", ".yml"].iter().any(|e| name.ends_with(e))
        {
            out.push(path);
        }
    }
}

#[test]
fn nothing_in_the_repository_reads_a_path_outside_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut all = Vec::new();
    files(&root, &mut all);
    assert!(all.len() > 100, "the walk found the repository ({} files)", all.len());
    // Spelled in pieces so that this file does not match itself.
    let needles = [format!("../{}", "shared"), format!("ORESUND_{}", "SHARED"), format!("/work/{}", "shared")];
    let mut found = Vec::new();
    for path in &all {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|needle| line.contains(needle.as_str())) {
                found.push(format!(
                    "{}:{}: {}",
                    path.strip_prefix(&root).unwrap_or(path).display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(found.is_empty(), "paths outside the repository:\n{}", found.join("\n"));
}
