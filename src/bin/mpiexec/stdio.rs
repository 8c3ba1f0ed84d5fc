//! Forwarding of the ranks' stdout/stderr: whole lines only, so output of different ranks
//! never interleaves within a line; optional labels (`[rank] `, `[job:rank] ` for spawned jobs).

use std::io::Write;

/// A line longer than this is written in pieces (bounding memory for output without newlines).
const MAX_BUFFERED: usize = 1 << 20;

/// The pending partial line of one rank's stream.
pub struct LineForwarder {
    label: Option<String>,
    pending: Vec<u8>,
    /// The last byte written ended a line, so the next write needs a label.
    at_line_start: bool,
}

impl LineForwarder {
    /// `label` prefixes every line when given.
    pub fn new(label: Option<String>) -> LineForwarder {
        LineForwarder {
            label,
            pending: Vec::new(),
            at_line_start: true,
        }
    }

    /// Takes bytes read from the rank and writes every completed line to `out` in one write.
    pub fn push(&mut self, data: &[u8], out: &mut dyn Write) {
        let Some(last_nl) = data.iter().rposition(|&b| b == b'\n') else {
            self.pending.extend_from_slice(data);
            if self.pending.len() >= MAX_BUFFERED {
                let chunk = std::mem::take(&mut self.pending);
                self.emit(&chunk, false, out);
            }
            return;
        };
        let mut chunk = std::mem::take(&mut self.pending);
        chunk.extend_from_slice(&data[..=last_nl]);
        self.emit(&chunk, true, out);
        self.pending.extend_from_slice(&data[last_nl + 1..]);
    }

    /// Writes a final partial line (with a newline added, so the next output starts clean).
    pub fn flush(&mut self, out: &mut dyn Write) {
        if !self.pending.is_empty() {
            let mut chunk = std::mem::take(&mut self.pending);
            chunk.push(b'\n');
            self.emit(&chunk, true, out);
        }
    }

    /// Writes `chunk` (complete lines when `ends_line`), labelling each line start.
    fn emit(&mut self, chunk: &[u8], ends_line: bool, out: &mut dyn Write) {
        let buf: std::borrow::Cow<[u8]> = match &self.label {
            None => chunk.into(),
            Some(label) => {
                let mut b = Vec::with_capacity(chunk.len() + label.len() * 4);
                let mut start = self.at_line_start;
                for &byte in chunk {
                    if start {
                        b.extend_from_slice(label.as_bytes());
                    }
                    b.push(byte);
                    start = byte == b'\n';
                }
                b.into()
            }
        };
        self.at_line_start = ends_line;
        // A closed or failing stdout of mpiexec must not stop the job; drop the output.
        let _ = out.write_all(&buf);
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_lines_are_written() {
        let mut f = LineForwarder::new(None);
        let mut out = Vec::new();
        f.push(b"hel", &mut out);
        assert!(out.is_empty());
        f.push(b"lo\nwor", &mut out);
        assert_eq!(out, b"hello\n");
        f.push(b"ld\n\n", &mut out);
        assert_eq!(out, b"hello\nworld\n\n");
        f.flush(&mut out);
        assert_eq!(out, b"hello\nworld\n\n");
    }

    #[test]
    fn labels_every_line_and_flushes_partial() {
        let mut f = LineForwarder::new(Some("[3] ".into()));
        let mut out = Vec::new();
        f.push(b"a\nb", &mut out);
        f.push(b"c\nd", &mut out);
        f.flush(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "[3] a\n[3] bc\n[3] d\n");
    }

    #[test]
    fn huge_line_is_written_in_pieces_with_one_label() {
        let mut f = LineForwarder::new(Some("[1] ".into()));
        let mut out = Vec::new();
        f.push(&vec![b'x'; MAX_BUFFERED], &mut out);
        assert_eq!(out.len(), MAX_BUFFERED + 4);
        f.push(b"y\n", &mut out);
        assert_eq!(&out[out.len() - 2..], b"y\n");
        assert_eq!(out.iter().filter(|&&b| b == b'[').count(), 1);
    }
}

/// The label of a rank's lines: `[rank] ` in the first job, `[job:rank] ` in spawned ones.
pub fn label(job: usize, rank: u32) -> String {
    if job == 0 {
        format!("[{rank}] ")
    } else {
        format!("[{job}:{rank}] ")
    }
}
