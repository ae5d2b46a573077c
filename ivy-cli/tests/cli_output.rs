//! Output a user can trust: a JSON Lines trace is pure JSON Lines, a Mermaid trace is
//! one diagram, the summary counts what it says, and the history file and the exit
//! code survive a reader that goes away, a closed or full standard output, and a
//! failed run or an interrupt.

#[allow(dead_code)] // the helpers other tests use
mod common;

use common::{ivy, ivy_stdout as stdout_of};
use serde_json::Value;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A fresh path for a history file of this test.
fn history_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ivy-output-{name}-{}.jsonl", std::process::id()));
    let _ = fs::remove_file(&path);
    path
}

#[test]
fn a_json_trace_is_pure_json_lines_readouts_and_summary_included() {
    for system in [&["basic"][..], &["ft", "--kill-primary-at", "3"][..]] {
        let args = [system, &["--requests", "6", "--trace", "json"][..]].concat();
        let stdout = stdout_of(&args);
        let lines: Vec<Value> = stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
            .collect();
        let readouts = lines.iter().filter(|line| line["readout"].is_string());
        let (initial, last): (Vec<&Value>, Vec<&Value>) =
            readouts.partition(|line| line["readout"] == "initial");
        assert_eq!(initial.len(), last.len(), "{stdout}");
        assert!(
            initial.len() >= 4,
            "a manager table and three processes: {stdout}"
        );
        let messages: Vec<&Value> = lines
            .iter()
            .filter(|line| line["type"].is_string())
            .collect();
        assert!(!messages.is_empty());
        let summary = &lines.last().expect("a summary")["summary"];
        assert_eq!(summary["requests"], 6);
        assert_eq!(summary["messages"].as_u64(), Some(messages.len() as u64));
    }
}

#[test]
fn a_mermaid_trace_is_one_diagram_with_readouts_as_comments() {
    let stdout = stdout_of(&["basic", "--requests", "8", "--trace", "mermaid"]);
    let mut body = stdout.lines().filter(|line| !line.starts_with("%%"));
    assert_eq!(body.next(), Some("sequenceDiagram"));
    assert!(body.all(|line| line.starts_with("    ")), "{stdout}");
    let summary = stdout.lines().last().expect("a summary");
    assert!(summary.starts_with("%% 8 requests ("), "{summary}");
    let arrows = stdout.lines().filter(|line| line.contains("->>")).count();
    assert!(
        summary.contains(&format!(", {arrows} messages,")),
        "{summary}"
    );
}

/// The JSON lines of `stdout`, and its summary object.
fn json_lines(stdout: &str) -> (Vec<Value>, Value) {
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.last().expect("a summary")["summary"].clone();
    (lines, summary)
}

#[test]
fn the_ft_summary_counts_heartbeats_apart_as_the_trace_leaves_them_out() {
    // A run of a few milliseconds: heartbeats (1 ms) flow meanwhile, though a fast
    // run may end first, or its backup be behind at every firing (then the primary
    // resends replication instead: about 85% of runs on this loaded 2-core machine);
    // enough tries find one with heartbeats.
    let run = [
        "ft",
        "--requests",
        "2000",
        "--heartbeat-ms",
        "1",
        "--timeout-ms",
        "5",
        "--kill-backup-at",
        "10",
        "--revive-backup-at",
        "11",
        "--trace",
        "json",
    ];
    let is_heartbeat = |line: &Value| {
        line["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("Heartbeat"))
    };
    let (mut hidden, mut shown) = (false, false);
    for _ in 0..100 {
        let (lines, summary) = json_lines(&stdout_of(&run));
        assert!(!lines.iter().any(is_heartbeat));
        let messages = lines.iter().filter(|line| line["type"].is_string()).count();
        assert_eq!(summary["messages"].as_u64(), Some(messages as u64));
        hidden |= summary["heartbeats"].as_u64() > Some(0);
        let (lines, summary) =
            json_lines(&stdout_of(&[&run[..], &["--trace-heartbeats"]].concat()));
        let heartbeats = lines.iter().filter(|line| is_heartbeat(line)).count();
        assert_eq!(summary["heartbeats"].as_u64(), Some(heartbeats as u64));
        let protocol = lines.iter().filter(|line| line["type"].is_string()).count() - heartbeats;
        assert_eq!(summary["messages"].as_u64(), Some(protocol as u64));
        shown |= heartbeats > 0;
        if hidden && shown {
            return;
        }
    }
    panic!("no run had heartbeats to count (hidden: {hidden}, shown: {shown})");
}

#[test]
fn a_reader_that_goes_away_costs_neither_the_history_nor_the_exit_code() {
    let path = history_path("pipe");
    let history = path.to_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args(["basic", "--requests", "2000", "--history", history])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ivy starts");
    drop(child.stdout.take()); // the reader goes away before the first line
    let output = child.wait_with_output().expect("ivy ends");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty());
    let lines = fs::read_to_string(&path)
        .expect("history written")
        .lines()
        .count();
    assert_eq!(lines, 2000);
    fs::remove_file(&path).unwrap();
}

#[test]
fn a_full_standard_output_is_an_error_and_the_history_is_still_written() {
    let path = history_path("full");
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: this system has no /dev/full");
        return;
    };
    let output = Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args([
            "basic",
            "--requests",
            "50",
            "--history",
            path.to_str().unwrap(),
        ])
        .stdout(full)
        .output()
        .expect("ivy runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: cannot write output: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 50);
    fs::remove_file(&path).unwrap();
}

#[test]
fn a_closed_standard_output_is_an_error() {
    let ivy = env!("CARGO_BIN_EXE_ivy");
    let output = Command::new("sh")
        .args(["-c", &format!("'{ivy}' basic --requests 5 >&-")])
        .output()
        .expect("sh runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "error: cannot write output: standard output is closed\n"
    );
    let to_null = Command::new("sh")
        .args(["-c", &format!("'{ivy}' basic --requests 5 >/dev/null")])
        .status()
        .expect("sh runs");
    assert!(
        to_null.success(),
        "output thrown away on purpose is no error"
    );
}

#[test]
fn a_failed_run_leaves_an_existing_history_file_as_it_was() {
    let path = history_path("failed");
    fs::write(&path, "an earlier history\n").unwrap();
    let output = ivy(&[
        "ft",
        "--requests",
        "40",
        "--kill-backup-at",
        "10",
        "--kill-primary-at",
        "20",
        "--history",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&path).unwrap(), "an earlier history\n");
    assert_eq!(leftovers_beside(&path), 0, "no temporary file stays behind");
    fs::remove_file(&path).unwrap();
}

/// How many temporary files of the history file `path` lie beside it.
fn leftovers_beside(path: &std::path::Path) -> usize {
    let directory = path.parent().unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let names = fs::read_dir(directory)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok());
    names
        .filter(|file| file.starts_with(&format!(".{name}")))
        .count()
}

#[test]
fn an_interrupted_run_leaves_the_history_file_as_it_was_and_nothing_beside_it() {
    let path = history_path("interrupted");
    fs::write(&path, "an earlier history\n").unwrap();
    let history = path.to_str().unwrap();
    let args = [
        "basic",
        "--requests",
        "5000000",
        "--quiet",
        "--history",
        history,
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SIGTERM rather than SIGINT: a shell starting the tests in the background makes
    // its children ignore SIGINT. Neither signal has a handler in `ivy`.
    let interrupt = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let status = child.wait().unwrap();
    assert!(!status.success(), "interrupted, not finished: {status:?}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "an earlier history\n");
    assert_eq!(leftovers_beside(&path), 0, "no temporary file stays behind");
    fs::remove_file(&path).unwrap();
}

/// A run long enough for a progress bar (about three seconds in the test profile:
/// random writes on many pages fault almost every time).
const LONG_RUN: &str =
    "basic --processes 10 --pages 100 --ops write --requests 3000000 --trace none";

#[test]
fn a_long_run_shows_progress_on_a_terminal_and_nothing_elsewhere() {
    let binary = env!("CARGO_BIN_EXE_ivy");
    // On a terminal (a pseudo-terminal from util-linux's `script`).
    let on_terminal = Command::new("script")
        .args(["-qec", &format!("{binary} {LONG_RUN}"), "/dev/null"])
        .output();
    match on_terminal {
        Ok(output) => {
            let shown = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{shown}");
            assert!(shown.contains("/3000000 operations"), "no bar: {shown}");
        }
        Err(error) => eprintln!("skipped the terminal half: no `script` ({error})"),
    }
    // Not a terminal: standard error stays empty.
    let args: Vec<&str> = LONG_RUN.split(' ').collect();
    let output = ivy(&args);
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}
