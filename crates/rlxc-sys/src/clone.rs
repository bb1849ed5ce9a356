//! clone3 with CLONE_PIDFD / CLONE_INTO_CGROUP and the clone(2) fallback (owned by the lifecycle work).
