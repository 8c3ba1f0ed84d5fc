//! Splits a process's PMI byte stream into lines with a bound on their length: an overlong
//! line is dropped whole, up to and including its newline, and is reported once (one
//! message, one error reply) however many reads it spans. `mpi::pmi::wire::LineBuffer`
//! reports one error per `MAX_LINE` bytes of such a line and then hands on its tail as a
//! line of its own; a 4 MiB line gave 52 messages (issue 15).

use mpi::pmi::wire::MAX_LINE;

/// What the next complete piece of input is.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Ok(Vec<u8>),
    /// A line longer than `MAX_LINE` began (and is being, or was, dropped).
    TooLong,
}

#[derive(Debug, Default)]
pub struct BoundedLines {
    /// Bytes of complete lines not yet taken, then the current line's (unless dropping).
    buf: Vec<u8>,
    /// The current line is too long: its bytes are dropped until its newline.
    dropping: bool,
    /// Lines completed, in order, marking where a `TooLong` goes among them.
    order: std::collections::VecDeque<Piece>,
}

#[derive(Debug)]
enum Piece {
    /// A complete line of this many bytes at the front of `buf` (newline included).
    Line(usize),
    TooLong,
}

impl BoundedLines {
    pub fn new() -> BoundedLines {
        BoundedLines::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        for part in chunk.split_inclusive(|&b| b == b'\n') {
            let ends_line = part.last() == Some(&b'\n');
            if !self.dropping {
                let start = self.open_start();
                let body = self.buf.len() - start + part.len() - usize::from(ends_line);
                if body > MAX_LINE {
                    self.buf.truncate(start);
                    self.dropping = true;
                    self.order.push_back(Piece::TooLong);
                } else {
                    self.buf.extend_from_slice(part);
                    if ends_line {
                        let len = self.buf.len() - start;
                        self.order.push_back(Piece::Line(len));
                    }
                }
            }
            if ends_line && self.dropping {
                self.dropping = false;
            }
        }
    }

    /// Where the current, unfinished line starts in `buf`.
    fn open_start(&self) -> usize {
        self.order
            .iter()
            .map(|p| match p {
                Piece::Line(n) => *n,
                Piece::TooLong => 0,
            })
            .sum()
    }

    /// The next complete line (without its newline), or the report of an overlong one.
    pub fn next_line(&mut self) -> Option<Line> {
        match self.order.pop_front()? {
            Piece::TooLong => Some(Line::TooLong),
            Piece::Line(n) => {
                let mut line: Vec<u8> = self.buf.drain(..n).collect();
                line.pop();
                Some(Line::Ok(line))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<Line> {
        let mut b = BoundedLines::new();
        let mut got = Vec::new();
        for c in chunks {
            b.push(c);
            while let Some(l) = b.next_line() {
                got.push(l);
            }
        }
        got
    }

    #[test]
    fn a_huge_line_is_one_report_and_the_lines_around_it_survive() {
        let big = vec![b'a'; 4 << 20];
        let mut chunks: Vec<&[u8]> = vec![b"cmd=init\ncmd=put key=", b"x"];
        chunks.extend(big.chunks(16 * 1024));
        chunks.push(b" tail\ncmd=get key=k\ncmd=");
        chunks.push(b"barrier_in\n");
        assert_eq!(
            lines(&chunks),
            vec![
                Line::Ok(b"cmd=init".to_vec()),
                Line::TooLong,
                Line::Ok(b"cmd=get key=k".to_vec()),
                Line::Ok(b"cmd=barrier_in".to_vec()),
            ]
        );
    }

    #[test]
    fn lines_at_the_limit_pass_and_one_byte_more_does_not() {
        let mut line = vec![b'k'; MAX_LINE];
        line.push(b'\n');
        assert_eq!(lines(&[&line[..100], &line[100..]]).len(), 1);
        let mut long = vec![b'k'; MAX_LINE + 1];
        long.push(b'\n');
        assert_eq!(
            lines(&[&long, b"a\n"]),
            vec![Line::TooLong, Line::Ok(b"a".to_vec())]
        );
    }
}
