//! The coherence invariant, checked in one place for every driver: unit tests,
//! property tests, the simulator after every step, and the model checker.
//!
//! At every instant, for every page:
//! - at most one process owns it, and an owner has a valid copy;
//! - a process with ReadWrite owns the page and holds its only valid copy;
//! - every valid copy holds the same value;
//! - every copy holder is in the recorded copy set and every owner is the recorded
//!   owner, except the requester of the fault being served on the page.
//!
//! When no fault on the page is being served (it is quiescent), also:
//! - exactly one process owns it, the one recorded;
//! - the Read holders other than the owner are exactly the recorded copy set;
//! - the owner has ReadWrite exactly when there are no copies.
//!
//! The record and the open fault come from the page's [`PageAuthority`]: for the
//! central manager, the manager's directory.

pub use crate::checks::authority::PageAuthority;
use crate::checks::process_view::ProcessView;
use crate::protocol::copy_set::CopySet;
use crate::protocol::directory::PageRecord;
use crate::protocol::ids::{NodeId, PageId, PageVersion};
use crate::protocol::page::Access;
use std::collections::BTreeSet;
use thiserror::Error;

/// A breach of the coherence invariant.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CoherenceViolation {
    /// The probable owners followed from a process go round without reaching the
    /// owner or a process waiting to own the page (the dynamic distributed manager).
    #[error("page {page}: the probable owners followed from process {start} go round")]
    HintCycle {
        /// The page.
        page: PageId,
        /// Where the walk started.
        start: NodeId,
    },
    /// Two processes own one page.
    #[error("page {page}: processes {first} and {second} both own it")]
    TwoOwners {
        /// The page.
        page: PageId,
        /// One owner.
        first: NodeId,
        /// Another owner.
        second: NodeId,
    },
    /// An owner without a valid copy.
    #[error("page {page}: owner {process} has Nil access")]
    OwnerWithoutCopy {
        /// The page.
        page: PageId,
        /// The owner.
        process: NodeId,
    },
    /// ReadWrite access without ownership.
    #[error("page {page}: process {process} has ReadWrite but does not own it")]
    WriterNotOwner {
        /// The page.
        page: PageId,
        /// The writer.
        process: NodeId,
    },
    /// ReadWrite access while another process holds a valid copy.
    #[error("page {page}: process {writer} has ReadWrite while {other} holds a copy")]
    WriterNotAlone {
        /// The page.
        page: PageId,
        /// The process with ReadWrite.
        writer: NodeId,
        /// Another process with a valid copy.
        other: NodeId,
    },
    /// Two valid copies with different contents.
    #[error(
        "page {page}: process {first} holds value {first_value} but {second} holds {second_value}"
    )]
    CopiesDisagree {
        /// The page.
        page: PageId,
        /// One holder.
        first: NodeId,
        /// Its value.
        first_value: u64,
        /// Another holder.
        second: NodeId,
        /// Its value.
        second_value: u64,
    },
    /// A Read copy the manager does not know about.
    #[error("page {page}: process {process} holds a copy the manager does not record (copy set {copy_set})")]
    UnrecordedCopy {
        /// The page.
        page: PageId,
        /// The holder.
        process: NodeId,
        /// The manager's copy set.
        copy_set: CopySet,
    },
    /// An owner the manager does not know about.
    #[error("page {page}: process {process} owns it but the manager records owner {recorded}")]
    UnrecordedOwner {
        /// The page.
        page: PageId,
        /// The process that believes it owns the page.
        process: NodeId,
        /// The manager's owner.
        recorded: NodeId,
    },
    /// A quiescent page without an owner.
    #[error("page {page}: no process owns it (the manager records {recorded})")]
    NoOwner {
        /// The page.
        page: PageId,
        /// The manager's owner.
        recorded: NodeId,
    },
    /// A quiescent page whose copy holders differ from the manager's copy set.
    #[error(
        "page {page}: {holders} processes hold copies but the manager's copy set is {copy_set}"
    )]
    CopySetMismatch {
        /// The page.
        page: PageId,
        /// How many non-owners hold Read copies.
        holders: usize,
        /// The manager's copy set.
        copy_set: CopySet,
    },
    /// A quiescent page whose owner's access does not match its copy set.
    #[error("page {page}: owner {owner} has {access} with copy set {copy_set}")]
    OwnerAccessMismatch {
        /// The page.
        page: PageId,
        /// The owner.
        owner: NodeId,
        /// The owner's access.
        access: Access,
        /// The manager's copy set.
        copy_set: CopySet,
    },
}

/// Checks the coherence invariant on every page.
///
/// In a large system (page tables that keep only touched pages), a page that no
/// process touched, whose record the manager never changed and on which no fault is
/// open is exactly as it was at the start, like every other such page: the first one
/// is checked in full, and the others are skipped, so that the check of a run on a
/// million pages costs what the run touched.
pub fn check_coherence<P: ProcessView, A: PageAuthority + ?Sized>(
    processes: &[P],
    authority: &A,
) -> Result<(), CoherenceViolation> {
    let pages = authority.page_count();
    let all = (0..pages).map(PageId);
    let Some(touched) = touched_by_any(processes) else {
        return all
            .into_iter()
            .try_for_each(|page| check_page_coherence(processes, authority, page));
    };
    let mut an_untouched_page_checked = false;
    for page in all {
        let untouched = !touched.contains(&page)
            && is_initial_record(&authority.record_of(page), page, processes.len())
            && authority.fault_on(page).is_none();
        if untouched && an_untouched_page_checked {
            continue;
        }
        an_untouched_page_checked |= untouched;
        check_page_coherence(processes, authority, page)?;
    }
    Ok(())
}

/// Every page some process touched, if every process keeps only those.
fn touched_by_any<P: ProcessView>(processes: &[P]) -> Option<BTreeSet<PageId>> {
    let mut touched = BTreeSet::new();
    for process in processes {
        touched.extend(process.touched()?);
    }
    Some(touched)
}

/// Whether `record` is the one page `page` starts with: owned by process
/// `page % processes`, no copies, version 0.
fn is_initial_record(record: &PageRecord, page: PageId, processes: usize) -> bool {
    record.owner.0 as usize == page.0 as usize % processes.max(1)
        && record.copy_set.is_empty()
        && record.version == PageVersion(0)
}

/// Checks the coherence invariant on one page (what a single step can change).
pub fn check_page_coherence<P: ProcessView, A: PageAuthority + ?Sized>(
    processes: &[P],
    authority: &A,
    page: PageId,
) -> Result<(), CoherenceViolation> {
    let record = authority.record_of(page);
    let record = record.as_ref();
    let requester = authority.fault_on(page).map(|fault| fault.request.process);
    let mut owner: Option<NodeId> = None;
    let mut writer: Option<NodeId> = None;
    let mut first_copy: Option<(NodeId, u64)> = None;
    let mut other_holder: Option<NodeId> = None;
    let mut holders = 0;
    for process in processes {
        let id = process.node_id();
        let entry = process
            .page_entry(page)
            .expect("every process has every page");
        let excused = requester == Some(id);
        if entry.is_owner() {
            if let Some(first) = owner {
                return Err(CoherenceViolation::TwoOwners {
                    page,
                    first,
                    second: id,
                });
            }
            owner = Some(id);
            if entry.access() == Access::Nil {
                return Err(CoherenceViolation::OwnerWithoutCopy { page, process: id });
            }
            if id != record.owner && !excused {
                return Err(CoherenceViolation::UnrecordedOwner {
                    page,
                    process: id,
                    recorded: record.owner,
                });
            }
        }
        let Some(value) = entry.value() else {
            continue;
        };
        match entry.access() {
            Access::ReadWrite if !entry.is_owner() => {
                return Err(CoherenceViolation::WriterNotOwner { page, process: id });
            }
            Access::ReadWrite => writer = Some(id),
            Access::Read if !entry.is_owner() => {
                holders += 1;
                if !record.copy_set.contains(id) && !excused {
                    return Err(CoherenceViolation::UnrecordedCopy {
                        page,
                        process: id,
                        copy_set: record.copy_set.clone(),
                    });
                }
            }
            _ => {}
        }
        match first_copy {
            None => first_copy = Some((id, value)),
            Some((first, first_value)) => {
                other_holder.get_or_insert(id);
                if first_value != value {
                    return Err(CoherenceViolation::CopiesDisagree {
                        page,
                        first,
                        first_value,
                        second: id,
                        second_value: value,
                    });
                }
            }
        }
    }
    if let (Some(writer), Some((first, _))) = (writer, first_copy) {
        let other = if first == writer {
            other_holder
        } else {
            Some(first)
        };
        if let Some(other) = other {
            return Err(CoherenceViolation::WriterNotAlone {
                page,
                writer,
                other,
            });
        }
    }
    if requester.is_none() {
        check_quiescent_page(processes, page, record, owner, holders)?;
    }
    Ok(())
}

/// The stronger agreement that holds when no fault on the page is being served.
fn check_quiescent_page<P: ProcessView>(
    processes: &[P],
    page: PageId,
    record: &crate::protocol::directory::PageRecord,
    owner: Option<NodeId>,
    holders: usize,
) -> Result<(), CoherenceViolation> {
    let owner = owner.ok_or(CoherenceViolation::NoOwner {
        page,
        recorded: record.owner,
    })?;
    // A process owner that differs from the record was reported as unrecorded above.
    debug_assert_eq!(owner, record.owner);
    if holders != record.copy_set.len() || record.copy_set.contains(owner) {
        return Err(CoherenceViolation::CopySetMismatch {
            page,
            holders,
            copy_set: record.copy_set.clone(),
        });
    }
    let access = processes[owner.index()]
        .page_entry(page)
        .expect("every process has every page")
        .access();
    if (access == Access::ReadWrite) != record.copy_set.is_empty() {
        return Err(CoherenceViolation::OwnerAccessMismatch {
            page,
            owner,
            access,
            copy_set: record.copy_set.clone(),
        });
    }
    Ok(())
}
