//! Userdata: `key=value` entries appended to every extended message of a target, as Linux's
//! configfs `userdata/<key>/value` (spec section 3.4), with Linux's limits as the maxima.

use core::fmt;

/// Longest key, as Linux's `MAX_EXTRADATA_NAME_LEN`.
pub const MAX_KEY_LEN: usize = 53;
/// Values must be shorter than this, as Linux's `MAX_EXTRADATA_VALUE_LEN` (`count >= 200` fails).
pub const MAX_VALUE_LEN: usize = 200;
/// Most entries a target may have, as Linux's `MAX_USERDATA_ITEMS`.
pub const MAX_ENTRIES: usize = 256;
/// Longest rendered entry: ` ` + key + `=` + value + `\n`.
const MAX_RENDERED: usize = 1 + MAX_KEY_LEN + 1 + (MAX_VALUE_LEN - 1) + 1;

/// Why a userdata entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UserdataError {
    /// The key is longer than [`MAX_KEY_LEN`] (Linux: `-ENAMETOOLONG`).
    KeyTooLong {
        /// Its length.
        len: usize,
    },
    /// The value is [`MAX_VALUE_LEN`] bytes or longer (Linux: `-EMSGSIZE`).
    ValueTooLong {
        /// Its length.
        len: usize,
    },
    /// No room for another entry (Linux: `-ENOSPC` at 256).
    Full {
        /// The capacity reached.
        capacity: usize,
    },
    /// The key is empty or holds a byte that would corrupt the ` key=value\n` line (`=`, a
    /// space, a control character).
    InvalidKey,
}

impl fmt::Display for UserdataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            UserdataError::KeyTooLong { len } => {
                write!(f, "userdata key of {len} bytes is longer than {MAX_KEY_LEN}")
            }
            UserdataError::ValueTooLong { len } => {
                write!(f, "userdata value of {len} bytes is not shorter than {MAX_VALUE_LEN}")
            }
            UserdataError::Full { capacity } => {
                write!(f, "userdata is full ({capacity} entries)")
            }
            UserdataError::InvalidKey => {
                f.write_str("userdata key is empty or contains '=', a space or a control byte")
            }
        }
    }
}

impl core::error::Error for UserdataError {}

/// One entry, kept rendered as it goes on the wire so a message only points at it.
#[derive(Debug, Clone)]
pub struct Entry {
    key_len: u8,
    /// ` key=value\n`, or just the key when the value is empty (Linux omits empty values).
    rendered: heapless::Vec<u8, MAX_RENDERED>,
}

impl Entry {
    fn key(&self) -> &[u8] {
        if self.has_value() {
            &self.rendered[1..1 + usize::from(self.key_len)]
        } else {
            &self.rendered
        }
    }

    fn has_value(&self) -> bool {
        self.rendered.first() == Some(&b' ')
    }

    /// What this entry adds to a message: ` key=value\n`, or nothing for an empty value.
    pub fn rendered(&self) -> &[u8] {
        if self.has_value() {
            &self.rendered
        } else {
            &[]
        }
    }

    /// The value (empty if none).
    pub fn value(&self) -> &[u8] {
        if self.has_value() {
            &self.rendered[2 + usize::from(self.key_len)..self.rendered.len() - 1]
        } else {
            &[]
        }
    }
}

/// Up to `N` userdata entries (at most [`MAX_ENTRIES`]), in the order they were created.
#[derive(Debug, Clone, Default)]
pub struct Userdata<const N: usize> {
    entries: heapless::Vec<Entry, N>,
}

impl<const N: usize> Userdata<N> {
    /// No entries.
    pub const fn new() -> Self {
        const { assert!(N <= MAX_ENTRIES, "Linux allows at most 256 userdata entries") };
        Userdata { entries: heapless::Vec::new() }
    }

    /// Sets `key` to `value`, creating the entry at the end if it is new. An empty value keeps
    /// the entry but sends nothing for it, as Linux does. One trailing `\n` of the value is
    /// dropped, as configfs drops it.
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), UserdataError> {
        if key.len() > MAX_KEY_LEN {
            return Err(UserdataError::KeyTooLong { len: key.len() });
        }
        if key.is_empty() || key.iter().any(|&b| b == b'=' || b <= b' ' || b == 0x7f) {
            return Err(UserdataError::InvalidKey);
        }
        if value.len() >= MAX_VALUE_LEN {
            return Err(UserdataError::ValueTooLong { len: value.len() });
        }
        let value = value.strip_suffix(b"\n").unwrap_or(value);
        let mut rendered = heapless::Vec::new();
        // Lengths were checked above, so these pushes fit MAX_RENDERED.
        if value.is_empty() {
            let _ = rendered.extend_from_slice(key);
        } else {
            let _ = rendered.push(b' ');
            let _ = rendered.extend_from_slice(key);
            let _ = rendered.push(b'=');
            let _ = rendered.extend_from_slice(value);
            let _ = rendered.push(b'\n');
        }
        let entry = Entry { key_len: key.len() as u8, rendered };
        match self.entries.iter_mut().find(|e| e.key() == key) {
            Some(existing) => *existing = entry,
            None => {
                self.entries.push(entry).map_err(|_| UserdataError::Full { capacity: N })?;
            }
        }
        Ok(())
    }

    /// Removes `key`; `false` if there was none.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        match self.entries.iter().position(|e| e.key() == key) {
            Some(i) => {
                self.entries.remove(i);
                true
            }
            None => false,
        }
    }

    /// The value of `key`, if the entry exists.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries.iter().find(|e| e.key() == key).map(Entry::value)
    }

    /// Number of entries (empty values included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Bytes the entries add to each message.
    pub fn wire_len(&self) -> usize {
        self.entries.iter().map(|e| e.rendered().len()).sum()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn wire<const N: usize>(u: &Userdata<N>) -> std::vec::Vec<u8> {
        u.entries().iter().flat_map(|e| e.rendered().iter().copied()).collect()
    }

    #[test]
    fn renders_in_creation_order_and_omits_empty_values() {
        let mut u: Userdata<4> = Userdata::new();
        u.set(b"key", b"value").unwrap();
        u.set(b"empty", b"").unwrap();
        u.set(b"host", b"db1\n").unwrap();
        assert_eq!(wire(&u), b" key=value\n host=db1\n");
        u.set(b"key", b"v2").unwrap();
        assert_eq!(wire(&u), b" key=v2\n host=db1\n");
        assert_eq!(u.get(b"empty"), Some(&b""[..]));
        assert_eq!(u.get(b"host"), Some(&b"db1"[..]));
        assert!(u.remove(b"key"));
        assert!(!u.remove(b"key"));
        assert_eq!(wire(&u), b" host=db1\n");
        assert_eq!(u.wire_len(), 10);
    }

    #[test]
    fn linux_limits() {
        let mut u: Userdata<256> = Userdata::new();
        for i in 0..256 {
            u.set(format!("key{}", i + 1).as_bytes(), b"v").unwrap();
        }
        assert_eq!(u.set(b"key257", b"v"), Err(UserdataError::Full { capacity: 256 }));
        let mut u: Userdata<2> = Userdata::new();
        assert_eq!(u.set(&[b'k'; 54], b"v"), Err(UserdataError::KeyTooLong { len: 54 }));
        assert!(u.set(&[b'k'; 53], &[b'v'; 199]).is_ok());
        assert_eq!(u.set(b"k", &[b'v'; 200]), Err(UserdataError::ValueTooLong { len: 200 }));
        for bad in [&b""[..], b"a=b", b"a b", b"a\nb"] {
            assert_eq!(u.set(bad, b"v"), Err(UserdataError::InvalidKey));
        }
        assert_eq!(u.entries()[0].rendered().len(), 1 + 53 + 1 + 199 + 1);
    }
}
