//! mount(2), pivot_root, the new mount API and openat2(RESOLVE_IN_ROOT) (owned by the lifecycle work).
