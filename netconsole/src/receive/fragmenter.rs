//! Linux's `send_ext_msg_udp` (spec 3.3), for tests: what a kernel puts on the wire for one
//! extended record, so the receiver is tested against the sender's real framing.

/// Linux's `MAX_PRINT_CHUNK`: the most bytes in one datagram.
pub const MAX_PRINT_CHUNK: usize = 1000;

/// The datagrams for `msg` (`<header>;<body>`), with an optional release prefix and the
/// userdata and sysdata lines in `extradata`.
pub fn fragments(release: Option<&[u8]>, msg: &[u8], extradata: &[u8]) -> Vec<Vec<u8>> {
    let mut prefix = Vec::new();
    if let Some(release) = release {
        prefix.extend_from_slice(release);
        prefix.push(b',');
    }
    if prefix.len() + msg.len() + extradata.len() <= MAX_PRINT_CHUNK {
        return vec![[&prefix[..], msg, extradata].concat()];
    }
    let semicolon = msg.iter().position(|&b| b == b';').expect("a header ends with ';'");
    prefix.extend_from_slice(&msg[..semicolon]);
    let data = [&msg[semicolon + 1..], extradata].concat();
    let mut packets = Vec::new();
    let mut sent = 0;
    while sent < data.len() {
        let mut packet = prefix.clone();
        packet.extend_from_slice(format!(",ncfrag={sent}/{};", data.len()).as_bytes());
        let take = (data.len() - sent).min(MAX_PRINT_CHUNK - packet.len());
        packet.extend_from_slice(&data[sent..sent + take]);
        packets.push(packet);
        sent += take;
    }
    packets
}

/// One of the spec's worked examples.
pub struct Example {
    pub name: &'static str,
    pub release: Option<&'static [u8]>,
    /// `<header>;<body>`.
    pub msg: Vec<u8>,
    /// Userdata and sysdata lines.
    pub extra: Vec<u8>,
}

impl Example {
    /// The example's datagrams.
    pub fn fragments(&self) -> Vec<Vec<u8>> {
        fragments(self.release, &self.msg, &self.extra)
    }
}

/// The spec's worked examples A to E (table 3.3). Bodies are filler that ends in `\n`, as
/// printk's do.
pub fn examples() -> Vec<Example> {
    let msg = |header: &str, body_len: usize, fill: u8| {
        let mut msg = header.as_bytes().to_vec();
        msg.extend(std::iter::repeat_n(fill, body_len - 1));
        msg.push(b'\n');
        msg
    };
    let example = |name, release, msg, extra| Example { name, release, msg, extra };
    let sysdata = b" cpu=3\n taskname=echo\n release=6.18.0\n msgid=1\n";
    vec![
        example("A", None, msg("6,416,1758426,-;", 1500, b'a'), vec![]),
        example("B", None, msg("13,468,514729715,-;", 1135, b'b'), vec![]),
        example(
            "C",
            Some(&b"6.18.0"[..]),
            msg("6,1,100,-;", 990, b'z'),
            [&b" key=value\n"[..], sysdata].concat(),
        ),
        example("D", None, msg("6,1,100,-;", 990, b'd'), vec![]),
        example("E", None, msg("6,1,100,-;", 991, b'e'), vec![]),
    ]
}

#[test]
fn examples_match_the_spec_table() {
    let table: [(&str, &[(usize, &str)]); 5] = [
        (
            "A",
            &[(1000, "6,416,1758426,-,ncfrag=0/1500;"), (562, "6,416,1758426,-,ncfrag=970/1500;")],
        ),
        (
            "B",
            &[
                (1000, "13,468,514729715,-,ncfrag=0/1135;"),
                (203, "13,468,514729715,-,ncfrag=967/1135;"),
            ],
        ),
        (
            "C",
            &[
                (1000, "6.18.0,6,1,100,-,ncfrag=0/1048;"),
                (112, "6.18.0,6,1,100,-,ncfrag=969/1048;zz"),
            ],
        ),
        ("D", &[(1000, "6,1,100,-;")]),
        ("E", &[(1000, "6,1,100,-,ncfrag=0/991;"), (39, "6,1,100,-,ncfrag=977/991;")]),
    ];
    for (example, (name, want)) in examples().into_iter().zip(table) {
        assert_eq!(example.name, name);
        let packets = example.fragments();
        assert_eq!(packets.len(), want.len(), "{name}");
        for (packet, &(len, start)) in packets.iter().zip(want) {
            assert_eq!(packet.len(), len, "{name}");
            assert!(packet.starts_with(start.as_bytes()), "{name}");
        }
    }
    let c = examples()[2].fragments();
    assert!(c[1].ends_with(b"\n key=value\n cpu=3\n taskname=echo\n release=6.18.0\n msgid=1\n"));
}
