//! The layout rules of issue #11 that a reader relies on, checked on the sources: no file of a crate
//! depends on a file that depends back on it (no import cycles between the files of a crate).
//! A file depends on another when it names it through a `crate::`, `super::` or `self::` path (in
//! `use` or in code); `mod` declarations and `#[cfg(test)]` parts do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every `.rs` file under `src`, by module path (`lib.rs`/`main.rs` is the root, `a/mod.rs` is `a`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut module: Module = relative.iter().map(|s| s.to_string_lossy().into_owned()).collect();
                if matches!(module.last().map(String::as_str), Some("lib" | "main" | "mod")) {
                    module.pop();
                }
                out.insert(module, path);
            }
        }
    }
    out
}

/// The source without comments and without its `#[cfg(test)]` tail (tests may import freely).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// `a::{b, c::{d}}` → `a::b`, `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or(tree).to_string()];
    };
    let close = tree.rfind('}').filter(|&c| c > open).unwrap_or(tree.len());
    let (prefix, inner) = (&tree[..open], &tree[open + 1..close]);
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            if p == "self" { vec![prefix.trim_end_matches(':').to_string()] } else { expand(&format!("{prefix}{p}")) }
        })
        .collect()
}

/// Every `crate::`/`super::`/`self::` path the code names.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for statement in code.split(';') {
        if let Some(tree) =
            statement.trim_start().strip_prefix("pub use ").or(statement.trim_start().strip_prefix("use "))
        {
            out.extend(expand(&tree.split_whitespace().collect::<String>()));
        }
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"].iter().flat_map(|p| code.match_indices(p).map(|(i, _)| i)) {
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let end = code[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .map_or(code.len(), |e| start + e);
        out.push(code[start..end].trim_end_matches(':').to_string());
    }
    out
}

/// The file a path lands in: the longest module prefix that is a file.
fn resolve(path: &str, me: &Module, modules: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut segments = path.split("::").peekable();
    let mut base: Module = match segments.peek().copied() {
        Some("crate") => Vec::new(),
        Some("self" | "super") => me.clone(),
        _ => return None,
    };
    if segments.peek() == Some(&"crate") || segments.peek() == Some(&"self") {
        segments.next();
    }
    while segments.peek() == Some(&"super") {
        segments.next();
        base.pop();
    }
    let mut candidate: Module = base.into_iter().chain(segments.map(str::to_string)).collect();
    while !modules.contains_key(&candidate) && !candidate.is_empty() {
        candidate.pop();
    }
    modules.contains_key(&candidate).then_some(candidate)
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in &s.graph[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in graph.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}

fn crate_cycles(src: &Path) -> Vec<Vec<String>> {
    let modules = modules(src);
    let graph: BTreeMap<Module, BTreeSet<Module>> = modules
        .iter()
        .map(|(module, file)| {
            let deps = paths(&code(&std::fs::read_to_string(file).unwrap()))
                .iter()
                .filter_map(|p| resolve(p, module, &modules))
                .filter(|d| d != module)
                .collect();
            (module.clone(), deps)
        })
        .collect();
    cycles(&graph)
        .into_iter()
        .map(|c| {
            let mut names: Vec<String> =
                c.iter().map(|m| if m.is_empty() { "lib".into() } else { m.join("::") }).collect();
            names.sort();
            names
        })
        .collect()
}

#[test]
fn the_detector_finds_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use crate::{b::B, c};\npub struct A;\n").unwrap();
    std::fs::write(dir.path().join("b.rs"), "pub struct B(crate::a::A);\n#[cfg(test)]\nuse crate::lib;").unwrap();
    assert_eq!(crate_cycles(dir.path()), vec![vec!["a".to_string(), "b".to_string()]]);
    std::fs::write(dir.path().join("b.rs"), "pub struct B; // crate::a::A\n").unwrap();
    assert!(crate_cycles(dir.path()).is_empty());
}

#[test]
fn no_file_of_a_crate_imports_a_file_that_imports_it_back() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            for cycle in crate_cycles(&src) {
                found.push(format!(
                    "{}: {}",
                    src.parent().unwrap().file_name().unwrap().to_string_lossy(),
                    cycle.join(" ↔ ")
                ));
            }
        }
    }
    found.sort();
    assert!(found.is_empty(), "import cycles between files:\n{}", found.join("\n"));
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_server_and_the_cli_reach_storage_through_the_node() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for src in [crates.join("oresund-server/src"), crates.join("oresund/src")] {
        for file in rust_files(&src) {
            for (n, line) in code(&std::fs::read_to_string(&file).unwrap()).lines().enumerate() {
                if line.contains(".store()") {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "storage reached around the node's API:\n{}", found.join("\n"));
}
