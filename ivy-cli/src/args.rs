//! Command-line arguments (clap derive) and their validation.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The largest page the CLI accepts: pages are real buffers that travel in messages.
pub const MAX_PAGE_SIZE_BYTES: usize = 16 << 20;

/// The most processes the CLI runs: each process is a thread.
pub const MAX_PROCESSES: u32 = 1024;

/// Ivy distributed shared memory: processes share pages through a central manager.
#[derive(Debug, Parser)]
#[command(name = "ivy", version)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The systems `ivy` can run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Ivy with one central manager (or another of Li & Hudak's manager
    /// algorithms, see --manager), and print the manager's and processes' page tables before and
    /// after, and the message trace.
    Basic(BasicArgs),
    /// Run Ivy with a primary and a backup manager that replicate every change, fail
    /// over when heartbeats stop, and rejoin by state transfer; crash and revive them
    /// at chosen requests.
    Ft(FtArgs),
    /// Run one node of a cluster (a process or a manager) as this OS process, over TCP,
    /// as the cluster file describes; serve until SIGTERM or SIGINT.
    Node(NodeArgs),
    /// Run `basic` or `ft` as `ivy basic`/`ivy ft` do, with every node its own OS
    /// process (`ivy node`) on 127.0.0.1 talking TCP, and print the same output.
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

/// `ivy cluster basic|ft`.
#[derive(Debug, Subcommand, Clone)]
pub enum ClusterCommand {
    /// One central manager, every node an OS process.
    Basic(ClusterBasicArgs),
    /// A primary and a backup manager, every node an OS process.
    Ft(ClusterFtArgs),
}

/// `ivy cluster basic`: the options of `ivy basic`, and where the nodes run.
#[derive(Debug, Args, Clone)]
pub struct ClusterBasicArgs {
    /// The options of `ivy basic`.
    #[command(flatten)]
    pub run: RunArgs,

    /// Where the nodes run.
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `ivy cluster ft`: the options of `ivy ft`, where the nodes run, and cuts of a
/// manager's network link.
#[derive(Debug, Args, Clone)]
pub struct ClusterFtArgs {
    /// The options of `ivy ft`.
    #[command(flatten)]
    pub ft: FtArgs,

    /// Where the nodes run.
    #[command(flatten)]
    pub network: NetworkArgs,

    /// With --netns: take the network link of the manager that is primary down when
    /// request N is issued (the manager keeps running, cut off). Repeatable.
    #[arg(long, value_name = "N")]
    pub cut_primary_at: Vec<u64>,

    /// With --netns: bring the link the last --cut-primary-at took down back up when
    /// request N is issued. Repeatable.
    #[arg(long, value_name = "N")]
    pub restore_link_at: Vec<u64>,
}

/// Where `ivy cluster` runs its nodes.
#[derive(Debug, Args, Clone)]
pub struct NetworkArgs {
    /// Run each node in its own Linux network namespace (its own network stack and
    /// address), joined to the others by a veth pair to a bridge, instead of all on
    /// 127.0.0.1. Needs root and iproute2 (`ip`).
    #[arg(long)]
    pub netns: bool,
}

/// `ivy node`: which cluster, and which node of it.
#[derive(Debug, Args, Clone)]
pub struct NodeArgs {
    /// The cluster file (TOML): the cluster's name and key, the run, every node.
    #[arg(long, value_name = "FILE")]
    pub cluster: PathBuf,

    /// This node's id in the cluster file.
    #[arg(long, value_name = "N")]
    pub id: u32,

    /// A manager's incarnation: 0 starts with the initial state; a larger number (one
    /// per restart) starts blank and rejoins by snapshot.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub incarnation: u64,

    /// What to log on standard error (`error`, `warn`, `info`, `debug`, or a
    /// `RUST_LOG` filter); default `RUST_LOG`, else `info`.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Also report every message the node handles (for a trace).
    #[arg(long)]
    pub trace: bool,

    /// Before issuing request N, report it and wait for `go N` on standard input (a
    /// launcher injects faults meanwhile). Repeatable.
    #[arg(long, value_name = "N")]
    pub pause_before: Vec<u64>,

    /// Give up (exit code 2) if by then this node has tried and failed to reach a peer
    /// and no connection either way has succeeded.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub startup_timeout_s: u64,
}

/// `ivy ft`: the basic options, plus faults and timing.
#[derive(Debug, Args, Clone)]
pub struct FtArgs {
    /// The workload and output options.
    #[command(flatten)]
    pub run: RunArgs,

    /// Crash the manager that is primary when request N is issued (requests are
    /// numbered from 1). Repeatable.
    #[arg(long, value_name = "N")]
    pub kill_primary_at: Vec<u64>,

    /// Revive (blank) the manager the last --kill-primary-at crashed, when request N
    /// is issued. Repeatable.
    #[arg(long, value_name = "N")]
    pub revive_primary_at: Vec<u64>,

    /// Crash the manager that is backup when request N is issued. Repeatable.
    #[arg(long, value_name = "N")]
    pub kill_backup_at: Vec<u64>,

    /// Revive (blank) the manager the last --kill-backup-at crashed, when request N is
    /// issued. Repeatable.
    #[arg(long, value_name = "N")]
    pub revive_backup_at: Vec<u64>,

    /// How often the primary sends the backup a heartbeat.
    #[arg(long, default_value_t = 10, value_name = "MS")]
    pub heartbeat_ms: u64,

    /// How long a manager waits without hearing its peer before it takes over (or
    /// goes on alone); must be above the heartbeat.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub timeout_ms: u64,

    /// For demonstrations: a kill waits until the other manager is up and holds all
    /// the state of the one it names (the trace says so), instead of crashing it at
    /// once; a kill still waiting when the run ends fails the run.
    #[arg(long)]
    pub kill_waits: bool,

    /// Show heartbeats and their acknowledgements in the trace.
    #[arg(long)]
    pub trace_heartbeats: bool,
}

/// `ivy basic`: the workload and output options, and which manager algorithm.
#[derive(Debug, Args, Clone)]
pub struct BasicArgs {
    /// The workload and output options.
    #[command(flatten)]
    pub run: RunArgs,

    /// Which of Li & Hudak's manager algorithms keeps track of the pages.
    #[arg(long, value_enum, default_value_t = ManagerArg::Central)]
    pub manager: ManagerArg,

    /// With --manager fixed: how the pages are divided among the processes
    /// [default: modulo].
    #[arg(long, value_enum)]
    pub mapping: Option<MappingArg>,

    /// With --manager dynamic: where copy sets live [default: owner].
    #[arg(long, value_enum)]
    pub copy_sets: Option<CopySetsArg>,

    /// With --manager dynamic: the owner of a page tells every process it owns it
    /// after every M faults on it that end at it [default: never].
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u32).range(1..))]
    pub owner_broadcast_every: Option<u32>,
}

impl BasicArgs {
    /// Refuses an option the chosen manager does not use (rather than ignore it).
    pub fn check_manager_options(&self) -> Result<(), String> {
        let options = [
            ("--mapping", self.mapping.is_some(), ManagerArg::Fixed),
            ("--copy-sets", self.copy_sets.is_some(), ManagerArg::Dynamic),
            (
                "--owner-broadcast-every",
                self.owner_broadcast_every.is_some(),
                ManagerArg::Dynamic,
            ),
        ];
        let misplaced = options
            .iter()
            .find(|(_, given, with)| *given && *with != self.manager);
        match misplaced {
            Some((option, _, with)) => Err(format!(
                "{option} applies only to --manager {}",
                with.to_possible_value()
                    .map_or("?".into(), |v| v.get_name().to_string())
            )),
            None => Ok(()),
        }
    }
}

/// `--copy-sets`: where the dynamic manager keeps a page's copy set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopySetsArg {
    /// With the owner, which invalidates every copy.
    Owner,
    /// Distributed: a holder of a copy serves reads from it, and invalidations
    /// travel down the tree of copies.
    Distributed,
}

/// `--manager`: the manager algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManagerArg {
    /// One central manager keeps every page's owner and copy set (section 3.1).
    Central,
    /// Improved central: the manager keeps only each page's owner; the copy set
    /// moves with ownership and the page's lock lives with its owner.
    Improved,
    /// Fixed distributed: process i manages the pages of share i with the central
    /// manager's algorithm, on its own node.
    Fixed,
    /// Broadcast: no manager; a fault goes to every process and the owner answers.
    Broadcast,
    /// Dynamic distributed: no manager; each process keeps a probable owner per
    /// page, and a fault follows those hints to the owner.
    Dynamic,
}

/// `--mapping`: how the fixed distributed manager divides the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MappingArg {
    /// Page p to process p mod N (the paper's H).
    Modulo,
    /// Contiguous blocks of ceil(pages / N) pages per process.
    Blocks,
}

impl From<MappingArg> for ivy_core::PageMapping {
    fn from(mapping: MappingArg) -> Self {
        match mapping {
            MappingArg::Modulo => ivy_core::PageMapping::Modulo,
            MappingArg::Blocks => ivy_core::PageMapping::Blocks,
        }
    }
}

/// The workload and output options every system shares.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Number of processes sharing memory.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub processes: u32,

    /// Number of shared pages; page p starts owned by process p % processes.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub pages: u32,

    /// Number of operations, drawn at random and issued at once across processes.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub requests: u64,

    /// Which operations to draw.
    #[arg(long, value_enum, default_value_t = OpsArg::Mixed)]
    pub ops: OpsArg,

    /// Seed of the random workload (which process touches which page, and how).
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// Bytes per page; each write stores its request number in the page.
    #[arg(long, default_value_t = 4096, value_name = "BYTES")]
    pub page_size: usize,

    /// How to print the message trace.
    #[arg(long, value_enum, default_value_t = TraceFormat::Table)]
    pub trace: TraceFormat,

    /// Write every completed operation to FILE as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// Print only the summary line.
    #[arg(long, short)]
    pub quiet: bool,

    /// Run the nodes as actors on K worker threads (node i on worker i % K), so that
    /// messages between nodes of one worker need no thread wake-up [default: the
    /// number of cores, at most one per node]; 0 runs one thread per node (the
    /// reference program's shape, for comparison).
    #[arg(long, value_name = "K")]
    pub threads: Option<usize>,
}

/// `--ops`: which operations a workload draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OpsArg {
    /// Reads only.
    Read,
    /// Writes only.
    Write,
    /// Reads and writes, half each.
    Mixed,
}

/// `--trace`: how the message trace is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// Aligned columns `Type From To Page Requester`, then `Done`.
    Table,
    /// One JSON object per message (JSON Lines).
    Json,
    /// A Mermaid `sequenceDiagram`.
    Mermaid,
    /// No trace.
    None,
}

impl From<OpsArg> for ivy_core::OperationMix {
    fn from(ops: OpsArg) -> Self {
        match ops {
            OpsArg::Read => ivy_core::OperationMix::Read,
            OpsArg::Write => ivy_core::OperationMix::Write,
            OpsArg::Mixed => ivy_core::OperationMix::Mixed,
        }
    }
}

impl RunArgs {
    /// Checks what clap cannot: ranges that depend on the system.
    pub fn system_config(&self) -> Result<ivy_core::SystemConfig, String> {
        if self.processes > MAX_PROCESSES {
            return Err(format!(
                "--processes must be at most {MAX_PROCESSES} (one thread per node), not {}",
                self.processes
            ));
        }
        if let Some(threads) = self.threads.filter(|&k| k > MAX_PROCESSES as usize) {
            return Err(format!(
                "--threads must be at most {MAX_PROCESSES}, not {threads}"
            ));
        }
        if self.page_size > MAX_PAGE_SIZE_BYTES {
            return Err(format!(
                "--page-size must be at most {MAX_PAGE_SIZE_BYTES} bytes, not {}",
                self.page_size
            ));
        }
        ivy_core::SystemConfig::new(self.processes, self.pages, self.page_size)
            .map_err(|error| error.to_string())
    }

    /// Whether the trace must be recorded at all.
    pub fn wants_trace(&self) -> bool {
        !self.quiet && self.trace != TraceFormat::None
    }
}
