//! `ivy node`: each node of a cluster as its own OS process on 127.0.0.1, talking TCP.
//! Three processes and a central manager run the seeded workload; every operation
//! completes once, the merged history (times on the machine's monotonic clock) is
//! linearizable, and the final states (each process whole, the manager's snapshot)
//! are coherent by the one check every driver uses. Bad input is one line and exit
//! code 2.

#[allow(dead_code)] // the helpers other tests use
mod common;

use common::assert_usage_error;
use ivy_basic::PageSerializer;
use ivy_core::driver::check_outcome;
use ivy_core::{check_linearizable, DirectoryView, HistoryEntry, ManagerSnapshot, Process};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const IVY: &str = env!("CARGO_BIN_EXE_ivy");

/// Children killed if the test fails before it stops them.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn cluster_file(directory: &Path, kinds: &[&str], requests: u64) -> PathBuf {
    let ports = free_ports(kinds.len());
    let mut text = format!(
        "cluster = \"test\"\nkey = \"a key of more than sixteen bytes\"\n\n[run]\npages = 6\nrequests = {requests}\nseed = 3\n"
    );
    for (id, (kind, port)) in kinds.iter().zip(ports).enumerate() {
        text +=
            &format!("\n[[nodes]]\nid = {id}\nkind = \"{kind}\"\naddress = \"127.0.0.1:{port}\"\n");
    }
    let path = directory.join("cluster.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn scratch(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("ivy-node-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// Whether `processes` processes are done and the manager has settled since the last
/// completion (stamped on the same clock, so lines read from different pipes in any
/// order still tell): the run may be stopped and its final tables compared.
fn finished(reports: &[Value], processes: usize) -> bool {
    let of = |kind: &'static str| reports.iter().filter(move |r| r["report"] == kind);
    let last_completion = of("completed")
        .map(|r| r["entry"]["completed_at"].as_u64().unwrap())
        .max();
    let latest_status = of("status").max_by_key(|r| r["at"].as_u64().unwrap());
    let settled = latest_status.is_some_and(|status| {
        !status["settled_view"].is_null() && status["at"].as_u64() > last_completion
    });
    of("done").count() == processes && settled
}

#[test]
fn a_basic_cluster_of_os_processes_is_verified() {
    let directory = scratch("basic");
    let requests = 60;
    let kinds = ["process", "process", "process", "manager"];
    let cluster = cluster_file(&directory, &kinds, requests);
    let (lines, received) = mpsc::channel::<Value>();
    let mut nodes = Nodes(Vec::new());
    for id in 0..kinds.len() {
        let mut child = Command::new(IVY)
            .args([
                "node",
                "--cluster",
                cluster.to_str().unwrap(),
                "--id",
                &id.to_string(),
            ])
            .args(["--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = lines.send(serde_json::from_str(&line).expect("JSON lines"));
            }
        });
        nodes.0.push(child);
    }
    drop(lines);
    let mut reports = Vec::new();
    while !finished(&reports, 3) {
        let report = received
            .recv_timeout(Duration::from_secs(60))
            .expect("processes finish");
        reports.push(report);
    }
    for child in &nodes.0 {
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    }
    for child in &mut nodes.0 {
        assert!(child.wait().unwrap().success());
    }
    reports.extend(received.iter());
    std::fs::remove_dir_all(&directory).unwrap();

    let history: Vec<HistoryEntry> = reports
        .iter()
        .filter(|r| r["report"] == "completed")
        .map(|r| serde_json::from_value(r["entry"].clone()).unwrap())
        .collect();
    assert_eq!(history.len() as u64, requests, "every operation once");
    check_linearizable(&history).unwrap();

    // The final states, whole: the processes and the manager's snapshot, checked by
    // the same function as every other driver's runs.
    let finals: BTreeMap<u64, &Value> = reports
        .iter()
        .filter(|r| r["report"] == "final")
        .map(|r| (r["node"].as_u64().unwrap(), r))
        .collect();
    assert_eq!(finals.len(), 4, "every node wrote its final state");
    let processes: Vec<Process> = (0..3)
        .map(|node| serde_json::from_value(finals[&node]["process"].clone()).unwrap())
        .collect();
    let snapshot: ManagerSnapshot = serde_json::from_value(finals[&3]["snapshot"].clone()).unwrap();
    let manager = PageSerializer::from_snapshot(&snapshot);
    check_outcome(&processes, [&manager as &dyn DirectoryView], &history).unwrap();
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let directory = scratch("bad");
    let cluster = cluster_file(&directory, &["process", "manager"], 10);
    let cluster = cluster.to_str().unwrap();
    let missing = directory.join("missing.toml");
    let broken = directory.join("broken.toml");
    std::fs::write(&broken, "cluster = \"x\"\nkey = \"k\"\n").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["node", "--cluster", missing.to_str().unwrap(), "--id", "0"],
        vec!["node", "--cluster", broken.to_str().unwrap(), "--id", "0"],
        vec!["node", "--cluster", cluster, "--id", "7"],
        vec![
            "node",
            "--cluster",
            cluster,
            "--id",
            "0",
            "--log-level",
            "no=such=level",
        ],
    ];
    for args in &cases {
        let output = Command::new(IVY).args(args).output().unwrap();
        assert_usage_error(&output, args);
    }
    // A port in use.
    let text = std::fs::read_to_string(cluster).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let first = text.find("127.0.0.1:").unwrap() + "127.0.0.1:".len();
    let end = first + text[first..].find('"').unwrap();
    let busy = directory.join("busy.toml");
    std::fs::write(&busy, format!("{}{port}{}", &text[..first], &text[end..])).unwrap();
    let args = ["node", "--cluster", busy.to_str().unwrap(), "--id", "0"];
    let output = Command::new(IVY).args(args).output().unwrap();
    assert_usage_error(&output, &args);
    // Peers unreachable past the start-up deadline: the process's manager never runs
    // (two processes, so that the workload faults).
    let lonely = scratch("lonely");
    let lonely_cluster = cluster_file(&lonely, &["process", "process", "manager"], 10);
    let lonely_cluster = lonely_cluster.to_str().unwrap();
    let args = [
        "node",
        "--cluster",
        lonely_cluster,
        "--id",
        "0",
        "--log-level",
        "error",
    ];
    let args = [&args[..], &["--startup-timeout-s", "1"]].concat();
    let started = std::time::Instant::now();
    let output = Command::new(IVY)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_usage_error(&output, &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach node 2"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    std::fs::remove_dir_all(&lonely).unwrap();
    std::fs::remove_dir_all(&directory).unwrap();
}
