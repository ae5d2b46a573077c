//! `ivy cluster --netns`: every node in its own Linux network namespace (its own stack
//! and address) joined by veth pairs to a bridge, as hosts on a real network. The
//! primary's link is cut mid-run (`ip link set ... down` on its switch port), the
//! backup takes over, the link comes back and the old primary rejoins; the run ends
//! coherent and linearizable. Needs root and iproute2: where namespaces cannot be
//! made, each test says so in one line and passes without running.

#[allow(dead_code)] // the helpers other tests use
mod common;

use common::{check_history, children_of};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Why namespaces cannot be made here, if they cannot.
fn unavailable() -> Option<String> {
    // A name of its own per probe: the tests run in parallel in this process.
    static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let probe_number = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = format!("ivyprobe{}-{probe_number}", std::process::id());
    let made = Command::new("ip").args(["netns", "add", &probe]).output();
    match made {
        Err(error) => Some(format!("cannot run ip: {error}")),
        Ok(output) if !output.status.success() => {
            Some(String::from_utf8_lossy(&output.stderr).trim().to_string())
        }
        Ok(_) => {
            let _ = Command::new("ip").args(["netns", "del", &probe]).output();
            None
        }
    }
}

/// Skips the test, saying why in one line, where namespaces cannot be made; fails it
/// instead where they must be (`IVY_REQUIRE_NETNS=1`, as `.ci/run` sets), so that a CI
/// that lost root does not pass by skipping.
macro_rules! needs_namespaces {
    () => {
        if let Some(reason) = unavailable() {
            let required = std::env::var("IVY_REQUIRE_NETNS").is_ok_and(|value| value == "1");
            assert!(
                !required,
                "IVY_REQUIRE_NETNS=1 but namespaces cannot be made: {reason}"
            );
            eprintln!("skipped: network namespaces cannot be made here ({reason})");
            return;
        }
    };
}

/// The network namespaces launcher `pid` made that still exist.
fn namespaces_of(pid: u32) -> Vec<String> {
    let listed = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let prefix = format!("ivyc{pid}-");
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

fn ivy(args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ivy runs");
    let pid = child.id();
    (child.wait_with_output().unwrap(), pid)
}

#[test]
fn a_cut_primary_is_replaced_and_rejoins_when_its_link_is_back() {
    needs_namespaces!();
    let path = std::env::temp_dir().join(format!("ivy-netns-history-{}", std::process::id()));
    let args = [
        "cluster",
        "ft",
        "--netns",
        "--processes",
        "3",
        "--requests",
        "300",
        "--cut-primary-at",
        "80",
        "--restore-link-at",
        "200",
        "--history",
        path.to_str().unwrap(),
    ];
    let (output, pid) = ivy(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Exit code 0: the launcher found the run coherent and linearizable.
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let position = |text: &str| {
        stdout
            .find(text)
            .unwrap_or_else(|| panic!("no {text:?} in:\n{stdout}"))
    };
    let cut = position("*** cut the link of primary cm 3");
    let promoted = position("*** cm 4 promoted: primary of");
    let restored = position("*** restore the link of cm 3");
    let rejoined = position("*** cm 3 rejoined as backup of");
    assert!(cut < promoted && promoted < restored && restored < rejoined);
    // Both managers end up, settled: neither is down or recovering.
    assert!(stdout.contains("cm_Primary:") && stdout.contains("cm_Backup:"));
    assert!(!stdout.contains("down, cm") && !stdout.contains("recovering, cm"));
    let summary = stdout.lines().last().unwrap();
    assert!(summary.starts_with("300 requests"), "{summary}");
    assert!(summary.contains(", failover "), "{summary}");
    check_history(&path, 300);
    assert_eq!(
        namespaces_of(pid),
        Vec::<String>::new(),
        "namespaces removed"
    );
}

#[test]
fn each_node_has_its_own_stack_and_an_interrupt_removes_them_all() {
    needs_namespaces!();
    // In a process group of its own, so that Ctrl-C can be sent as a terminal sends
    // it: to the launcher and its nodes alike.
    let launcher = Command::new(env!("CARGO_BIN_EXE_ivy"))
        .args(["cluster", "basic", "--netns", "--processes", "3"])
        .args(["--requests", "2000000", "--ops", "write", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let namespace = format!("ivyc{}-0", launcher.id());
    // Node 0's namespace holds its own address, and its TCP connections go to the
    // other nodes' addresses, not to 127.0.0.1.
    let started = Instant::now();
    let connected = loop {
        let sockets = Command::new("ip")
            .args([
                "netns",
                "exec",
                &namespace,
                "ss",
                "-tnH",
                "state",
                "established",
            ])
            .output()
            .unwrap();
        let sockets = String::from_utf8_lossy(&sockets.stdout).to_string();
        if sockets.contains("10.213.0.") || started.elapsed() > Duration::from_secs(30) {
            break sockets;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(connected.contains("10.213.0.1:"), "{connected}");
    assert!(!connected.contains("127.0.0.1"), "{connected}");
    let addresses = Command::new("ip")
        .args(["-n", &namespace, "-br", "addr", "show", "eth0"])
        .output()
        .unwrap();
    let addresses = String::from_utf8_lossy(&addresses.stdout);
    assert!(addresses.contains("10.213.0.1/16"), "{addresses}");

    let nodes = children_of(launcher.id());
    assert_eq!(nodes.len(), 4, "three processes and a manager: {nodes:?}");
    let scratch = |pid: u32| {
        let prefix = format!("ivy-cluster-{pid}-");
        let entries = std::fs::read_dir(std::env::temp_dir()).unwrap();
        let names = entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok());
        names.filter(|name| name.starts_with(&prefix)).count()
    };
    assert_eq!(scratch(launcher.id()), 1, "the cluster file's directory");

    let pid = launcher.id();
    let group = nix::unistd::Pid::from_raw(pid as i32);
    nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGINT).unwrap();
    let output = launcher.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.trim(), "error: interrupted");
    assert_eq!(namespaces_of(pid), Vec::<String>::new());
    assert_eq!(scratch(pid), 0, "the scratch directory is removed");
    let alive: Vec<&u32> = nodes
        .iter()
        .filter(|node| std::path::Path::new(&format!("/proc/{node}")).exists())
        .collect();
    assert!(alive.is_empty(), "nodes left running: {alive:?}");
}
