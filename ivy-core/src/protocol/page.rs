//! Page contents and access rights.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

/// What a process may do with its copy of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Access {
    /// No valid copy: any access faults.
    Nil,
    /// A read-only copy: reads hit, writes fault.
    Read,
    /// The only valid copy, held by the owner: reads and writes hit.
    ReadWrite,
}

impl fmt::Display for Access {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Access::Nil => "Nil",
            Access::Read => "Read",
            Access::ReadWrite => "ReadWrite",
        };
        formatter.pad(name)
    }
}

/// The bytes of one page. A page that was never written is all zeroes and takes no
/// memory until its first write, so systems with very many pages stay cheap; and
/// copies share their bytes until one of them is written (copy on write), so that a
/// read copy, or the copy an owner keeps of a page it hands over, costs no page.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PageBuffer {
    bytes: Option<Arc<[u8]>>,
    /// Non-zero, so that an absent copy (`Option<PageBuffer>`) costs no extra word.
    size_bytes: NonZeroU32,
}

impl PageBuffer {
    /// A page of `size_bytes` zeroes (its value is 0). `size_bytes` is at least 8.
    pub fn zeroed(size_bytes: usize) -> PageBuffer {
        assert!(size_bytes >= crate::protocol::config::MIN_PAGE_SIZE_BYTES);
        let size_bytes = u32::try_from(size_bytes)
            .ok()
            .and_then(NonZeroU32::new)
            .expect("a page of at most 4 GiB");
        PageBuffer {
            bytes: None,
            size_bytes,
        }
    }

    /// The page size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes.get() as usize
    }

    /// The value last stored (the first eight bytes, little-endian).
    pub fn value(&self) -> u64 {
        match &self.bytes {
            None => 0,
            Some(bytes) => u64::from_le_bytes(bytes[..8].try_into().expect("eight bytes")),
        }
    }

    /// Stores `value` in the page (copying the bytes first if another copy shares
    /// them).
    pub fn store(&mut self, value: u64) {
        let size_bytes = self.size_bytes();
        let shared = self
            .bytes
            .get_or_insert_with(|| vec![0u8; size_bytes].into());
        if Arc::get_mut(shared).is_none() {
            *shared = Arc::from(&shared[..]);
        }
        let bytes = Arc::get_mut(shared).expect("the only copy of its bytes");
        bytes[..8].copy_from_slice(&value.to_le_bytes());
    }

    /// The whole page.
    pub fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match &self.bytes {
            None => std::borrow::Cow::Owned(vec![0u8; self.size_bytes()]),
            Some(bytes) => std::borrow::Cow::Borrowed(bytes),
        }
    }
}

/// A page on the wire: its size, and its bytes unless it was never written.
#[derive(Serialize, Deserialize)]
struct WirePage<Bytes> {
    size_bytes: u32,
    bytes: Option<Bytes>,
}

impl Serialize for PageBuffer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bytes = self.bytes.as_deref().map(serde_bytes::Bytes::new);
        let size_bytes = self.size_bytes.get();
        WirePage { size_bytes, bytes }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PageBuffer {
    /// Refuses a page smaller than the smallest page, or whose bytes are not its size.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PageBuffer, D::Error> {
        use serde::de::Error;
        let wire = WirePage::<serde_bytes::ByteBuf>::deserialize(deserializer)?;
        let size_bytes = usize::try_from(wire.size_bytes).map_err(D::Error::custom)?;
        if size_bytes < crate::protocol::config::MIN_PAGE_SIZE_BYTES {
            return Err(D::Error::custom("a page smaller than the smallest page"));
        }
        let mut page = PageBuffer::zeroed(size_bytes);
        if let Some(bytes) = wire.bytes {
            if bytes.len() != size_bytes {
                return Err(D::Error::custom("a page whose bytes are not its size"));
            }
            page.bytes = Some(Arc::from(bytes.into_vec()));
        }
        Ok(page)
    }
}

impl fmt::Debug for PageBuffer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "Page({} bytes, value {})",
            self.size_bytes(),
            self.value()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_page_reads_zero_and_keeps_what_is_stored() {
        let mut page = PageBuffer::zeroed(16);
        assert_eq!(page.value(), 0);
        assert_eq!(page.bytes().len(), 16);
        page.store(42);
        assert_eq!(page.value(), 42);
        assert_eq!(page.bytes().len(), 16);
        assert_eq!(page.clone().value(), 42);
    }

    #[test]
    fn a_copy_shares_its_bytes_until_one_side_writes() {
        let mut page = PageBuffer::zeroed(4096);
        page.store(7);
        let mut copy = page.clone();
        let same_bytes = |a: &PageBuffer, b: &PageBuffer| match (&a.bytes, &b.bytes) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        assert!(same_bytes(&page, &copy));
        copy.store(8);
        assert!(!same_bytes(&page, &copy));
        assert_eq!((page.value(), copy.value()), (7, 8));
    }

    #[test]
    fn access_prints_like_the_reference() {
        assert_eq!(format!("{:<10}|", Access::Read), "Read      |");
        assert_eq!(Access::ReadWrite.to_string(), "ReadWrite");
    }
}
