//! One entry of the receiver's sender table.

use super::message::Stream;
use super::slot::Key;

/// How many finished records each sender remembers, to tell late fragments from new records.
const FINISHED: usize = 8;

/// One sender with state: something pending, or records recently handed out.
#[derive(Debug, Clone)]
pub struct Sender {
    pub stream: Stream,
    pub last_ms: u64,
    /// Slots it owns (lines and records).
    pub pending: usize,
    /// The slot holding its unfinished basic line.
    pub line: Option<usize>,
    /// Its last records handed out, oldest overwritten first.
    finished: [Option<Key>; FINISHED],
    next_finished: usize,
}

impl Sender {
    pub const fn new(stream: Stream, now_ms: u64) -> Self {
        Sender {
            stream,
            last_ms: now_ms,
            pending: 0,
            line: None,
            finished: [None; FINISHED],
            next_finished: 0,
        }
    }

    pub fn has_finished(&self, key: Key) -> bool {
        self.finished.contains(&Some(key))
    }

    pub fn remember(&mut self, key: Key) {
        if let Some(entry) = self.finished.get_mut(self.next_finished) {
            *entry = Some(key);
        }
        self.next_finished = (self.next_finished + 1) % FINISHED;
    }
}
