//! Why a console operation was refused.

/// Why a console operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConsoleError {
    /// A write holds the console (this was called from inside one, or from an interrupt).
    Busy,
    /// No NIC attached.
    NoNic,
    /// No room for another target.
    TooManyTargets,
    /// No target at this index.
    NoSuchTarget,
    /// `release` set without `extended`.
    ReleaseWithoutExtended,
    /// An extended target (`+`), in a build without netconsole's `extended` feature: it would
    /// get nothing, so it is never added or enabled.
    ExtendedNotBuilt,
    /// The target is enabled already (Linux: "network logging has already started").
    AlreadyEnabled,
    /// The change touches an enabled target's format (`extended`, `release`), addresses or
    /// ports, which Linux refuses too: disable it first. The target was left as it was.
    TargetEnabled,
}

/// What both error types say of an extended target in a build without the format.
pub(crate) const EXTENDED_NOT_BUILT: &str =
    "extended format (+) not built in: enable netconsole's `extended` feature";

impl ConsoleError {
    /// The words its `Display` writes, for a firmware that would rather not link `core::fmt`
    /// (its machinery costs more flash than the whole console on a small core).
    pub const fn as_str(&self) -> &'static str {
        match self {
            ConsoleError::Busy => "console busy (called from inside a write)",
            ConsoleError::NoNic => "no NIC attached",
            ConsoleError::TooManyTargets => "no room for another target",
            ConsoleError::NoSuchTarget => "no such target",
            ConsoleError::ReleaseWithoutExtended => "Release feature requires extended log message",
            ConsoleError::ExtendedNotBuilt => EXTENDED_NOT_BUILT,
            ConsoleError::AlreadyEnabled => "network logging has already started",
            ConsoleError::TargetEnabled => "target is enabled, disable to update parameters",
        }
    }
}

impl core::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for ConsoleError {}
