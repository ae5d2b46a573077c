//! Where the coherence check finds a page's record in the owner-side algorithms:
//! with the page's owner (its copy set and version), or, while the page travels to a
//! writer, with the process that handed it over. The probable-owner check is here
//! too: from every process, the hints lead to the owner, or to a process waiting to
//! own the page, without going round.

use crate::process::OwnerProcess;
use ivy_core::{
    ActiveFault, CoherenceViolation, CopySet, NodeId, OperationKind, PageAuthority, PageEntry,
    PageId, PageRecord, PageVersion, ProcessView,
};
use std::borrow::Cow;

/// The processes themselves, as the authority on every page.
pub struct OwnerSide<'a> {
    processes: &'a [OwnerProcess],
}

impl<'a> OwnerSide<'a> {
    /// The authority of `processes` (every process of the system, in id order).
    pub fn new(processes: &'a [OwnerProcess]) -> OwnerSide<'a> {
        OwnerSide { processes }
    }

    fn owner_of(&self, page: PageId) -> Option<&'a OwnerProcess> {
        let owns =
            |process: &&OwnerProcess| process.page_entry(page).is_some_and(PageEntry::is_owner);
        self.processes.iter().find(owns)
    }

    /// While `page` travels to a writer: the latest hand-over, by version, if its
    /// writer still waits for it. A page nobody owns and nobody waits for is lost,
    /// and the check must say so (no hand-over excuses it).
    fn in_flight(&self, page: PageId) -> Option<&'a crate::page_state::HandOver> {
        let handed = self.processes.iter();
        let handed = handed.filter_map(|process| process.states.get(&page)?.handed.as_ref());
        let latest = handed.max_by_key(|handed| handed.version)?;
        let writer = self.processes.get(latest.to.process.index())?;
        let waits = writer
            .pending()
            .is_some_and(|(request, _)| request == latest.to);
        waits.then_some(latest)
    }

    /// The page's copy set: the owner's, and with distributed copy sets every
    /// holder's (the copies it gave from its own), together.
    fn copies(&self, page: PageId) -> CopySet {
        let mut copies = CopySet::new();
        let kept = self
            .processes
            .iter()
            .filter_map(|process| process.states.get(&page));
        for member in kept.flat_map(|state| state.copy_set.iter()) {
            copies.insert(member);
        }
        copies
    }

    /// A reader in `copy_set` whose copy is still on its way (it holds nothing yet,
    /// and waits for it): the read the owner is serving.
    fn read_in_flight(&self, page: PageId, copy_set: &CopySet) -> Option<ActiveFault> {
        copy_set.iter().find_map(|member| {
            let process = self.processes.get(member.index())?;
            let entry = process.page_entry(page)?;
            let (request, operation) = process.pending()?;
            let reading = operation.page() == page && operation.kind() == OperationKind::Read;
            (reading && entry.value().is_none()).then(|| ActiveFault {
                request,
                kind: OperationKind::Read,
                version: entry.version(),
            })
        })
    }
}

impl PageAuthority for OwnerSide<'_> {
    fn page_count(&self) -> u32 {
        self.processes.first().map_or(0, |p| p.page_count() as u32)
    }

    fn record_of(&self, page: PageId) -> Cow<'_, PageRecord> {
        let (owner, copy_set, version) = match (self.owner_of(page), self.in_flight(page)) {
            (Some(owner), _) => {
                let version = owner.page_entry(page).map(PageEntry::version);
                (
                    owner.node_id(),
                    self.copies(page),
                    version.unwrap_or(PageVersion(0)),
                )
            }
            (None, Some(handed)) => {
                let mut copies = self.copies(page);
                handed
                    .copy_set
                    .iter()
                    .for_each(|member| _ = copies.insert(member));
                (handed.to.process, copies, handed.version)
            }
            // Nobody owns it and nobody handed it over: the check reports it.
            (None, None) => (
                NodeId(page.0 % self.processes.len().max(1) as u32),
                CopySet::new(),
                PageVersion(0),
            ),
        };
        Cow::Owned(PageRecord {
            owner,
            copy_set,
            version,
        })
    }

    /// The fault under way on the page: its owner invalidating copies for a write,
    /// the writer the page travels to, or a read whose copy travels to its reader.
    /// Its requester is excused from agreeing with the record, and the page is not
    /// quiescent meanwhile.
    fn fault_on(&self, page: PageId) -> Option<ActiveFault> {
        let write = |request, version| ActiveFault {
            request,
            kind: OperationKind::Write,
            version,
        };
        match self.owner_of(page) {
            Some(owner) => {
                let version = owner.page_entry(page)?.version();
                match owner.pending() {
                    Some((request, _)) if owner.is_writing(page) => Some(write(request, version)),
                    _ => self.read_in_flight(page, &self.copies(page)),
                }
            }
            None => self
                .in_flight(page)
                .map(|handed| write(handed.to, handed.version)),
        }
    }
}

/// Checks that, for `page` (or every page), the probable owners followed from every
/// process reach the owner or a process waiting to own the page (to write it)
/// within N - 1 steps, never coming back to a process already passed.
pub fn check_hints(
    processes: &[OwnerProcess],
    page: Option<PageId>,
) -> Result<(), CoherenceViolation> {
    let Some(first) = processes.first() else {
        return Ok(());
    };
    let is_end = |id: NodeId, page: PageId| {
        let process = &processes[id.index()];
        process.is_writing(page) || process.page_entry(page).is_some_and(PageEntry::is_owner)
    };
    let pages = page
        .map(|page| vec![page])
        .or_else(|| touched_pages(processes));
    let pages = pages.unwrap_or_else(|| (0..first.page_count() as u32).map(PageId).collect());
    for page in pages {
        for start in processes.iter().map(ProcessView::node_id) {
            let mut at = start;
            let mut steps = 0;
            while !is_end(at, page) {
                at = processes[at.index()].prob_owner(page);
                steps += 1;
                if steps >= processes.len() {
                    return Err(CoherenceViolation::HintCycle { page, start });
                }
            }
        }
    }
    Ok(())
}

/// The pages any process changed, if their tables keep only those (every other page
/// is in its initial layout, where every hint names the owner).
fn touched_pages(processes: &[OwnerProcess]) -> Option<Vec<PageId>> {
    let mut pages = Vec::new();
    for process in processes {
        pages.extend(process.touched()?);
    }
    pages.sort_unstable();
    pages.dedup();
    Some(pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Algorithm;
    use ivy_core::SystemConfig;

    #[test]
    fn hints_that_go_round_are_caught_and_hints_to_an_owner_are_not() {
        let config = SystemConfig::new(3, 2, 8).expect("a valid size");
        let mut processes = OwnerProcess::all(&config, Algorithm::Dynamic);
        assert_eq!(check_hints(&processes, None), Ok(()), "the initial layout");
        // Page 1 is owned by process 1. Process 0 -> 2 -> 0 never reaches it.
        processes[0].state_mut(PageId(1)).prob_owner = NodeId(2);
        processes[2].state_mut(PageId(1)).prob_owner = NodeId(0);
        let violation = check_hints(&processes, None).expect_err("a loop");
        assert!(matches!(
            violation,
            CoherenceViolation::HintCycle {
                page: PageId(1),
                ..
            }
        ));
        // 0 -> 2 -> 1 (the owner) is a chain, not a loop.
        processes[2].state_mut(PageId(1)).prob_owner = NodeId(1);
        assert_eq!(check_hints(&processes, None), Ok(()));
    }
}
