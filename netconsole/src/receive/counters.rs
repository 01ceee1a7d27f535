//! What a receiver tells its caller about what it dropped: counters, and a per-datagram error.

use core::fmt;

use super::datagram::Malformed;
#[cfg(doc)]
use super::{Message, Receiver};

/// What the receiver has done. Plain integers: read them as a snapshot.
///
/// Every datagram lands in exactly one of `basic`, `extended`, `fragments`, `duplicates`,
/// `late`, `malformed` and the four `refused_*`, so those add up to `datagrams`
/// ([`Counters::accounted`]); and `messages` is `complete + incomplete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Datagrams handed to [`Receiver::receive`].
    pub datagrams: u64,
    /// Basic datagrams (console text) taken.
    pub basic: u64,
    /// Extended records that came whole, in one datagram.
    pub extended: u64,
    /// `ncfrag` fragments that brought new bytes.
    pub fragments: u64,
    /// Fragments whose bytes had all arrived already, and whole records the sender had sent
    /// already (same sequence number, timestamp and length).
    pub duplicates: u64,
    /// Fragments of a record already handed out (complete, or incomplete at its timeout).
    pub late: u64,
    /// Datagrams refused as malformed.
    pub malformed: u64,
    /// Fragments refused because every sender entry had something pending.
    pub refused_senders: u64,
    /// Fragments refused because their sender had `pending_per_sender` messages waiting.
    pub refused_pending: u64,
    /// Fragments refused because every slot was in use.
    pub refused_slots: u64,
    /// Fragments refused because their record had too many gaps to track.
    pub refused_runs: u64,
    /// Messages handed out.
    pub messages: u64,
    /// Messages handed out with every byte.
    pub complete: u64,
    /// Messages handed out with bytes missing.
    pub incomplete: u64,
    /// Records longer than the slot buffer, handed out cut (incomplete).
    pub truncated: u64,
    /// Pieces of basic lines longer than the slot buffer, handed out whole but split (each
    /// marked [`Message::continues`]); nothing is lost.
    pub split: u64,
    /// Basic line starts handed out at once, unjoined with what follows, because a cap left no
    /// slot to hold them.
    pub unjoined: u64,
    /// Extended records that never arrived, by their senders' sequence numbers: gaps found
    /// when the record after them went out ([`Message::missing_before`]), less those filled by
    /// a record arriving late, within the fragment timeout. Lost in transit (or in a socket
    /// buffer), or never sent: a kernel sends a record only to consoles whose log level lets
    /// it through, so a target with a lower level than the log sees gaps in the numbering.
    pub missing: u64,
    /// Senders whose sequence went back to 0 or far back: a restart, not a gap.
    pub restarts: u64,
    /// Sender entries given to another sender while they still remembered records: duplicate
    /// detection and gap counting start afresh for the one forgotten.
    pub forgotten: u64,
}

impl Counters {
    /// The sum of the per-datagram outcomes; always equal to `datagrams`.
    pub fn accounted(&self) -> u64 {
        self.basic
            + self.extended
            + self.fragments
            + self.duplicates
            + self.late
            + self.malformed
            + self.refused_senders
            + self.refused_pending
            + self.refused_slots
            + self.refused_runs
    }
}

/// Why [`Receiver::receive`] dropped a datagram. `Display` gives a one-line reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// The datagram is not something a netconsole sender writes.
    Malformed(Malformed),
    /// A fragment from a new sender, and every sender entry has something pending.
    TooManySenders,
    /// A fragment of a new record, and its sender has `pending_per_sender` messages waiting.
    TooManyPending,
    /// A fragment of a new record, and every slot is in use.
    NoFreeSlot,
    /// A fragment that would leave its record with more gaps than can be tracked.
    TooManyRuns,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(why) => write!(f, "malformed: {why}"),
            Error::TooManySenders => f.write_str("too many senders with messages pending"),
            Error::TooManyPending => f.write_str("too many messages pending from this sender"),
            Error::NoFreeSlot => f.write_str("no free reassembly slot"),
            Error::TooManyRuns => f.write_str("fragment leaves too many gaps in its message"),
        }
    }
}

impl From<Malformed> for Error {
    fn from(why: Malformed) -> Self {
        Error::Malformed(why)
    }
}
