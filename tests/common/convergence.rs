//! Convergence tables checked against references committed as JSON (`tests/convergence/*.json`),
//! in the manner of deal.II's and fenris's convergence tests: each mesh level's errors must stay
//! within the reference's `error_rtol` of the committed values (a change of the scheme shows up
//! there first), and the observed order between consecutive levels, `log(e_coarse / e_fine) /
//! log(h_coarse / h_fine)`, must reach the reference's `min_order` for each column.
//!
//! `ZNFIELD_BLESS=1 cargo test --release --test NAME` rewrites the reference's rows from the
//! current code (keeping its description and tolerances); review the diff before committing it.

use serde_json::{json, Value};
use std::path::PathBuf;

/// One mesh level: its nominal size, node count and errors (one per column).
pub struct Level {
    pub h: f64,
    pub nodes: usize,
    pub errors: Vec<f64>,
}

/// Observed orders between consecutive levels, per column.
pub fn orders(levels: &[Level]) -> Vec<Vec<f64>> {
    levels
        .windows(2)
        .map(|w| {
            let ratio = (w[0].h / w[1].h).ln();
            w[0].errors.iter().zip(&w[1].errors).map(|(a, b)| (a / b).abs().ln() / ratio).collect()
        })
        .collect()
}

/// The table as Markdown (for the test's output and the docs).
pub fn markdown(columns: &[&str], levels: &[Level]) -> String {
    let orders = orders(levels);
    let mut s = format!(
        "| h | nodes | {} |\n|---|---|{}\n",
        columns.iter().map(|c| format!("{c} | order")).collect::<Vec<_>>().join(" | "),
        "---|---|".repeat(columns.len())
    );
    for (i, level) in levels.iter().enumerate() {
        let cells: Vec<String> = level
            .errors
            .iter()
            .enumerate()
            .map(|(c, e)| match i {
                0 => format!("{e:.3e} | -"),
                _ => format!("{e:.3e} | {:.2}", orders[i - 1][c]),
            })
            .collect();
        s += &format!("| {} | {} | {} |\n", level.h, level.nodes, cells.join(" | "));
    }
    s
}

/// Checks `levels` against `tests/convergence/{name}.json` (or rewrites its rows under
/// ZNFIELD_BLESS=1); panics with every difference.
pub fn check(name: &str, columns: &[&str], levels: &[Level]) {
    eprintln!("{name}:\n{}", markdown(columns, levels));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/convergence").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reference: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Value> = levels
        .iter()
        .map(|l| {
            let mut row = json!({ "h": l.h, "nodes": l.nodes });
            columns.iter().zip(&l.errors).for_each(|(c, e)| row[*c] = json!(e));
            row
        })
        .collect();
    if std::env::var("ZNFIELD_BLESS").is_ok_and(|v| v == "1") {
        reference["rows"] = Value::Array(rows);
        std::fs::write(&path, serde_json::to_string_pretty(&reference).expect("JSON") + "\n").expect("write reference");
        return;
    }
    let mut problems = Vec::new();
    let rtol = reference["error_rtol"].as_f64().expect("error_rtol");
    let committed = reference["rows"].as_array().expect("rows");
    if committed.len() != rows.len() {
        problems.push(format!("{} levels, the reference has {}", rows.len(), committed.len()));
    }
    for (row, want) in rows.iter().zip(committed) {
        if row["h"] != want["h"] || row["nodes"] != want["nodes"] {
            problems.push(format!(
                "level h {} with {} nodes, the reference has h {} with {}",
                row["h"], row["nodes"], want["h"], want["nodes"]
            ));
            continue;
        }
        for c in columns {
            let (got, expected) = (row[*c].as_f64().expect("number"), want[*c].as_f64().expect("reference number"));
            if (got - expected).abs() > rtol * expected.abs() {
                problems.push(format!("h {}: {c} {got:.4e}, reference {expected:.4e} (rtol {rtol})", row["h"]));
            }
        }
    }
    for (pair, orders) in orders(levels).iter().enumerate() {
        for (c, order) in columns.iter().zip(orders) {
            let min = reference["min_order"][*c].as_f64().unwrap_or_else(|| panic!("min_order.{c}"));
            if !(*order >= min) {
                problems.push(format!(
                    "{c}: observed order {order:.2} from h {} to {}, below {min}",
                    levels[pair].h,
                    levels[pair + 1].h
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{name} against {}:\n{}", path.display(), problems.join("\n"));
}
