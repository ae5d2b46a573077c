//! Whether a manager holds the latest state: an oracle for tests and drivers that
//! looks only at what processes did, not at the managers' own bookkeeping.
//!
//! A process answers a manager's command only when it obeys it, and every answer
//! (a page sent on, a confirmation) names the transaction's page, request and page
//! version. So the newest transaction a process answered on a page was acted on. A
//! manager that has neither recorded a newer version of the page nor holds that very
//! transaction lacks state the system has acted on; if no live manager holds every
//! page's newest answered transaction, state is lost for good and no protocol can
//! finish the run.

use crate::directory::DirectoryView;
use crate::ids::{PageId, PageVersion, RequestId};
use crate::message::Message;
use std::fmt;

/// The newest transaction processes have answered, per page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActedOn {
    newest: Vec<Option<(PageVersion, RequestId)>>,
}

/// The first page whose newest answered transaction a manager lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnheldState {
    /// The page.
    pub page: PageId,
    /// The page version of the transaction processes answered.
    pub version: PageVersion,
    /// The transaction's fault.
    pub request: RequestId,
}

impl fmt::Display for UnheldState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "page {} version {} (fault {})",
            self.page, self.version.0, self.request
        )
    }
}

impl ActedOn {
    /// Nothing acted on yet, for a system of `pages` pages.
    pub fn new(pages: u32) -> ActedOn {
        ActedOn {
            newest: vec![None; pages as usize],
        }
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
            }
        }
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
            (!holds).then_some(UnheldState {
                page,
                version,
                request,
            })
        })
    }
}
