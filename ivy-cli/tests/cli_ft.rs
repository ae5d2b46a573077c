//! Integration tests of the `ivy ft` subcommand, run as a real process.

mod common;

use common::table_rows;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A manager's table: per page, owner and copy set.
type CmTable = Vec<(u32, Vec<u32>)>;

/// One readout: each manager's title and table (none when it is down), then each
/// process's table (per page: isOwner and access).
#[derive(Debug)]
struct Readout {
    managers: Vec<(String, Option<CmTable>)>,
    processes: Vec<Vec<(bool, String)>>,
}

impl Readout {
    fn table(&self, title: &str) -> &CmTable {
        let found = self.managers.iter().find(|(t, _)| t == title);
        let table = found.and_then(|(_, table)| table.as_ref());
        table.unwrap_or_else(|| panic!("no {title} table in {:?}", self.managers))
    }
}

/// Runs `ivy ft` with the space-separated `args`, then `extra`.
fn ivy_ft(args: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivy"))
        .arg("ft")
        .args(args.split_whitespace())
        .args(extra)
        .output()
        .expect("ivy runs")
}

/// Runs `ivy ft` with `args` and `extra`, asserts success and returns stdout.
fn ivy_ok(args: &str, extra: &[&str]) -> String {
    let output = ivy_ft(args, extra);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ivy ft {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// Parses the `Record Owner_ID copy_set` table at `lines[*at]`.
fn cm_table(lines: &[&str], at: &mut usize) -> CmTable {
    let rows = table_rows(lines, at, &["Record", "Owner_ID", "copy_set"]);
    rows.into_iter()
        .map(|row| {
            let set = row[2..].join(" ");
            let inner = set.trim_start_matches('{').trim_end_matches('}');
            let members = inner.split(',').filter(|m| !m.trim().is_empty());
            let members = members.map(|m| m.trim().parse().expect("copy set member"));
            (row[1].parse().expect("owner id"), members.collect())
        })
        .collect()
}

/// Parses the readout starting at `lines[*at]` (its first `cm_` title), advancing `at`.
fn parse_readout(lines: &[&str], at: &mut usize) -> Readout {
    let mut managers = Vec::new();
    while let Some(title) = lines.get(*at).filter(|line| line.starts_with("cm_")) {
        *at += 1;
        let has_table = lines
            .get(*at)
            .is_some_and(|line| line.starts_with("Record"));
        let table = has_table.then(|| cm_table(lines, at));
        managers.push((title.to_string(), table));
    }
    assert!(!managers.is_empty(), "a readout at line {}", *at);
    let mut processes = Vec::new();
    while lines.get(*at) == Some(&format!("process_{}:", processes.len()).as_str()) {
        *at += 1;
        let rows = table_rows(lines, at, &["Page", "isOwner", "Access"]).into_iter();
        processes.push(
            rows.map(|row| (row[1] == "true", row[2].to_string()))
                .collect(),
        );
    }
    Readout {
        managers,
        processes,
    }
}

/// The initial and final readouts, and the lines between them (the trace).
fn parse_run(stdout: &str) -> (Readout, Readout, Vec<&str>) {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut at = 0;
    let initial = parse_readout(&lines, &mut at);
    let trace_start = at;
    while !lines[at].starts_with("cm_") {
        at += 1;
    }
    let trace = lines[trace_start..at].to_vec();
    let last = parse_readout(&lines, &mut at);
    assert_eq!(at, lines.len() - 1, "only the summary follows the readout");
    (initial, last, trace)
}

/// The event rows of a table trace, without their `*** `.
fn events<'a>(trace: &[&'a str]) -> Vec<&'a str> {
    let rows = trace.iter().filter_map(|line| line.strip_prefix("*** "));
    rows.collect()
}

/// Asserts `cm` agrees with the process tables, and they with each other.
fn assert_coherent(cm: &CmTable, processes: &[Vec<(bool, String)>]) {
    for (page, (owner, copy_set)) in cm.iter().enumerate() {
        let owners: Vec<usize> = (0..processes.len())
            .filter(|&process| processes[process][page].0)
            .collect();
        assert_eq!(owners, [*owner as usize], "page {page}: one owner, cm's");
        let expected = ["ReadWrite", "Read"][usize::from(!copy_set.is_empty())];
        assert_eq!(processes[*owner as usize][page].1, expected, "page {page}");
        for (process, table) in processes.iter().enumerate() {
            if process != *owner as usize {
                let copy = copy_set.contains(&(process as u32));
                let access = if copy { "Read" } else { "Nil" };
                assert_eq!(table[page].1, access, "page {page} process {process}");
            }
        }
    }
}

fn summary_line(stdout: &str) -> &str {
    stdout.lines().last().expect("a summary line")
}

/// The failover time of a summary line, in milliseconds.
fn failover_ms(summary: &str) -> f64 {
    let (_, tail) = summary.rsplit_once(", failover ").expect("a failover time");
    let (ms, _) = tail.split_once(" ms").expect("in ms");
    ms.parse().expect("a number")
}

/// A history file path unique to this test process and `name`.
fn temp_path(name: &str) -> PathBuf {
    let file = format!("ivy-cli-ft-{name}-{}.jsonl", std::process::id());
    std::env::temp_dir().join(file)
}

#[test]
fn kill_primary_fails_over_and_ends_coherent() {
    let stdout = ivy_ok("--kill-primary-at 30", &[]);
    let (initial, last, trace) = parse_run(&stdout);
    let titles: Vec<&str> = initial.managers.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(titles, ["cm_Primary:", "cm_Backup:"]);
    assert_coherent(initial.table("cm_Primary:"), &initial.processes);
    assert_eq!(trace.last(), Some(&"Done"));
    let events = events(&trace);
    let kill = events.iter().position(|e| *e == "kill primary cm 3");
    let kill = kill.unwrap_or_else(|| panic!("no kill in {events:?}"));
    assert!(
        events[kill..]
            .iter()
            .any(|e| e.starts_with("cm 4 promoted: primary of ")),
        "{events:?}"
    );
    let summary = summary_line(&stdout);
    assert!(summary.starts_with("50 requests ("), "{summary}");
    let failover = failover_ms(summary);
    assert!((20.0..=1000.0).contains(&failover), "{summary}");
    assert_coherent(last.table("cm_Primary:"), &last.processes);
    let down = ("cm_Backup (down, cm 3):".to_string(), None);
    assert!(last.managers.contains(&down), "{:?}", last.managers);
}

#[test]
fn revived_primary_rejoins_and_takes_its_role_back() {
    let args = "--requests 100 --kill-primary-at 30 --revive-primary-at 40";
    let stdout = ivy_ok(args, &[]);
    let (_, last, trace) = parse_run(&stdout);
    let events = events(&trace);
    for wanted in ["revive cm 3", "rejoined", "hands the primary role back"] {
        assert!(
            events.iter().any(|e| e.contains(wanted)),
            "{wanted}: {events:?}"
        );
    }
    let (primary, backup) = (last.table("cm_Primary:"), last.table("cm_Backup:"));
    assert_coherent(primary, &last.processes);
    assert_coherent(backup, &last.processes);
    assert_eq!(primary, backup);
    assert!(summary_line(&stdout).starts_with("100 requests ("));
}

#[test]
fn many_processes_and_pages_with_one_kind_of_operation() {
    for ops in ["read", "write"] {
        let args = "--processes 10 --pages 100 --requests 100 --kill-primary-at 50 \
            --revive-primary-at 80 --ops";
        let stdout = ivy_ok(args, &[ops]);
        let (_, last, _) = parse_run(&stdout);
        assert_eq!(last.processes.len(), 10);
        for (title, table) in &last.managers {
            let table = table
                .as_ref()
                .unwrap_or_else(|| panic!("{title} has no table"));
            assert_eq!(table.len(), 100);
            assert_coherent(table, &last.processes);
        }
        let quiet = ivy_ok(args, &[ops, "--quiet"]);
        assert_eq!(quiet.lines().count(), 1, "{quiet}");
        assert!(quiet.starts_with("100 requests ("), "{quiet}");
    }
}

/// The trace lines of a `--trace json` run, parsed.
/// The trace lines of a `--trace json` run (messages and events), after checking that
/// every line is JSON and that the final readout's primary agrees with the processes.
fn json_trace(args: &str) -> Vec<Value> {
    let stdout = ivy_ok(args, &["--trace", "json"]);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let last = lines.iter().filter(|line| line["readout"] == "final");
    let (mut cm, mut processes) = (None, Vec::new());
    for table in last {
        let rows = table["rows"].as_array().expect("rows").iter();
        match table["table"].as_str() {
            Some("cm_Primary") => {
                let record = |row: &Value| {
                    let members = row["copy_set"].as_array().expect("a copy set").iter();
                    let owner = row["owner_id"].as_u64().expect("an owner") as u32;
                    (owner, members.map(|m| m.as_u64().unwrap() as u32).collect())
                };
                cm = Some(rows.map(record).collect::<CmTable>());
            }
            Some(name) if name.starts_with("process_") => processes.push(
                rows.map(|row| {
                    (
                        row["is_owner"] == true,
                        row["access"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
            ),
            _ => {}
        }
    }
    assert_coherent(&cm.expect("a final cm_Primary table"), &processes);
    let trace = lines.into_iter();
    trace
        .filter(|line| line["type"].is_string() || line["event"].is_string())
        .collect()
}

fn is_heartbeat(value: &Value) -> bool {
    matches!(value["type"].as_str(), Some("Heartbeat" | "HeartbeatAck"))
}

#[test]
fn json_trace_has_messages_and_events() {
    let trace = json_trace("--kill-primary-at 30");
    let events: Vec<&str> = trace.iter().filter_map(|v| v["event"].as_str()).collect();
    let killed = events.iter().position(|e| *e == "killed").expect("killed");
    assert!(events[killed..].contains(&"promoted"), "{events:?}");
    assert!(trace.iter().any(|v| v["type"] == "WriteRequest"));
    assert!(!trace.iter().any(is_heartbeat));
}

/// Reads a history file (then deletes it), checking reads see written values.
#[test]
fn history_across_a_failover_reads_written_values() {
    let path = temp_path("history");
    let args = "--kill-primary-at 30 --requests 80 --quiet --history";
    let stdout = ivy_ok(args, &[path.to_str().unwrap()]);
    assert!(stdout.starts_with("80 requests ("), "{stdout}");
    common::check_history(&path, 80);
}

#[test]
fn bad_fault_options_are_one_line_and_exit_code_2() {
    let cases = [
        "--revive-primary-at 5",
        "--kill-primary-at 60",
        "--timeout-ms 10 --heartbeat-ms 10",
        "--heartbeat-ms 0",
        "--kill-primary-at 5 --kill-primary-at 9",
        "--kill-primary-at 5 --revive-primary-at 5",
    ];
    for args in cases {
        common::assert_usage_error(&ivy_ft(args, &[]), &args);
    }
}

#[test]
fn kill_revive_and_kill_again_across_seeds() {
    for seed in 1..=5 {
        let path = temp_path(&format!("seed-{seed}"));
        let args = "--requests 60 --kill-primary-at 20 --revive-primary-at 35 \
            --kill-backup-at 50 --quiet --history";
        let seed = seed.to_string();
        let stdout = ivy_ok(args, &[path.to_str().unwrap(), "--seed", &seed]);
        assert_eq!(stdout.lines().count(), 1, "seed {seed}: {stdout}");
        assert!(stdout.starts_with("60 requests ("), "seed {seed}: {stdout}");
        common::check_history(&path, 60);
    }
}

#[test]
fn kills_and_revivals_work_on_the_actor_runtime() {
    for threads in ["1", "2"] {
        let path = temp_path(&format!("threads-{threads}"));
        let args = "--requests 80 --kill-primary-at 20 --revive-primary-at 40 \
            --kill-backup-at 60 --quiet --history";
        let stdout = ivy_ok(args, &[path.to_str().unwrap(), "--threads", threads]);
        assert!(
            stdout.starts_with("80 requests ("),
            "--threads {threads}: {stdout}"
        );
        assert!(stdout.contains("failover"), "--threads {threads}: {stdout}");
        common::check_history(&path, 80);
    }
}
