//! `ivy basic`: the processes and a manager algorithm of Li & Hudak on the threaded
//! runtime: one central manager (the default), or a manager per share of the pages
//! on each process's node (`--manager fixed`).

use crate::args::{BasicArgs, CopySetsArg, ManagerArg, MappingArg, RunArgs};
use crate::error::CliError;
use crate::readout::Table;
use crate::run::{prepare, runtime_options, Ending};
use crate::runtime;
use ivy_basic::{CentralManager, FixedNode};
use ivy_core::{
    DirectoryView, NoManager, PageId, PageMapping, Process, ProcessOptions, ProcessView,
    SystemConfig,
};
use ivy_dist::{Algorithm, ImprovedManager, OwnerProcess};
use std::io::Write;

/// Runs the system `args` asks for and prints its output to `out`.
pub fn run(args: &BasicArgs, out: &mut dyn Write) -> Result<(), CliError> {
    args.check_manager_options().map_err(CliError::Usage)?;
    match args.manager {
        ManagerArg::Central => run_central(&args.run, out),
        ManagerArg::Improved => run_improved(&args.run, out),
        ManagerArg::Fixed => {
            let mapping = args.mapping.unwrap_or(MappingArg::Modulo);
            run_fixed(&args.run, mapping.into(), out)
        }
        ManagerArg::Broadcast => run_without_manager(&args.run, Algorithm::Broadcast, None, out),
        ManagerArg::Dynamic => {
            let algorithm = match args.copy_sets.unwrap_or(CopySetsArg::Owner) {
                CopySetsArg::Owner => Algorithm::Dynamic,
                CopySetsArg::Distributed => Algorithm::DynamicCopyTree,
            };
            run_without_manager(&args.run, algorithm, args.owner_broadcast_every, out)
        }
    }
}

/// The improved central manager: its `cm` table lists only owners; each process's
/// table adds the copy sets it keeps as owner.
fn run_improved(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (prepared, workload) = prepare(args, 1)?;
    let config = prepared.config;
    let manager = ImprovedManager::new(&config);
    let algorithm = Algorithm::ImprovedCentral {
        manager: config.manager(),
    };
    let processes = OwnerProcess::all(&config, algorithm);
    let owners = |manager: &ImprovedManager| {
        let pages = (0..manager.page_count()).map(PageId);
        let owners = pages
            .map(|page| (page, manager.owner(page)))
            .collect::<Vec<_>>();
        Table::owners("cm", owners.into_iter())
    };
    prepared.write_initial(out, std::iter::once_with(|| owners(&manager)), &processes)?;
    let outcome = runtime::run(processes, vec![manager], workload, runtime_options(args))
        .map_err(|error| CliError::Failed(error.to_string()))?;
    let manager = &outcome.managers[0].0;
    let ending = Ending {
        outcome: &outcome,
        live_managers: Vec::new(), // the owners keep the records
        manager_tables: Box::new(std::iter::once_with(|| owners(manager))),
        report_slowest: false,
    };
    prepared.conclude(out, ending)
}

/// The broadcast or the dynamic distributed manager: no manager table; each
/// process's table adds the copy sets it keeps as owner, and with the dynamic
/// algorithm its probable owner of every page.
fn run_without_manager(
    args: &RunArgs,
    algorithm: Algorithm,
    owner_broadcast_every: Option<u32>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (prepared, workload) = prepare(args, 0)?;
    let processes = OwnerProcess::all(&prepared.config, algorithm).into_iter();
    let processes: Vec<OwnerProcess> = match owner_broadcast_every {
        Some(every) => processes
            .map(|p| p.broadcasting_ownership_every(every))
            .collect(),
        None => processes.collect(),
    };
    prepared.write_initial(out, std::iter::empty(), &processes)?;
    let outcome =
        runtime::run::<NoManager, _>(processes, Vec::new(), workload, runtime_options(args))
            .map_err(|error| CliError::Failed(error.to_string()))?;
    let ending = Ending {
        outcome: &outcome,
        live_managers: Vec::new(), // the owners keep the records
        manager_tables: Box::new(std::iter::empty()),
        report_slowest: false,
    };
    prepared.conclude(out, ending)
}

/// One central manager.
fn run_central(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (prepared, workload) = prepare(args, 1)?;
    let config = prepared.config;
    let (processes, manager) = initial_system(&config);
    let table = std::iter::once_with(|| Table::manager("cm", manager.directory()));
    prepared.write_initial(out, table, &processes)?;
    let outcome = runtime::run(processes, vec![manager], workload, runtime_options(args))
        .map_err(|error| CliError::Failed(error.to_string()))?;
    let manager = &outcome.managers[0].0;
    let ending = Ending {
        outcome: &outcome,
        live_managers: vec![manager as &dyn DirectoryView],
        manager_tables: Box::new(std::iter::once_with(|| {
            Table::manager("cm", manager.directory())
        })),
        report_slowest: false,
    };
    prepared.conclude(out, ending)
}

/// The fixed distributed manager: node i hosts process i and the manager of share
/// i, whose table (`cm_i`) lists the pages of its share.
fn run_fixed(args: &RunArgs, mapping: PageMapping, out: &mut dyn Write) -> Result<(), CliError> {
    let (prepared, workload) = prepare(args, u64::from(args.processes))?;
    let nodes = FixedNode::all(&prepared.config, mapping);
    prepared.write_initial(out, share_tables(&nodes), &nodes)?;
    let outcome = runtime::run::<NoManager, _>(nodes, Vec::new(), workload, runtime_options(args))
        .map_err(|error| CliError::Failed(error.to_string()))?;
    let ending = Ending {
        outcome: &outcome,
        live_managers: Vec::new(), // each node's share manager is checked with it
        manager_tables: Box::new(share_tables(&outcome.processes)),
        report_slowest: false,
    };
    prepared.conclude(out, ending)
}

/// Each node's share manager's table, built as it is written.
fn share_tables(nodes: &[FixedNode]) -> impl Iterator<Item = Table> + '_ {
    nodes.iter().map(|node| {
        let title = format!("cm_{}", node.node_id());
        let directory = node.manager().directory();
        Table::manager_of(&title, directory, |page| node.manages(page))
    })
}

/// The basic system at its start: every process, and the central manager.
pub(crate) fn initial_system(config: &SystemConfig) -> (Vec<Process>, CentralManager) {
    let processes = Process::all(config, &ProcessOptions::single_manager(config));
    (processes, CentralManager::new(config))
}
