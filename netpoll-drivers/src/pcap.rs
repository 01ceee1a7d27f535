//! A pcap capture file as a NIC (feature `pcap`, std): every frame sent is appended to the file,
//! for Wireshark, tshark or tcpdump to read.
//!
//! The format is the classic libpcap one: a 24-byte file header (magic `0xa1b2c3d4`, version
//! 2.4, microsecond timestamps, snap length 65535, link type 1 = Ethernet) and, per frame, a
//! 16-byte record header (seconds, microseconds, captured length, original length) followed by
//! the frame, all little-endian. The frame is recorded as it would go on the wire: padded to 60
//! bytes, without FCS.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use netpoll_core::wire::ethernet::MIN_FRAME_LEN;
use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

/// The MAC a [`PcapWriter`] sends from unless told otherwise: locally administered, unicast.
pub const DEFAULT_PCAP_MAC: MacAddr = MacAddr([0x02, 0x6e, 0x63, 0x00, 0x00, 0x02]);

/// Length of the pcap file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a pcap record header.
pub const RECORD_HEADER_LEN: usize = 16;
/// `LINKTYPE_ETHERNET`.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// The snap length the header announces: no frame is cut.
pub const SNAPLEN: u32 = 65_535;

/// The 24-byte file header: microsecond timestamps, Ethernet.
pub fn file_header() -> [u8; FILE_HEADER_LEN] {
    let mut h = [0u8; FILE_HEADER_LEN];
    h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version major
    h[6..8].copy_from_slice(&4u16.to_le_bytes()); // version minor
                                                  // thiszone (8..12) and sigfigs (12..16) stay 0.
    h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
    h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    h
}

/// What the writer has done since it was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Frames written to the file.
    pub frames_written: u64,
    /// Bytes of those frames, padding included (record headers excluded).
    pub bytes_written: u64,
    /// Frames lost to a write error (see [`PcapWriter::last_error`]).
    pub write_errors: u64,
}

/// A NIC that writes every frame it is given to a pcap file.
///
/// Each frame is written with one `write` of its record header and bytes, straight to the file
/// (no user-space buffer): once `xmit_with` returns, the frame is in the kernel's hands and
/// survives the process crashing (not the machine: there is no `fsync`; see
/// [`sync`](PcapWriter::sync)). A write that fails is undone by truncating the file back to the
/// last whole record, so the file stays readable, and the frame is counted as lost
/// ([`XmitError::Dropped`]).
///
/// The link is always up, a frame is never refused as `Busy`, and `poll` receives nothing.
///
/// ```no_run
/// use netpoll_core::{Endpoint, NicEngine};
/// use netpoll_drivers::pcap::PcapWriter;
///
/// let mut netpoll = NicEngine::new(PcapWriter::create("out.pcap")?);
/// let target = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
/// netpoll.send_udp(&target, &[b"hello\n"]).expect("written");
/// // tshark -r out.pcap
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct PcapWriter {
    file: File,
    path: PathBuf,
    mac: MacAddr,
    /// Bytes of the file that hold whole records: where a failed write is truncated back to.
    committed: u64,
    /// Record header followed by the frame slot.
    record: Box<[u8; RECORD_HEADER_LEN + MAX_FRAME_LEN]>,
    counters: Counters,
    last_error: Option<io::ErrorKind>,
}

impl PcapWriter {
    /// Creates the file at `path` (replacing one that is there, as `tcpdump -w` does) and
    /// writes the pcap header.
    ///
    /// Errors are one line that names the path, e.g. `cannot create pcap file
    /// '/nonexistent/out.pcap': No such file or directory (os error 2)`. If the header cannot be
    /// written, the regular file just created is removed, so no partial file is left behind
    /// (something that is not a regular file, such as `/dev/full`, is left alone).
    pub fn create(path: impl AsRef<Path>) -> io::Result<PcapWriter> {
        let path = path.as_ref();
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| with_path(e, "cannot create pcap file", path))?;
        if let Err(e) = file.write_all(&file_header()) {
            let is_regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
            drop(file);
            if is_regular {
                let _ = fs::remove_file(path);
            }
            return Err(with_path(e, "cannot write the pcap header to", path));
        }
        Ok(PcapWriter {
            file,
            path: path.to_owned(),
            mac: DEFAULT_PCAP_MAC,
            committed: FILE_HEADER_LEN as u64,
            record: Box::new([0; RECORD_HEADER_LEN + MAX_FRAME_LEN]),
            counters: Counters::default(),
            last_error: None,
        })
    }

    /// The same writer, with `mac` as the NIC's own (the source of the frames built on it).
    pub fn with_mac(mut self, mac: MacAddr) -> PcapWriter {
        self.mac = mac;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A snapshot of what the writer has done.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The kind of the last write error, if a frame was lost.
    pub fn last_error(&self) -> Option<io::ErrorKind> {
        self.last_error
    }

    /// Flushes the file to the disk (`fsync`), for when the machine may go down.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }

    /// Writes the record in `self.record[..n]`; on failure, truncates back to the last record.
    fn append(&mut self, n: usize) -> io::Result<()> {
        match self.file.write_all(&self.record[..n]) {
            Ok(()) => {
                self.committed += n as u64;
                Ok(())
            }
            Err(e) => {
                // Part of the record may be in the file: cut it, and write the next record
                // where this one began. (A pipe or a device cannot be cut or sought; what is
                // written there stays.)
                if self.file.set_len(self.committed).is_ok() {
                    let _ = self.file.seek(io::SeekFrom::Start(self.committed));
                }
                Err(e)
            }
        }
    }
}

impl std::fmt::Debug for PcapWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapWriter")
            .field("path", &self.path)
            .field("mac", &self.mac)
            .field("committed", &self.committed)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// `error` with what was being done and to which path in front, keeping its kind.
fn with_path(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} '{}': {error}", path.display()))
}

impl NetPoll for PcapWriter {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        true
    }

    fn refresh_link(&mut self) -> bool {
        true
    }

    /// Nothing to reclaim: a frame is in the file once `xmit_with` returns.
    fn reclaim_tx(&mut self) {}

    fn tx_in_flight(&self) -> usize {
        0
    }

    /// A file receives nothing.
    fn receive(&mut self, _budget: usize, _rx: &mut dyn FnMut(&[u8])) -> usize {
        0
    }

    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        if len > MAX_FRAME_LEN {
            return Err(XmitError::TooLong { len, max: MAX_FRAME_LEN });
        }
        let wire_len = len.max(MIN_FRAME_LEN);
        let (header, frame) = self.record.split_at_mut(RECORD_HEADER_LEN);
        fill(&mut frame[..len]);
        frame[len..wire_len].fill(0);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        // Classic pcap has 32-bit seconds: good until 2106.
        header[0..4].copy_from_slice(&(now.as_secs() as u32).to_le_bytes());
        header[4..8].copy_from_slice(&now.subsec_micros().to_le_bytes());
        header[8..12].copy_from_slice(&(wire_len as u32).to_le_bytes());
        header[12..16].copy_from_slice(&(wire_len as u32).to_le_bytes());
        match self.append(RECORD_HEADER_LEN + wire_len) {
            Ok(()) => {
                self.counters.frames_written += 1;
                self.counters.bytes_written += wire_len as u64;
                Ok(())
            }
            Err(e) => {
                self.last_error = Some(e.kind());
                self.counters.write_errors += 1;
                Err(XmitError::Dropped)
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("netpoll-pcap-{}-{name}", std::process::id()))
    }

    #[test]
    fn header_is_classic_pcap_ethernet() {
        let h = file_header();
        assert_eq!(&h[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&h[4..8], &[2, 0, 4, 0]);
        assert_eq!(&h[16..20], &65_535u32.to_le_bytes());
        assert_eq!(&h[20..24], &[1, 0, 0, 0]);
    }

    #[test]
    fn records_are_padded_and_framed() {
        let path = temp_path("records");
        let mut w = PcapWriter::create(&path).expect("create");
        w.xmit_with(42, &mut |s: &mut [u8]| s.fill(0xab)).expect("short frame");
        w.xmit_raw(&[0xcd; 1514]).expect("full frame");
        assert_eq!(w.xmit_raw(&[0; 1515]), Err(XmitError::TooLong { len: 1515, max: 1514 }));
        assert_eq!(w.counters().frames_written, 2);
        drop(w);
        let bytes = fs::read(&path).expect("read back");
        fs::remove_file(&path).expect("remove");
        assert_eq!(bytes.len(), 24 + 16 + 60 + 16 + 1514);
        let rec = &bytes[24..];
        assert_eq!(&rec[8..16], &[60, 0, 0, 0, 60, 0, 0, 0]);
        assert!(rec[16..16 + 42].iter().all(|&b| b == 0xab));
        assert!(rec[16 + 42..16 + 60].iter().all(|&b| b == 0));
        let rec = &rec[16 + 60..];
        assert_eq!(&rec[8..16], &[0xea, 5, 0, 0, 0xea, 5, 0, 0]);
        assert!(rec[16..].iter().all(|&b| b == 0xcd));
    }

    #[test]
    fn replaces_an_existing_file() {
        let path = temp_path("replace");
        fs::write(&path, [0xff; 1000]).expect("old file");
        let w = PcapWriter::create(&path).expect("create");
        drop(w);
        let bytes = fs::read(&path).expect("read back");
        fs::remove_file(&path).expect("remove");
        assert_eq!(bytes, file_header());
    }
}
