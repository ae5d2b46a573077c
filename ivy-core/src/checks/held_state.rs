//! Whether a manager holds the latest state: an oracle for tests and drivers that
//! looks only at what processes did, not at the managers' own bookkeeping.
//!
//! A process answers a manager's command only when it obeys it, and every answer
//! (a page sent on, a confirmation) names the transaction's page, request and page
//! version. So the newest transaction a process answered on a page was acted on. A
//! manager that has neither recorded a newer version of the page nor holds that very
//! transaction lacks state the system has acted on.
//!
//! Holding the same transactions is not enough to take over, though: a manager must
//! know it holds them, and all it can learn is the newest viewstamp (view and log
//! index) of a command each process accepted. A manager whose log ends before that
//! viewstamp lacks an entry processes acted on, even if it holds a transaction with
//! the same effect by coincidence (admitted again, in an older view, after the
//! primary that logged it alone crashed). So a manager holds the latest state when
//! it holds every page's newest answered transaction *and* its log reaches every
//! viewstamp a process accepted; if no live manager does, state is lost for good
//! and no protocol can finish the run.

use crate::protocol::directory::{DirectoryView, Revision};
use crate::protocol::ids::{PageId, PageVersion, RequestId};
use crate::protocol::message::Message;
use crate::replication::LogPosition;
use std::fmt;

/// The newest transaction processes have answered, per page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActedOn {
    newest: Vec<Option<(PageVersion, RequestId)>>,
    /// Bumped whenever `newest` changes.
    changes: Revision,
}

/// What a manager lacks of the state processes acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnheldState {
    /// The first page whose newest answered transaction it lacks.
    Transaction {
        /// The page.
        page: PageId,
        /// The page version of the transaction processes answered.
        version: PageVersion,
        /// The transaction's fault.
        request: RequestId,
    },
    /// Its log does not reach this viewstamp, which a process accepted.
    LogEntry {
        /// The newest viewstamp a process accepted.
        accepted: LogPosition,
    },
}

impl fmt::Display for UnheldState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnheldState::Transaction {
                page,
                version,
                request,
            } => write!(
                formatter,
                "page {page} version {} (fault {request})",
                version.0
            ),
            UnheldState::LogEntry { accepted } => {
                write!(formatter, "the log entry at {accepted} a process accepted")
            }
        }
    }
}

impl ActedOn {
    /// Nothing acted on yet, for a system of `pages` pages.
    pub fn new(pages: u32) -> ActedOn {
        ActedOn {
            newest: vec![None; pages as usize],
            changes: Revision::default(),
        }
    }

    /// How many times what processes acted on has grown: a driver that sees the
    /// same count knows nothing new was acted on.
    pub fn revision(&self) -> u64 {
        self.changes.count()
    }

    /// Notes a message a process sent.
    pub fn observe(&mut self, message: &Message) {
        let answered = match *message {
            Message::ReadPage {
                page,
                request,
                version,
                ..
            }
            | Message::WritePage {
                page,
                request,
                version,
                ..
            }
            | Message::ReadConfirmation {
                page,
                request,
                version,
            }
            | Message::WriteConfirmation {
                page,
                request,
                version,
            }
            | Message::InvalidateConfirmation {
                page,
                request,
                version,
            } => (page, version, request),
            _ => return,
        };
        let (page, version, request) = answered;
        if let Some(newest) = self.newest.get_mut(page.index()) {
            if newest.is_none_or(|(known, _)| known < version) {
                *newest = Some((version, request));
                self.changes.bump();
            }
        }
    }

    /// `None` when the manager holds the latest state: its log's reach (see
    /// [`Viewstamp`]) is at least `newest_accepted` (the newest viewstamp any process
    /// accepted), and it holds every page's newest answered transaction. Otherwise
    /// what it lacks.
    pub fn first_unheld(
        &self,
        manager: &dyn DirectoryView,
        manager_reach: LogPosition,
        newest_accepted: LogPosition,
    ) -> Option<UnheldState> {
        if !manager_reach.covers(newest_accepted) {
            return Some(UnheldState::LogEntry {
                accepted: newest_accepted,
            });
        }
        self.first_unheld_page(manager)
    }

    /// `None` when the manager holds every page's newest answered transaction: it
    /// recorded a version at least as new, or serves that very transaction. Otherwise
    /// the first page it lacks.
    pub fn first_unheld_page(&self, manager: &dyn DirectoryView) -> Option<UnheldState> {
        self.newest.iter().enumerate().find_map(|(index, newest)| {
            let (version, request) = (*newest)?;
            let page = PageId(index as u32);
            let recorded = manager.directory().get(page)?.version;
            let serving = manager.active_fault(page);
            let holds = recorded >= version
                || serving.is_some_and(|f| f.version == version && f.request == request);
            (!holds).then_some(UnheldState::Transaction {
                page,
                version,
                request,
            })
        })
    }
}
