//! The flattened form of a type map: a small tree of nested loops.
//!
//! A `Node` describes the bytes of one element in type-map order:
//! * `Block`: `size` contiguous bytes of one basic element kind;
//! * `Repeat`: `count` copies of a child, copy `i` placed `i * stride` bytes further;
//! * `Seq`: children one after another in the packed stream, each at its own offset.
//!
//! Every node knows its packed size, and a `Seq` keeps the packed position where each
//! child starts, so a walk can seek to any byte of the stream in O(depth · log(width))
//! and then emit contiguous pieces. A vector of a million doubles is two nodes, not a
//! million runs. Nodes are cheap to clone (the kind is shared), which lets derived types
//! reuse the layout of their components without copying it.

use super::external32::Ext;
use std::sync::Arc;

/// The basic element a block is made of: its native size and how it converts to
/// external32. Blocks of different element kinds are never merged, so the typed walk can
/// count and convert basic elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elem {
    pub size: u32,
    pub ext: Ext,
}

#[derive(Clone, Debug)]
pub struct Node {
    /// Offset of this node's origin from its parent's origin.
    pub off: i64,
    /// Packed bytes in this node.
    pub size: u64,
    pub kind: Arc<Kind>,
}

#[derive(Debug)]
pub enum Kind {
    Block(Elem),
    Repeat {
        count: u64,
        stride: i64,
        child: Node,
    },
    Seq {
        parts: Vec<Node>,
        /// Packed position where each part starts (same length as `parts`).
        prefix: Vec<u64>,
    },
}

impl Node {
    /// The layout of a type with no data.
    pub fn empty() -> Node {
        Node {
            off: 0,
            size: 0,
            kind: Arc::new(Kind::Seq {
                parts: Vec::new(),
                prefix: Vec::new(),
            }),
        }
    }

    /// `len` contiguous bytes of `elem` elements at offset `off`.
    pub fn block(off: i64, len: u64, elem: Elem) -> Node {
        if len == 0 {
            return Node::empty();
        }
        Node {
            off,
            size: len,
            kind: Arc::new(Kind::Block(elem)),
        }
    }

    /// The same layout moved `d` bytes.
    pub fn shifted(&self, d: i64) -> Node {
        Node {
            off: self.off + d,
            size: self.size,
            kind: self.kind.clone(),
        }
    }

    /// `count` copies of `child`, `stride` bytes apart. Copies of a block that touch each
    /// other become one block.
    pub fn repeat(count: u64, stride: i64, child: &Node) -> Node {
        if count == 0 || child.size == 0 {
            return Node::empty();
        }
        if count == 1 {
            return child.clone();
        }
        if let Kind::Block(elem) = *child.kind {
            if stride == child.size as i64 {
                return Node::block(child.off, count * child.size, elem);
            }
        }
        Node {
            off: 0,
            size: count * child.size,
            kind: Arc::new(Kind::Repeat {
                count,
                stride,
                child: child.clone(),
            }),
        }
    }

    /// The parts one after another in the packed stream. Nested sequences are flattened,
    /// empty parts dropped, touching blocks of one element kind merged, and runs of equal
    /// blocks at a constant distance turned back into a `Repeat` (an hindexed type built
    /// from a regular pattern stays small).
    pub fn seq(parts: Vec<Node>) -> Node {
        let mut flat: Vec<Node> = Vec::with_capacity(parts.len());
        for p in parts {
            if p.size == 0 {
                continue;
            }
            if let Kind::Seq { parts: inner, .. } = &*p.kind {
                for q in inner {
                    push_merged(&mut flat, q.shifted(p.off));
                }
            } else {
                push_merged(&mut flat, p);
            }
        }
        let flat = fold_regular_blocks(flat);
        match flat.len() {
            0 => Node::empty(),
            1 => flat.into_iter().next().unwrap_or_else(Node::empty),
            _ => {
                let mut prefix = Vec::with_capacity(flat.len());
                let mut acc = 0u64;
                for p in &flat {
                    prefix.push(acc);
                    acc += p.size;
                }
                Node {
                    off: 0,
                    size: acc,
                    kind: Arc::new(Kind::Seq {
                        parts: flat,
                        prefix,
                    }),
                }
            }
        }
    }

    /// When the whole node is one block: (offset, element kind).
    pub fn as_block(&self) -> Option<(i64, Elem)> {
        match *self.kind {
            Kind::Block(e) => Some((self.off, e)),
            _ => None,
        }
    }

    /// Number of nodes in the tree (to check compactness in tests).
    pub fn node_count(&self) -> usize {
        1 + match &*self.kind {
            Kind::Block(_) => 0,
            Kind::Repeat { child, .. } => child.node_count(),
            Kind::Seq { parts, .. } => parts.iter().map(|p| p.node_count()).sum(),
        }
    }

    /// Calls `f(buf_offset, len, stream_pos, elem)` for every piece of the packed range
    /// `[start, end)` of this node (0 <= start < end <= size). `base` is the buffer offset
    /// of the parent's origin, `pos` the stream position of `start`.
    pub fn walk<F: FnMut(i64, u64, u64, Elem)>(
        &self,
        base: i64,
        start: u64,
        end: u64,
        pos: u64,
        f: &mut F,
    ) {
        let base = base + self.off;
        match &*self.kind {
            Kind::Block(elem) => f(base + start as i64, end - start, pos, *elem),
            Kind::Repeat {
                count,
                stride,
                child,
            } => {
                let cs = child.size;
                let mut i = start / cs;
                let mut pos = pos;
                // Blocks are the common child: emit them without recursing.
                let block = child.as_block();
                while i < *count && i * cs < end {
                    let s = start.saturating_sub(i * cs);
                    let e = (end - i * cs).min(cs);
                    let at = base + i as i64 * stride;
                    match block {
                        Some((boff, elem)) => f(at + boff + s as i64, e - s, pos, elem),
                        None => child.walk(at, s, e, pos, f),
                    }
                    pos += e - s;
                    i += 1;
                }
            }
            Kind::Seq { parts, prefix } => {
                let mut k = prefix.partition_point(|&p| p <= start) - 1;
                let mut pos = pos;
                while k < parts.len() && prefix[k] < end {
                    let p = &parts[k];
                    let s = start.saturating_sub(prefix[k]);
                    let e = (end - prefix[k]).min(p.size);
                    p.walk(base, s, e, pos, f);
                    pos += e - s;
                    k += 1;
                }
            }
        }
    }
}

/// Appends `n`, merging it into the previous block when they touch and hold the same
/// element kind.
fn push_merged(out: &mut Vec<Node>, n: Node) {
    if let (Some(last), Some((off, elem))) = (out.last(), n.as_block()) {
        if let Some((loff, lelem)) = last.as_block() {
            if lelem == elem && loff + last.size as i64 == off {
                let merged = Node::block(loff, last.size + n.size, elem);
                *out.last_mut().unwrap_or_else(|| unreachable!()) = merged;
                return;
            }
        }
    }
    out.push(n);
}

/// Replaces runs of at least three blocks of the same length and element kind at a
/// constant distance by a `Repeat`.
fn fold_regular_blocks(parts: Vec<Node>) -> Vec<Node> {
    if parts.len() < 3 {
        return parts;
    }
    let mut out = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        let mut j = i + 1;
        if let Some((off0, e0)) = parts[i].as_block() {
            let len = parts[i].size;
            if let Some((off1, _)) = parts.get(i + 1).and_then(|p| p.as_block()) {
                let stride = off1 - off0;
                while j < parts.len() {
                    match parts[j].as_block() {
                        Some((o, e))
                            if e == e0
                                && parts[j].size == len
                                && o - parts[j - 1].off == stride =>
                        {
                            j += 1
                        }
                        _ => break,
                    }
                }
                if j - i >= 3 {
                    let unit = Node::block(0, len, e0);
                    out.push(Node::repeat((j - i) as u64, stride, &unit).shifted(off0));
                    i = j;
                    continue;
                }
                j = i + 1;
            }
        }
        out.extend(parts[i..j].iter().cloned());
        i = j;
    }
    out
}
