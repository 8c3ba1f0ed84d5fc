//! Forwarding the ranks' output: each readable stdout/stderr pipe is read once per
//! readiness and its lines go to the rank's output file or to ours (with labels).

use std::io::{self, Read};

use super::Universe;

impl Universe {
    pub(super) fn read_stdio(&mut self, i: usize, is_err: bool) {
        let p = &mut self.procs[i];
        let pipe = if is_err { &mut p.stderr } else { &mut p.stdout };
        let Some(f) = pipe.as_mut() else { return };
        let mut buf = [0u8; 64 * 1024];
        // One read per readiness: poll said data (or EOF) is there, so this does not block.
        match f.read(&mut buf) {
            Ok(0) => *pipe = None,
            Ok(n) => self.write_output(i, is_err, &buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => *pipe = None,
        }
    }

    /// Forwards output of process `i`: to its output file if it has one, else to ours.
    pub(super) fn write_output(&mut self, i: usize, is_err: bool, data: &[u8]) {
        let p = &mut self.procs[i];
        let (fwd, file) = if is_err {
            (&mut p.err_fwd, &mut p.err_file)
        } else {
            (&mut p.out_fwd, &mut p.out_file)
        };
        match file {
            Some(f) => fwd.push(data, f),
            None if is_err => fwd.push(data, &mut io::stderr().lock()),
            None => fwd.push(data, &mut io::stdout().lock()),
        }
    }
}
