//! The PMI-1 wire format, shared by the library-side client and by `mpiexec`'s server.
//!
//! A message is one line of space-separated `key=value` tokens ending in `\n`; the first token
//! is `cmd=NAME` (or `mcmd=NAME` for the multi-line spawn form, which ends with a line
//! `endcmd`). A value runs from the first `=` of its token to the next unescaped space, so it
//! may itself contain `=`.
//!
//! Escaping: `encode` writes a space as `\ `, a backslash as `\\` and a newline as `\n`, and
//! `parse` undoes that. Hydra (MPICH 4.0) does not unescape, so anything that must survive a
//! round trip through hydra (keys and values of `put`) must not contain those characters at
//! all; the client checks that. Escaping only matters for free text such as abort messages.
//!
//! Nothing here panics on bad input: every malformed line is a [`WireError`].

use std::fmt;

/// Longest line either side accepts, so a broken peer cannot make us buffer without bound.
pub const MAX_LINE: usize = 64 * 1024;

/// Why a line could not be parsed or a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    Empty,
    NotUtf8,
    /// The first token is not `cmd=...` / `mcmd=...`.
    NoCommand,
    /// A token without `=`.
    BadToken(String),
    EmptyKey,
    /// A key containing characters that cannot be put on the wire.
    BadKey(String),
    /// A line longer than [`MAX_LINE`].
    TooLong,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Empty => write!(f, "empty PMI line"),
            WireError::NotUtf8 => write!(f, "PMI line is not valid UTF-8"),
            WireError::NoCommand => write!(f, "PMI line does not start with cmd="),
            WireError::BadToken(t) => write!(f, "PMI token {t:?} has no '='"),
            WireError::EmptyKey => write!(f, "PMI token with an empty key"),
            WireError::BadKey(k) => write!(f, "PMI key {k:?} contains space, '=', '\\' or newline"),
            WireError::TooLong => write!(f, "PMI line longer than {MAX_LINE} bytes"),
        }
    }
}

impl std::error::Error for WireError {}

/// One PMI-1 message: its command and its other `key=value` pairs in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `cmd` normally, `mcmd` for the multi-line spawn form.
    pub kind: String,
    /// The command name (the value of the first token).
    pub cmd: String,
    pub args: Vec<(String, String)>,
}

impl Message {
    pub fn new(cmd: &str) -> Message {
        Message {
            kind: "cmd".into(),
            cmd: cmd.into(),
            args: Vec::new(),
        }
    }

    /// Builder: appends `key=value`.
    pub fn arg(mut self, key: &str, value: impl ToString) -> Message {
        self.args.push((key.into(), value.to_string()));
        self
    }

    /// The value of the first `key` argument.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` parsed as an integer, if present and well formed.
    pub fn get_int(&self, key: &str) -> Option<i64> {
        self.get(key)?.trim().parse().ok()
    }

    /// Parses one line (with or without its trailing `\n`).
    pub fn parse(line: &str) -> Result<Message, WireError> {
        if line.len() > MAX_LINE {
            return Err(WireError::TooLong);
        }
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut tokens = split_tokens(line).into_iter();
        let first = tokens.next().ok_or(WireError::Empty)?;
        let (kind, cmd) = split_pair(&first)?;
        if kind != "cmd" && kind != "mcmd" {
            return Err(WireError::NoCommand);
        }
        let mut msg = Message {
            kind,
            cmd,
            args: Vec::new(),
        };
        for t in tokens {
            msg.args.push(split_pair(&t)?);
        }
        Ok(msg)
    }

    /// Parses a raw line of bytes as read from a socket.
    pub fn parse_bytes(line: &[u8]) -> Result<Message, WireError> {
        Message::parse(std::str::from_utf8(line).map_err(|_| WireError::NotUtf8)?)
    }

    /// The wire form, ending in `\n`.
    pub fn encode(&self) -> Result<String, WireError> {
        let mut out = String::with_capacity(32);
        check_key(&self.kind)?;
        out.push_str(&self.kind);
        out.push('=');
        escape_into(&self.cmd, &mut out);
        for (k, v) in &self.args {
            check_key(k)?;
            out.push(' ');
            out.push_str(k);
            out.push('=');
            escape_into(v, &mut out);
        }
        out.push('\n');
        Ok(out)
    }
}

fn check_key(k: &str) -> Result<(), WireError> {
    if k.is_empty() {
        return Err(WireError::EmptyKey);
    }
    if k.contains([' ', '=', '\\', '\n']) {
        return Err(WireError::BadKey(k.into()));
    }
    Ok(())
}

fn escape_into(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            ' ' => out.push_str("\\ "),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Splits on unescaped spaces (runs of them count as one) and undoes the escapes.
/// An unknown escape `\x` is kept as the two characters, so raw backslashes from a peer
/// that does not escape survive as long as they are not followed by ` `, `\` or `n`.
fn split_tokens(line: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(' ') => cur.push(' '),
                Some('\\') => cur.push('\\'),
                Some('n') => cur.push('\n'),
                Some(other) => {
                    cur.push('\\');
                    cur.push(other);
                }
                None => cur.push('\\'),
            },
            ' ' | '\t' => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

fn split_pair(token: &str) -> Result<(String, String), WireError> {
    let (k, v) = token
        .split_once('=')
        .ok_or_else(|| WireError::BadToken(token.into()))?;
    if k.is_empty() {
        return Err(WireError::EmptyKey);
    }
    Ok((k.into(), v.into()))
}

/// Accumulates bytes from a stream and hands out complete lines.
#[derive(Debug, Default)]
pub struct LineBuffer {
    buf: Vec<u8>,
}

impl LineBuffer {
    pub fn new() -> LineBuffer {
        LineBuffer::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line without its `\n`; `Err(TooLong)` (after discarding the
    /// buffered bytes) if no newline came within [`MAX_LINE`] bytes.
    pub fn next_line(&mut self) -> Option<Result<Vec<u8>, WireError>> {
        match self.buf.iter().position(|&b| b == b'\n') {
            Some(i) if i <= MAX_LINE => {
                let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                line.pop();
                Some(Ok(line))
            }
            Some(i) => {
                self.buf.drain(..=i);
                Some(Err(WireError::TooLong))
            }
            None if self.buf.len() > MAX_LINE => {
                self.buf.clear();
                Some(Err(WireError::TooLong))
            }
            None => None,
        }
    }

    /// Bytes received but not yet part of a complete line.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hydra_responses() {
        let m =
            Message::parse("cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n").unwrap();
        assert_eq!(m.kind, "cmd");
        assert_eq!(m.cmd, "response_to_init");
        assert_eq!(m.get("pmi_version"), Some("1"));
        assert_eq!(m.get_int("rc"), Some(0));
        let m = Message::parse("cmd=get_result rc=0 msg=success value=(vector,(0,1,1))\n").unwrap();
        assert_eq!(m.get("value"), Some("(vector,(0,1,1))"));
        let m = Message::parse("cmd=barrier_out").unwrap();
        assert_eq!(m.cmd, "barrier_out");
        assert!(m.args.is_empty());
    }

    #[test]
    fn value_may_contain_equals() {
        let m = Message::parse("cmd=put kvsname=k key=a value=b=c;d=e").unwrap();
        assert_eq!(m.get("value"), Some("b=c;d=e"));
    }

    #[test]
    fn empty_value_is_allowed() {
        let m = Message::parse("cmd=put key=a value=").unwrap();
        assert_eq!(m.get("value"), Some(""));
    }

    #[test]
    fn round_trip_with_escapes() {
        let m = Message::new("abort")
            .arg("exitcode", 3)
            .arg("message", "bad  thing\\ \nhappened");
        let wire = m.encode().unwrap();
        assert!(wire.ends_with('\n'));
        assert_eq!(
            wire.matches('\n').count(),
            1,
            "newline in a value must be escaped: {wire:?}"
        );
        assert_eq!(Message::parse(&wire).unwrap(), m);
    }

    #[test]
    fn plain_values_encode_unchanged() {
        let m = Message::new("put")
            .arg("kvsname", "kvs_1_0")
            .arg("key", "bc-3")
            .arg("value", "a=b,(c)");
        assert_eq!(
            m.encode().unwrap(),
            "cmd=put kvsname=kvs_1_0 key=bc-3 value=a=b,(c)\n"
        );
    }

    #[test]
    fn extra_spaces_are_ignored() {
        let m = Message::parse("  cmd=maxes   kvsname_max=256  keylen_max=64 \r\n").unwrap();
        assert_eq!(m.cmd, "maxes");
        assert_eq!(m.get_int("keylen_max"), Some(64));
        assert_eq!(m.args.len(), 2);
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert_eq!(Message::parse(""), Err(WireError::Empty));
        assert_eq!(Message::parse("   \n"), Err(WireError::Empty));
        assert_eq!(
            Message::parse("hello"),
            Err(WireError::BadToken("hello".into()))
        );
        assert_eq!(Message::parse("key=v cmd=x"), Err(WireError::NoCommand));
        assert_eq!(
            Message::parse("cmd=x junk"),
            Err(WireError::BadToken("junk".into()))
        );
        assert_eq!(Message::parse("cmd=x =v"), Err(WireError::EmptyKey));
        assert_eq!(Message::parse("=x"), Err(WireError::EmptyKey));
        assert_eq!(
            Message::parse_bytes(b"cmd=\xff\xfe"),
            Err(WireError::NotUtf8)
        );
        let long = format!("cmd=put value={}", "x".repeat(MAX_LINE));
        assert_eq!(Message::parse(&long), Err(WireError::TooLong));
        // Dangling and unknown escapes are kept, never a panic.
        assert_eq!(Message::parse("cmd=x v=a\\").unwrap().get("v"), Some("a\\"));
        assert_eq!(
            Message::parse("cmd=x v=a\\qb").unwrap().get("v"),
            Some("a\\qb")
        );
    }

    #[test]
    fn bad_keys_are_refused_on_encode() {
        assert!(Message::new("put").arg("a b", 1).encode().is_err());
        assert!(Message::new("put").arg("a=b", 1).encode().is_err());
        assert!(Message::new("put").arg("", 1).encode().is_err());
    }

    #[test]
    fn parser_survives_arbitrary_bytes() {
        // A cheap deterministic fuzz: every line made of a mix of the interesting bytes.
        let alphabet = [
            b'c', b'm', b'd', b'=', b' ', b'\\', b'\n', b'n', 0xff, b'\t',
        ];
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        for len in 0..40 {
            for _ in 0..200 {
                let line: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        alphabet[(seed % alphabet.len() as u64) as usize]
                    })
                    .collect();
                if let Ok(m) = Message::parse_bytes(&line) {
                    // Whatever parses must re-encode and parse to the same message.
                    if let Ok(wire) = m.encode() {
                        assert_eq!(Message::parse(&wire).unwrap(), m, "line {line:?}");
                    }
                }
                let mut lb = LineBuffer::new();
                lb.push(&line);
                while let Some(_l) = lb.next_line() {}
            }
        }
    }

    #[test]
    fn line_buffer_splits_and_keeps_partial() {
        let mut lb = LineBuffer::new();
        lb.push(b"cmd=a\ncmd=");
        assert_eq!(lb.next_line(), Some(Ok(b"cmd=a".to_vec())));
        assert_eq!(lb.next_line(), None);
        assert_eq!(lb.pending(), 4);
        lb.push(b"b\n");
        assert_eq!(lb.next_line(), Some(Ok(b"cmd=b".to_vec())));
        assert_eq!(lb.next_line(), None);
    }

    #[test]
    fn line_buffer_bounds_long_lines() {
        let mut lb = LineBuffer::new();
        lb.push(&vec![b'x'; MAX_LINE + 1]);
        assert_eq!(lb.next_line(), Some(Err(WireError::TooLong)));
        assert_eq!(lb.pending(), 0);
        lb.push(b"cmd=ok\n");
        assert_eq!(lb.next_line(), Some(Ok(b"cmd=ok".to_vec())));
    }
}
