//! How Li & Hudak's fixed distributed manager divides the pages among its managers:
//! the paper's `H(p) = p mod N`, or contiguous blocks of pages.

use crate::protocol::ids::PageId;
use serde::{Deserialize, Serialize};

/// Which of `shares` managers manages a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PageMapping {
    /// Page `p` to manager `p mod shares` (the paper's `H`): neighbouring pages go
    /// to different managers.
    #[default]
    Modulo,
    /// Pages in contiguous blocks of `ceil(pages / shares)`: neighbouring pages go to
    /// the same manager (faults on an array's pages meet one manager).
    Blocks,
}

impl PageMapping {
    /// The share (`0..shares`) of `page` in a system of `pages` pages.
    pub fn share(self, page: PageId, pages: u32, shares: u32) -> usize {
        assert!(shares > 0, "a mapping needs at least one share");
        let share = match self {
            PageMapping::Modulo => page.0 % shares,
            PageMapping::Blocks => page.0 / pages.div_ceil(shares).max(1),
        };
        share as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(mapping: PageMapping, pages: u32, shares: u32) -> Vec<usize> {
        (0..pages)
            .map(|page| mapping.share(PageId(page), pages, shares))
            .collect()
    }

    #[test]
    fn modulo_deals_the_pages_round() {
        assert_eq!(shares(PageMapping::Modulo, 7, 3), [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn blocks_keep_neighbours_together_and_use_every_share_they_can() {
        assert_eq!(shares(PageMapping::Blocks, 7, 3), [0, 0, 0, 1, 1, 1, 2]);
        assert_eq!(shares(PageMapping::Blocks, 6, 3), [0, 0, 1, 1, 2, 2]);
        // More managers than pages: one page each, the rest manage nothing.
        assert_eq!(shares(PageMapping::Blocks, 2, 4), [0, 1]);
    }

    #[test]
    fn every_page_has_a_share_in_range() {
        for mapping in [PageMapping::Modulo, PageMapping::Blocks] {
            for pages in 1..40 {
                for count in 1..12 {
                    let all = shares(mapping, pages, count);
                    assert!(all.iter().all(|&share| share < count as usize));
                }
            }
        }
    }
}
