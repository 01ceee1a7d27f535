//! Finding an interface by its MAC address, as the `netconsole=` option's `dev` may name it.
#![cfg(feature = "linux")]

use netpoll_core::MacAddr;
use netpoll_drivers::linux::InterfaceInfo;

#[test]
fn an_interface_is_found_by_its_mac() {
    let lo = InterfaceInfo::query("lo").expect("every namespace has lo");
    let found = InterfaceInfo::find_by_mac(lo.mac).unwrap();
    assert_eq!(found.mac, lo.mac);
    assert_eq!(found, InterfaceInfo::query(&found.name).unwrap());
}

#[test]
fn an_unknown_mac_is_one_clear_error() {
    let mac = MacAddr([0x02, 0x6e, 0x63, 0xde, 0xad, 0x01]);
    let err = InterfaceInfo::find_by_mac(mac).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.to_string(), "no interface with MAC address 02:6e:63:de:ad:01");
}
