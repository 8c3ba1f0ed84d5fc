//! The target side: the engine poller that receives requests on every window's context
//! and applies them one at a time, in the order they were matched, and the lock manager.

use super::win::{registered, Win};
use super::wire::{self, kind, Request, LOCK_EXCLUSIVE, REQ_TAG};
use crate::error::{class, MpiError};
use crate::op::{self, Layout, PredefOp};
use crate::p2p::{Data, Mode, ReqId, SendArgs};
use crate::transport::mem::OwnedBytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;

/// A lock request that has to wait.
struct Waiter {
    origin: usize,
    exclusive: bool,
    reply_tag: i32,
}

/// Who holds this rank's window lock.
#[derive(Default)]
struct LockManager {
    exclusive: Option<usize>,
    shared: usize,
    queue: VecDeque<Waiter>,
}

impl LockManager {
    fn grantable(&self, exclusive: bool) -> bool {
        self.exclusive.is_none() && (!exclusive || self.shared == 0)
    }

    fn take(&mut self, origin: usize, exclusive: bool) {
        if exclusive {
            self.exclusive = Some(origin);
        } else {
            self.shared += 1;
        }
    }

    fn release(&mut self, origin: usize) {
        if self.exclusive == Some(origin) {
            self.exclusive = None;
        } else {
            self.shared = self.shared.saturating_sub(1);
        }
    }
}

pub struct TargetState {
    /// Requests being received, in the order they were matched.
    inbox: VecDeque<(ReqId, OwnedBytes, usize)>,
    /// Replies in flight (each holds its bytes).
    outbox: Vec<ReqId>,
    lock: LockManager,
    /// First error class each origin's operations hit since its last acknowledgement.
    errors: Vec<i32>,
}

impl TargetState {
    pub fn new(n: usize) -> TargetState {
        TargetState {
            inbox: VecDeque::new(),
            outbox: Vec::new(),
            lock: LockManager::default(),
            errors: vec![0; n],
        }
    }
}

/// Serializes the poller: only one thread serves windows at a time.
static SERVING: Mutex<()> = Mutex::new(());

/// The target side of every window, as the progress registry runs it.
pub static POLLER: crate::progress::FnPoller = crate::progress::FnPoller(poll);

/// Serves every window. Never blocks.
pub fn poll() -> bool {
    let Some(_g) = SERVING.try_lock() else {
        return false;
    };
    let mut did = false;
    for w in registered() {
        did |= serve(&w);
        did |= super::origin::advance(&w);
    }
    did
}

/// Receives and applies what has arrived for `win`.
fn serve(win: &Win) -> bool {
    let e = win.engine();
    let Some(mut t) = win.target.try_lock() else {
        return false;
    };
    let mut did = false;
    while let Some((msg, s)) = e.improbe(win.comm.context_id, crate::p2p::ANY_SOURCE, REQ_TAG) {
        let buf = OwnedBytes::zeroed(s.bytes as usize);
        match e.imrecv(msg, Data::owned_bytes(buf.clone())) {
            Ok(id) => t.inbox.push_back((id, buf, s.source as usize)),
            Err(_) => break,
        }
        did = true;
    }
    loop {
        let Some(&(id, _, _)) = t.inbox.front() else {
            break;
        };
        let arrived = {
            let mut st = e.lock();
            e.reap(&mut st, id).is_some()
        };
        if !arrived {
            break;
        }
        let (_, buf, src) = t.inbox.pop_front().expect("front exists");
        match buf.into_box() {
            Ok(buf) => handle(win, &mut t, src, &buf),
            // The receive completed and was reaped, so nothing else holds the block.
            Err(_) => note(
                &mut t,
                src,
                MpiError::intern("an RMA request is still held by its receive after it completed"),
            ),
        }
        did = true;
    }
    if !t.outbox.is_empty() {
        let mut st = e.lock();
        let before = t.outbox.len();
        t.outbox.retain(|id| e.reap(&mut st, *id).is_none());
        win.in_flight
            .fetch_sub(before - t.outbox.len(), Ordering::AcqRel);
    }
    did
}

/// Sends `buf` to `origin` with tag `tag`.
fn reply(win: &Win, t: &mut TargetState, origin: usize, tag: i32, buf: Vec<u8>) {
    let e = win.engine();
    let data = Data::owned_bytes(OwnedBytes::new(buf));
    let sent = e.isend(SendArgs {
        ep: win.comm.peer(origin),
        ctx: win.comm.context_id,
        src: win.comm.rank as i32,
        tag,
        mode: Mode::Standard,
        data,
        owner: 0,
    });
    if let Ok(id) = sent {
        win.in_flight.fetch_add(1, Ordering::AcqRel);
        t.outbox.push(id);
    }
}

fn ack(win: &Win, t: &mut TargetState, origin: usize, tag: i32) {
    let err = std::mem::take(&mut t.errors[origin]);
    reply(win, t, origin, tag, err.to_le_bytes().to_vec());
}

fn note(t: &mut TargetState, origin: usize, e: MpiError) {
    if t.errors[origin] == 0 {
        t.errors[origin] = e.class;
    }
}

/// The target bytes of `req`, packed.
fn gather(win: &Win, req: &Request) -> Vec<u8> {
    let mut out = vec![0u8; req.run_bytes() as usize];
    let mut at = 0;
    for &(off, len) in &req.runs {
        win.base.read(off, &mut out[at..at + len as usize]);
        at += len as usize;
    }
    out
}

fn scatter(win: &Win, req: &Request, data: &[u8]) {
    let mut at = 0;
    for &(off, len) in &req.runs {
        let n = (len as usize).min(data.len().saturating_sub(at));
        win.base.write(off, &data[at..at + n]);
        at += n;
    }
}

fn check_range(win: &Win, req: &Request) -> Result<(), MpiError> {
    for &(off, len) in &req.runs {
        if !win.in_range(off, len) {
            return Err(MpiError::new(
                class::ERR_RMA_RANGE,
                format!(
                    "target bytes [{off}, {}) lie outside the window",
                    off + len as i64
                ),
            ));
        }
    }
    Ok(())
}

/// The reduction of an accumulate request.
fn reduction(req: &Request) -> Result<(PredefOp, crate::datatype::Basic), MpiError> {
    let op = PredefOp::ALL
        .get(req.op as usize)
        .copied()
        .ok_or_else(|| MpiError::new(class::ERR_OP, "unknown operation"))?;
    let basic = wire::basic_of(req.basic)
        .ok_or_else(|| MpiError::new(class::ERR_TYPE, "unknown basic type"))?;
    Ok((op, basic))
}

/// `cur = data op cur` for the elements of `cur`.
fn combine(req: &Request, data: &[u8], cur: &mut [u8]) -> Result<(), MpiError> {
    let (op, basic) = reduction(req)?;
    if op == PredefOp::NoOp || cur.is_empty() {
        return Ok(());
    }
    let es = op::elem_size(basic, Layout::Packed).max(1);
    let n = cur.len() / es;
    op::apply(op, basic, data, cur, n)?;
    Ok(())
}

fn handle(win: &Win, t: &mut TargetState, src: usize, buf: &[u8]) {
    if src >= t.errors.len() {
        return;
    }
    let Some(req) = Request::decode(buf) else {
        note(t, src, MpiError::intern("malformed one-sided request"));
        return;
    };
    match req.kind {
        kind::PUT => match check_range(win, &req) {
            Ok(()) => scatter(win, &req, &req.payload),
            Err(e) => note(t, src, e),
        },
        kind::GET => {
            let data = match check_range(win, &req) {
                Ok(()) => gather(win, &req),
                Err(e) => {
                    note(t, src, e);
                    Vec::new()
                }
            };
            reply(win, t, src, req.reply_tag, data);
        }
        kind::ACC => {
            let r = check_range(win, &req).and_then(|()| {
                let mut cur = gather(win, &req);
                combine(&req, &req.payload, &mut cur)?;
                scatter(win, &req, &cur);
                Ok(())
            });
            if let Err(e) = r {
                note(t, src, e);
            }
        }
        kind::GACC => {
            let r = check_range(win, &req).and_then(|()| {
                let mut cur = gather(win, &req);
                let old = cur.clone();
                combine(&req, &req.payload, &mut cur)?;
                scatter(win, &req, &cur);
                Ok(old)
            });
            let old = r.unwrap_or_else(|e| {
                note(t, src, e);
                Vec::new()
            });
            reply(win, t, src, req.reply_tag, old);
        }
        kind::CAS => {
            let r = check_range(win, &req).map(|()| {
                let old = gather(win, &req);
                let (value, compare) = req.payload.split_at(req.payload.len() / 2);
                if old == compare {
                    scatter(win, &req, value);
                }
                old
            });
            let old = r.unwrap_or_else(|e| {
                note(t, src, e);
                Vec::new()
            });
            reply(win, t, src, req.reply_tag, old);
        }
        kind::FLUSH => ack(win, t, src, req.reply_tag),
        kind::LOCK => {
            let exclusive = req.lock == LOCK_EXCLUSIVE;
            if t.lock.queue.is_empty() && t.lock.grantable(exclusive) {
                t.lock.take(src, exclusive);
                reply(win, t, src, req.reply_tag, Vec::new());
            } else {
                t.lock.queue.push_back(Waiter {
                    origin: src,
                    exclusive,
                    reply_tag: req.reply_tag,
                });
            }
        }
        kind::UNLOCK => {
            ack(win, t, src, req.reply_tag);
            t.lock.release(src);
            while let Some(w) = t.lock.queue.front() {
                if !t.lock.grantable(w.exclusive) {
                    break;
                }
                let w = t.lock.queue.pop_front().expect("front exists");
                t.lock.take(w.origin, w.exclusive);
                reply(win, t, w.origin, w.reply_tag, Vec::new());
            }
        }
        kind::POST => {
            win.posts[src].fetch_add(1, Ordering::AcqRel);
        }
        kind::COMPLETE => {
            win.completes[src].fetch_add(1, Ordering::AcqRel);
        }
        _ => note(t, src, MpiError::intern("unknown one-sided request")),
    }
}
