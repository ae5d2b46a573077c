//! `ivy ft`: a primary and a backup manager on threads, with crashes and revivals
//! scheduled at chosen requests. A kill crashes the manager in its role at once (with
//! `--kill-waits`, once its peer holds its state); a kill that could not happen, or
//! one that lost the state the run needs, makes the run fail with one plain line.

use crate::args::FtArgs;
use crate::error::CliError;
use crate::readout::Table;
use crate::run::{prepare, runtime_options, Ending};
use crate::runtime::{self, FaultAction, FaultHandling};
use ivy_basic::PageSerializer;
use ivy_core::{DirectoryView, ManagerNode, Node, Process, ProcessOptions, SystemConfig};
use ivy_ft::{FtManager, FtOptions, RoleKind};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Runs the fault-tolerant system as `args` asks and prints its output to `out`.
pub fn run(args: &FtArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let faults = fault_schedule(args)?;
    let (prepared, workload) = prepare(&args.run, 2)?;
    let config = prepared.config;
    let ft_options = FtOptions::with_timing(args.heartbeat_ms, args.timeout_ms);
    let (processes, managers) = initial_system(&config, ft_options);
    let tables = manager_tables(managers.iter().map(|manager| (manager, false)));
    prepared.write_initial(out, tables, &processes)?;
    let mut options = runtime_options(&args.run);
    options.record_heartbeats = args.trace_heartbeats;
    options.faults = faults;
    options.settle_timeout = Duration::from_secs(10) + Duration::from_millis(20 * args.timeout_ms);
    let handling = FaultHandling {
        kill_waits: args.kill_waits,
        stall_after: Some(stall_after(args.timeout_ms)),
    };
    let outcome = runtime::run_with(processes, managers, workload, options, handling)
        .map_err(|error| CliError::Failed(error.to_string()))?;
    let live_managers: Vec<&dyn DirectoryView> = outcome
        .managers
        .iter()
        .filter(|(_, down)| !down)
        .filter_map(|(manager, _)| manager.state())
        .collect();
    let ending = Ending {
        outcome: &outcome,
        live_managers,
        manager_tables: Box::new(manager_tables(
            outcome.managers.iter().map(|(m, down)| (m, *down)),
        )),
        report_slowest: true,
    };
    prepared.conclude(out, ending)?;
    match outcome.missed_kills.as_slice() {
        [] => Ok(()),
        missed => {
            let lines: Vec<String> = missed.iter().map(ToString::to_string).collect();
            Err(CliError::Failed(lines.join("; ")))
        }
    }
}

/// How long a run may go without completing an operation before it is stopped: far
/// longer than a failover (a failover timeout, then fencing) takes.
pub(crate) fn stall_after(timeout_ms: u64) -> Duration {
    Duration::from_secs(2).max(Duration::from_millis(40 * timeout_ms))
}

/// The fault-tolerant system at its start: every process, the primary and the
/// backup.
pub(crate) fn initial_system(
    config: &SystemConfig,
    ft_options: FtOptions,
) -> (Vec<Process>, Vec<FtManager>) {
    let retry_ticks = ft_options.process_retry_ticks();
    let processes = Process::all(config, &ProcessOptions::replicated(config, retry_ticks));
    let managers = [config.manager(), config.backup_manager()]
        .map(|id| FtManager::new(config, id, ft_options))
        .to_vec();
    (processes, managers)
}

/// `cm_Primary` then `cm_Backup`; a manager without live state gets a note saying
/// why, and no rows.
pub(crate) fn manager_tables<'a>(
    managers: impl Iterator<Item = (&'a FtManager, bool)>,
) -> impl Iterator<Item = Table> + 'a {
    let order = |&(manager, down): &(&FtManager, bool)| match (down, manager.role()) {
        (false, RoleKind::Primary | RoleKind::Fencing) if manager.serializer().is_some() => 0,
        (true, _) => 2,
        _ => 1,
    };
    let mut managers: Vec<(&FtManager, bool)> = managers.collect();
    managers.sort_by_key(order);
    managers.into_iter().map(|(manager, down)| {
        let id = manager.id();
        let directory = manager.serializer().map(PageSerializer::directory);
        match (down, manager.role(), directory) {
            (true, ..) => Table::empty("cm_Backup", format!("down, cm {id}")),
            (false, RoleKind::Primary, Some(directory)) => Table::manager("cm_Primary", directory),
            (false, RoleKind::Fencing, Some(directory)) => {
                let mut table = Table::manager("cm_Primary", directory);
                table.note = Some(format!("fencing, cm {id}"));
                table
            }
            (false, RoleKind::Backup, Some(directory)) => Table::manager("cm_Backup", directory),
            (false, ..) => Table::empty("cm_Backup", format!("recovering, cm {id}")),
        }
    })
}

/// Checks the fault options against each other and the workload, and orders them by
/// request number.
pub(crate) fn fault_schedule(args: &FtArgs) -> Result<BTreeMap<u64, Vec<FaultAction>>, CliError> {
    let usage = |message: String| Err(CliError::Usage(message));
    if args.heartbeat_ms == 0 {
        return usage("--heartbeat-ms must be at least 1".to_string());
    }
    if args.timeout_ms <= args.heartbeat_ms {
        return usage(format!(
            "--timeout-ms ({}) must be above --heartbeat-ms ({})",
            args.timeout_ms, args.heartbeat_ms
        ));
    }
    let options = [
        (
            "--kill-primary-at",
            &args.kill_primary_at,
            FaultAction::KillPrimary,
        ),
        (
            "--revive-primary-at",
            &args.revive_primary_at,
            FaultAction::RevivePrimary,
        ),
        (
            "--kill-backup-at",
            &args.kill_backup_at,
            FaultAction::KillBackup,
        ),
        (
            "--revive-backup-at",
            &args.revive_backup_at,
            FaultAction::ReviveBackup,
        ),
    ];
    let schedule = by_request(options, args.run.requests)?;
    if let Some((request, _)) = schedule.iter().find(|(_, actions)| actions.len() > 1) {
        return usage(format!(
            "request {request} has more than one fault; give each its own request"
        ));
    }
    check_order(&schedule)?;
    Ok(schedule)
}

/// The actions that options like `--kill-primary-at N` ask for (each option's name,
/// the requests it names, its action), by request, in the order given; a request
/// outside the run's `1..=total` is refused with the option that named it.
pub(crate) fn by_request<A: Copy, const N: usize>(
    options: [(&str, &Vec<u64>, A); N],
    total: u64,
) -> Result<BTreeMap<u64, Vec<A>>, CliError> {
    let mut schedule: BTreeMap<u64, Vec<A>> = BTreeMap::new();
    for (name, requests, action) in options {
        for &request in requests {
            if request == 0 || request > total {
                return Err(CliError::Usage(format!(
                    "{name} {request} is not a request of this run (1 to {total})"
                )));
            }
            schedule.entry(request).or_default().push(action);
        }
    }
    Ok(schedule)
}

/// Kills and revivals of each role alternate, starting with a kill. Kills may leave
/// both managers down: the run then reports the kill that found no manager, or the
/// state lost.
fn check_order(schedule: &BTreeMap<u64, Vec<FaultAction>>) -> Result<(), CliError> {
    let (mut primary_down, mut backup_down) = (false, false);
    for (&request, actions) in schedule {
        for action in actions {
            let (down, role, is_kill) = match action {
                FaultAction::KillPrimary => (&mut primary_down, "primary", true),
                FaultAction::RevivePrimary => (&mut primary_down, "primary", false),
                FaultAction::KillBackup => (&mut backup_down, "backup", true),
                FaultAction::ReviveBackup => (&mut backup_down, "backup", false),
            };
            if *down == is_kill {
                let problem = if is_kill {
                    format!("the killed {role} is still down (revive it first)")
                } else {
                    format!("no {role} was killed before it")
                };
                return Err(CliError::Usage(format!(
                    "--{}-{role}-at {request}: {problem}",
                    if is_kill { "kill" } else { "revive" }
                )));
            }
            *down = is_kill;
        }
    }
    Ok(())
}
