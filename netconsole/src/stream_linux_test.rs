//! `for_each_packet` against `send_ext_msg_udp` as the spec writes it (section 3.3), computed
//! here with `format!` on the whole message: every datagram byte for byte, for streams whose
//! `ncfrag` offsets cross a digit (999 to 1000, 9999 to 10000) and headers of every width, the
//! widest (`u64::MAX` seq and timestamp, caller `T4294967295`, a 64-byte release) included.

use proptest::prelude::*;

use crate::record::{Caller, ExtendedRecord};
use crate::stream::{for_each_packet, DataStream};
use netpoll_core::wire::Payload;

/// The spec's algorithm on `prefix` (release and `,`, if any, then the header) and `data`.
fn linux(release: Option<&[u8]>, header: &[u8], data: &[u8]) -> Vec<Vec<u8>> {
    let mut prefix = Vec::new();
    if let Some(r) = release {
        prefix.extend_from_slice(r);
        prefix.push(b',');
    }
    prefix.extend_from_slice(header);
    if prefix.len() + 1 + data.len() <= 1000 {
        return vec![[&prefix[..], b";", data].concat()];
    }
    let mut packets = Vec::new();
    let mut sent = 0;
    while sent < data.len() {
        let mut pkt = prefix.clone();
        pkt.extend_from_slice(format!(",ncfrag={sent}/{};", data.len()).as_bytes());
        let take = (data.len() - sent).min(1000 - pkt.len());
        pkt.extend_from_slice(&data[sent..sent + take]);
        packets.push(pkt);
        sent += take;
    }
    packets
}

fn ours(release: Option<&[u8]>, record: &ExtendedRecord<'_>, sysdata: &[u8]) -> Vec<Vec<u8>> {
    let data = DataStream::new(record.text, record.subsystem, record.device, &[], sysdata);
    let header = record.header();
    let mut packets = Vec::new();
    let _ = for_each_packet::<()>(release, header.as_bytes(), &data, &mut |p| {
        let mut bytes = Vec::new();
        p.for_each_slice(&mut |s| bytes.extend_from_slice(s));
        assert_eq!(bytes.len(), p.len(), "a packet's length is its bytes");
        packets.push(bytes);
        Ok(())
    });
    packets
}

/// Stream lengths at and around the fragment count's and the offsets' digit changes.
fn text_len() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..3000, (980usize..1020), (9_900usize..10_100), (99_900usize..100_100),]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn packets_are_what_send_ext_msg_udp_sends(
        len in text_len(),
        seq in prop_oneof![Just(u64::MAX), any::<u64>(), 0u64..1000],
        timestamp_us in prop_oneof![Just(u64::MAX), any::<u64>()],
        caller in prop_oneof![Just(None), Just(Some(Caller::Task(u32::MAX))), any::<u32>().prop_map(|c| Some(Caller::Cpu(c)))],
        release in proptest::option::of("[a-z0-9.+-]{1,64}"),
        sysdata in "( [a-z]{1,8}=[a-z0-9]{0,20}\n){0,4}",
    ) {
        let text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let mut record = ExtendedRecord::new(7, seq, timestamp_us, &text);
        record.facility = 255;
        record.caller = caller;
        let release = release.as_deref().map(str::as_bytes);
        let header = record.header();
        let mut data = text.clone();
        data.push(b'\n');
        data.extend_from_slice(sysdata.as_bytes());
        prop_assert_eq!(ours(release, &record, sysdata.as_bytes()), linux(release, header.as_bytes(), &data));
    }
}

#[test]
fn the_widest_header_is_printk_s() {
    let mut record = ExtendedRecord::new(7, u64::MAX, u64::MAX, b"x");
    record.facility = 255;
    record.continuation = true;
    record.caller = Some(Caller::Task(u32::MAX));
    assert_eq!(
        record.header().as_bytes(),
        b"2047,18446744073709551615,18446744073709551615,c,caller=T4294967295"
    );
}
