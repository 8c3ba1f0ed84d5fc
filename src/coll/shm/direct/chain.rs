//! Large broadcasts single-copy, pipelined along a chain of the ranks when they outnumber
//! the cores: rank `root + 1` reads the message from the root a chunk at a time, rank
//! `root + 2` reads each chunk from rank `root + 1` once that rank has it, and so on. Every
//! rank still copies the message once, but what it reads was just written by its parent
//! (a chunk at a time, in the caches) instead of every reader streaming the whole message
//! from the root at once; and a rank works on one chunk at a time, so two ranks that take
//! turns on one CPU do not evict each other's megabytes.
//!
//! This is the pipelined chain of MPICH's `MPIR_Bcast_intra_pipelined_tree` and of Open
//! MPI's coll/xhc (`coll_xhc_bcast.c`: each member of a hierarchy level copies the message
//! a chunk at a time from its leader's buffer, through single-copy mappings, once the
//! leader's per-chunk flag says the chunk is there), with the call numbers of the region's
//! control lines as the per-chunk flags.
//!
//! A call of `K` chunks takes `K + 1` call numbers: at `s` a rank's descriptor is out (where
//! its copy of the message is: its buffer, or a packed copy when the buffer is not one
//! block); at `s + 1 + k` it holds chunks `0..=k`. The root holds everything at once. A rank
//! returns once its child holds the whole message (it read the last chunk from this rank's
//! copy), the last rank of the chain at once.

use super::{expose, fetch_part, first, post, Exposed, Scratch};
use crate::coll::sched::byte_type;
use crate::coll::shm::ShmComm;
use crate::error::MpiError;
use crate::p2p::{Data, NodeEngine};

/// Bytes a rank reads from its parent at a time.
const CHUNK: u64 = 128 * 1024;

/// `d` from `root` to every rank along the chain `root, root + 1, ...` (mod the size).
pub fn bcast(c: &ShmComm, e: &NodeEngine, d: &Data, root: usize) -> Result<(), MpiError> {
    let bytes = d.bytes();
    let chunks = bytes.div_ceil(CHUNK).max(1);
    let s = c.next_run(chunks + 1);
    let last = s + chunks;
    let pos = (c.me + c.n - root) % c.n;
    let child = (pos + 1 < c.n).then(|| (c.me + 1) % c.n);
    c.slot_free(e, s);
    if c.me == root {
        let x = expose(d);
        post(c, s, 0, &x);
        c.publish(e, last);
        if let Some(ch) = child {
            c.wait_for(e, ch, last);
        }
        return Ok(());
    }
    let parent = (c.me + c.n - 1) % c.n;
    // Where this rank's copy lives for its child: its buffer when that is one block, else
    // a scratch buffer that each chunk is unpacked from.
    let (x, image) = match d.contiguous() {
        Some(p) => (
            Exposed {
                ptr: p,
                len: bytes as usize,
                _keep: None,
            },
            None,
        ),
        None => {
            let keep = Scratch::new(bytes as usize);
            let ptr = keep.ptr();
            (
                Exposed {
                    ptr,
                    len: bytes as usize,
                    _keep: Some(keep),
                },
                Some(Data::new(ptr, bytes, byte_type())),
            )
        }
    };
    post(c, s, 0, &x);
    c.publish(e, s);
    let mut res = Ok(());
    for k in 0..chunks {
        c.wait_for(e, parent, s + 1 + k);
        let off = k * CHUNK;
        let len = CHUNK.min(bytes - off);
        let r = fetch_part(c, e, s, parent, 0, image.as_ref().unwrap_or(d), off, len);
        if r.is_ok() && image.is_some() {
            x.ptr
                .with_slice(off as i64, len as usize, |b| d.unpack(off, b));
        }
        // Published whatever happened, so that no rank is left waiting; after a failed
        // read this rank's copy is marked unreadable, so that the ranks down the chain
        // report an error instead of returning what this rank does not hold.
        if r.is_err() && res.is_ok() {
            super::post_failed(c, s);
        }
        first(&mut res, r);
        c.publish(e, s + 1 + k);
    }
    if let Some(ch) = child {
        c.wait_for(e, ch, last);
    }
    res
}
