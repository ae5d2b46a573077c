//! `ivy cluster basic|ft`: every node a child OS process over TCP, printing what
//! `ivy basic`/`ivy ft` print, with the same checks; kills are real SIGKILLs, revivals
//! fresh processes; bad input is one line; no child outlives the launcher.

#[allow(dead_code)] // the helpers other tests use
mod common;

use common::{assert_usage_error, check_history, children_of};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ivy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args(args)
        .output()
        .expect("ivy runs")
}

fn success(args: &[&str]) -> String {
    let output = ivy(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_basic_cluster_prints_what_ivy_basic_prints() {
    let cluster = success(&["cluster", "basic"]);
    let threads = success(&["basic"]);
    // The readout before the run is the same, and so is the shape of the rest.
    let before = |text: &str| text[..text.find("Type ").expect("a trace")].to_string();
    assert_eq!(before(&cluster), before(&threads));
    let titles = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| line.ends_with(':'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(titles(&cluster), titles(&threads));
    let summary = cluster.lines().last().unwrap();
    assert!(
        summary.starts_with("50 requests (25 reads, 25 writes, "),
        "{summary}"
    );
}

#[test]
fn a_cluster_run_writes_a_linearizable_history() {
    let path = std::env::temp_dir().join(format!("ivy-cluster-history-{}", std::process::id()));
    let path_text = path.to_str().unwrap();
    let args = [
        "cluster",
        "basic",
        "--requests",
        "300",
        "--history",
        path_text,
        "--quiet",
    ];
    let summary = success(&args);
    assert!(summary.starts_with("300 requests"), "{summary}");
    check_history(&path, 300);
}

#[test]
fn a_killed_primary_is_replaced_and_a_revived_one_rejoins() {
    let args = [
        "cluster",
        "ft",
        "--kill-primary-at",
        "30",
        "--revive-primary-at",
        "40",
    ];
    let output = success(&args);
    assert!(output.contains("*** kill primary cm 3"), "{output}");
    assert!(output.contains("*** cm 4 promoted: primary of"), "{output}");
    assert!(output.contains("*** revive cm 3 (blank)"), "{output}");
    assert!(
        output.contains("*** cm 3 rejoined as backup of"),
        "{output}"
    );
    let summary = output.lines().last().unwrap();
    assert!(summary.starts_with("50 requests"), "{summary}");
    assert!(
        summary.contains(", failover "),
        "the kill is timed: {summary}"
    );
}

#[test]
fn a_run_whose_manager_hears_nothing_ends() {
    // One process owns every page: every operation is a local hit, and the manager
    // never hears a message, nor connects to anyone. It must still settle the run.
    for args in [&["--processes", "1"][..], &["--requests", "0"]] {
        let started = Instant::now();
        let summary = success(&[&["cluster", "basic", "--quiet"][..], args].concat());
        assert!(summary.contains(" 0 messages"), "{summary}");
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
    }
}

#[test]
fn a_kill_that_loses_the_state_fails_with_one_line() {
    let args = [
        "cluster",
        "ft",
        "--kill-backup-at",
        "10",
        "--kill-primary-at",
        "20",
    ];
    let output = ivy(&[&args[..], &["--requests", "30", "--quiet"]].concat());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // As ivy ft says it: what no live manager holds, after which kill.
    assert!(
        stderr.starts_with(
            "error: state lost: after the kill at request 20, no live manager holds page "
        ),
        "{stderr}"
    );
    assert!(stderr.contains("the run cannot finish ("), "{stderr}");
}

#[test]
fn bad_options_are_one_line_and_exit_code_2() {
    for args in [
        vec!["cluster", "ft", "--kill-waits"],
        vec!["cluster", "ft", "--trace-heartbeats"],
        vec!["cluster", "basic", "--threads", "2"],
        vec!["cluster", "basic", "--pages", "0"],
        vec!["cluster", "ft", "--timeout-ms", "1", "--heartbeat-ms", "5"],
        vec!["cluster", "nothing"],
        vec![
            "cluster",
            "ft",
            "--cut-primary-at",
            "5",
            "--restore-link-at",
            "9",
        ],
        vec!["cluster", "ft", "--netns", "--cut-primary-at", "5"],
        vec!["cluster", "ft", "--netns", "--restore-link-at", "5"],
        vec![
            "cluster",
            "ft",
            "--netns",
            "--cut-primary-at",
            "60",
            "--restore-link-at",
            "70",
        ],
    ] {
        assert_usage_error(&ivy(&args), &args);
    }
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn no_node_outlives_a_killed_launcher() {
    let mut launcher = Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args([
            "cluster",
            "basic",
            "--processes",
            "4",
            "--pages",
            "100",
            "--ops",
            "write",
        ])
        .args(["--requests", "50000000", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut nodes = Vec::new();
    while nodes.len() < 5 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
        nodes = children_of(launcher.id());
    }
    assert_eq!(nodes.len(), 5, "the launcher started every node");
    launcher.kill().unwrap(); // SIGKILL: no chance to clean up
    launcher.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !nodes.iter().all(|&pid| is_gone(pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let orphans: Vec<u32> = nodes.into_iter().filter(|&pid| !is_gone(pid)).collect();
    assert!(orphans.is_empty(), "orphans: {orphans:?}");
}
