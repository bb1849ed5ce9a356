//! setns/unshare and namespace fds (owned by the lifecycle work; attach uses it).
