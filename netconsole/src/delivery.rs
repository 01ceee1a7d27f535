//! The write path: who sends, in which order, and for how long.
//!
//! A write takes the console with a try-lock. If it cannot (it came from inside the driver, an
//! interrupt, a fault or panic handler), it appends its message to the backlog and returns. If it
//! can, it sends the backlog in order, then its own message (appended to the backlog first when
//! something waits, so it keeps its place; with no room there, sent as soon as what was written
//! before it is out), then again what nested writes added meanwhile, until the backlog is
//! empty, the NIC stops taking frames (a datagram's retry budget ran out) or the call's byte
//! budget is spent. After letting go it looks once more, since a nested write may have
//! added a message between its last look and the release, and takes the console again if so.
//!
//! The budget is in bytes of backlog entries, kept by the call itself: what waited when it began
//! plus one backlog's worth. Nested writes add to the backlog, never to the budget, so a driver
//! that logs on every transmit cannot keep one write busy forever.

use embedded_hal::delay::DelayNs;
use netpoll_core::{NetPoll, NicEngine, SendError};

use crate::backlog::{self, Extras, Resume, Resumes};
use crate::console::{Engine, Netconsole, DEFAULT_LEVEL, MAX_TARGETS};
use crate::counters::TargetCounters;
use crate::framing;
use crate::message::Message;
use crate::record::ExtendedRecord;
use crate::state::Routing;
use crate::storage::TargetStorage;
use crate::sysdata::{self, SystemInfo, MAX_RELEASE_LEN};

/// What one call may still do.
pub(crate) struct Run {
    /// Bytes of backlog entries it may still send.
    left: usize,
    /// The NIC stopped taking frames, the backlog was refused, or nothing can be sent yet.
    stop: bool,
}

/// How a message went to the targets it was owed to.
enum Delivered<'r> {
    /// Every target got it, or lost it for a counted reason.
    Done,
    /// A datagram's retry budget ran out: the NIC takes no more for now.
    Stuck(Stuck<'r>),
}

/// Where a message stopped.
struct Stuck<'r> {
    /// The targets still owed it: the one it stopped for, and those not reached yet.
    mask: u32,
    /// The slot it stopped for.
    index: usize,
    /// Bytes of that target's copy done.
    offset: u32,
    /// The release that copy's cut points were computed with.
    release: &'r [u8],
}

fn bit(index: usize) -> u32 {
    1u32.checked_shl(index as u32).unwrap_or(0)
}

impl<D, W, S, const U: usize, const B: usize, TS> Netconsole<D, W, S, U, B, TS>
where
    D: NetPoll,
    W: DelayNs,
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    /// A fresh budget: what waits now plus one backlog's worth.
    pub(crate) fn run(&self) -> Run {
        Run { left: self.shared.used() + B, stop: false }
    }

    /// Sends or defers a message counted and routed by [`Shared::admit`](crate::state::Shared::admit).
    pub(crate) fn submit(&self, message: Message<'_>, routing: Routing, panicking: bool) {
        let mask = routing.mask();
        if mask == 0 {
            self.shared.count(&|c| c.messages += 1);
            return; // every target is disabled: it goes nowhere, as in Linux
        }
        // The lock and the first look at the backlog (which counts the message) in one
        // critical section.
        let look = self.engine.try_lock_and(|cs| {
            self.shared.backlog_counting_in(cs, true, |b| (b.entries(), b.used(), b.appended()))
        });
        let Some((mut engine, look)) = look else {
            // Re-entered, or another core holds the console: never wait for it.
            let kept = self.shared.defer(&message, mask, true, None);
            // On another core the holder may have let go between our try and the deferral,
            // having found the backlog empty: look once more, or the message would wait for the
            // next write. Nested on one core, the holder still holds and this returns at once.
            self.settle(&mut self.run());
            if kept && panicking && self.shared.waiting() > 0 {
                self.shared.count(&|c| c.stranded += 1);
            }
            return;
        };
        let Some((waiting, used, appended)) = look else {
            self.shared.count(&|c| c.refused.add(message.text_len()));
            return;
        };
        let mut run = Run { left: used + B, stop: false };
        let mut queued = false;
        let ready = self.ready(&engine.nic, routing.ever_enabled);
        if waiting > 0 || !ready {
            // Behind what waits, in its place (ahead of what an interrupt or another core added
            // since the look, as when it is kept after a full ring below); with no room it goes
            // straight to the NIC once what waits is out (or, if nothing can be sent yet, is
            // dropped and counted below).
            if self.shared.push(&message, mask, false, Some(appended)) == Some(true) {
                queued = true;
            } else if !ready {
                run.stop = true;
            }
        }
        // Entries written before the own message: it goes right after them, before anything a
        // nested write adds meanwhile.
        let own = (!queued).then_some((&message, mask));
        let ahead = if queued { 0 } else { waiting };
        if !self.drain(&mut engine, &mut run, own, ahead) && !queued {
            // Ahead of what writes nested in this one added, as it would have gone out.
            self.shared.defer(&message, mask, false, Some(appended));
        }
        // Let go, looking at the backlog in the same critical section: a nested write may have
        // added to it since the last look.
        if engine.release_and(|cs| self.shared.waiting_in(cs)) > 0 {
            self.settle(&mut run);
        }
    }

    /// Whether anything can be sent: a NIC, and a target enabled at least once (until then
    /// messages wait for it). A target once enabled stays so: `enabled_before`, from the
    /// routing a message was made with, may say so already and spare a look.
    fn ready(&self, nic: &Option<NicEngine<D, W>>, enabled_before: bool) -> bool {
        nic.is_some() && (enabled_before || self.shared.routing().ever_enabled)
    }

    /// `message` as the targets owed it get it: console text whose owed targets are all
    /// extended (console text written before they were enabled, say) becomes a record at the
    /// default level, numbered now, as [`write`](Self::write) makes it when it can tell.
    fn for_targets<'m>(&self, targets: &TS, message: &Message<'m>, mask: u32) -> Message<'m> {
        let Message::Basic(text) = *message else { return *message };
        if !crate::EXTENDED {
            return *message;
        }
        let mut extended = false;
        for (i, slot) in targets.slots().iter().enumerate().take(MAX_TARGETS) {
            match slot {
                Some(t) if t.enabled && mask & bit(i) != 0 => {
                    if !t.extended {
                        return *message;
                    }
                    extended = true;
                }
                _ => {}
            }
        }
        if !extended {
            return *message;
        }
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let seq = self.shared.next_seq();
        let record = ExtendedRecord::new(DEFAULT_LEVEL, seq, self.info.timestamp_us(), text);
        Message::Record(record)
    }

    /// With the console let go: takes it again and sends while messages wait and the run may.
    pub(crate) fn settle(&self, run: &mut Run) {
        while !run.stop && self.shared.waiting() > 0 {
            let Some(mut engine) = self.engine.try_lock() else { return };
            self.drain(&mut engine, run, None, 0);
        }
    }

    /// Sends the `ahead` entries written before `own`, then `own`, then what nested writes
    /// added, until the backlog is empty or the run stops. `true` if `own` was sent (or kept
    /// where it stopped); else the caller keeps it. By reference: a message is not copied into
    /// an `Option` and out again. A backlog entry and the own message go out through one call.
    fn drain(
        &self,
        engine: &mut Engine<D, W, U, B, TS>,
        run: &mut Run,
        own: Option<(&Message<'_>, u32)>,
        mut ahead: usize,
    ) -> bool {
        let Engine { nic, targets, order, scratch, .. } = engine;
        while !run.stop {
            let decoded;
            // `submit` gives an own message only when the console is ready, which stays so
            // while it is held.
            let (message, mask, resumes, replace) = match own {
                Some((message, mask)) if ahead == 0 => (message, mask, Resumes::NONE, false),
                _ => {
                    if !self.ready(nic, false) {
                        run.stop = true;
                        return false;
                    }
                    let Some(front) = self.shared.backlog(|b| b.copy_front(scratch)) else {
                        run.stop = true;
                        return false;
                    };
                    let Some(mask) = front else {
                        // Nothing waits: the own message is next, if any.
                        if own.is_none() {
                            return false;
                        }
                        ahead = 0;
                        continue;
                    };
                    if scratch.len() > run.left {
                        run.stop = true;
                        return false;
                    }
                    run.left -= scratch.len();
                    ahead = ahead.saturating_sub(1);
                    let Some((message, resumes)) = backlog::decode(scratch) else {
                        // Cannot happen: the backlog wrote it. Drop the entry rather than loop.
                        self.shared.backlog(|b| b.pop_front());
                        continue;
                    };
                    decoded = message;
                    (&decoded, mask, resumes, true)
                }
            };
            let Some(np) = nic.as_mut() else { return false };
            let message = self.for_targets(targets, message, mask);
            let done = self.deliver(np, targets, order, &message, mask, resumes, replace);
            run.stop |= !done;
            if !replace {
                // What nested writes added meanwhile is left to `settle`, which looks after
                // letting go anyway: one look at the backlog per message instead of two.
                return true;
            }
            if done {
                self.shared.backlog(|b| b.pop_front());
            }
        }
        false
    }

    /// Keeps a message that stopped partway at the front of the backlog (in place of the entry it
    /// came from, if `replace`), with where it stopped for each target still owed it. If there is
    /// no room it is dropped and counted as `ring_stuck` for each of them. `sysdata` is that
    /// copy's, when it was rendered by this try (its first).
    #[allow(clippy::too_many_arguments)]
    fn keep_stuck(
        &self,
        targets: &TS,
        message: &Message<'_>,
        stuck: &Stuck<'_>,
        sysdata: Option<&sysdata::Rendered>,
        old: Resumes<'_>,
        replace: bool,
    ) {
        let target = targets.slots().get(stuck.index).and_then(Option::as_ref);
        let extras = match (sysdata, target) {
            // Rendered by an extended copy only.
            (Some(sysdata), Some(t)) if crate::EXTENDED => {
                Some(Extras::Live { userdata: t.userdata.entries(), sysdata })
            }
            // A basic copy's record has no extras, and one resumed stops past where it began.
            _ if crate::EXTENDED => old.find(stuck.index).map(|r| r.extras),
            _ => None,
        };
        let stopped = (stuck.offset > 0 || extras.is_some()).then(|| Resume {
            index: stuck.index as u8,
            offset: stuck.offset,
            extras: extras.unwrap_or(Extras::Frozen(&[])),
            release: stuck.release,
        });
        let kept = self.shared.backlog(|b| {
            if replace {
                b.pop_front();
            }
            (b.push_front(message, stuck.mask, stopped, old), b.used())
        });
        match kept {
            Some((true, used)) if !replace => self.shared.count_deferred(used),
            Some((true, _)) => {}
            _ => {
                let len = message.text_len();
                for (i, slot) in targets.slots().iter().enumerate().take(MAX_TARGETS) {
                    if slot.is_some() && stuck.mask & bit(i) != 0 {
                        self.shared.count_target(i, &|c| c.ring_stuck.add(len));
                    }
                }
            }
        }
    }

    /// Sends `message` to the enabled targets in `mask` as one batch of the driver's: every
    /// frame of every target, with one device notification at the end (where the driver can
    /// hold them back), which is always given before this returns. `false` if it stopped
    /// partway: it is then kept with [`keep_stuck`](Self::keep_stuck) (`replace` as there).
    ///
    /// The sysdata of the copy it stopped in is rendered into a slot here rather than returned
    /// in the result, which would make every result a 200-byte value copied on return.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &self,
        np: &mut NicEngine<D, W>,
        targets: &mut TS,
        order: &[u8],
        message: &Message<'_>,
        mask: u32,
        resumes: Resumes<'_>,
        replace: bool,
    ) -> bool {
        np.driver_mut().begin_tx_batch();
        let mut rendered = None;
        let delivered =
            self.deliver_each(np, targets, order, message, mask, resumes, &mut rendered);
        np.driver_mut().end_tx_batch();
        let Delivered::Stuck(stuck) = delivered else { return true };
        self.keep_stuck(targets, message, &stuck, rendered.as_ref(), resumes, replace);
        false
    }

    /// Sends `message` to the enabled targets in `mask`, newest first, each from where an
    /// earlier try stopped (`resumes`). Stops at the first datagram whose retry budget runs out.
    #[allow(clippy::too_many_arguments)]
    fn deliver_each<'r>(
        &'r self,
        np: &mut NicEngine<D, W>,
        targets: &mut TS,
        order: &[u8],
        message: &Message<'_>,
        mask: u32,
        resumes: Resumes<'r>,
        rendered: &mut Option<sysdata::Rendered>,
    ) -> Delivered<'r> {
        let slots = targets.slots_mut();
        let owed = |i: usize| {
            mask & bit(i) != 0 && slots.get(i).and_then(Option::as_ref).is_some_and(|t| t.enabled)
        };
        if !order.iter().any(|&i| owed(usize::from(i))) {
            return Delivered::Done;
        }
        let text_len = message.text_len();
        // The link state, asked once per message: the driver's cached state, and one PHY read
        // when that says down.
        if !np.link_up() && !np.refresh_link() {
            for &i in order {
                if owed(usize::from(i)) {
                    self.shared.count_target(usize::from(i), &|c| c.link_down.add(text_len));
                }
            }
            return Delivered::Done;
        }
        let release = sysdata::cut(self.info.release(), MAX_RELEASE_LEN);
        let mut remaining = mask;
        for &i in order {
            let i = usize::from(i);
            let Some(Some(target)) = slots.get_mut(i) else { continue };
            if remaining & bit(i) == 0 {
                continue;
            }
            if !target.enabled {
                remaining &= !bit(i);
                continue;
            }
            let resume = resumes.find(i);
            let from = resume.map_or(0, |r| r.offset);
            // The release of a message's first try, as its extras: it sets the cut points.
            let release = resume.map_or(release, |r| r.release);
            *rendered = None;
            let sent = match (crate::EXTENDED && target.extended, message) {
                (false, Message::Basic(text)) => {
                    framing::basic(np, &target.endpoint, text, b"", from)
                }
                (false, Message::Record(r)) => {
                    framing::basic(np, &target.endpoint, r.text, b"\n", from)
                }
                (true, Message::Basic(_)) => {
                    remaining &= !bit(i);
                    continue;
                }
                (true, Message::Record(r)) => {
                    // The sysdata of a message is fixed at its first try (Linux builds it into
                    // the skb once): msgid counts messages, not tries.
                    if resume.is_none() && target.sysdata.msgid {
                        target.msgid = target.msgid.wrapping_add(1);
                    }
                    let target = &*target;
                    let extras = match resume {
                        Some(resume) => resume.extras,
                        None => {
                            let sysdata = rendered.insert(sysdata::render(
                                target.sysdata,
                                &self.info,
                                target.msgid,
                            ));
                            Extras::Live { userdata: target.userdata.entries(), sysdata }
                        }
                    };
                    let release = target.release.then_some(release);
                    framing::extended(np, &target.endpoint, release, r, extras, from)
                }
            };
            self.shared.count_target(i, &|c: &mut TargetCounters| {
                c.frames += u64::from(sent.frames);
                c.bytes += sent.bytes;
                match sent.result {
                    Ok(()) => c.messages += 1,
                    Err(SendError::LinkDown) => c.link_down.add(text_len),
                    Err(SendError::RingFull) => {}
                    Err(_) => c.errors.add(text_len),
                }
            });
            if sent.result == Err(SendError::RingFull) {
                return Delivered::Stuck(Stuck {
                    mask: remaining,
                    index: i,
                    offset: sent.offset,
                    release: if crate::EXTENDED && target.extended { release } else { &[] },
                });
            }
            remaining &= !bit(i);
        }
        Delivered::Done
    }
}
