//! Container networking over rtnetlink: veth, macvlan, ipvlan, vlan, phys, empty, none.
