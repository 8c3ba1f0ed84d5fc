//! Which address a rank listens on for TCP: `OXIMPI_TCP_IFACE` names an interface (or is
//! an IPv4 address); without it, the address the host's name resolves to, else the first
//! non-loopback interface that is up, else loopback (a job on one host still works).

use std::io;
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};

/// The IPv4 addresses of the interfaces that are up, by interface name.
fn interfaces() -> io::Result<Vec<(String, Ipv4Addr)>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut p = head;
    while !p.is_null() {
        // SAFETY: p is a node of the list getifaddrs returned, alive until freeifaddrs.
        let ifa = unsafe { &*p };
        let up = ifa.ifa_flags & libc::IFF_UP as u32 != 0;
        // SAFETY: ifa_addr is null or points to a sockaddr whose family says its layout;
        // ifa_name is a NUL-terminated string owned by the list.
        unsafe {
            if up && !ifa.ifa_addr.is_null() && (*ifa.ifa_addr).sa_family as i32 == libc::AF_INET {
                let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                let name = std::ffi::CStr::from_ptr(ifa.ifa_name)
                    .to_string_lossy()
                    .into_owned();
                out.push((name, ip));
            }
        }
        p = ifa.ifa_next;
    }
    // SAFETY: head came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// The address to listen on (see the module doc). `iface`: the value of OXIMPI_TCP_IFACE.
pub fn listen_address(iface: Option<&str>) -> io::Result<IpAddr> {
    if let Some(name) = iface.map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Ok(ip);
        }
        return interfaces()?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, ip)| IpAddr::V4(ip))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("OXIMPI_TCP_IFACE={name:?}: no such interface with an IPv4 address"),
                )
            });
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let by_name = (host.trim(), 0u16)
        .to_socket_addrs()
        .ok()
        .into_iter()
        .flatten()
        .map(|a| a.ip())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback());
    if let Some(ip) = by_name {
        return Ok(ip);
    }
    let ifs = interfaces().unwrap_or_default();
    Ok(ifs
        .iter()
        .find(|(_, ip)| !ip.is_loopback())
        .map(|(_, ip)| IpAddr::V4(*ip))
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_by_name_address_and_default() {
        assert_eq!(
            listen_address(Some("lo")).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            listen_address(Some("127.0.0.1")).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        let e = listen_address(Some("no-such-if0")).unwrap_err();
        assert!(e.to_string().contains("no-such-if0"));
        assert!(listen_address(None).is_ok());
    }
}
