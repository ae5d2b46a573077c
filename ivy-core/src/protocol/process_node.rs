//! What every driver needs of a process, whatever algorithm manages its pages: the
//! [`Node`] interface, to start an operation and know when it is idle, its page
//! table for the checks and readouts ([`ProcessView`]), and, for an algorithm that
//! keeps the pages' records at the processes rather than at a manager, the
//! authority the coherence check compares each page against.
//!
//! Today's [`Process`] (the central manager's, and the fault-tolerant pair's) is
//! one; so is a node that hosts a process beside the manager of its share of the
//! pages (the fixed distributed manager), and the processes of the algorithms with
//! no manager at all.

use crate::checks::authority::PageAuthority;
use crate::checks::invariants::CoherenceViolation;
use crate::checks::process_view::ProcessView;
use crate::protocol::ids::PageId;
use crate::protocol::node::{Node, Outbox};
use crate::protocol::operation::Operation;
use crate::protocol::process::{Process, StartError};
use std::fmt::Debug;

/// A process as drivers run it.
pub trait ProcessNode: Node + ProcessView + Clone + Debug {
    /// Starts `operation`: with enough access it completes at once (a local hit, in
    /// `out.completions`), otherwise the process faults and waits, serving other
    /// messages meanwhile. An error if it is busy or the page does not exist.
    fn start(
        &mut self,
        operation: Operation,
        now_ticks: u64,
        out: &mut Outbox,
    ) -> Result<(), StartError>;

    /// Whether the process can start an operation (it waits on no fault).
    fn is_idle(&self) -> bool;

    /// The authority the coherence check compares each page against, when this
    /// algorithm keeps the pages' records at the processes (`processes` being every
    /// process of the system, in id order); `None` when managers keep them, and the
    /// drivers check against the managers' state.
    fn authority(_processes: &[Self]) -> Option<Box<dyn PageAuthority + '_>> {
        None
    }

    /// What this algorithm requires beyond the coherence of each page (for the
    /// dynamic distributed manager: that the probable owners lead to the owner),
    /// checked with coherence wherever it is checked: on `page`, or every page.
    fn check_algorithm(
        _processes: &[Self],
        _page: Option<PageId>,
    ) -> Result<(), CoherenceViolation> {
        Ok(())
    }
}

impl ProcessNode for Process {
    fn start(
        &mut self,
        operation: Operation,
        now_ticks: u64,
        out: &mut Outbox,
    ) -> Result<(), StartError> {
        Process::start(self, operation, now_ticks, out)
    }

    fn is_idle(&self) -> bool {
        Process::is_idle(self)
    }
}
