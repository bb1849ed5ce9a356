//! Wireless `phys` devices: their network namespace follows their wiphy, which only nl80211
//! can move (`NL80211_CMD_SET_WIPHY_NETNS`), as LXC 4.0 does. Everything is asked through
//! nl80211 in the namespace concerned (sysfs shows the namespace that mounted it, not ours).

use std::os::fd::{AsRawFd, BorrowedFd};

use rlxc_sys::netlink::{NetlinkProtocol, NetlinkSocket};

use crate::msg::*;
use crate::NetError;

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const NL80211_CMD_GET_INTERFACE: u8 = 5;
const NL80211_CMD_SET_WIPHY_NETNS: u8 = 49;
const NL80211_ATTR_WIPHY: u16 = 1;
const NL80211_ATTR_IFINDEX: u16 = 3;
const NL80211_ATTR_NETNS_FD: u16 = 219;

/// Send `m` (with `NLM_F_ACK`) and return the attribute payloads (after the genl header) of
/// every reply before the acknowledgement.
fn request(sock: &NetlinkSocket, mut m: Msg, seq: u32) -> std::io::Result<Vec<Vec<u8>>> {
    sock.send(&m.finish())?;
    let mut buf = vec![0u8; 1 << 16];
    let mut out = Vec::new();
    loop {
        let n = sock.recv(&mut buf)?;
        for r in split(&buf[..n]) {
            if r.seq != seq {
                continue;
            }
            if r.ty == NLMSG_ERROR {
                let code = if r.payload.len() >= 4 { attr_u32(&r.payload[..4]) as i32 } else { 0 };
                if code == 0 {
                    return Ok(out);
                }
                return Err(std::io::Error::from_raw_os_error(-code));
            }
            if r.payload.len() >= 4 {
                out.push(r.payload[4..].to_vec());
            }
        }
    }
}

/// A generic netlink socket (in `ns`, or ours) and nl80211's family id; None without cfg80211.
fn nl80211(ns: Option<BorrowedFd<'_>>) -> std::io::Result<Option<(NetlinkSocket, u16)>> {
    let sock = match ns {
        Some(ns) => NetlinkSocket::open_in_netns(NetlinkProtocol::Generic, ns)?,
        None => NetlinkSocket::open(NetlinkProtocol::Generic)?,
    };
    let mut m = Msg::new(GENL_ID_CTRL, NLM_F_ACK, 1);
    m.genl(CTRL_CMD_GETFAMILY, 1).attr_str(CTRL_ATTR_FAMILY_NAME, "nl80211");
    let replies = match request(&sock, m, 1) {
        Ok(r) => r,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    for r in replies {
        if let Some(id) = find_attr(&attrs(&r), CTRL_ATTR_FAMILY_ID) {
            if id.len() >= 2 {
                return Ok(Some((sock, u16::from_ne_bytes([id[0], id[1]]))));
            }
        }
    }
    Ok(None)
}

/// The wiphy of interface `ifindex` in namespace `ns` (None = ours), if it is wireless.
pub fn wiphy_of(ns: Option<BorrowedFd<'_>>, ifindex: i32) -> Option<u32> {
    let (sock, fam) = nl80211(ns).ok()??;
    let mut m = Msg::new(fam, NLM_F_ACK, 2);
    m.genl(NL80211_CMD_GET_INTERFACE, 0).attr_u32(NL80211_ATTR_IFINDEX, ifindex as u32);
    let replies = request(&sock, m, 2).ok()?;
    replies.iter().find_map(|r| find_attr(&attrs(r), NL80211_ATTR_WIPHY).map(attr_u32))
}

/// Move wiphy `phy` (and every interface on it) from namespace `from` (None = ours) into the
/// namespace `netns`.
pub fn move_wiphy(phy: u32, from: Option<BorrowedFd<'_>>, netns: BorrowedFd<'_>) -> Result<(), NetError> {
    let what = format!("wiphy phy{phy} into netns fd {}", netns.as_raw_fd());
    let err = |e| NetError::Netlink { op: "move", what: what.clone(), source: e };
    let (sock, fam) = nl80211(from)
        .map_err(err)?
        .ok_or_else(|| NetError::Other("nl80211 generic netlink family not found (cfg80211 not loaded?)".into()))?;
    let mut m = Msg::new(fam, NLM_F_ACK, 2);
    m.genl(NL80211_CMD_SET_WIPHY_NETNS, 0)
        .attr_u32(NL80211_ATTR_WIPHY, phy)
        .attr_u32(NL80211_ATTR_NETNS_FD, netns.as_raw_fd() as u32);
    request(&sock, m, 2).map_err(err)?;
    Ok(())
}
