//! A message as the console handles it: raw console text for basic targets, or a record that
//! extended targets get whole and basic targets get as its text and a newline.

use crate::record::ExtendedRecord;

/// One console message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// Console text: basic targets only, split into raw chunks.
    Basic(&'a [u8]),
    /// A record: extended targets get it in the extended format, basic targets its text + `\n`.
    Record(ExtendedRecord<'a>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Basic = 0,
    Record = 1,
}

impl<'a> Message<'a> {
    /// Text, subsystem and device bytes.
    pub(crate) fn parts(&self) -> (&'a [u8], &'a [u8], &'a [u8]) {
        match *self {
            Message::Basic(text) => (text, &[], &[]),
            Message::Record(r) => {
                (r.text, r.subsystem.unwrap_or_default(), r.device.unwrap_or_default())
            }
        }
    }

    /// Bytes of message text, as counted when a message is dropped.
    pub(crate) fn text_len(&self) -> usize {
        match self {
            Message::Basic(text) => text.len(),
            Message::Record(r) => r.text.len(),
        }
    }
}
