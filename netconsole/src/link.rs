//! The link as a target needs it: carrier before anything is sent, and the next hop's MAC,
//! resolved when the target is enabled and asked again from the idle loop while nobody answers.

use embedded_hal::delay::DelayNs;
use netpoll_core::{NetPoll, NicEngine, ResolveError, ResolvePolicy};

use crate::console::{Engine, Netconsole, MAX_TARGETS};
use crate::storage::TargetStorage;
use crate::sysdata::SystemInfo;
use crate::target::{BroadcastReason, MacSource, Target};

/// Polls between two ARP requests for targets left on broadcast: one request per this many
/// [`Netconsole::poll`] calls at most, for one target at a time.
pub const RESOLVE_EVERY_POLLS: u32 = 1000;

/// Waits for carrier (bounded by `carrier_timeout_ms`), then finds where `target`'s frames go.
pub(crate) fn resolve<D: NetPoll, W: DelayNs, const U: usize>(
    np: &mut NicEngine<D, W>,
    target: &mut Target<U>,
    carrier_timeout_ms: u32,
    policy: ResolvePolicy,
) -> MacSource {
    let carrier = np.link_up() || np.wait_for_carrier(carrier_timeout_ms);
    let source = match target.endpoint.remote_mac {
        Some(mac) => MacSource::Configured(mac),
        None if !carrier => MacSource::Broadcast(BroadcastReason::NoCarrier),
        None => match np.resolve(&mut target.endpoint, policy) {
            Ok(mac) => MacSource::Resolved(mac),
            Err(ResolveError::NotIpv4) => MacSource::Broadcast(BroadcastReason::NotIpv4),
            Err(_) => MacSource::Broadcast(BroadcastReason::NoReply),
        },
    };
    target.retry_resolve = target.endpoint.remote_ip.is_ipv4()
        && matches!(
            source,
            MacSource::Broadcast(BroadcastReason::NoCarrier | BroadcastReason::NoReply)
        );
    source
}

impl<D, W, S, const U: usize, const B: usize, TS> Netconsole<D, W, S, U, B, TS>
where
    D: NetPoll,
    W: DelayNs,
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    /// For targets left on broadcast: takes the MAC an answer brought (and counts the switch),
    /// and every [`RESOLVE_EVERY_POLLS`] polls asks once more for the next target still waiting.
    pub(crate) fn retry_resolution(&self, engine: &mut Engine<D, W, U, B, TS>) {
        let Engine { nic, targets, polls_since_request, next_resolve, .. } = engine;
        let Some(np) = nic.as_mut() else { return };
        let slots = targets.slots_mut();
        let usable = slots.len().min(MAX_TARGETS);
        let mut waiting = false;
        for (i, slot) in slots[..usable].iter_mut().enumerate() {
            let Some(target) = slot else { continue };
            if !target.enabled || !target.retry_resolve {
                continue;
            }
            if np.learned_mac(&mut target.endpoint).is_some() {
                target.retry_resolve = false;
                self.shared.count_target(i, &|c| c.mac_switches += 1);
            } else {
                waiting = true;
            }
        }
        *polls_since_request = polls_since_request.saturating_add(1);
        if !waiting || *polls_since_request < RESOLVE_EVERY_POLLS {
            return;
        }
        *polls_since_request = 0;
        let start = *next_resolve % usable.max(1);
        for k in 0..usable {
            let i = (start + k) % usable;
            if let Some(target) = &slots[i] {
                if target.enabled && target.retry_resolve {
                    // Sent once, not retried: the next round asks again.
                    let _ = np.request_mac(&target.endpoint);
                    *next_resolve = i + 1;
                    return;
                }
            }
        }
    }
}
