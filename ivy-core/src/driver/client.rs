//! A process as a driver runs it: the numbered operations it has left, issued one
//! after another (a fault blocks it, as in a real DSM), and when it issued the one
//! in progress.

use crate::checks::history::HistoryEntry;
use crate::protocol::ids::NodeId;
use crate::protocol::node::Outbox;
use crate::protocol::operation::{Completion, Operation};
use crate::protocol::process::{Process, StartError};
use crate::protocol::process_node::ProcessNode;

/// A process and the operations it has left to issue.
#[derive(Clone, Debug)]
pub struct Client<P = Process> {
    /// The process.
    pub process: P,
    /// Its operations with their request numbers, in the order it issues them.
    operations: Vec<(u64, Operation)>,
    /// The next operation to issue.
    next: usize,
    /// When it issued the operation in progress (or the last one).
    invoked_at: u64,
}

impl<P: ProcessNode> Client<P> {
    /// `process`, which will issue `operations` (request number, operation) in order.
    pub fn new(process: P, operations: Vec<(u64, Operation)>) -> Client<P> {
        Client {
            process,
            operations,
            next: 0,
            invoked_at: 0,
        }
    }

    /// The request number of the operation to issue next, if the process is idle
    /// and has one left.
    pub fn next_request(&self) -> Option<u64> {
        let next = self.operations.get(self.next)?;
        self.process.is_idle().then_some(next.0)
    }

    /// Issues the next operation at `now` (in the driver's unit; `now_ticks` for the
    /// process's timers): its messages go to `out`, and a local hit completes at
    /// once. Returns its request number, or `None` if the process is busy or done;
    /// an error if the operation names a page the system does not have.
    pub fn issue_next(
        &mut self,
        now: u64,
        now_ticks: u64,
        out: &mut Outbox,
    ) -> Result<Option<u64>, StartError> {
        let Some(request) = self.next_request() else {
            return Ok(None);
        };
        let (_, operation) = self.operations[self.next];
        self.next += 1;
        self.invoked_at = now;
        self.process.start(operation, now_ticks, out)?;
        Ok(Some(request))
    }

    /// The history entry of `completion`, an operation of this process that
    /// completed at `now`.
    pub fn history_entry(&self, completion: &Completion, now: u64) -> HistoryEntry {
        HistoryEntry::of(completion, self.invoked_at, now)
    }

    /// Whether every operation has been issued and has completed.
    pub fn is_finished(&self) -> bool {
        self.next == self.operations.len() && self.process.is_idle()
    }

    /// The process's id.
    pub fn id(&self) -> NodeId {
        self.process.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::config::SystemConfig;
    use crate::protocol::process::ProcessOptions;

    #[test]
    fn a_client_issues_its_operations_in_order_and_records_when() {
        let config = SystemConfig::new(2, 1, 8).expect("a valid size");
        let options = ProcessOptions::single_manager(&config);
        let owner = Process::new(NodeId(0), &config, options); // owns page 0: local hits
        let operations = vec![(3, Operation::write(0, 9)), (7, Operation::read(0))];
        let mut client = Client::new(owner, operations);
        let mut out = Outbox::new();
        assert_eq!(client.issue_next(100, 0, &mut out), Ok(Some(3)));
        let write = out.completions.pop().expect("a local write");
        assert_eq!(client.history_entry(&write, 150).invoked_at, 100);
        assert_eq!(client.issue_next(200, 0, &mut out), Ok(Some(7)));
        assert!(client.is_finished());
        assert_eq!(client.issue_next(300, 0, &mut out), Ok(None));
        assert_eq!(client.id(), NodeId(0));
    }
}
