//! `ivy cluster` (an OS process per node, TCP on 127.0.0.1) against the threaded
//! runtime (`ivy basic`), in the same run: the reference program's workload (10
//! processes, 100 pages, 100,000 reads or writes); and failover with a real SIGKILL of
//! the primary's OS process (10 processes, 100 pages, 2,000 mixed requests, the primary
//! killed at request 500), crash to the first request the new primary serves, with the
//! default timing and with a 1 ms heartbeat.
//!
//! Each sample runs the `ivy` binary and takes the times its summary reports
//! (`--trace json --quiet`): a run's time from the first operation issued to the last
//! completed, so the start of the OS processes is not counted. The messages per fault
//! (messages / (requests - local hits)) of the last run of each benchmark are written
//! to `target/criterion/messages per fault.json`, for `bench-report`.

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

const REFERENCE_REQUESTS: u64 = 100_000;

/// Messages per fault of the last run of each benchmark, by its name.
static MESSAGES_PER_FAULT: Mutex<BTreeMap<String, f64>> = Mutex::new(BTreeMap::new());

/// Runs `ivy args --trace json --quiet` and returns its summary.
fn summary(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args(args)
        .args(["--trace", "json", "--quiet"])
        .output()
        .expect("ivy runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ivy {args:?}: {stderr}");
    let line: Value = serde_json::from_slice(&output.stdout).expect("a JSON summary");
    line["summary"].clone()
}

fn nanos(value: &Value) -> Duration {
    Duration::from_nanos(value.as_u64().expect("a time in nanoseconds"))
}

fn note_messages(name: String, summary: &Value) {
    let count = |field: &str| summary[field].as_f64().expect("a count");
    let faults = count("requests") - count("local_hits");
    let per_fault = count("messages") / faults;
    MESSAGES_PER_FAULT.lock().unwrap().insert(name, per_fault);
}

fn reference_workload(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("cluster reference workload");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(REFERENCE_REQUESTS));
    let requests = REFERENCE_REQUESTS.to_string();
    for ops in ["read", "write"] {
        for (runtime, command) in [
            ("cluster", &["cluster", "basic"][..]),
            ("threads", &["basic"]),
        ] {
            let args = [
                command,
                &["--processes", "10", "--pages", "100", "--ops", ops],
                &["--requests", &requests],
            ]
            .concat();
            let name = format!("{runtime}, {ops}s");
            group.bench_function(BenchmarkId::from_parameter(&name), |bencher| {
                bencher.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let summary = summary(&args);
                        total += nanos(&summary["elapsed_ns"]);
                        note_messages(format!("reference workload, {name}"), &summary);
                    }
                    total
                })
            });
        }
    }
    group.finish();
}

fn failover(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("cluster failover");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for (name, heartbeat, timeout) in [
        ("heartbeat 10 ms, timeout 50 ms", "10", "50"),
        ("heartbeat 1 ms, timeout 5 ms", "1", "5"),
    ] {
        let args = [
            "cluster",
            "ft",
            "--processes",
            "10",
            "--pages",
            "100",
            "--requests",
            "2000",
            "--kill-primary-at",
            "500",
            "--heartbeat-ms",
            heartbeat,
            "--timeout-ms",
            timeout,
        ];
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let summary = summary(&args);
                        nanos(&summary["failovers_ns"][0])
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

/// Writes what `note_messages` gathered where `bench-report` reads it.
fn write_messages_per_fault(_: &mut Criterion) {
    // The bench binary is target/<profile>/deps/cluster-<hash>.
    let exe = std::env::current_exe().expect("the bench binary");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(directory) => PathBuf::from(directory),
        None => exe.ancestors().nth(3).expect("under target/").to_path_buf(),
    };
    let directory = target.join("criterion");
    std::fs::create_dir_all(&directory).expect("target/criterion can be made");
    let gathered = MESSAGES_PER_FAULT.lock().unwrap().clone();
    if gathered.is_empty() {
        return; // a filtered run measured none of them
    }
    let path = directory.join("messages per fault.json");
    let mut all: BTreeMap<String, f64> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    all.extend(gathered);
    let text = serde_json::to_string_pretty(&all).expect("numbers encode");
    std::fs::write(&path, text).expect("the messages per fault are written");
}

criterion_group!(
    benches,
    reference_workload,
    failover,
    write_messages_per_fault
);
criterion_main!(benches);
