//! Where everything lives in the node segment. Pure arithmetic, no memory access.
//!
//! ```text
//! [ segment header: 64 B ]                       magic, nlocal, cells_per_rank, cell_payload
//! [ rank 0 control: 8 lines ] ... [ rank n-1 ]   one cache line per hot word (see Ctl)
//! [ fast boxes: n*n rings, receiver-major ]      only when n <= FBOX_MAX_RANKS (see fastbox)
//! [ rank 0 cells ] ... [ rank n-1 cells ]        cells_per_rank cells each
//! ```
//! A cell is one 64-byte line of metadata (link word, payload length, 48 header bytes for
//! the p2p engine) followed by the payload rounded up to whole lines. Memory is therefore
//! linear in the number of local ranks, except for the fast boxes: one ring per ordered pair
//! (as Open MPI's sm and MPICH's ch4 posix fastboxes are), bounded by allowing them only up to
//! `FBOX_MAX_RANKS` local ranks (64 ranks: 32 MiB of address space, of which a rank touches
//! only its own 2n rings, and of those only the lines its traffic reached). A zero-filled segment is a valid initial state: every
//! queue is empty, every doorbell is quiet (token 0 means "no cell").

use super::ShmConfig;
use std::io;

pub(crate) const LINE: usize = 64;
pub(crate) const HEADER_BYTES: usize = LINE;
/// Segment header words (byte offsets inside the header).
pub(crate) const H_MAGIC: usize = 0; // u64
pub(crate) const H_NLOCAL: usize = 8; // u32
pub(crate) const H_CELLS: usize = 12; // u32
pub(crate) const H_PAYLOAD: usize = 16; // u32
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"OxiShm03");

/// Per-rank control block: each hot word on its own cache line so that producers hammering a
/// tail do not slow the consumer's head or the doorbell.
#[derive(Clone, Copy)]
pub(crate) enum Ctl {
    InHead = 0,
    InTail = 1,
    FreeHead = 2,
    FreeTail = 3,
    BellSeq = 4,
    BellSleepers = 5,
    Pid = 6,
    /// The CPU the rank last started a blocked wait on, plus one (0: none yet): a hint for
    /// the others' waiting policy (see `segment::placement`).
    Cpu = 7,
}
pub(crate) const CTL_BYTES: usize = 8 * LINE;

/// Cell metadata offsets (inside the first line of a cell).
pub(crate) const C_NEXT: usize = 0; // u32 link token
pub(crate) const C_LEN: usize = 4; // u32 payload length
pub(crate) const C_HDR: usize = 16; // HDR_BYTES opaque bytes
pub(crate) const CELL_META: usize = LINE;

/// Bytes of one pair's fast-box ring block (control line and ring, see `fastbox`).
pub(crate) const FBOX_STRIDE: usize = super::fastbox::PAIR_BYTES;
/// Above this many local ranks there are no fast boxes (their memory is quadratic, and a
/// receiver polls one box per peer).
pub(crate) const FBOX_MAX_RANKS: usize = 64;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub nlocal: usize,
    pub cells_per_rank: usize,
    pub payload: usize,
    pub stride: usize,
    /// Offset of the fast-box region (empty when `fboxes` is false).
    pub fbox_off: usize,
    pub fboxes: bool,
    pub cells_off: usize,
    pub total: usize,
}

impl Layout {
    pub fn new(nlocal: usize, cfg: &ShmConfig) -> io::Result<Layout> {
        let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
        if nlocal == 0 {
            return Err(bad("shm: nlocal must be at least 1"));
        }
        if cfg.cells_per_rank == 0 || cfg.cell_payload == 0 {
            return Err(bad("shm: cells_per_rank and cell_payload must be positive"));
        }
        let cells_per_rank = cfg.cells_per_rank as usize;
        let payload = cfg.cell_payload as usize;
        // Tokens are cell index + 1 in a u32.
        let ncells = nlocal
            .checked_mul(cells_per_rank)
            .filter(|&n| n < u32::MAX as usize)
            .ok_or_else(|| bad("shm: too many cells"))?;
        let stride = payload
            .checked_add(LINE - 1)
            .map(|p| p / LINE * LINE + CELL_META)
            .ok_or_else(|| bad("shm: cell payload too large"))?;
        let fbox_off = HEADER_BYTES + nlocal * CTL_BYTES;
        let fboxes = nlocal > 1 && nlocal <= FBOX_MAX_RANKS;
        let cells_off = fbox_off
            + if fboxes {
                nlocal * nlocal * FBOX_STRIDE
            } else {
                0
            };
        let total = ncells
            .checked_mul(stride)
            .and_then(|c| c.checked_add(cells_off))
            .filter(|&t| t <= isize::MAX as usize)
            .ok_or_else(|| bad("shm: segment too large"))?;
        Ok(Layout {
            nlocal,
            cells_per_rank,
            payload,
            stride,
            fbox_off,
            fboxes,
            cells_off,
            total,
        })
    }

    pub fn ncells(&self) -> usize {
        self.nlocal * self.cells_per_rank
    }

    pub fn ctl(&self, rank: usize, word: Ctl) -> usize {
        debug_assert!(rank < self.nlocal);
        HEADER_BYTES + rank * CTL_BYTES + word as usize * LINE
    }

    /// Byte offset of global cell `idx` (0-based).
    pub fn cell(&self, idx: usize) -> usize {
        debug_assert!(idx < self.ncells());
        self.cells_off + idx * self.stride
    }

    /// Byte offset of the fast-box ring block that local rank `from` fills for local rank
    /// `to` (the rings a receiver polls are contiguous).
    pub fn fbox(&self, from: usize, to: usize) -> usize {
        debug_assert!(self.fboxes && from < self.nlocal && to < self.nlocal);
        self.fbox_off + (to * self.nlocal + from) * FBOX_STRIDE
    }

    pub fn owner(&self, idx: usize) -> usize {
        idx / self.cells_per_rank
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_in_ranks_and_aligned() {
        let cfg = ShmConfig {
            cells_per_rank: 64,
            cell_payload: 32 * 1024,
        };
        let a = Layout::new(4, &cfg).unwrap();
        let b = Layout::new(8, &cfg).unwrap();
        assert_eq!(b.total - b.cells_off, 2 * (a.total - a.cells_off));
        assert_eq!(a.cells_off - a.fbox_off, 16 * FBOX_STRIDE);
        assert_eq!(a.fbox(1, 2) % LINE, 0);
        assert_eq!(a.fbox(3, 3) + FBOX_STRIDE, a.cells_off);
        assert!(!Layout::new(1, &cfg).unwrap().fboxes);
        assert!(!Layout::new(FBOX_MAX_RANKS + 1, &cfg).unwrap().fboxes);
        assert_eq!(a.stride, 32 * 1024 + 64);
        assert_eq!(a.cell(0) % LINE, 0);
        assert_eq!(a.cell(5) % LINE, 0);
        assert_eq!(a.ctl(3, Ctl::Pid) % LINE, 0);
        assert_eq!(a.owner(64 * 2 + 3), 2);
        let odd = Layout::new(
            2,
            &ShmConfig {
                cells_per_rank: 3,
                cell_payload: 1,
            },
        )
        .unwrap();
        assert_eq!(odd.stride, 128);
        assert_eq!(odd.total, odd.cells_off + 6 * 128);
        assert_eq!(odd.cells_off, odd.fbox_off + 4 * FBOX_STRIDE);
    }

    #[test]
    fn rejects_nonsense() {
        let cfg = ShmConfig {
            cells_per_rank: 64,
            cell_payload: 64,
        };
        assert!(Layout::new(0, &cfg).is_err());
        assert!(Layout::new(
            1,
            &ShmConfig {
                cells_per_rank: 0,
                cell_payload: 8
            }
        )
        .is_err());
        assert!(Layout::new(1 << 30, &cfg).is_err());
    }
}
