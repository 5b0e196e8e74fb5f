//! Device ioctls on a `struct ifreq`: ifindex, MTU, flags (and bringing a
//! device up), link-layer type, and the driver name through
//! `SIOCETHTOOL`. Names resolve in the network namespace of the calling
//! thread. `tun.rs` uses [`ifreq`] and [`ifreq_ioctl`] for `TUNSETIFF`.

use std::ffi::CStr;
use std::io;
use std::mem::zeroed;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::common::{cvt, own};

/// An all-zero `ifreq` carrying `name`.
pub(super) fn ifreq(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?}"),
        ));
    }
    // SAFETY: `ifreq` is a C struct of byte arrays, integers and a union of
    // those and one raw pointer; all-zero bytes are a valid value of each.
    let mut req: libc::ifreq = unsafe { zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok(req)
}

/// A throwaway socket for device ioctls. Any socket reaches the kernel's
/// `dev_ioctl` for `SIOC*IF*`; AF_UNIX needs no IP stack and no privilege.
/// It resolves names in the network namespace of the calling thread.
fn ctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall without pointers.
    own(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })
}

/// Runs a device ioctl whose argument is one `struct ifreq`.
pub(super) fn ifreq_ioctl(fd: BorrowedFd<'_>, request: libc::Ioctl, req: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: every request passed here (SIOCGIF*, SIOCSIFFLAGS, TUNSETIFF, TUNGETIFF,
    // SIOCETHTOOL) reads and writes at most one `struct ifreq`, and `req`
    // points to one that is valid for reads and writes for the duration of
    // the call. SIOCETHTOOL also follows `ifru_data`, which `if_driver` and
    // `if_full_duplex` set to a live `EthtoolDrvinfo` / `EthtoolCmd` whose
    // `cmd` tells the kernel its size.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request, req as *mut libc::ifreq) })?;
    Ok(())
}

/// Ifindex of device `name` in the calling thread's network namespace.
///
/// # Errors
/// `ENODEV` (`raw_os_error() == Some(libc::ENODEV)`) when there is no such
/// device; `InvalidInput` for a name that cannot be an interface name.
pub fn if_index(name: &str) -> io::Result<u32> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCGIFINDEX as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFINDEX filled `ifru_ifindex`; every member is plain data.
    Ok(unsafe { req.ifr_ifru.ifru_ifindex } as u32)
}

/// MTU of device `name` (payload bytes after the Ethernet header).
///
/// # Errors
/// `ENODEV` when there is no such device.
pub fn if_mtu(name: &str) -> io::Result<u32> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCGIFMTU as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFMTU filled `ifru_mtu`; every member is plain data.
    Ok(unsafe { req.ifr_ifru.ifru_mtu } as u32)
}

/// `IFF_*` flags of device `name` (`IFF_UP`, `IFF_LOOPBACK`, ...).
pub fn if_flags(name: &str) -> io::Result<libc::c_int> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCGIFFLAGS as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled `ifru_flags`; every member is plain data.
    // The kernel's flags are 16 bits wide in this interface; widen without
    // sign extension.
    Ok(libc::c_int::from(unsafe { req.ifr_ifru.ifru_flags } as u16))
}

/// Sets `IFF_UP` on device `name` if it is not set. Returns whether it had
/// to (the device was admin-down).
pub fn if_set_up(name: &str) -> io::Result<bool> {
    let sock = ctl_socket()?;
    let mut req = ifreq(name)?;
    ifreq_ioctl(sock.as_fd(), libc::SIOCGIFFLAGS as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled `ifru_flags`; every member is plain data.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    if flags & libc::IFF_UP as libc::c_short != 0 {
        return Ok(false);
    }
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ifreq_ioctl(sock.as_fd(), libc::SIOCSIFFLAGS as libc::Ioctl, &mut req)?;
    Ok(true)
}

/// Link-layer type (`ARPHRD_*`) of device `name`.
pub fn if_hw_type(name: &str) -> io::Result<u16> {
    let mut req = ifreq(name)?;
    ifreq_ioctl(
        ctl_socket()?.as_fd(),
        libc::SIOCGIFHWADDR as libc::Ioctl,
        &mut req,
    )?;
    // SAFETY: SIOCGIFHWADDR filled `ifru_hwaddr`, a plain `sockaddr` whose
    // family is the ARPHRD type.
    Ok(unsafe { req.ifr_ifru.ifru_hwaddr }.sa_family)
}

/// `struct ethtool_drvinfo` from `<linux/ethtool.h>` (libc does not have it).
#[repr(C)]
struct EthtoolDrvinfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}

const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;

/// Driver name and bus info of device `name` (`ethtool -i`). For TUN/TAP
/// devices the driver is `tun` and the bus info says `tun` or `tap`.
pub fn if_driver(name: &str) -> io::Result<(String, String)> {
    let mut info = EthtoolDrvinfo {
        cmd: ETHTOOL_GDRVINFO,
        driver: [0; 32],
        version: [0; 32],
        fw_version: [0; 32],
        bus_info: [0; 32],
        erom_version: [0; 32],
        reserved2: [0; 12],
        n_priv_flags: 0,
        n_stats: 0,
        testinfo_len: 0,
        eedump_len: 0,
        regdump_len: 0,
    };
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_data = (&mut info as *mut EthtoolDrvinfo).cast();
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCETHTOOL as libc::Ioctl, &mut req)?;
    let text = |b: &[u8]| {
        CStr::from_bytes_until_nul(b)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    Ok((text(&info.driver), text(&info.bus_info)))
}

/// `ETHTOOL_GSET`: link settings (speed, duplex).
const ETHTOOL_GSET: u32 = 0x0000_0001;
/// `DUPLEX_HALF` in `struct ethtool_cmd`.
const DUPLEX_HALF: u8 = 0;

/// `struct ethtool_cmd` (linux/ethtool.h), the legacy link settings.
#[repr(C)]
struct EthtoolCmd {
    cmd: u32,
    supported: u32,
    advertising: u32,
    speed: u16,
    duplex: u8,
    port: u8,
    phy_address: u8,
    transceiver: u8,
    autoneg: u8,
    mdio_support: u8,
    maxtxpkt: u32,
    maxrxpkt: u32,
    speed_hi: u16,
    eth_tp_mdix: u8,
    eth_tp_mdix_ctrl: u8,
    lp_advertising: u32,
    reserved: [u32; 2],
}

/// Whether device `name` is not half duplex (`ethtool NAME`'s "Duplex"):
/// full, or unknown, as virtual devices without a duplex report. RSTP
/// treats a link as point-to-point unless it is half duplex (802.1D-2004
/// §6.4.3).
///
/// # Errors
/// The device has no link settings to read (`EOPNOTSUPP`), or none exists.
pub fn if_full_duplex(name: &str) -> io::Result<bool> {
    let mut cmd = EthtoolCmd {
        cmd: ETHTOOL_GSET,
        supported: 0,
        advertising: 0,
        speed: 0,
        duplex: 0,
        port: 0,
        phy_address: 0,
        transceiver: 0,
        autoneg: 0,
        mdio_support: 0,
        maxtxpkt: 0,
        maxrxpkt: 0,
        speed_hi: 0,
        eth_tp_mdix: 0,
        eth_tp_mdix_ctrl: 0,
        lp_advertising: 0,
        reserved: [0; 2],
    };
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_data = (&mut cmd as *mut EthtoolCmd).cast();
    ifreq_ioctl(ctl_socket()?.as_fd(), libc::SIOCETHTOOL as libc::Ioctl, &mut req)?;
    Ok(cmd.duplex != DUPLEX_HALF)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn ifreq_rejects_bad_names() {
        assert!(ifreq("").is_err());
        assert!(ifreq("0123456789abcdef").is_err());
        assert!(ifreq("a\0b").is_err());
        assert!(ifreq("0123456789abcde").is_ok());
    }

    #[test]
    fn device_queries() {
        if !root_or_skip("device_queries") {
            return;
        }
        enter_private_netns();
        assert_eq!(if_index("lo").unwrap(), 1);
        assert_eq!(if_mtu("lo").unwrap(), 65536);
        assert_eq!(if_hw_type("lo").unwrap(), libc::ARPHRD_LOOPBACK);
        assert!(if_flags("lo").unwrap() & libc::IFF_LOOPBACK != 0);
        let missing = uniq("nx");
        for e in [if_index(&missing).unwrap_err(), if_mtu(&missing).unwrap_err()] {
            assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{e}");
        }

        let name = uniq("q");
        let peer = uniq("qp");
        let _g = LinkGuard(name.clone());
        ip_ok(&[
            "link", "add", &name, "mtu", "1400", "type", "veth", "peer", "name", &peer,
        ]);
        assert_eq!(if_mtu(&name).unwrap(), 1400);
        assert_eq!(if_index(&name).unwrap().to_string(), {
            let t = ip_ok(&["-o", "link", "show", "dev", &name]);
            t.split(':').next().unwrap().to_owned()
        });
        assert_eq!(if_hw_type(&name).unwrap(), libc::ARPHRD_ETHER);
        assert_eq!(if_flags(&name).unwrap() & libc::IFF_UP, 0);
        assert!(if_set_up(&name).unwrap());
        assert!(!if_set_up(&name).unwrap());
        assert!(if_flags(&name).unwrap() & libc::IFF_UP != 0);
        assert_eq!(if_driver(&name).unwrap().0, "veth");
        assert!(if_full_duplex(&name).unwrap(), "a veth reports full duplex");
    }
}
