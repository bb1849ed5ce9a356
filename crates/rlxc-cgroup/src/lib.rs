//! cgroup v1, hybrid and cgroup2 management for containers: layout detection, monitor and
//! payload cgroups, limits, freezer, and eBPF device control.
