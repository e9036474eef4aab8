//! `--set KEY=VALUE` overrides: replace any scene key by its dotted path.
//!
//! The scene is first completed with its defaults and turned back into JSON, so every key that a
//! scene can hold is addressable even when the file left it out. A path that does not exist is an
//! input error naming the path and the keys valid at the point where it went wrong. VALUE is read
//! as JSON (numbers, booleans, null, arrays) and otherwise taken as a string.

use serde_json::Value;

use super::{describe_error, Scene};
use crate::error::{Error, Result};

/// Applies every `KEY=VALUE` in order and re-reads the scene.
pub fn apply(scene: Scene, origin: &str, sets: &[String]) -> Result<Scene> {
    let mut root = serde_json::to_value(&scene).map_err(|e| Error::input(format!("{origin}: {e}")))?;
    for set in sets {
        let (key, raw) = set
            .split_once('=')
            .ok_or_else(|| Error::input(format!("--set `{set}`: expected KEY=VALUE, e.g. --set mesh.refine=2")))?;
        let value = serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        let slot = locate(&mut root, key).map_err(|msg| Error::input(format!("--set `{set}`: {msg}")))?;
        *slot = value;
    }
    let text = root.to_string();
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| describe_error(&format!("{origin} (after --set {})", sets.join(" ")), &e, false))
}

/// Refuses overrides of which a later one replaces an earlier one: the same key twice, or a key
/// that contains an earlier one (`mesh.refine=...` then `mesh={...}`), since the result would not
/// be what the earlier one says (a sweep would label its points with values they did not run).
/// A key inside an earlier one refines it and is fine: overrides apply in order.
pub fn check_order(sets: &[String]) -> Result<()> {
    let keys: Vec<&str> = sets.iter().map(|s| s.split_once('=').map_or(s.as_str(), |(k, _)| k)).collect();
    check_keys(&keys)
}

/// [`check_order`] on the keys alone.
pub fn check_keys(keys: &[&str]) -> Result<()> {
    for (i, later) in keys.iter().enumerate() {
        for earlier in &keys[..i] {
            if later == earlier || earlier.starts_with(&format!("{later}.")) {
                return Err(Error::input(format!(
                    "--set {later}: replaces --set {earlier} given before it (the same key, or one that contains it); give each key once"
                )));
            }
        }
    }
    Ok(())
}

/// Finds the JSON slot at a dotted path (`geometry.protrusions.0.radius_m`).
fn locate<'a>(root: &'a mut Value, key: &str) -> std::result::Result<&'a mut Value, String> {
    let mut here = root;
    let mut walked = String::new();
    for part in key.split('.') {
        let at = if walked.is_empty() { "the scene root".to_string() } else { format!("`{walked}`") };
        here = match here {
            Value::Object(map) => {
                let valid: Vec<String> = map.keys().cloned().collect();
                map.get_mut(part)
                    .ok_or_else(|| format!("unknown key `{part}` in {at}; valid keys there: {}", valid.join(", ")))?
            }
            Value::Array(items) => {
                let len = items.len();
                let index: usize =
                    part.parse().map_err(|_| format!("`{part}` is not an index into the list {at} (it has {len} entries)"))?;
                items
                    .get_mut(index)
                    .ok_or_else(|| format!("index {index} out of range for the list {at} (it has {len} entries)"))?
            }
            _ => return Err(format!("{at} is a value, not a group of keys; `{part}` cannot be set inside it")),
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(part);
    }
    Ok(here)
}
