//! bpf(2): load and attach BPF_PROG_TYPE_CGROUP_DEVICE programs (owned by the cgroup work).
