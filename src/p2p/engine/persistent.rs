//! Persistent requests: MPI_Send_init / MPI_Recv_init and MPI_Start, which restarts them,
//! or hands a higher layer's persistent request to its starter (the one registry of
//! persistent requests is the request slab: each request carries what restarts it).

use super::*;

impl<F: Fabric> Engine<F> {
    pub fn send_init(&self, a: SendArgs) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Send);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.persist = Some(Box::new(Persist::Send {
            ep: a.ep,
            ctx: a.ctx,
            src: a.src,
            tag: a.tag,
            mode: a.mode,
            data: a.data,
            owner: a.owner,
        }));
        id
    }

    pub fn recv_init(&self, a: RecvArgs) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Recv);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.persist = Some(Box::new(Persist::Recv {
            ctx: a.ctx,
            src: a.src,
            tag: a.tag,
            data: a.data,
            owner: a.owner,
        }));
        id
    }

    /// Completes a started persistent request whose peer is MPI_PROC_NULL, with the
    /// status the standard gives such operations (source MPI_PROC_NULL, tag MPI_ANY_TAG).
    pub(in crate::p2p) fn complete_proc_null(&self, st: &mut State, id: ReqId) {
        if let Some(r) = st.reqs.get_mut(id) {
            r.status = Status {
                source: -1,
                tag: -1,
                ..Default::default()
            };
        }
        self.complete(st, id);
    }

    /// MPI_Start on a persistent point-to-point request.
    pub fn start(&self, id: ReqId) -> Result<(), MpiError> {
        let starter = self
            .lock()
            .reqs
            .get(id)
            .and_then(|r| match r.persist.as_deref() {
                Some(Persist::External(s)) => Some(s.clone()),
                _ => None,
            });
        if let Some(Starter(f)) = starter {
            // A persistent request of a higher layer: it activates and runs it.
            return f(id);
        }
        let mut st = self.lock();
        let r = st
            .reqs
            .get_mut(id)
            .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "not a valid request"))?;
        let p = r.persist.clone().ok_or_else(|| {
            MpiError::arg(class::ERR_REQUEST, "request", "not a persistent request")
        })?;
        r.restart()?;
        match *p {
            Persist::PSend { parts, .. } => {
                self.start_psend(&mut st, id, parts);
                Ok(())
            }
            Persist::PRecv {
                ctx,
                src,
                tag,
                data,
                parts,
                pair,
                ..
            } => {
                self.start_precv(&mut st, id, ctx, src, tag, data, parts, pair);
                Ok(())
            }
            Persist::External(_) => unreachable!("external persistent requests have a starter"),
            Persist::Send {
                ep,
                ctx,
                src,
                tag,
                mode,
                data,
                owner,
            } => {
                if mode == Mode::Buffered && ep != u32::MAX {
                    drop(st);
                    let byte = TypeKeep::Static(crate::datatype::byte());
                    let inner = self.bsend_inner(
                        SendArgs {
                            ep,
                            ctx,
                            src,
                            tag,
                            mode,
                            data,
                            owner,
                        },
                        byte,
                    );
                    let mut st = self.lock();
                    let r = st.reqs.get_mut(id).expect("started request");
                    let res = match inner {
                        Ok(inner) => {
                            r.inner = Some(inner);
                            Ok(())
                        }
                        Err(e) => {
                            // As MPICH: the start fails, and the request completes with
                            // the error (its Wait reports it too).
                            r.status.error = e.class;
                            Err(e)
                        }
                    };
                    self.complete(&mut st, id);
                    return res;
                }
                if ep == u32::MAX {
                    self.complete_proc_null(&mut st, id);
                    return Ok(());
                }
                self.start_send(
                    &mut st,
                    id,
                    SendArgs {
                        ep,
                        ctx,
                        src,
                        tag,
                        mode,
                        data,
                        owner,
                    },
                )
            }
            Persist::Recv {
                ctx,
                src,
                tag,
                data,
                owner,
            } => {
                if src == -1 {
                    self.complete_proc_null(&mut st, id);
                    return Ok(());
                }
                self.start_recv(
                    &mut st,
                    id,
                    RecvArgs {
                        ctx,
                        src,
                        tag,
                        data,
                        owner,
                    },
                );
                Ok(())
            }
        }
    }
}
