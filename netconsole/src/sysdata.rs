//! Sysdata: the ` cpu=`, ` taskname=`, ` release=` and ` msgid=` lines Linux appends to extended
//! messages (spec section 3.4). There is no kernel to ask, so the values come from the
//! firmware through [`SystemInfo`].

use crate::decimal::Decimal;

/// Longest task name sent, as Linux's `TASK_COMM_LEN - 1`.
pub const MAX_TASK_NAME_LEN: usize = 15;
/// Longest release string sent, as Linux's `__NEW_UTS_LEN`.
pub const MAX_RELEASE_LEN: usize = 64;

/// What the firmware knows that Linux would take from the kernel: the clock, the CPU, the task,
/// the release. Every method has a default, so a unit struct is a valid implementation.
pub trait SystemInfo {
    /// Microseconds since boot, for records made by the console itself.
    fn timestamp_us(&self) -> u64 {
        0
    }
    /// The CPU the writer runs on.
    fn cpu(&self) -> u32 {
        0
    }
    /// The writer's task name; cut to [`MAX_TASK_NAME_LEN`] bytes.
    fn task_name(&self) -> &str {
        ""
    }
    /// The firmware release, for the `r` prefix and the `release=` line; cut to
    /// [`MAX_RELEASE_LEN`] bytes.
    fn release(&self) -> &str {
        ""
    }
}

/// No clock, CPU 0, no task name, no release.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSystemInfo;

impl SystemInfo for NoSystemInfo {}

/// Which sysdata lines a target sends; all off by default, as in Linux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sysdata {
    /// ` cpu=<n>`
    pub cpu: bool,
    /// ` taskname=<name>`
    pub taskname: bool,
    /// ` release=<release>` (independent of the `r` prefix; both may appear)
    pub release: bool,
    /// ` msgid=<n>`: a per-target counter, 1 for the first message
    pub msgid: bool,
}

impl Sysdata {
    /// Every line on.
    pub const ALL: Sysdata = Sysdata { cpu: true, taskname: true, release: true, msgid: true };
}

/// Rendered sysdata of one message: at most 16 + 26 + 74 + 18 bytes.
pub(crate) type Rendered = heapless::Vec<u8, 160>;

/// Cuts `s` to at most `max` bytes.
pub(crate) fn cut(s: &str, max: usize) -> &[u8] {
    &s.as_bytes()[..s.len().min(max)]
}

/// Renders the enabled lines, in Linux's order: cpu, taskname, release, msgid.
pub(crate) fn render(fields: Sysdata, info: &dyn SystemInfo, msgid: u32) -> Rendered {
    let mut out = Rendered::new();
    let mut line = |key: &str, value: &[u8]| {
        // The sizes are bounded above; a push that did not fit would only shorten the line.
        let _ = out.push(b' ');
        let _ = out.extend_from_slice(key.as_bytes());
        let _ = out.push(b'=');
        let _ = out.extend_from_slice(value);
        let _ = out.push(b'\n');
    };
    // Digits by hand, not `write!`: see the `decimal` module.
    if fields.cpu {
        line("cpu", Decimal::new(info.cpu().into()).as_bytes());
    }
    if fields.taskname {
        line("taskname", cut(info.task_name(), MAX_TASK_NAME_LEN));
    }
    if fields.release {
        line("release", cut(info.release(), MAX_RELEASE_LEN));
    }
    if fields.msgid {
        line("msgid", Decimal::new(msgid.into()).as_bytes());
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    struct Info;
    impl SystemInfo for Info {
        fn cpu(&self) -> u32 {
            3
        }
        fn task_name(&self) -> &str {
            "a-very-long-task-name"
        }
        fn release(&self) -> &str {
            "6.18.0"
        }
    }

    #[test]
    fn renders_in_linux_order() {
        assert_eq!(
            render(Sysdata::ALL, &Info, 1).as_slice(),
            b" cpu=3\n taskname=a-very-long-tas\n release=6.18.0\n msgid=1\n"
        );
        assert_eq!(render(Sysdata::default(), &Info, 1).as_slice(), b"");
        let only = Sysdata { msgid: true, ..Sysdata::default() };
        assert_eq!(render(only, &Info, u32::MAX).as_slice(), b" msgid=4294967295\n");
    }

    #[test]
    fn worst_case_fits() {
        struct Big;
        impl SystemInfo for Big {
            fn cpu(&self) -> u32 {
                u32::MAX
            }
            fn task_name(&self) -> &str {
                "tttttttttttttttttttttttttttttttttttttttt"
            }
            fn release(&self) -> &str {
                "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
            }
        }
        let r = render(Sysdata::ALL, &Big, u32::MAX);
        assert!(r.ends_with(b" msgid=4294967295\n"));
        assert_eq!(r.len(), 16 + 26 + 74 + 18);
    }
}
