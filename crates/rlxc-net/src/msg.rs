//! Netlink message encoding and decoding: headers, the fixed family headers rtnetlink uses
//! (`ifinfomsg`, `ifaddrmsg`, `rtmsg`, `ndmsg`, `genlmsghdr`) and nested attributes.
//!
//! Numbers are the kernel's uapi values (`linux/netlink.h`, `linux/rtnetlink.h`,
//! `linux/if_link.h`, `linux/neighbour.h`), written out here so we do not depend on which of
//! them a given `libc` release exports.

#![allow(missing_docs)]

pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_NEWNEIGH: u16 = 28;
pub const RTM_DELNEIGH: u16 = 29;

pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_MTU: u16 = 4;
pub const IFLA_LINK: u16 = 5;
pub const IFLA_MASTER: u16 = 10;
pub const IFLA_LINKINFO: u16 = 18;
pub const IFLA_NET_NS_PID: u16 = 19;
pub const IFLA_STATS64: u16 = 23;
pub const IFLA_NET_NS_FD: u16 = 28;
pub const IFLA_INFO_KIND: u16 = 1;
pub const IFLA_INFO_DATA: u16 = 2;
pub const VETH_INFO_PEER: u16 = 1;
pub const IFLA_MACVLAN_MODE: u16 = 1;
pub const IFLA_IPVLAN_MODE: u16 = 1;
pub const IFLA_IPVLAN_FLAGS: u16 = 2;
pub const IFLA_VLAN_ID: u16 = 1;

pub const IFF_UP: u32 = 0x1;
pub const IFF_LOOPBACK: u32 = 0x8;

pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const IFA_LABEL: u16 = 3;
pub const IFA_BROADCAST: u16 = 4;

pub const RTA_DST: u16 = 1;
pub const RTA_OIF: u16 = 4;
pub const RTA_GATEWAY: u16 = 5;
pub const RT_TABLE_MAIN: u8 = 254;
pub const RTPROT_BOOT: u8 = 3;
pub const RT_SCOPE_UNIVERSE: u8 = 0;
pub const RT_SCOPE_LINK: u8 = 253;
pub const RTN_UNICAST: u8 = 1;

pub const NDA_DST: u16 = 1;
pub const NTF_PROXY: u8 = 0x08;
pub const NUD_PERMANENT: u16 = 0x80;

pub const AF_UNSPEC: u8 = 0;
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;

const NLA_F_NESTED: u16 = 0x8000;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One netlink request being built: header, fixed family header, attributes.
#[derive(Debug, Clone)]
pub struct Msg {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl Msg {
    /// Start a message of `ty` with `flags` (`NLM_F_REQUEST` is added) and sequence `seq`.
    pub fn new(ty: u16, flags: u16, seq: u32) -> Msg {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, patched in finish()
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it
        Msg { buf, nests: Vec::new() }
    }

    /// Append raw bytes of a fixed header (already laid out in kernel order), padded to 4.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Msg {
        self.buf.extend_from_slice(bytes);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while self.buf.len() & 3 != 0 {
            self.buf.push(0);
        }
    }

    /// `struct ifinfomsg`.
    pub fn ifinfo(&mut self, family: u8, index: i32, flags: u32, change: u32) -> &mut Msg {
        let mut h = [0u8; 16];
        h[0] = family;
        h[4..8].copy_from_slice(&index.to_ne_bytes());
        h[8..12].copy_from_slice(&flags.to_ne_bytes());
        h[12..16].copy_from_slice(&change.to_ne_bytes());
        self.raw(&h)
    }

    /// `struct ifaddrmsg`.
    pub fn ifaddr(&mut self, family: u8, prefix: u8, scope: u8, index: u32) -> &mut Msg {
        let mut h = [0u8; 8];
        h[0] = family;
        h[1] = prefix;
        h[3] = scope;
        h[4..8].copy_from_slice(&index.to_ne_bytes());
        self.raw(&h)
    }

    /// `struct rtmsg` (table main, protocol boot, unicast).
    pub fn rtmsg(&mut self, family: u8, dst_len: u8, scope: u8) -> &mut Msg {
        let h = [family, dst_len, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, scope, RTN_UNICAST, 0, 0, 0, 0];
        self.raw(&h)
    }

    /// `struct ndmsg`.
    pub fn ndmsg(&mut self, family: u8, index: i32, state: u16, flags: u8) -> &mut Msg {
        let mut h = [0u8; 12];
        h[0] = family;
        h[4..8].copy_from_slice(&index.to_ne_bytes());
        h[8..10].copy_from_slice(&state.to_ne_bytes());
        h[10] = flags;
        self.raw(&h)
    }

    /// `struct genlmsghdr`.
    pub fn genl(&mut self, cmd: u8, version: u8) -> &mut Msg {
        self.raw(&[cmd, version, 0, 0])
    }

    /// An attribute with a raw payload.
    pub fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Msg {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn attr_u16(&mut self, ty: u16, v: u16) -> &mut Msg {
        self.attr(ty, &v.to_ne_bytes())
    }

    pub fn attr_u32(&mut self, ty: u16, v: u32) -> &mut Msg {
        self.attr(ty, &v.to_ne_bytes())
    }

    /// A NUL-terminated string attribute.
    pub fn attr_str(&mut self, ty: u16, s: &str) -> &mut Msg {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.attr(ty, &v)
    }

    /// Open a nested attribute; close it with [`Msg::end_nest`].
    pub fn nest(&mut self, ty: u16) -> &mut Msg {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    /// Close the innermost nested attribute.
    pub fn end_nest(&mut self) -> &mut Msg {
        if let Some(start) = self.nests.pop() {
            let len = (self.buf.len() - start) as u16;
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// The finished bytes, with the total length patched in.
    pub fn finish(&mut self) -> Vec<u8> {
        while !self.nests.is_empty() {
            self.end_nest();
        }
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf.clone()
    }
}

/// One received netlink message.
#[derive(Debug, Clone, Copy)]
pub struct RxMsg<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    /// Everything after the netlink header.
    pub payload: &'a [u8],
}

/// Split a datagram into its netlink messages. Malformed trailing bytes are ignored.
pub fn split(data: &[u8]) -> Vec<RxMsg<'_>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + NLMSG_HDRLEN <= data.len() {
        let len = u32::from_ne_bytes(arr4(&data[off..off + 4])) as usize;
        if len < NLMSG_HDRLEN || off + len > data.len() {
            break;
        }
        let ty = u16::from_ne_bytes([data[off + 4], data[off + 5]]);
        let flags = u16::from_ne_bytes([data[off + 6], data[off + 7]]);
        let seq = u32::from_ne_bytes(arr4(&data[off + 8..off + 12]));
        out.push(RxMsg { ty, flags, seq, payload: &data[off + NLMSG_HDRLEN..off + len] });
        off += align4(len);
    }
    out
}

fn arr4(b: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    a
}

/// Iterate the attributes in `data` as `(type without flags, payload)`.
pub fn attrs(data: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 4 <= data.len() {
        let len = u16::from_ne_bytes([data[off], data[off + 1]]) as usize;
        let ty = u16::from_ne_bytes([data[off + 2], data[off + 3]]) & 0x3fff;
        if len < 4 || off + len > data.len() {
            break;
        }
        out.push((ty, &data[off + 4..off + len]));
        off += align4(len);
    }
    out
}

/// The payload of the first attribute of type `ty`.
pub fn find_attr<'a>(list: &[(u16, &'a [u8])], ty: u16) -> Option<&'a [u8]> {
    list.iter().find(|(t, _)| *t == ty).map(|(_, d)| *d)
}

/// Decode a NUL-terminated string attribute.
pub fn attr_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// Decode a u32 attribute (0 when short).
pub fn attr_u32(data: &[u8]) -> u32 {
    if data.len() < 4 {
        return 0;
    }
    u32::from_ne_bytes(arr4(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse_roundtrip() {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_ACK, 7);
        m.ifinfo(AF_UNSPEC, 3, IFF_UP, IFF_UP).attr_str(IFLA_IFNAME, "eth0").nest(IFLA_LINKINFO);
        m.attr_str(IFLA_INFO_KIND, "veth").end_nest();
        let bytes = m.finish();
        assert_eq!(bytes.len() & 3, 0);
        let msgs = split(&bytes);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].ty, RTM_NEWLINK);
        assert_eq!(msgs[0].seq, 7);
        let a = attrs(&msgs[0].payload[16..]);
        assert_eq!(attr_string(find_attr(&a, IFLA_IFNAME).unwrap_or_default()), "eth0");
        let li = attrs(find_attr(&a, IFLA_LINKINFO).unwrap_or_default());
        assert_eq!(attr_string(find_attr(&li, IFLA_INFO_KIND).unwrap_or_default()), "veth");
    }

    #[test]
    fn malformed_input_does_not_panic() {
        assert!(split(&[1, 2, 3]).is_empty());
        assert!(split(&[255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_empty());
        assert!(attrs(&[2, 0, 1, 0]).is_empty());
        assert_eq!(attr_u32(&[1]), 0);
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the kernel (or a corrupted buffer) hands us, parsing never panics.
        #[test]
        fn parsing_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            for m in split(&data) {
                let _ = attrs(m.payload);
            }
            let a = attrs(&data);
            for (_, d) in &a {
                let _ = attrs(d);
                let _ = attr_string(d);
                let _ = attr_u32(d);
            }
            let _ = crate::rtnl::parse_link_for_test(&data);
            let _ = crate::rtnl::parse_addr_for_test(&data);
        }
    }
}
