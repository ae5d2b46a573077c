//! Whether a message could have come from a node of this system: the check a driver
//! applies to bytes from the network before a node sees them. The state machines
//! trust their inputs to name existing pages and nodes (they index tables by them);
//! a message decoded from a peer is checked here first, and refused whole if any part
//! names something the system does not have.

use crate::protocol::config::SystemConfig;
use crate::protocol::ids::{NodeId, PageId, RequestId};
use crate::protocol::message::{Envelope, Message};
use crate::protocol::page::PageBuffer;
use crate::replication::{HeldFault, LogEntry, ManagerSnapshot};
use thiserror::Error;

/// What makes a message impossible in a system.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Malformed {
    /// A node id beyond the system's nodes (processes, then up to two managers).
    #[error("node {0} is not a node of this system")]
    NoSuchNode(NodeId),
    /// A requester that is not a process.
    #[error("requester {0} is not a process")]
    NotAProcess(NodeId),
    /// A page id beyond the system's pages.
    #[error("page {0} is not a page of this system")]
    NoSuchPage(PageId),
    /// Page contents of another size than the system's pages.
    #[error("a page of {actual} bytes where pages have {expected}")]
    PageSize {
        /// The system's page size.
        expected: usize,
        /// The size in the message.
        actual: usize,
    },
    /// A snapshot whose tables do not have one entry per page or per process.
    #[error("a snapshot with {actual} {what} where the system has {expected}")]
    SnapshotShape {
        /// Which table.
        what: &'static str,
        /// The system's count.
        expected: usize,
        /// The snapshot's count.
        actual: usize,
    },
}

impl Envelope {
    /// Checks that every node, page and page size the envelope names exists in
    /// `config` (with `managers` managers, one or two).
    pub fn check_well_formed(&self, config: &SystemConfig, managers: u32) -> Result<(), Malformed> {
        let nodes = config.processes + managers;
        for node in [self.from, self.to] {
            if node.0 >= nodes {
                return Err(Malformed::NoSuchNode(node));
            }
        }
        if let Some(page) = self.message.page() {
            check_page(config, page)?;
        }
        if let Some(request) = self.message.request() {
            check_request(config, request)?;
        }
        match &self.message {
            Message::ReadPage { data, .. } | Message::WritePage { data, .. } => {
                check_page_size(config, data)
            }
            Message::OwnerPage { data, copy_set, .. } => {
                match copy_set.iter().find(|node| !config.is_process(*node)) {
                    Some(stranger) => Err(Malformed::NoSuchNode(stranger)),
                    None => check_page_size(config, data),
                }
            }
            Message::Replicate { entries, .. } => entries
                .iter()
                .try_for_each(|entry| check_entry(config, entry)),
            Message::Snapshot { snapshot, .. } => check_snapshot(config, snapshot),
            _ => Ok(()),
        }
    }
}

fn check_page(config: &SystemConfig, page: PageId) -> Result<(), Malformed> {
    match page.0 < config.pages {
        true => Ok(()),
        false => Err(Malformed::NoSuchPage(page)),
    }
}

fn check_process(config: &SystemConfig, node: NodeId) -> Result<(), Malformed> {
    match config.is_process(node) {
        true => Ok(()),
        false => Err(Malformed::NotAProcess(node)),
    }
}

fn check_request(config: &SystemConfig, request: RequestId) -> Result<(), Malformed> {
    check_process(config, request.process)
}

fn check_page_size(config: &SystemConfig, data: &PageBuffer) -> Result<(), Malformed> {
    match data.size_bytes() == config.page_size_bytes {
        true => Ok(()),
        false => Err(Malformed::PageSize {
            expected: config.page_size_bytes,
            actual: data.size_bytes(),
        }),
    }
}

fn check_entry(config: &SystemConfig, entry: &LogEntry) -> Result<(), Malformed> {
    let (LogEntry::Admit { page, request, .. } | LogEntry::Confirm { page, request, .. }) = entry;
    check_page(config, *page)?;
    check_request(config, *request)
}

fn check_snapshot(config: &SystemConfig, snapshot: &ManagerSnapshot) -> Result<(), Malformed> {
    let shape = |what, expected: usize, actual: usize| match expected == actual {
        true => Ok(()),
        false => Err(Malformed::SnapshotShape {
            what,
            expected,
            actual,
        }),
    };
    let records = snapshot.directory.records();
    shape("page records", config.pages as usize, records.len())?;
    let processes = config.processes as usize;
    shape("process counters", processes, snapshot.last_completed.len())?;
    for record in records {
        check_process(config, record.owner)?;
        for member in record.copy_set.iter() {
            check_process(config, member)?;
        }
    }
    for HeldFault { page, request, .. } in &snapshot.held {
        check_page(config, *page)?;
        check_request(config, *request)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::directory::Directory;
    use crate::protocol::ids::{PageVersion, View};
    use crate::replication::LogPosition;

    fn config() -> SystemConfig {
        SystemConfig::new(3, 4, 64).unwrap()
    }

    fn envelope(from: u32, to: u32, message: Message) -> Envelope {
        let view = View(0);
        let (from, to) = (NodeId(from), NodeId(to));
        Envelope {
            from,
            to,
            view,
            message,
        }
    }

    fn write_page(page: u32, process: u32, size_bytes: usize) -> Message {
        Message::WritePage {
            page: PageId(page),
            request: RequestId {
                process: NodeId(process),
                sequence: 1,
            },
            version: PageVersion(1),
            data: PageBuffer::zeroed(size_bytes),
        }
    }

    #[test]
    fn a_message_of_this_system_passes() {
        let good = envelope(0, 1, write_page(3, 1, 64));
        assert_eq!(good.check_well_formed(&config(), 2), Ok(()));
    }

    #[test]
    fn every_name_the_system_lacks_is_refused() {
        let config = config();
        let cases = [
            (
                envelope(5, 1, write_page(0, 1, 64)),
                Malformed::NoSuchNode(NodeId(5)),
            ),
            (
                envelope(0, 4, write_page(0, 1, 64)),
                Malformed::NoSuchNode(NodeId(4)),
            ),
            (
                envelope(0, 1, write_page(4, 1, 64)),
                Malformed::NoSuchPage(PageId(4)),
            ),
            (
                envelope(0, 1, write_page(0, 3, 64)),
                Malformed::NotAProcess(NodeId(3)),
            ),
        ];
        for (envelope, expected) in cases {
            assert_eq!(envelope.check_well_formed(&config, 1), Err(expected));
        }
        let small = envelope(0, 1, write_page(0, 1, 8));
        assert!(matches!(
            small.check_well_formed(&config, 1),
            Err(Malformed::PageSize { actual: 8, .. })
        ));
    }

    #[test]
    fn a_snapshot_of_another_system_is_refused() {
        let other = SystemConfig::new(3, 5, 64).unwrap();
        let snapshot = ManagerSnapshot {
            directory: Directory::new(&other),
            held: Vec::new(),
            last_completed: vec![0; 3],
            last: LogPosition::default(),
        };
        let message = Message::Snapshot {
            incarnation: Default::default(),
            snapshot: Box::new(snapshot),
        };
        let refused = envelope(3, 4, message).check_well_formed(&config(), 2);
        assert!(matches!(
            refused,
            Err(Malformed::SnapshotShape { actual: 5, .. })
        ));
    }
}
