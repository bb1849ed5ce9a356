//! Wireless `phys` devices: their network namespace follows their wiphy, which only nl80211
//! can move (`NL80211_CMD_SET_WIPHY_NETNS`), as LXC 4.0 does.

use std::os::fd::{AsRawFd, BorrowedFd};

use rlxc_sys::netlink::{NetlinkProtocol, NetlinkSocket};

use crate::msg::*;
use crate::NetError;

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const NL80211_CMD_SET_WIPHY_NETNS: u8 = 49;
const NL80211_ATTR_WIPHY: u16 = 1;
const NL80211_ATTR_NETNS_FD: u16 = 219;

/// The wiphy index of `dev` if it is a wireless device (read from sysfs of the current netns).
pub fn wiphy_of(dev: &str) -> Option<u32> {
    std::fs::read_to_string(format!("/sys/class/net/{dev}/phy80211/index")).ok()?.trim().parse().ok()
}

fn ack(sock: &NetlinkSocket, mut m: Msg, seq: u32, want_family: bool) -> std::io::Result<Option<u16>> {
    sock.send(&m.finish())?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = sock.recv(&mut buf)?;
        for r in split(&buf[..n]) {
            if r.seq != seq {
                continue;
            }
            if r.ty == NLMSG_ERROR {
                let code = if r.payload.len() >= 4 { attr_u32(&r.payload[..4]) as i32 } else { 0 };
                if code == 0 {
                    return Ok(None);
                }
                return Err(std::io::Error::from_raw_os_error(-code));
            }
            if want_family && r.payload.len() >= 4 {
                let a = attrs(&r.payload[4..]);
                if let Some(id) = find_attr(&a, CTRL_ATTR_FAMILY_ID) {
                    if id.len() >= 2 {
                        return Ok(Some(u16::from_ne_bytes([id[0], id[1]])));
                    }
                }
            }
        }
    }
}

/// Move wiphy `phy` (and every interface on it) from namespace `from` (None = ours) into the
/// namespace `netns`.
pub fn move_wiphy(phy: u32, from: Option<BorrowedFd<'_>>, netns: BorrowedFd<'_>) -> Result<(), NetError> {
    let what = format!("wiphy phy{phy} into netns fd {}", netns.as_raw_fd());
    let err = |e| NetError::Netlink { op: "move", what: what.clone(), source: e };
    let sock = match from {
        Some(ns) => NetlinkSocket::open_in_netns(NetlinkProtocol::Generic, ns),
        None => NetlinkSocket::open(NetlinkProtocol::Generic),
    }
    .map_err(err)?;
    let mut m = Msg::new(GENL_ID_CTRL, 0, 1);
    m.genl(CTRL_CMD_GETFAMILY, 1).attr_str(CTRL_ATTR_FAMILY_NAME, "nl80211");
    let fam = ack(&sock, m, 1, true)
        .map_err(err)?
        .ok_or_else(|| NetError::Other("nl80211 generic netlink family not found (cfg80211 not loaded?)".into()))?;
    let mut m = Msg::new(fam, NLM_F_ACK, 2);
    m.genl(NL80211_CMD_SET_WIPHY_NETNS, 0)
        .attr_u32(NL80211_ATTR_WIPHY, phy)
        .attr_u32(NL80211_ATTR_NETNS_FD, netns.as_raw_fd() as u32);
    ack(&sock, m, 2, false).map_err(err)?;
    Ok(())
}
