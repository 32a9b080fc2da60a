//! The book: every include resolves to real, non-empty code or output, every Rust block
//! is an include, and every lesson has a chapter.

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
                None => {
                    problems.push(format!("{}: {spec}: no such anchor", md.display()))
                }
                Some(b) if b.trim().is_empty() => problems
                    .push(format!("{}: {spec}: resolves to nothing", md.display())),
                Some(_) => {}
            }
        }
    }
    assert!(count > 0, "the book includes nothing at all");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rust_and_python_block_in_the_book_is_an_include_of_code_that_runs() {
    let fence = Regex::new(r"(?s)```(?:rust|python)[^\n]*\n(.*?)```").unwrap();
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
        "hand-typed Rust or Python in the book:\n{}",
        problems.join("\n")
    );
}

#[test]
fn chapter_numbers_equal_lesson_numbers() {
    // mdBook numbers the list items of SUMMARY.md, from its first `- [` line on; links
    // above that line are unnumbered.
    let summary = std::fs::read_to_string(book_src().join("SUMMARY.md")).unwrap();
    let numbered: Vec<&str> = summary
        .lines()
        .take_while(|l| !l.starts_with("# Appendices"))
        .filter(|l| l.starts_with("- ["))
        .collect();
    for (i, line) in numbered.iter().enumerate() {
        if line.contains("Lesson ") {
            let n = i + 1;
            assert!(
                line.starts_with(&format!("- [Lesson {n}:")),
                "chapter {n} is {line}"
            );
        }
    }
    assert!(numbered.iter().filter(|l| l.contains("Lesson ")).count() >= 6);
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
        if !summary.contains(&format!("({chapter})"))
            || !book_src().join(&chapter).is_file()
        {
            missing.push(chapter);
        }
    }
    assert!(missing.is_empty(), "lessons without a chapter: {missing:?}");
}

/// Every file below `dir`, in its subfolders too, sorted; none when `dir` is missing.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every lesson, as its folder name (`01-plain-sql`) and number: all of them keep the
/// rules below, a new lesson from its first commit.
fn lessons() -> Vec<(String, u32)> {
    let mut lessons: Vec<(String, u32)> =
        std::fs::read_dir(workspace_root().join("lessons"))
            .unwrap()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let number = name.split('-').next()?.parse().ok()?;
                Some((name, number))
            })
            .collect();
    lessons.sort();
    assert!(lessons.len() >= 6, "lessons/ holds {lessons:?}");
    lessons
}

/// The most lines and columns a listing may have: what fits on the page unscrolled.
const LISTING_LINES: usize = 30;
const LISTING_COLUMNS: usize = 90;

#[test]
fn listings_are_short_narrow_numbered_and_free_of_the_helper_crate() {
    let include = Regex::new(
        r"```(rust|python)\n\{\{#include \.\./\.\./(lessons/[^}:\s]+\.(?:rs|py)):(\w+)\}\}\n```\n\n(.*)",
    )
    .unwrap();
    let mut problems = Vec::new();
    for (lesson, number) in &lessons() {
        let chapter =
            std::fs::read_to_string(book_src().join(format!("{lesson}.md"))).unwrap();
        let mut n = 0;
        for caps in include.captures_iter(&chapter) {
            // A Python twin carries the number of the Rust listing it follows.
            let python = &caps[1] == "python";
            if !python {
                n += 1;
            }
            let (path, anchor, caption) = (&caps[2], &caps[3], &caps[4]);
            let text = std::fs::read_to_string(workspace_root().join(path)).unwrap();
            let body = anchored(&text, anchor).unwrap_or_default();
            let lines: Vec<&str> = body.trim_matches('\n').lines().collect();
            let at = format!("{path}:{anchor}");
            if lines.len() > LISTING_LINES {
                problems.push(format!("{at} has {} lines", lines.len()));
            }
            if let Some(wide) = lines.iter().find(|l| l.chars().count() > LISTING_COLUMNS)
            {
                problems.push(format!(
                    "{at} has a line over {LISTING_COLUMNS} columns: {wide}"
                ));
            }
            if body.contains("workbook::") {
                problems.push(format!("{at} calls the helper crate"));
            }
            let expected = match python {
                true => {
                    format!("<span class=\"caption\">Listing {number}-{n} (SQLAlchemy): ")
                }
                false => format!("<span class=\"caption\">Listing {number}-{n}: "),
            };
            if !caption.starts_with(&expected) {
                problems
                    .push(format!("{at} is not captioned `{expected}...`: {caption}"));
            }
        }
        if n == 0 {
            problems.push(format!("{lesson}.md has no listing"));
        }
    }
    assert!(
        problems.is_empty(),
        "listing rules broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn step_files_never_use_the_helper_crate_and_main_only_lists_the_steps() {
    let helper = Regex::new(r"\bworkbook\b").unwrap();
    let mut problems = Vec::new();
    for (lesson, _) in &lessons() {
        let src = workspace_root().join("lessons").join(lesson).join("src");
        let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
        let mut steps = 0;
        // Step files in subfolders too (lesson 3's `src/seaorm/`), which lib.rs lists in an
        // inline module.
        for path in files_below(&src) {
            let name = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Some(module) = path.file_stem().and_then(|m| m.to_str()) else {
                continue;
            };
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let is_step = module.starts_with('s')
                && module[1..].starts_with(|c: char| c.is_ascii_digit())
                && module.contains('_');
            if !is_step {
                continue;
            }
            steps += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            if helper.is_match(&text) {
                problems.push(format!("{lesson}/src/{name} uses the helper crate"));
            }
            if !lib.contains(&format!("pub mod {module};")) {
                problems.push(format!("{lesson}/src/lib.rs does not list {module}"));
            }
            if !text.contains("pub async fn run(") {
                problems.push(format!("{lesson}/src/{name} has no `pub async fn run`"));
            }
        }
        if steps == 0 {
            problems.push(format!("{lesson} has no step files"));
        }
        let main = std::fs::read_to_string(src.join("main.rs")).unwrap();
        if main.lines().count() > 60 {
            problems.push(format!(
                "{lesson}/src/main.rs has {} lines",
                main.lines().count()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_anchor_in_a_reshaped_lesson_is_shown_in_the_book() {
    let anchor = Regex::new(r"ANCHOR:\s*([\w-]+)").unwrap();
    let mut book = String::new();
    for md in markdown_files(&book_src()) {
        book.push_str(&std::fs::read_to_string(&md).unwrap());
    }
    let mut orphans = Vec::new();
    for (lesson, _) in &lessons() {
        for dir in ["src", "examples", "python"] {
            let root = workspace_root().join("lessons").join(lesson).join(dir);
            for path in files_below(&root) {
                // The Python's MariaDB capture: the book includes MySQL's, output.txt.
                if dir == "python" && path.extension().is_none_or(|e| e != "py") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                // The path below `dir`, such as `seaorm/customer.rs`.
                let file = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                for caps in anchor.captures_iter(&text) {
                    let wanted =
                        format!("lessons/{lesson}/{dir}/{file}:{}}}}}", &caps[1]);
                    if !book.contains(&wanted) {
                        orphans
                            .push(format!("lessons/{lesson}/{dir}/{file}: {}", &caps[1]));
                    }
                }
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "anchors the book never includes:\n{}",
        orphans.join("\n")
    );
}
