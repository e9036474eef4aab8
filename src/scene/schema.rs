//! The JSON Schema of the scene format and the key reference generated from it.
//!
//! The schema is derived (schemars) from the types the scene is parsed into, so their doc
//! comments, defaults, enum values and `deny_unknown_fields` are the schema's descriptions,
//! defaults, `enum`/`const` values and `additionalProperties: false`. Ranges come from
//! `#[schemars(range(..))]`/`extend(..)` on the fields; the semantic checks of
//! `scene::checks` (a protrusion inside the box, one reacting species, ...) are beyond a
//! schema.
//!
//! [`key_table`] flattens the schema into one row per key (dotted path as `--set` takes it,
//! `<i>` for a list index, the variant in brackets for tagged forms), and [`markdown`] renders
//! docs/scenes.md from it; a test keeps that file equal to the output.

use serde_json::Value;

use super::Scene;

/// The scene format's JSON Schema (draft 2020-12).
pub fn scene_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Scene)).unwrap_or(Value::Null);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("title".into(), Value::from("znfield scene"));
        obj.insert(
            "description".into(),
            Value::from(
                "A znfield simulation scene. SI units throughout; each key's unit is the suffix of its name \
                 (_m metres, _s seconds, _V volts, _A_m2 A/m^2, _mol_m3 mol/m^3, _S_m S/m, _m2_s m^2/s, _K kelvin).",
            ),
        );
    }
    schema
}

/// One documented key of the scene format.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyDoc {
    /// Dotted path, `<i>` for list indices, e.g. `geometry.protrusions.<i>.radius_m`.
    pub path: String,
    /// Tagged form the key belongs to, e.g. `shape = hemisphere`; empty when always present.
    pub form: String,
    /// JSON type, or the accepted values of an enumeration.
    pub kind: String,
    pub unit: &'static str,
    pub default: Option<String>,
    /// Accepted range, e.g. `> 0`, `[0, 1]`.
    pub range: Option<String>,
    pub description: String,
    pub required: bool,
}

/// Unit of a key from its name's suffix (the scene format's naming rule), longest suffix first.
pub fn unit_of(key: &str) -> &'static str {
    const SUFFIXES: [(&str, &str); 12] = [
        ("_m2_s", "m²/s"),
        ("_mol_m3", "mol/m³"),
        ("_A_m2", "A/m²"),
        ("_S_m", "S/m"),
        ("_V_m", "V/m"),
        ("_m_1", "1/m"),
        ("_K", "K"),
        ("_V", "V"),
        ("_s", "s"),
        ("_m", "m"),
        ("_deg", "°"),
        ("_k", "K"),
    ];
    SUFFIXES.iter().find(|(suffix, _)| key.ends_with(suffix)).map_or("", |(_, unit)| unit)
}

/// Every key of the schema, in document order.
pub fn key_table(schema: &Value) -> Vec<KeyDoc> {
    let mut rows = Vec::new();
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    walk(schema, "", "", &defs, &mut rows, true);
    rows
}

/// The definition a `$ref` points to (or the node itself).
fn resolve<'a>(node: &'a Value, defs: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => defs.get(name).map_or(node, |d| resolve(d, defs)),
        None => node,
    }
}

/// `node` without a null alternative (`Option<T>`), for the walk.
fn non_null<'a>(node: &'a Value, defs: &'a Value) -> &'a Value {
    let node = resolve(node, defs);
    if let Some(any) = node.get("anyOf").and_then(Value::as_array) {
        let present: Vec<&Value> = any.iter().filter(|v| v.get("type") != Some(&Value::from("null"))).collect();
        if present.len() == 1 {
            return resolve(present[0], defs);
        }
    }
    node
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn description(own: &Value, resolved: &Value) -> String {
    let text = own.get("description").or_else(|| resolved.get("description")).and_then(Value::as_str).unwrap_or("");
    one_line(text)
}

/// The tag property and value of a tagged variant (`"shape": {"const": "hemisphere"}`).
fn tag_of(variant: &Value) -> Option<(String, String)> {
    variant.get("properties")?.as_object()?.iter().find_map(|(key, prop)| {
        let value = prop.get("const")?.as_str()?;
        Some((key.clone(), value.to_string()))
    })
}

fn walk(node: &Value, path: &str, form: &str, defs: &Value, rows: &mut Vec<KeyDoc>, required: bool) {
    let resolved = non_null(node, defs);
    if let Some(props) = resolved.get("properties").and_then(Value::as_object) {
        let needed: Vec<&str> = resolved
            .get("required")
            .and_then(Value::as_array)
            .map_or(Vec::new(), |r| r.iter().filter_map(Value::as_str).collect());
        for (key, prop) in props {
            if tag_of(resolved).is_some_and(|(tag, _)| tag == *key) {
                continue; // the variant's tag is named in `form`
            }
            let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            walk(prop, &child, form, defs, rows, needed.contains(&key.as_str()));
        }
        return;
    }
    let variants = resolved.get("oneOf").and_then(Value::as_array);
    if let Some(variants) = variants.filter(|v| v.iter().all(|x| x.get("properties").is_some() && tag_of(x).is_some())) {
        for v in variants {
            let (tag, value) = tag_of(v).unwrap_or_default();
            let variant_form = format!("{tag} = {value}");
            let form = if form.is_empty() { variant_form } else { format!("{form}; {variant_form}") };
            let before = rows.len();
            walk(v, path, &form, defs, rows, true);
            // the variant's own description goes with its first key
            if let Some(row) = rows.get_mut(before).filter(|r| r.description.is_empty()) {
                row.description = one_line(v.get("description").and_then(Value::as_str).unwrap_or(""));
            }
        }
        return;
    }
    if let Some(items) = resolved.get("items").filter(|_| resolved.get("type") == Some(&Value::from("array"))) {
        let element = non_null(items, defs);
        let tagged = element.get("oneOf").and_then(Value::as_array).is_some_and(|v| v.iter().all(|x| tag_of(x).is_some()));
        if tagged || element.get("properties").is_some() {
            return walk(items, &format!("{path}.<i>"), form, defs, rows, true);
        }
    }
    rows.push(KeyDoc {
        path: path.to_string(),
        form: form.to_string(),
        kind: kind_of(resolved, defs),
        unit: unit_of(path),
        default: node.get("default").filter(|d| !d.is_null()).map(Value::to_string),
        range: range_of(node).or_else(|| range_of(resolved)),
        description: description(node, resolved),
        required,
    });
}

/// The JSON type of a leaf, or its accepted values.
fn kind_of(node: &Value, defs: &Value) -> String {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return values.iter().map(Value::to_string).collect::<Vec<_>>().join(" | ");
    }
    if let Some(value) = node.get("const") {
        return value.to_string();
    }
    if let Some(variants) = node.get("oneOf").and_then(Value::as_array) {
        if variants.iter().all(|v| v.get("const").is_some()) {
            return variants.iter().filter_map(|v| v.get("const")).map(Value::to_string).collect::<Vec<_>>().join(" | ");
        }
        if node.get("description").and_then(Value::as_str).is_some_and(|d| d.contains("depth fraction")) {
            return "profile".into();
        }
        return variants.iter().map(|v| kind_of(resolve(v, defs), defs)).collect::<Vec<_>>().join(" or ");
    }
    match node.get("type") {
        Some(Value::String(t)) if t == "array" => {
            let items = node.get("items").map(|i| kind_of(resolve(i, defs), defs)).unwrap_or_default();
            match (node.get("minItems"), node.get("maxItems")) {
                (Some(a), Some(b)) if a == b => format!("[{items}; {a}]"),
                _ => format!("[{items}]"),
            }
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join(" | "),
        _ => "any".into(),
    }
}

/// The numeric range of a leaf as text: `> 0`, `[0, 1]`, `(0, 1]`, `>= 1`.
fn range_of(node: &Value) -> Option<String> {
    let get = |k: &str| node.get(k).and_then(Value::as_f64);
    let lower = get("exclusiveMinimum").map(|v| ("(", v)).or_else(|| get("minimum").map(|v| ("[", v)));
    let upper = get("exclusiveMaximum").map(|v| (")", v)).or_else(|| get("maximum").map(|v| ("]", v)));
    match (lower, upper) {
        (Some((l, a)), Some((u, b))) => Some(format!("{l}{a}, {b}{u}")),
        (Some(("(", a)), None) => Some(format!("> {a}")),
        (Some((_, a)), None) => Some(format!(">= {a}")),
        (None, Some((")", b))) => Some(format!("< {b}")),
        (None, Some((_, b))) => Some(format!("<= {b}")),
        (None, None) => None,
    }
}

/// README.md, for its "Outputs" section: what a run writes and the definition of every
/// summary.json metric, kept in one place and copied into docs/scenes.md.
const README: &str = include_str!("../../README.md");

/// The README's "## Outputs" section, up to the next second-level heading.
fn outputs_section() -> &'static str {
    let Some(start) = README.find("\n## Outputs\n") else {
        return "";
    };
    let section = &README[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 4);
    section[..end].trim_end()
}

/// docs/scenes.md: the key reference, one table per section (top-level keys first), then the
/// README's "Outputs" section (what a run writes, and the definitions of its metrics).
/// The ranges every positive quantity keeps by its key's ending (the checks'
/// `POSITIVE_RANGES`), stated once above the tables.
fn positive_ranges_note() -> String {
    let list: Vec<String> =
        super::checks::POSITIVE_RANGES.iter().map(|(ending, lo, hi)| format!("`*{ending}` {lo:e} to {hi:e}")).collect();
    format!(
        "\nBeyond the ranges in the tables, a positive quantity lies within the scales of a zinc anode's \
         surroundings by its key's ending: {} (lengths in m).\n",
        list.join(", ")
    )
}

pub fn markdown(schema: &Value) -> String {
    let mut out = String::from(
        "# Scene format\n\n\
         Generated by `znfield schema --markdown` from the JSON Schema that `znfield schema` prints\n\
         (which is derived from the scene types); a test keeps this file equal to that output.\n\
         SI units throughout: a key's unit is the suffix of its name. `--set` takes the paths as\n\
         written, with a list index for `<i>`. Keys of a tagged form (for example\n\
         `shape = hemisphere`) apply when the tag has that value. Required keys are marked *.\n",
    );
    out.push_str(&positive_ranges_note());
    let mut sections: Vec<(String, Vec<KeyDoc>)> = vec![("scene".into(), Vec::new())];
    for row in key_table(schema) {
        let section = row.path.split_once('.').map_or("scene", |(top, _)| top).to_string();
        match sections.iter_mut().find(|(name, _)| *name == section) {
            Some((_, rows)) => rows.push(row),
            None => sections.push((section, vec![row])),
        }
    }
    let cell = |s: &str| s.replace('|', "\\|");
    for (section, rows) in sections {
        out.push_str(&format!("\n## {section}\n\n| key | form | type | unit | default | range | description |\n"));
        out.push_str("|---|---|---|---|---|---|---|\n");
        for row in rows {
            out.push_str(&format!(
                "| `{}`{} | {} | {} | {} | {} | {} | {} |\n",
                row.path,
                if row.required { " *" } else { "" },
                cell(&row.form),
                cell(&row.kind),
                row.unit,
                cell(row.default.as_deref().unwrap_or("")),
                row.range.as_deref().unwrap_or(""),
                cell(&row.description)
            ));
        }
        if section == "output" {
            out.push_str("\nWhat a run writes, and how each metric of summary.json is defined: [Outputs](#outputs) below.\n");
        }
    }
    out.push_str("\n");
    out.push_str(outputs_section());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outputs_section_is_the_readmes_and_defines_the_headline_metrics() {
        let section = outputs_section();
        assert!(section.starts_with("## Outputs\n"), "{}", &section[..section.len().min(80)]);
        assert!(!section[3..].contains("\n## "), "one section only");
        for metric in ["`tip_enhancement` =", "`peak_to_mean` =", "`current_enhancement`", "`overpotential_V`", "`timings_s`"] {
            assert!(section.contains(metric), "the Outputs section should define {metric}");
        }
    }

    #[test]
    fn units_follow_the_key_suffix() {
        assert_eq!(unit_of("geometry.half_width_m"), "m");
        assert_eq!(unit_of("physics.species.<i>.diffusivity_m2_s"), "m²/s");
        assert_eq!(unit_of("physics.conductivity_S_m"), "S/m");
        assert_eq!(unit_of("physics.temperature_K"), "K");
        assert_eq!(unit_of("mesh.refine"), "");
    }

    #[test]
    fn the_table_has_nested_and_tagged_keys_with_defaults() {
        let rows = key_table(&scene_schema());
        let find = |path: &str, form: &str| rows.iter().find(|r| r.path == path && r.form.contains(form));
        let radius = find("geometry.protrusions.<i>.radius_m", "shape = hemisphere").expect("hemisphere radius");
        assert_eq!(radius.unit, "m");
        let refine = find("mesh.refine", "").expect("mesh.refine");
        assert_eq!(refine.default.as_deref(), Some("1.0"));
        let model = find("physics.model", "").expect("physics.model");
        assert!(model.kind.contains("\"tertiary\""), "{}", model.kind);
        assert!(rows.iter().all(|r| !r.path.is_empty()));
    }
}
