//! Raw netlink sockets and namespace-scoped helpers for rtnetlink (owned by the network work).
