//! Integration tests of the `ivy basic` subcommand, run as a real process.

mod common;

use common::{history_entry, table_rows};
use ivy_core::{check_linearizable, HistoryEntry};
use serde_json::Value;
use std::collections::HashMap;
use std::process::{Command, Output};

/// Whether `line` is the trace table's header (its `Type` column widens to fit).
fn is_trace_header(line: &str) -> bool {
    line.split_whitespace()
        .eq(["Type", "From", "To", "Page", "Requester"])
}

/// Runs `ivy basic` with `args`.
fn ivy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivy"))
        .arg("basic")
        .args(args)
        .output()
        .expect("ivy runs")
}

/// Runs `ivy basic` with `args`, asserts success and returns stdout.
fn ivy_ok(args: &[&str]) -> String {
    let output = ivy(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ivy {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// One page-table readout: the manager's table, then each process's.
#[derive(Debug)]
struct Readout {
    /// Per page: owner and copy set.
    cm: Vec<(u32, Vec<u32>)>,
    /// Per process, per page: isOwner and access.
    processes: Vec<Vec<(bool, String)>>,
}

/// Parses the readout starting at `lines[*at]` (its `cm:` line), advancing `at` past it.
fn parse_readout(lines: &[&str], at: &mut usize) -> Readout {
    assert_eq!(lines[*at], "cm:", "readout starts with cm: at line {}", *at);
    *at += 1;
    let cm = table_rows(lines, at, &["Record", "Owner_ID", "copy_set"])
        .into_iter()
        .map(|row| {
            let set = row[2..].join(" ");
            let inner = set
                .strip_prefix('{')
                .and_then(|set| set.strip_suffix('}'))
                .unwrap_or_else(|| panic!("copy set {set:?}"));
            let members = inner
                .split(',')
                .map(str::trim)
                .filter(|member| !member.is_empty())
                .map(|member| member.parse().expect("copy set member"))
                .collect();
            (row[1].parse().expect("owner id"), members)
        })
        .collect();
    let mut processes = Vec::new();
    while lines.get(*at) == Some(&format!("process_{}:", processes.len()).as_str()) {
        *at += 1;
        let rows = table_rows(lines, at, &["Page", "isOwner", "Access"])
            .into_iter()
            .map(|row| (row[1].parse().expect("isOwner"), row[2].to_string()))
            .collect();
        processes.push(rows);
    }
    Readout { cm, processes }
}

/// The initial and final readouts, and the lines between them (the trace).
fn parse_readouts(stdout: &str) -> (Readout, Readout, Vec<&str>) {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut at = 0;
    let initial = parse_readout(&lines, &mut at);
    let trace_start = at;
    let last_cm = lines.iter().rposition(|line| *line == "cm:").unwrap();
    assert!(last_cm >= trace_start, "two readouts");
    at = last_cm;
    let last = parse_readout(&lines, &mut at);
    assert_eq!(
        at,
        lines.len() - 1,
        "only the summary follows the final readout"
    );
    (initial, last, lines[trace_start..last_cm].to_vec())
}

/// Asserts the invariants of a coherent readout.
fn assert_coherent(readout: &Readout) {
    for (page, (owner, copy_set)) in readout.cm.iter().enumerate() {
        let owners: Vec<usize> = (0..readout.processes.len())
            .filter(|&process| readout.processes[process][page].0)
            .collect();
        assert_eq!(
            owners,
            [*owner as usize],
            "page {page}: one owner, as cm says"
        );
        let expected = if copy_set.is_empty() {
            "ReadWrite"
        } else {
            "Read"
        };
        assert_eq!(readout.processes[*owner as usize][page].1, expected);
        for (process, table) in readout.processes.iter().enumerate() {
            if process != *owner as usize {
                let copy = copy_set.contains(&(process as u32));
                let access = if copy { "Read" } else { "Nil" };
                assert_eq!(table[page].1, access, "page {page} process {process}");
            }
        }
    }
}

/// Asserts `readout` is the initial layout of `processes` processes and `pages` pages.
fn assert_initial_layout(readout: &Readout, processes: usize, pages: usize) {
    assert_eq!(readout.cm.len(), pages);
    assert_eq!(readout.processes.len(), processes);
    for page in 0..pages {
        assert_eq!(readout.cm[page], ((page % processes) as u32, vec![]));
        for (process, table) in readout.processes.iter().enumerate() {
            let owner = page % processes == process;
            let access = if owner { "ReadWrite" } else { "Nil" };
            assert_eq!(table[page], (owner, access.to_string()));
        }
    }
}

/// The counts of a summary line, without its times.
fn summary_counts(line: &str) -> Vec<u64> {
    let counts: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter(|word| !word.is_empty() && !word.contains('.'))
        .map(|word| word.parse().unwrap())
        .collect();
    assert!(line.contains(" ms"), "summary {line:?}");
    counts[..5].to_vec()
}

fn summary_line(stdout: &str) -> &str {
    stdout.lines().last().expect("a summary line")
}

#[test]
fn default_run_prints_sections_in_order_and_ends_coherent() {
    let stdout = ivy_ok(&[]);
    let lines: Vec<&str> = stdout.lines().collect();
    let first_cm = lines.iter().position(|line| *line == "cm:");
    let header = lines.iter().position(|line| is_trace_header(line));
    let done = lines.iter().position(|line| *line == "Done");
    let last_cm = lines.iter().rposition(|line| *line == "cm:");
    assert_eq!(first_cm, Some(0));
    assert!(
        first_cm < header && header < done && done < last_cm,
        "{stdout}"
    );
    let summary = summary_line(&stdout);
    assert!(summary.starts_with("50 requests ("), "{summary}");
    let (initial, last, trace) = parse_readouts(&stdout);
    assert!(is_trace_header(trace[0]), "{}", trace[0]);
    assert_eq!(trace.last(), Some(&"Done"));
    assert_eq!(summary_counts(summary)[4] as usize, trace.len() - 2);
    assert_coherent(&initial);
    assert_coherent(&last);
}

#[test]
fn initial_readout_is_the_page_modulo_processes_layout() {
    assert_initial_layout(&parse_readouts(&ivy_ok(&[])).0, 3, 5);
    let stdout = ivy_ok(&["--processes", "4", "--pages", "9", "--requests", "3"]);
    assert_initial_layout(&parse_readouts(&stdout).0, 4, 9);
}

#[test]
fn reads_only_never_move_ownership() {
    let args = ["--processes", "10", "--pages", "100", "--requests", "100"];
    let quiet = ivy_ok(&[&args[..], &["--ops", "read", "--quiet"]].concat());
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
    assert!(
        quiet.starts_with("100 requests (100 reads, 0 writes, "),
        "{quiet}"
    );
    let stdout = ivy_ok(&[&args[..], &["--ops", "read"]].concat());
    let (initial, last, _) = parse_readouts(&stdout);
    assert_initial_layout(&initial, 10, 100);
    assert_coherent(&last);
    for (page, (owner, _)) in last.cm.iter().enumerate() {
        assert_eq!(*owner as usize, page % 10, "page {page} kept its owner");
    }
}

#[test]
fn writes_only_leave_no_copies() {
    let args = ["--processes", "10", "--pages", "100", "--requests", "100"];
    let stdout = ivy_ok(&[&args[..], &["--ops", "write"]].concat());
    assert!(summary_line(&stdout).starts_with("100 requests (0 reads, 100 writes, "));
    let (_, last, _) = parse_readouts(&stdout);
    assert_coherent(&last);
    for (page, (owner, copy_set)) in last.cm.iter().enumerate() {
        assert!(copy_set.is_empty(), "page {page} copy set {copy_set:?}");
        assert_eq!(last.processes[*owner as usize][page].1, "ReadWrite");
    }
}

#[test]
fn no_trace_keeps_readouts_and_summary() {
    let stdout = ivy_ok(&["--trace", "none"]);
    assert!(!stdout.contains("Type"), "{stdout}");
    assert!(!stdout.lines().any(|line| line == "Done"));
    let (_, last, trace) = parse_readouts(&stdout);
    assert!(trace.is_empty(), "{trace:?}");
    assert_coherent(&last);
    assert!(summary_line(&stdout).starts_with("50 requests ("));
}

#[test]
fn history_file_records_every_operation() {
    let path = std::env::temp_dir().join(format!("ivy-cli-history-{}.jsonl", std::process::id()));
    let path_arg = path.to_str().unwrap();
    let stdout = ivy_ok(&["--requests", "200", "--history", path_arg, "--quiet"]);
    let text = std::fs::read_to_string(&path).expect("history written");
    std::fs::remove_file(&path).unwrap();
    let counts = summary_counts(&stdout);
    let entries: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(entries.len(), 200);
    let mut written: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut reads = 0;
    for entry in &entries {
        let process = entry["process"].as_u64().expect("process");
        assert!(process < 3);
        let invoke = entry["invoke_ns"].as_u64().expect("invoke_ns");
        assert!(invoke <= entry["complete_ns"].as_u64().expect("complete_ns"));
        let page = entry["page"].as_u64().expect("page");
        assert!(page < 5);
        let value = entry["value"].as_u64().expect("value");
        match entry["op"].as_str() {
            Some("write") => written.entry(page).or_default().push(value),
            Some("read") => reads += 1,
            other => panic!("op {other:?}"),
        }
    }
    assert_eq!(reads, counts[1]);
    for entry in entries.iter().filter(|entry| entry["op"] == "read") {
        let value = entry["value"].as_u64().unwrap();
        let page = entry["page"].as_u64().unwrap();
        let values = written.get(&page).map(Vec::as_slice).unwrap_or(&[]);
        assert!(value == 0 || values.contains(&value), "read {entry}");
    }
    // The file on its own shows the run was linearizable per page.
    let history: Vec<HistoryEntry> = entries.iter().map(history_entry).collect();
    assert_eq!(check_linearizable(&history), Ok(()));
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let cases: [&[&str]; 6] = [
        &["--processes", "0"],
        &["--pages", "0"],
        &["--ops", "sideways"],
        &["--page-size", "4"],
        &["--history", "/nonexistent-dir/x.jsonl"],
        &["--requests", "notanumber"],
    ];
    for args in cases {
        common::assert_usage_error(&ivy(args), &args);
    }
}

/// The operations of a history file, as sorted `(process, op, page)`, then deleted.
fn take_workload(path: &std::path::Path) -> Vec<(u64, String, u64)> {
    let text = std::fs::read_to_string(path).expect("history written");
    std::fs::remove_file(path).unwrap();
    let mut operations: Vec<(u64, String, u64)> = text
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).expect("a JSON line");
            let op = entry["op"].as_str().expect("op").to_string();
            (
                entry["process"].as_u64().unwrap(),
                op,
                entry["page"].as_u64().unwrap(),
            )
        })
        .collect();
    operations.sort();
    operations
}

#[test]
fn same_seed_same_workload_and_counts() {
    let mut runs = Vec::new();
    for run in 0..2 {
        let name = format!("ivy-cli-seed-{}-{run}.jsonl", std::process::id());
        let path = std::env::temp_dir().join(name);
        let args = ["--seed", "7", "--requests", "300", "--quiet", "--history"];
        let stdout = ivy_ok(&[&args[..], &[path.to_str().unwrap()]].concat());
        runs.push((summary_counts(&stdout), take_workload(&path)));
    }
    let (first, second) = (&runs[0], &runs[1]);
    // Requests, reads and writes come from the seeded workload. Local hits and messages
    // depend on how the node threads interleave, so they may differ between runs.
    assert_eq!(first.0[..3], second.0[..3]);
    assert_eq!(first.0[0], 300);
    assert_eq!(first.0[1] + first.0[2], 300);
    assert_eq!(
        first.1, second.1,
        "same operations issued by the same processes"
    );
}

#[test]
fn the_actor_runtime_gives_coherent_runs_on_any_number_of_workers() {
    for threads in ["1", "2", "3", "7"] {
        let path = std::env::temp_dir().join(format!(
            "ivy-cli-threads-{threads}-{}.jsonl",
            std::process::id()
        ));
        let args = [
            "--processes",
            "6",
            "--pages",
            "9",
            "--requests",
            "300",
            "--threads",
            threads,
            "--history",
            path.to_str().unwrap(),
        ];
        let stdout = ivy_ok(&args);
        let (_, last, _) = parse_readouts(&stdout);
        assert_coherent(&last);
        common::check_history(&path, 300);
    }
}
