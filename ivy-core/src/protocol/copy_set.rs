//! The set of processes holding read-only copies of a page.

use crate::protocol::ids::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Processes holding Read copies of a page, kept sorted. An empty set allocates
/// nothing, so a manager with a million idle pages pays for none of them. On the wire
/// it is the list of members; a list that is not strictly increasing is refused.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "Vec<NodeId>", try_from = "Vec<NodeId>")]
pub struct CopySet {
    members: Vec<NodeId>,
}

impl From<CopySet> for Vec<NodeId> {
    fn from(set: CopySet) -> Vec<NodeId> {
        set.members
    }
}

impl TryFrom<Vec<NodeId>> for CopySet {
    type Error = &'static str;

    fn try_from(members: Vec<NodeId>) -> Result<CopySet, Self::Error> {
        match members.windows(2).all(|pair| pair[0] < pair[1]) {
            true => Ok(CopySet { members }),
            false => Err("a copy set's members must be strictly increasing"),
        }
    }
}

impl CopySet {
    /// The empty set.
    pub fn new() -> CopySet {
        CopySet::default()
    }

    /// Adds `node`; returns whether it was new.
    pub fn insert(&mut self, node: NodeId) -> bool {
        match self.members.binary_search(&node) {
            Ok(_) => false,
            Err(position) => {
                self.members.insert(position, node);
                true
            }
        }
    }

    /// Removes `node`; returns whether it was there.
    pub fn remove(&mut self, node: NodeId) -> bool {
        match self.members.binary_search(&node) {
            Ok(position) => {
                self.members.remove(position);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether `node` holds a copy.
    pub fn contains(&self, node: NodeId) -> bool {
        self.members.binary_search(&node).is_ok()
    }

    /// Whether nobody holds a copy.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// How many copies there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Empties the set, releasing its memory.
    pub fn clear(&mut self) {
        self.members = Vec::new();
    }

    /// The members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.iter().copied()
    }
}

impl FromIterator<NodeId> for CopySet {
    fn from_iter<T: IntoIterator<Item = NodeId>>(iter: T) -> Self {
        let mut set = CopySet::new();
        for node in iter {
            set.insert(node);
        }
        set
    }
}

/// Prints `{}` or `{1, 4}`, as the readout shows copy sets.
impl fmt::Display for CopySet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let members: Vec<String> = self.members.iter().map(|node| node.0.to_string()).collect();
        formatter.pad(&format!("{{{}}}", members.join(", ")))
    }
}

impl fmt::Debug for CopySet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_members_sorted_and_unique() {
        let mut set = CopySet::new();
        assert!(set.insert(NodeId(4)));
        assert!(set.insert(NodeId(1)));
        assert!(!set.insert(NodeId(4)));
        assert_eq!(set.to_string(), "{1, 4}");
        assert!(set.remove(NodeId(1)));
        assert!(!set.remove(NodeId(1)));
        assert_eq!(set.len(), 1);
        set.clear();
        assert_eq!(set.to_string(), "{}");
    }
}
