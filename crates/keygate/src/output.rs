//! What admin commands print: JSON with `--json` (for scripts), otherwise aligned text (for people).

use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// One record: JSON, or `key: value` lines.
    pub fn record<T: Serialize>(&self, value: &T) {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        if self.json {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            return;
        }
        if let Value::Object(map) = v {
            let width = map.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in map {
                println!("{k:width$}  {}", plain(&v));
            }
        }
    }

    /// A list: a JSON array, or a table of the named columns.
    pub fn table<T: Serialize>(&self, items: &[T], columns: &[&str]) {
        let values: Vec<Value> = items
            .iter()
            .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
            .collect();
        if self.json {
            println!("{}", serde_json::to_string_pretty(&values).unwrap_or_default());
            return;
        }
        if values.is_empty() {
            println!("(none)");
            return;
        }
        let rows: Vec<Vec<String>> = values
            .iter()
            .map(|v| {
                columns
                    .iter()
                    .map(|c| plain(v.get(*c).unwrap_or(&Value::Null)))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(c.len())
            })
            .collect();
        let line = |cells: Vec<String>| {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:w$}"))
                .collect();
            println!("{}", parts.join("  ").trim_end());
        };
        line(columns.iter().map(|c| c.to_uppercase()).collect());
        for r in rows {
            line(r);
        }
    }

    /// A secret shown once, with the warning people need.
    pub fn secret_notice(&self, what: &str) {
        if !self.json {
            eprintln!(
                "\nThe {what} above is shown only this once. Store it now: Keygate keeps only a hash of it."
            );
        }
    }

    pub fn done(&self, message: &str) {
        if self.json {
            println!("{}", serde_json::json!({ "ok": true, "message": message }));
        } else {
            println!("{message}");
        }
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
