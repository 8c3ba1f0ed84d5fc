//! The descriptors an event loop polls for input, each with what it stands for.

/// `fds[i]` is polled for input on behalf of `sources[i]`.
pub struct PollSet<S> {
    pub fds: Vec<libc::pollfd>,
    pub sources: Vec<S>,
}

impl<S> PollSet<S> {
    pub fn new() -> PollSet<S> {
        PollSet {
            fds: Vec::new(),
            sources: Vec::new(),
        }
    }

    pub fn clear(&mut self) {
        self.fds.clear();
        self.sources.clear();
    }

    pub fn add(&mut self, fd: i32, src: S) {
        self.fds.push(libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        self.sources.push(src);
    }
}
