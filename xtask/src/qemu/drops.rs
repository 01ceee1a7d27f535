//! The host's count of UDP datagrams dropped for a full socket receive buffer
//! (`RcvbufErrors` in `/proc/net/snmp`, `Udp6RcvbufErrors` in `/proc/net/snmp6`): when a
//! throughput run misses records, it tells the listener's losses from the firmware's.
//! Machine-wide counters: another job's drops count too, so the xtask only reports them.

/// Both counters, or `None` where they cannot be read (not Linux, no procfs).
pub fn rcvbuf_errors() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let snmp6 = std::fs::read_to_string("/proc/net/snmp6").unwrap_or_default();
    Some(udp_rcvbuf_errors(&snmp)? + udp6_rcvbuf_errors(&snmp6).unwrap_or(0))
}

/// `RcvbufErrors` of the `Udp:` table: a header line of names, then a line of values.
fn udp_rcvbuf_errors(snmp: &str) -> Option<u64> {
    let mut rows = snmp.lines().filter(|l| l.starts_with("Udp: "));
    let names = rows.next()?.split_whitespace();
    let values = rows.next()?.split_whitespace();
    names.zip(values).find(|(n, _)| *n == "RcvbufErrors").and_then(|(_, v)| v.parse().ok())
}

/// `Udp6RcvbufErrors`: one `name value` line.
fn udp6_rcvbuf_errors(snmp6: &str) -> Option<u64> {
    snmp6.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        (f.next()? == "Udp6RcvbufErrors").then(|| f.next()?.parse().ok())?
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn reads_both_tables() {
        let snmp = "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
                    Udp: 15 2 7 20 5 0\n\
                    UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
                    UdpLite: 0 0 0 0 9 0\n";
        assert_eq!(udp_rcvbuf_errors(snmp), Some(5));
        assert_eq!(udp6_rcvbuf_errors("Udp6InErrors 3\nUdp6RcvbufErrors   71\n"), Some(71));
        assert_eq!(udp6_rcvbuf_errors("Udp6InErrors 3\n"), None);
        assert_eq!(udp_rcvbuf_errors("Ip: 1 2\n"), None);
    }
}
