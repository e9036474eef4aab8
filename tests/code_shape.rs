//! The code's shape stays readable: no function in src/ longer than 120 lines, no file over
//! 800 (README "Layout"). A function is measured from its `fn` line to the closing brace at the
//! same indentation (rustfmt's layout), doc comments and attributes excluded.

use std::path::{Path, PathBuf};

const MAX_FUNCTION_LINES: usize = 120;
const MAX_FILE_LINES: usize = 800;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` opens a function item (`fn`, with any visibility and qualifiers).
fn is_fn_item(line: &str) -> bool {
    let mut words = line.split_whitespace().peekable();
    while let Some(word) = words.next() {
        match word {
            "fn" => return words.peek().is_some(),
            w if w == "pub" || w.starts_with("pub(") || ["const", "async", "unsafe", "extern"].contains(&w) => continue,
            _ => return false,
        }
    }
    false
}

/// (name, first line, length) of every function in `text` longer than `limit` lines.
fn long_functions(text: &str, limit: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !is_fn_item(line) {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        // The signature ends at the first line ending in `{` (a body), `;` (a declaration) or
        // `}` (a body on one line).
        let ends = |j: usize, c: char| lines[j].trim_end().ends_with(c);
        let Some(open) = (i..lines.len()).find(|&j| ends(j, '{') || ends(j, ';') || ends(j, '}')) else {
            continue;
        };
        if !ends(open, '{') {
            continue;
        }
        let close = (open + 1..lines.len()).find(|&k| {
            let l = lines[k];
            l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
        });
        if let Some(close) = close {
            let length = close - i + 1;
            if length > limit {
                let name = line.split("fn ").nth(1).unwrap_or("").split(['(', '<']).next().unwrap_or("").to_string();
                out.push((name, i + 1, length));
            }
        }
    }
    out
}

#[test]
fn functions_and_files_stay_short() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ should hold the library ({} files found)", files.len());
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            problems.push(format!("{}: {lines} lines (limit {MAX_FILE_LINES})", file.display()));
        }
        for (name, line, length) in long_functions(&text, MAX_FUNCTION_LINES) {
            problems.push(format!("{}:{line}: fn {name} is {length} lines (limit {MAX_FUNCTION_LINES})", file.display()));
        }
    }
    assert!(problems.is_empty(), "split these:\n{}", problems.join("\n"));
}

#[test]
fn the_measure_finds_a_long_function() {
    let body: String = (0..130).map(|i| format!("    let x{i} = {i};\n")).collect();
    let text = format!("/// Doc.\npub(crate) fn long_one(a: u32) -> u32 {{\n{body}    a\n}}\n\nfn short() {{}}\n");
    let found = long_functions(&text, MAX_FUNCTION_LINES);
    assert_eq!(found, vec![("long_one".to_string(), 2, 133)]);
    assert!(long_functions(&text, 200).is_empty());
}
