//! `znfield schema` against the scenes and the parser: every shipped scene validates (checked by
//! an independent validator, the jsonschema crate), an unknown key is rejected, every range the
//! schema states is one the parser enforces, and docs/scenes.md is the schema's key reference.

use std::path::{Path, PathBuf};

use serde_json::Value;
use znfield::scene::schema::{key_table, markdown, scene_schema, KeyDoc};
use znfield::scene::Scene;

fn scene_files() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for dir in ["scenes", "scenes/validation"] {
        for entry in std::fs::read_dir(dir).expect("scene directory").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "json") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("scene")).expect("JSON")
}

#[test]
fn every_shipped_scene_validates_against_the_schema() {
    let validator = jsonschema::validator_for(&scene_schema()).expect("the schema compiles");
    let files = scene_files();
    assert!(files.len() >= 20, "found only {} scenes", files.len());
    for path in files {
        let scene = read(&path);
        let errors: Vec<String> = validator.iter_errors(&scene).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
}

#[test]
fn the_schema_rejects_unknown_keys_and_out_of_range_values() {
    let validator = jsonschema::validator_for(&scene_schema()).expect("the schema compiles");
    let mut scene = read(Path::new("scenes/hemisphere_primary.json"));
    assert!(validator.is_valid(&scene));
    scene["mesh"]["refinement"] = Value::from(2.0);
    assert!(!validator.is_valid(&scene), "a misspelt key (mesh.refinement) must not validate");
    let mut scene = read(Path::new("scenes/hemisphere_primary.json"));
    scene["geometry"]["protrusions"][0]["radius_m"] = Value::from(-1e-6);
    assert!(!validator.is_valid(&scene), "a negative radius must not validate");
    let mut scene = read(Path::new("scenes/hemisphere_primary.json"));
    scene["physics"]["model"] = Value::from("quaternary");
    assert!(!validator.is_valid(&scene), "an unknown model must not validate");
}

/// The numbers in a range's text ("[0.1, 16]" -> [0.1, 16]).
fn ends(range: &str) -> Vec<f64> {
    range
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e' || c == '+'))
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// A value just outside `range` ("> 0", "[a, b]", ...): below the lower end, else above the upper.
fn outside(range: &str) -> f64 {
    let numbers = ends(range);
    let lower = numbers[0];
    if range.starts_with('<') {
        return lower + lower.abs().max(1.0);
    }
    lower - lower.abs().max(1e-3) * 0.5
}

/// The value at a dotted path of a scene (list index 0 for `<i>`), if the scene has it.
fn lookup<'a>(scene: &'a Value, path: &str) -> Option<&'a Value> {
    path.replace("<i>", "0").split('.').try_fold(scene, |v, key| match key.parse::<usize>() {
        Ok(i) => v.get(i),
        Err(_) => v.get(key),
    })
}

/// Each key with a range that a shipped scene sets to a number: the key, its range, the first
/// such scene and its text (keys no shipped scene sets, such as a tagged form none uses, are
/// left out).
fn ranged_keys_with_a_scene(rows: &[KeyDoc]) -> Vec<(&KeyDoc, String, PathBuf, String)> {
    let scenes: Vec<(PathBuf, Value)> = scene_files().into_iter().map(|p| (p.clone(), read(&p))).collect();
    rows.iter()
        .filter_map(|row| {
            let range = row.range.clone()?;
            let (path, _) = scenes.iter().find(|(_, s)| lookup(s, &row.path).is_some_and(Value::is_number))?;
            Some((row, range, path.clone(), std::fs::read_to_string(path).expect("scene")))
        })
        .collect()
}

#[test]
fn every_range_in_the_schema_is_enforced_by_the_parser() {
    let rows = key_table(&scene_schema());
    let mut checked = 0;
    for (row, range, path, text) in ranged_keys_with_a_scene(&rows) {
        let key = row.path.replace("<i>", "0");
        let bad = outside(&range);
        let set = format!("{key}={bad:e}");
        let parsed = Scene::parse(&text, &path.display().to_string(), std::slice::from_ref(&set));
        let err = parsed.err().unwrap_or_else(|| panic!("{}: --set {set} outside {range} was accepted", path.display()));
        assert!(err.to_string().contains(&key), "{}: --set {set}: message lacks the key: {err}", path.display());
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} ranges could be checked against a shipped scene");
    for row in &rows {
        if let (Some(range), Some(default)) = (&row.range, row.default.as_deref().and_then(|d| d.parse::<f64>().ok())) {
            assert!(within(default, range), "{}: default {default} outside {range}", row.path);
        }
    }
}

/// The values a range includes at its ends (">= a": a; "[a, b]": a and b; open ends: none).
fn closed_ends(range: &str) -> Vec<f64> {
    let numbers = ends(range);
    let mut out = Vec::new();
    if range.starts_with(">=") || range.starts_with("<=") || range.starts_with('[') {
        out.push(numbers[0]);
    }
    if range.ends_with(']') && numbers.len() > 1 {
        out.push(numbers[1]);
    }
    out
}

/// The other direction: the parser accepts what the schema (and so docs/scenes.md) promises, so
/// the two cannot disagree. A value at each closed end of a range is set in a shipped scene that
/// has the key; a refusal may come from another rule (a value that contradicts the scene's
/// other keys) but never from that key's own range.
#[test]
fn every_closed_end_of_a_schema_range_is_accepted_by_the_parser() {
    let rows = key_table(&scene_schema());
    let mut checked = 0;
    for (row, range, path, text) in ranged_keys_with_a_scene(&rows) {
        let key = row.path.replace("<i>", "0");
        for end in closed_ends(&range) {
            let set = if row.kind.contains("integer") { format!("{key}={}", end as i64) } else { format!("{key}={end:e}") };
            if let Err(err) = Scene::parse(&text, &path.display().to_string(), std::slice::from_ref(&set)) {
                let msg = err.to_string();
                let range_words = ["accepted range", "at least", "positive", "must lie in", "out of range", "outside"];
                assert!(
                    !(msg.contains(&format!("`{key}`")) && range_words.iter().any(|w| msg.contains(w))),
                    "{}: --set {set}, inside the documented range {range}, is refused for its own key: {msg}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} range ends could be checked against a shipped scene");
}

fn within(v: f64, range: &str) -> bool {
    let numbers = ends(range);
    match range.chars().next() {
        Some('>') if range.starts_with(">=") => v >= numbers[0],
        Some('>') => v > numbers[0],
        Some('<') if range.starts_with("<=") => v <= numbers[0],
        Some('<') => v < numbers[0],
        Some(open) => {
            let close = range.chars().last().unwrap_or(']');
            let low_ok = if open == '(' { v > numbers[0] } else { v >= numbers[0] };
            let high_ok = if close == ')' { v < numbers[1] } else { v <= numbers[1] };
            low_ok && high_ok
        }
        None => true,
    }
}

#[test]
fn docs_scenes_md_is_the_generated_key_reference() {
    let generated = markdown(&scene_schema());
    let written = std::fs::read_to_string("docs/scenes.md").expect("docs/scenes.md");
    assert!(
        written == generated,
        "docs/scenes.md is out of date: regenerate it with `cargo run --release -- schema --markdown > docs/scenes.md`"
    );
    for row in key_table(&scene_schema()) {
        assert!(!row.description.is_empty(), "{} ({}) has no description", row.path, row.form);
    }
}
