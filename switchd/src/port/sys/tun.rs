//! `/dev/net/tun`: opening it and the `TUNSET*` ioctls that create or
//! attach a TAP device and set its offloads, virtio-net header size and
//! persistence.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::common::{cvt, own};
use super::ifreq::{ifreq, ifreq_ioctl};

/// Opens `/dev/net/tun` non-blocking and close-on-exec.
pub fn tun_open() -> io::Result<OwnedFd> {
    // SAFETY: the path is a NUL-terminated literal; no other pointers.
    own(unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    })
}

/// `TUNSETIFF`: creates device `name` or attaches the fd to it, with `flags`
/// (`IFF_TAP | IFF_NO_PI`, optionally `IFF_TUN_EXCL` to refuse an existing
/// device with `EBUSY`).
pub fn tun_set_iff(fd: BorrowedFd<'_>, name: &str, flags: libc::c_int) -> io::Result<()> {
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_flags = flags as libc::c_short;
    ifreq_ioctl(fd, libc::TUNSETIFF, &mut req)
}

/// Runs a TUN ioctl whose argument is an integer passed by value.
fn tun_ioctl_value(fd: BorrowedFd<'_>, request: libc::Ioctl, value: libc::c_ulong) -> io::Result<()> {
    // SAFETY: TUNSETOFFLOAD and TUNSETPERSIST take their argument by value,
    // not as a pointer; the kernel reads no memory of ours.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request, value) })?;
    Ok(())
}

/// `TUNSETOFFLOAD`: which offloads (`TUN_F_*`) the device may hand us. The
/// mask belongs to the device and survives detach on persistent devices.
pub fn tun_set_offload(fd: BorrowedFd<'_>, mask: libc::c_uint) -> io::Result<()> {
    tun_ioctl_value(fd, libc::TUNSETOFFLOAD, mask.into())
}

/// `TUNSETVNETHDRSZ`: the size of the virtio-net header in front of every
/// frame read or written (10: `struct virtio_net_hdr`). Set explicitly:
/// it belongs to the device, and a persistent one may carry another value.
pub fn tun_set_vnet_hdr_size(fd: BorrowedFd<'_>, size: usize) -> io::Result<()> {
    let size = size as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads one `c_int` through the pointer, which
    // points to `size`, alive for the whole call.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &size as *const libc::c_int) })?;
    Ok(())
}

/// `TUNSETPERSIST`: whether the device outlives the last fd.
pub fn tun_set_persist(fd: BorrowedFd<'_>, persist: bool) -> io::Result<()> {
    tun_ioctl_value(fd, libc::TUNSETPERSIST, persist.into())
}

/// `TUNGETIFF`: the name of the device an open tun fd is attached to and
/// its `IFF_*` flags (`IFF_TAP`, `IFF_VNET_HDR`, ...). Used on a fd handed
/// over by a previous image (SPEC §13) to check it is the TAP it claims.
pub fn tun_get_iff(fd: BorrowedFd<'_>) -> io::Result<(String, libc::c_int)> {
    // Any valid name: the kernel overwrites the whole struct.
    let mut req = ifreq("tun")?;
    ifreq_ioctl(fd, libc::TUNGETIFF, &mut req)?;
    let name: Vec<u8> = req
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    // SAFETY: TUNGETIFF filled the flags member of the union.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    Ok((
        String::from_utf8_lossy(&name).into_owned(),
        libc::c_int::from(flags) & 0xffff,
    ))
}
