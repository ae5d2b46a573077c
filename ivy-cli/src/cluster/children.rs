//! The nodes of an `ivy cluster` run as child OS processes: the cluster file they
//! share (free loopback ports, or an address per network namespace, and a fresh random
//! key), starting each as `ivy node` (inside its namespace with `--netns`),
//! reading what it reports (JSON lines on its standard output) on a thread per child,
//! and stopping them. No child outlives the launcher: each asks the kernel for SIGKILL
//! when its parent dies (`PR_SET_PDEATHSIG`), whatever ends the launcher (Ctrl-C, a
//! kill, a panic), and dropping the set kills what is left and removes the file.

use super::netns::Namespaces;
use crate::args::{OpsArg, RunArgs};
use crate::error::CliError;
use crate::report_line::ReportLine;
use ivy_core::NodeId;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

/// What a child's reader thread passes on.
pub enum Line {
    /// One report of node `.0`.
    Report(NodeId, Box<ReportLine>),
    /// Node `.0` in its life `.1` wrote a line that is no report (the line,
    /// shortened): a node killed mid-line leaves one.
    Unreadable(NodeId, u64, String),
    /// Node `.0` closed its output (it exited); `.1` counts its lives from 0.
    Closed(NodeId, u64),
}

/// The running nodes.
pub struct Children {
    children: BTreeMap<NodeId, Child>,
    directory: PathBuf,
    cluster_file: PathBuf,
    sender: mpsc::Sender<Line>,
    /// Every report of every node, in the order they were read.
    pub lines: mpsc::Receiver<Line>,
    trace: bool,
    /// Requests processes hold before issuing, for the launcher's faults.
    pause_before: Vec<u64>,
    /// How many times each node was started.
    lives: BTreeMap<NodeId, u64>,
    /// The nodes' network namespaces, if they have their own (dropped after the
    /// children are killed).
    namespaces: Option<Namespaces>,
}

impl Children {
    /// Writes the cluster file of a run of `args` with `processes` processes and
    /// `managers` managers (`timing`: heartbeat and failover timeout, for two), on
    /// 127.0.0.1 or, given `namespaces`, at their addresses.
    pub fn prepare(
        args: &RunArgs,
        managers: u32,
        timing: Option<(u64, u64)>,
        pause_before: Vec<u64>,
        namespaces: Option<Namespaces>,
    ) -> Result<Children, CliError> {
        let nodes = args.processes + managers;
        let failed =
            |what: &str, error: std::io::Error| CliError::Failed(format!("{what}: {error}"));
        let directory = std::env::temp_dir().join(format!(
            "ivy-cluster-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&directory)
            .map_err(|e| failed("cannot make a scratch directory", e))?;
        let addresses: Vec<std::net::SocketAddr> = match &namespaces {
            Some(namespaces) => (0..nodes)
                .map(|id| namespaces.address(NodeId(id)))
                .collect(),
            None => free_ports(nodes as usize).map_err(|e| failed("no free port", e))?,
        };
        let key: String = (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let ops = match args.ops {
            OpsArg::Read => "read",
            OpsArg::Write => "write",
            OpsArg::Mixed => "mixed",
        };
        let (heartbeat, timeout) = timing.unwrap_or((10, 50));
        let mut text = format!(
            "cluster = \"ivy-cluster\"\nkey = \"{key}\"\n\n[run]\npages = {}\npage_size = {}\n\
             requests = {}\nops = \"{ops}\"\nseed = {}\nheartbeat_ms = {heartbeat}\n\
             failover_timeout_ms = {timeout}\n",
            args.pages, args.page_size, args.requests, args.seed
        );
        for (id, address) in addresses.iter().enumerate() {
            let kind = if (id as u32) < args.processes {
                "process"
            } else {
                "manager"
            };
            text +=
                &format!("\n[[nodes]]\nid = {id}\nkind = \"{kind}\"\naddress = \"{address}\"\n");
        }
        let cluster_file = directory.join("cluster.toml");
        std::fs::write(&cluster_file, text)
            .map_err(|e| failed("cannot write the cluster file", e))?;
        let (sender, lines) = mpsc::channel();
        Ok(Children {
            children: BTreeMap::new(),
            directory,
            cluster_file,
            sender,
            lines,
            trace: args.wants_trace(),
            pause_before,
            lives: BTreeMap::new(),
            namespaces,
        })
    }

    /// Starts node `id` as `ivy node`: its first life with the initial state, every
    /// later one (a revived manager) blank, as a new incarnation.
    pub fn spawn(&mut self, id: NodeId) -> Result<(), CliError> {
        let life = self.lives.get(&id).map_or(0, |lives| *lives);
        self.lives.insert(id, life + 1);
        let incarnation = life;
        let exe = std::env::current_exe()
            .map_err(|error| CliError::Failed(format!("cannot find the ivy binary: {error}")))?;
        let mut command = Command::new(exe);
        command
            .arg("node")
            .arg("--cluster")
            .arg(&self.cluster_file)
            .args([
                "--id",
                &id.0.to_string(),
                "--incarnation",
                &incarnation.to_string(),
            ])
            .args(["--log-level", "error"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if self.trace {
            command.arg("--trace");
        }
        for request in &self.pause_before {
            command.args(["--pause-before", &request.to_string()]);
        }
        // If the launcher died before the child asked, the request came too late:
        // the child then finds another parent and gives up.
        let launcher = nix::unistd::getpid();
        let namespace = match &self.namespaces {
            Some(namespaces) => Some(namespaces.handle(id)?),
            None => None,
        };
        // SAFETY: between fork and exec the child only calls prctl, getppid and setns,
        // which are async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                if nix::unistd::getppid() != launcher {
                    return Err(std::io::ErrorKind::BrokenPipe.into());
                }
                if let Some(namespace) = &namespace {
                    nix::sched::setns(namespace, nix::sched::CloneFlags::CLONE_NEWNET)?;
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|error| CliError::Failed(format!("cannot start node {id}: {error}")))?;
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let read = match serde_json::from_str(&line) {
                    Ok(report) => Line::Report(id, Box::new(report)),
                    Err(_) => Line::Unreadable(id, life, line.chars().take(80).collect()),
                };
                let _ = sender.send(read);
            }
            let _ = sender.send(Line::Closed(id, life));
        });
        self.children.insert(id, child);
        Ok(())
    }

    /// Writes `line` to node `id`'s standard input (`status N`, `go N`); a node that
    /// is gone is not told.
    pub fn tell(&mut self, id: NodeId, line: &str) {
        if let Some(stdin) = self
            .children
            .get_mut(&id)
            .and_then(|child| child.stdin.as_mut())
        {
            let _ = writeln!(stdin, "{line}");
        }
    }

    /// Whether node `id`'s current life is `life` (a close of an earlier life of a
    /// revived node is old news).
    pub fn is_current(&self, id: NodeId, life: u64) -> bool {
        self.children.contains_key(&id) && self.lives.get(&id) == Some(&(life + 1))
    }

    /// The nodes' network namespaces, if they have their own.
    pub fn namespaces(&self) -> Option<&Namespaces> {
        self.namespaces.as_ref()
    }

    /// Kills node `id` at once (SIGKILL: a crash, nothing written).
    pub fn kill(&mut self, id: NodeId) {
        if let Some(mut child) = self.children.remove(&id) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The nodes running now, each with its current life.
    pub fn current_lives(&self) -> Vec<(NodeId, u64)> {
        self.children
            .keys()
            .map(|id| (*id, self.lives[id] - 1))
            .collect()
    }

    /// Asks every node to stop (SIGTERM: each writes its final state) and waits for
    /// them; a node that had exited by itself, or fails to stop, is an error.
    pub fn stop_all(&mut self) -> Result<(), CliError> {
        for child in self.children.values() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        }
        let mut failure = None;
        for (id, mut child) in std::mem::take(&mut self.children) {
            match child.wait() {
                Ok(status) if status.success() => {}
                Ok(status) => failure = Some(format!("node {id} ended with {status}")),
                Err(error) => failure = Some(format!("node {id}: {error}")),
            }
        }
        failure.map_or(Ok(()), |failure| Err(CliError::Failed(failure)))
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in self.children.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// `count` addresses free on 127.0.0.1 now (each bound to port 0, then released).
fn free_ports(count: usize) -> std::io::Result<Vec<std::net::SocketAddr>> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(std::net::TcpListener::local_addr)
        .collect()
}
