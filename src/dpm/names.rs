//! The name service (MPI_Publish_name, MPI_Unpublish_name, MPI_Lookup_name), kept by the
//! launcher: ours serves it to all its jobs, and to other mpiexec runs on the host through
//! `OXIMPI_NAMESERVER`; hydra serves it too. A singleton starts a launcher for it.

use crate::error::{class, MpiError};
use crate::pmi::{Pmi, PmiError};
use crate::runtime::Runtime;

/// Runs `f` on the launcher connection, starting a launcher first for a singleton.
pub fn with_launcher<R>(
    rt: &Runtime,
    f: impl FnOnce(&mut Pmi) -> Result<R, PmiError>,
) -> Result<Result<R, PmiError>, MpiError> {
    let mut g = rt.pmi.lock();
    if g.is_none() {
        let p = Pmi::start_launcher().map_err(|e| {
            MpiError::new(
                class::ERR_OTHER,
                format!("cannot start a launcher (mpiexec): {e}"),
            )
        })?;
        *g = Some(p);
    }
    Ok(f(g.as_mut().expect("set above")))
}

fn refused_or(e: PmiError, class: i32, what: String) -> MpiError {
    match e {
        PmiError::Refused { msg, .. } => MpiError::new(class, format!("{what}: {msg}")),
        PmiError::InvalidArgument(m) => {
            MpiError::arg(crate::error::class::ERR_ARG, "service_name", m)
        }
        e => MpiError::new(crate::error::class::ERR_OTHER, format!("{what}: {e}")),
    }
}

pub fn publish(rt: &Runtime, service: &str, port: &str) -> Result<(), MpiError> {
    with_launcher(rt, |p| p.publish_name(service, port))?
        .map_err(|e| refused_or(e, class::ERR_SERVICE, format!("cannot publish '{service}'")))
}

pub fn unpublish(rt: &Runtime, service: &str) -> Result<(), MpiError> {
    with_launcher(rt, |p| p.unpublish_name(service))?.map_err(|e| {
        refused_or(
            e,
            class::ERR_SERVICE,
            format!("'{service}' is not published"),
        )
    })
}

pub fn lookup(rt: &Runtime, service: &str) -> Result<String, MpiError> {
    with_launcher(rt, |p| p.lookup_name(service))?.map_err(|e| {
        refused_or(
            e,
            class::ERR_NAME,
            format!("no port is published as '{service}'"),
        )
    })
}
