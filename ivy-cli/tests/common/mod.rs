//! Helpers shared by the CLI tests: running `ivy`, reading readout tables and
//! `--history` files back, and the children of a process.

use ivy_core::{check_linearizable, HistoryEntry, NodeId, OperationKind, PageId};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// One line of a history file as the checker's entry.
pub fn history_entry(entry: &Value) -> HistoryEntry {
    let field = |name: &str| entry[name].as_u64().expect("a number");
    HistoryEntry {
        process: NodeId(field("process") as u32),
        op: match entry["op"].as_str() {
            Some("read") => OperationKind::Read,
            _ => OperationKind::Write,
        },
        page: PageId(field("page") as u32),
        value: field("value"),
        invoked_at: field("invoke_ns"),
        completed_at: field("complete_ns"),
    }
}

/// Reads and removes the history file at `path`; checks it has `requests` entries,
/// that every read returned 0 or a value written to its page, and that it is
/// linearizable. Returns the entries.
pub fn check_history(path: &Path, requests: usize) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("history written");
    std::fs::remove_file(path).unwrap();
    let entries: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(entries.len(), requests);
    let mut written: HashMap<u64, Vec<u64>> = HashMap::new();
    for entry in entries.iter().filter(|entry| entry["op"] == "write") {
        let page = entry["page"].as_u64().expect("page");
        let value = entry["value"].as_u64().expect("value");
        written.entry(page).or_default().push(value);
    }
    for entry in entries.iter().filter(|entry| entry["op"] == "read") {
        let value = entry["value"].as_u64().expect("value");
        let values = written.get(&entry["page"].as_u64().expect("page"));
        let known = values.is_some_and(|values| values.contains(&value));
        assert!(value == 0 || known, "read {entry}");
    }
    let history: Vec<HistoryEntry> = entries.iter().map(history_entry).collect();
    assert_eq!(check_linearizable(&history), Ok(()));
    entries
}

/// Parses the rows of a table whose header is `header`, starting at `lines[*at]`.
pub fn table_rows<'a>(lines: &[&'a str], at: &mut usize, header: &[&str]) -> Vec<Vec<&'a str>> {
    let found: Vec<&str> = lines[*at].split_whitespace().collect();
    assert_eq!(found, header, "table header at line {}", *at);
    *at += 1;
    let mut rows = Vec::new();
    while let Some(line) = lines.get(*at) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let second = cells.get(1).copied().unwrap_or("");
        let is_row = cells.first().and_then(|cell| cell.parse::<usize>().ok()) == Some(rows.len())
            && (second.parse::<u32>().is_ok() || second == "true" || second == "false");
        if !is_row {
            break;
        }
        rows.push(cells);
        *at += 1;
    }
    rows
}

/// Checks that a run given `args` failed as a usage error should: exit code 2, one
/// non-empty line on standard error and no panic, nothing on standard output.
pub fn assert_usage_error(output: &std::process::Output, args: &dyn std::fmt::Debug) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 1 && !lines[0].trim().is_empty(),
        "{args:?}: {stderr}"
    );
    assert!(output.stdout.is_empty(), "{args:?}");
}

/// The children of `pid` now (Linux's /proc).
#[allow(dead_code)] // only the tests of OS processes need it
pub fn children_of(pid: u32) -> Vec<u32> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

/// Runs `ivy` with `args`.
#[allow(dead_code)] // not every test runs ivy this way
pub fn ivy(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args(args)
        .output()
        .expect("ivy runs")
}

/// Runs `ivy` with `args`, which must succeed, and returns its standard output.
#[allow(dead_code)] // not every test runs ivy this way
pub fn ivy_stdout(args: &[&str]) -> String {
    let output = ivy(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ivy {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).expect("UTF-8")
}
