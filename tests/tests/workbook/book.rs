//! The book: every include resolves to real, non-empty code or output, every Rust block is an
//! include, and every lesson has a chapter.

use std::path::{Path, PathBuf};

use regex::Regex;
use workbook_tests::workspace_root;

fn book_src() -> PathBuf {
    workspace_root().join("book").join("src")
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("book/src exists").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(markdown_files(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without other anchor lines.
fn anchored(text: &str, anchor: &str) -> Option<String> {
    let start = Regex::new(&format!(r"ANCHOR:\s*{}\b", regex::escape(anchor))).ok()?;
    let end = Regex::new(&format!(r"ANCHOR_END:\s*{}\b", regex::escape(anchor))).ok()?;
    let mut inside = false;
    let mut found = false;
    let mut body = Vec::new();
    for line in text.lines() {
        if !inside && start.is_match(line) {
            inside = true;
            found = true;
        } else if inside && end.is_match(line) {
            inside = false;
        } else if inside && !line.contains("ANCHOR:") && !line.contains("ANCHOR_END:") {
            body.push(line);
        }
    }
    found.then(|| body.join("\n"))
}

#[test]
fn every_include_in_the_book_names_a_file_and_a_non_empty_anchor() {
    let include = Regex::new(r"\{\{#(?:rustdoc_)?include\s+([^}\s]+)\s*\}\}").unwrap();
    let mut problems = Vec::new();
    let mut count = 0;
    for md in markdown_files(&book_src()) {
        let text = std::fs::read_to_string(&md).unwrap();
        for caps in include.captures_iter(&text) {
            count += 1;
            let spec = &caps[1];
            let (path, anchor) = match spec.split_once(':') {
                Some((p, a)) => (p, Some(a)),
                None => (spec, None),
            };
            let file = md.parent().unwrap().join(path);
            let Ok(content) = std::fs::read_to_string(&file) else {
                problems.push(format!("{}: {spec}: no such file", md.display()));
                continue;
            };
            let body = match anchor {
                Some(a) if a.chars().all(|c| c.is_ascii_digit() || c == '-') => {
                    problems.push(format!(
                        "{}: {spec}: line ranges are not allowed; use a named anchor",
                        md.display()
                    ));
                    continue;
                }
                Some(a) => anchored(&content, a),
                None => Some(content),
            };
            match body {
                None => problems.push(format!("{}: {spec}: no such anchor", md.display())),
                Some(b) if b.trim().is_empty() => {
                    problems.push(format!("{}: {spec}: resolves to nothing", md.display()))
                }
                Some(_) => {}
            }
        }
    }
    assert!(count > 0, "the book includes nothing at all");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rust_block_in_the_book_is_an_include_of_compiled_code() {
    let fence = Regex::new(r"(?s)```rust[^\n]*\n(.*?)```").unwrap();
    let mut problems = Vec::new();
    for md in markdown_files(&book_src()) {
        let text = std::fs::read_to_string(&md).unwrap();
        for caps in fence.captures_iter(&text) {
            let hand_typed: Vec<&str> = caps[1]
                .lines()
                .filter(|l| !l.trim().is_empty())
                .filter(|l| !l.trim_start().starts_with("{{#include"))
                .filter(|l| !l.trim_start().starts_with("{{#rustdoc_include"))
                .collect();
            if !hand_typed.is_empty() {
                problems.push(format!("{}: {:?}", md.display(), hand_typed));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "hand-typed Rust in the book:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_lesson_in_the_workspace_has_a_chapter_in_the_summary() {
    let summary = std::fs::read_to_string(book_src().join("SUMMARY.md")).unwrap();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(workspace_root().join("lessons"))
        .unwrap()
        .flatten()
    {
        let dir = entry.file_name().to_string_lossy().into_owned();
        let chapter = format!("{dir}.md");
        if !summary.contains(&format!("({chapter})")) || !book_src().join(&chapter).is_file() {
            missing.push(chapter);
        }
    }
    assert!(missing.is_empty(), "lessons without a chapter: {missing:?}");
}
